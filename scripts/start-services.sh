#!/usr/bin/env bash
# Starts the services the tests talk to, if they are not running: Redis on
# 127.0.0.1:6379 (working-memory backend). Installs Debian's redis-server
# when the machine has none.
set -euo pipefail

if ! command -v redis-server >/dev/null 2>&1; then
    echo "== installing redis-server" >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
fi

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
