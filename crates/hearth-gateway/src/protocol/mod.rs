//! The control protocol Hearth speaks on its WebSocket: OpenClaw gateway
//! protocol v4, so OpenClaw clients work unchanged.
//!
//! - [`frames`]: the three frame kinds (`req`, `res`, `event`) and the error shape.
//! - [`errors`]: the one table of error codes.
//! - [`handshake`]: `connect.challenge`, `connect` and `hello-ok`.
//! - [`params`]: typed parameters of every supported method.
//! - [`memory`]: typed parameters of the `memory.*` methods.
//! - [`channels`]: typed parameters of the `channels.*` and `pairing.*`
//!   methods.
//! - [`events`]: typed event payloads and the answers clients wait on.
//! - [`method`]: the closed set of methods, parsed from a request frame.
//! - [`schema`]: the JSON Schema of all of the above, generated from these types.

pub mod channels;
pub mod errors;
pub mod events;
pub mod frames;
pub mod handshake;
pub mod memory;
pub mod method;
pub mod params;
pub mod schema;

/// The protocol version Hearth implements.
pub const PROTOCOL_VERSION: u32 = 4;
/// Largest frame accepted before `connect` succeeds: an unauthenticated peer
/// cannot make the server buffer more than this.
pub const MAX_PREAUTH_FRAME_BYTES: usize = 64 * 1024;
