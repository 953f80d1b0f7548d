#!/usr/bin/env bash
# Runs every test of the workspace. Installs what the tests need first:
# the real OpenClaw CLI (Node 24 + openclaw from npm, cached outside the
# repo) for the protocol-compatibility tests.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== installing the OpenClaw CLI used by the compatibility tests" >&2
scripts/install-openclaw.sh >/dev/null

echo "== cargo test --workspace" >&2
cargo test --workspace --locked "$@"
