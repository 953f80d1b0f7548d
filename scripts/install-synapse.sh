#!/usr/bin/env bash
# Installs Synapse (the Matrix reference homeserver) into a private venv
# outside the repo, for the Matrix channel's tests. Idempotent; needs only
# the Python package index. The tests start their own Synapse per test on
# a free loopback port (hearth-testkit's servers/synapse.rs).
#
#   HEARTH_SYNAPSE_VENV  venv dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/hearth/synapse-venv)
#   SYNAPSE_VERSION      default 1.163.2
set -euo pipefail

VENV="${HEARTH_SYNAPSE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/hearth/synapse-venv}"
SYNAPSE_VERSION="${SYNAPSE_VERSION:-1.163.2}"

if [ -x "$VENV/bin/python" ] &&
    "$VENV/bin/python" -c "import synapse, sys; sys.exit(synapse.__version__ != '$SYNAPSE_VERSION')" 2>/dev/null; then
    exit 0
fi
# Debian splits venv's pip bootstrap into python3-venv.
if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
fi
echo "== installing matrix-synapse $SYNAPSE_VERSION into $VENV" >&2
rm -rf "$VENV"
python3 -m venv "$VENV"
# Wheels only: no compiler needed, and the install takes ~30 s.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    --only-binary=:all: "matrix-synapse==$SYNAPSE_VERSION"
"$VENV/bin/python" -c 'import synapse; print("synapse", synapse.__version__)' >&2
