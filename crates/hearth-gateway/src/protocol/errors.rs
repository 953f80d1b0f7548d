//! The one table of protocol error codes. OpenClaw clients know these codes;
//! Hearth adds no others, and puts specifics in `details.code`.

/// Malformed frame, bad params, unknown method, failed auth.
pub const INVALID_REQUEST: &str = "INVALID_REQUEST";
/// The caller's role or scopes do not allow the method.
pub const FORBIDDEN: &str = "FORBIDDEN";
/// The server cannot serve it now (busy, shutting down, storage failure).
pub const UNAVAILABLE: &str = "UNAVAILABLE";
/// A session, run or agent named by the request does not exist.
pub const NOT_FOUND: &str = "NOT_FOUND";

/// `details.code` values Hearth sets.
pub mod detail {
    pub const AUTH_TOKEN_MISSING: &str = "AUTH_TOKEN_MISSING";
    pub const AUTH_TOKEN_MISMATCH: &str = "AUTH_TOKEN_MISMATCH";
    pub const AUTH_RATE_LIMITED: &str = "AUTH_RATE_LIMITED";
    pub const PROTOCOL_MISMATCH: &str = "PROTOCOL_MISMATCH";
    pub const FRAME_TOO_LARGE: &str = "FRAME_TOO_LARGE";
    pub const UNKNOWN_METHOD: &str = "UNKNOWN_METHOD";
    pub const BUSY: &str = "BUSY";
}
