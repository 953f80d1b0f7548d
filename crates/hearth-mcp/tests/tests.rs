//! hearth-mcp's integration tests, one binary: the real MCP reference
//! servers from npm (installed by `scripts/install-mcp-servers.sh`) over
//! stdio and streamable HTTP, and the official conformance runner.

mod conformance;
mod everything;
mod filesystem;
mod http;
mod memory;
mod notifications;
mod support;
