#!/usr/bin/env bash
# Builds Hearth, writes a default config on first use (`hearth init`),
# fetches the default embedded model if it is missing, and runs the daemon
# in the foreground. Extra arguments go to `hearth run`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-build-deps.sh
# shellcheck source=scripts/build-env.sh
source scripts/build-env.sh
cargo build --release --locked -p hearth
hearth=target/release/hearth
config="${HEARTH_CONFIG:-${XDG_CONFIG_HOME:-$HOME/.config}/hearth/config.toml}"
if [[ ! -f "$config" ]]; then
  "$hearth" init
fi
exec "$hearth" run --pull "$@"
