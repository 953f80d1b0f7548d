//! Unit tests of the crate's internals, one file per module; the tools
//! are tested through their public `Tool` interface in `tests/tools/`.

mod address;
mod html;
mod workspace;
