#!/usr/bin/env bash
# Runs every test of the workspace. Installs what the tests need first:
# the engine's build tools, the real SmolLM2 GGUF and all-MiniLM-L6-v2
# embedding model (fetched once by `hearth models pull` into the data dir,
# never into the repo), Redis (working-memory tests), the chat servers of
# the channel tests (scripts/start-services.sh), and the real
# OpenClaw CLI (Node 24 + openclaw from npm, cached outside the repo) for the
# protocol-compatibility tests, and the reference MCP servers and the MCP
# conformance runner (Node 22 + npm packages, cached outside the repo).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-build-deps.sh
# shellcheck source=scripts/build-env.sh
source scripts/build-env.sh

# Build the tests first: the `hearth` binary they build is the one that
# fetches the model. (A separate `cargo run` would resolve features
# differently and compile llama.cpp a second time.)
echo "== building the tests" >&2
cargo test --workspace --locked --no-run

echo "== fetching the test model (smollm2-135m)" >&2
"${CARGO_TARGET_DIR:-target}/debug/hearth" models pull smollm2-135m
echo "== fetching the test embedding model (all-minilm-l6-v2)" >&2
"${CARGO_TARGET_DIR:-target}/debug/hearth" models pull all-minilm-l6-v2

scripts/start-services.sh

echo "== installing the OpenClaw CLI used by the compatibility tests" >&2
scripts/install-openclaw.sh >/dev/null

echo "== installing the MCP servers and conformance runner used by hearth-mcp's tests" >&2
scripts/install-mcp-servers.sh >/dev/null

echo "== cargo test --workspace" >&2
cargo test --workspace --locked "$@"
