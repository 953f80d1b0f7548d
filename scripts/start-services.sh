#!/usr/bin/env bash
# Installs and starts what the tests talk to:
# - Redis on 127.0.0.1:6379 (working-memory backend), started if not running;
# - ngircd (IRC), mosquitto (MQTT), prosody (XMPP), dovecot-imapd (IMAP)
#   and python3-aiosmtpd (an SMTP sink): installed only; the channel tests
#   start their own instances on free loopback ports;
# - Synapse (Matrix) into a venv outside the repo (scripts/install-synapse.sh);
#   the Matrix tests start their own, too.
# Missing Debian packages are installed with apt-get.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v ngircd >/dev/null 2>&1 || [ -x /usr/sbin/ngircd ] || missing+=(ngircd)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v prosody >/dev/null 2>&1 || missing+=(prosody)
[ -x /usr/sbin/dovecot ] || command -v dovecot >/dev/null 2>&1 || missing+=(dovecot-imapd)
# Debian's package serves Debian's Python, not a pyenv or venv python3
# earlier on PATH; the SMTP sink fixture runs /usr/bin/python3 too.
debian_python=/usr/bin/python3
[ -x "$debian_python" ] || debian_python=python3
"$debian_python" -c 'import aiosmtpd' >/dev/null 2>&1 || missing+=(python3-aiosmtpd)
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Debian's packages start system servers where an init system runs; the
# tests run their own, so stop those.
for service in ngircd prosody dovecot; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
        $SUDO systemctl stop "$service" || true
    fi
done

"$(dirname "$0")/install-synapse.sh"

redis_up() {
    # PING over a plain TCP connection, without needing redis-cli.
    python3 - <<'PY'
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", 6379), timeout=1)
    s.sendall(b"PING\r\n")
    sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
PY
}

if ! redis_up; then
    echo "== starting redis-server on 127.0.0.1:6379" >&2
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    for _ in $(seq 1 50); do
        redis_up && break
        sleep 0.1
    done
    redis_up || { echo "redis-server did not start" >&2; exit 1; }
fi
