//! Dev-only fakes and shared test helpers for Hearth crates. They implement
//! the real `hearth-core` traits, so the code under test is the real code.
//!
//! - [`provider`]: a scripted [`hearth_core::Provider`] whose answers a test
//!   lays out call by call, and the stream contract every provider's tests
//!   assert.
//! - [`FakeProvider`]: a rule-driven provider for pipeline tests (answers by a
//!   rule, can be held at a gate to observe concurrency).
//! - [`RecordingChannel`]: a delivery channel that records and fails on demand.
//! - [`model`]: where tests find the real SmolLM2 GGUF.
//! - [`conformance`]: the suite every channel adapter runs against its
//!   real server through a [`conformance::Peer`].
//! - [`servers`]: real chat servers (ngircd, ...) started per test, and
//!   a client of each.

mod channel;
pub mod conformance;
mod fake;
pub mod model;
pub mod provider;
pub mod servers;

pub use channel::RecordingChannel;
pub use fake::{FakeProvider, FakeReply, last_user_text};
