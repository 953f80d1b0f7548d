# Sourced by the other scripts (not run): routes llama.cpp's C++ compiles
# through ccache when it is installed. Cargo runs llama.cpp's build script
# in separate units for `cargo clippy` and `cargo test` (their build
# dependencies are compiled differently), and each unit compiles llama.cpp
# again from scratch. With the cache, the second compile is mostly hits.
if command -v ccache >/dev/null; then
  export CMAKE_C_COMPILER_LAUNCHER=ccache
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache
  export CCACHE_DIR="${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hearth/ccache}"
  # Each unit builds in its own directory: leave it out of the hash.
  export CCACHE_NOHASHDIR=1
  export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-2G}"
fi
