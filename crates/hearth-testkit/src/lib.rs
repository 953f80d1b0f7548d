//! Dev-only fakes and shared test helpers for Hearth crates.
//!
//! - [`provider`]: a scripted [`hearth_core::Provider`] and the stream
//!   contract every provider's tests assert.

pub mod provider;
