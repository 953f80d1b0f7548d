//! Chat-platform adapters and the framework every adapter shares.
//!
//! Built up by the channels issue; so far:
//!
//! - [`text`]: turning a reply into what a platform can take: [`text::chunk`]
//!   cuts it at the platform's length limit at paragraph, line, sentence or
//!   word boundaries, and never leaves a code fence open across a cut;
//!   [`text::render`] writes the markdown in the platform's markup
//!   (Telegram HTML, Matrix HTML, IRC control codes, plain text).
//! - [`reconnect`]: [`reconnect::Backoff`] (jittered exponential delays
//!   between reconnects) and [`reconnect::Liveness`] (a watchdog that
//!   notices a connection gone silent).
//!
//! Adapters will live one folder and one cargo feature each, their wire
//! types private to that folder; two adapters never import each other.

pub mod reconnect;
pub mod text;
