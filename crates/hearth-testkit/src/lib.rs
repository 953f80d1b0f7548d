//! Dev-only fakes shared by the workspace's tests: a scriptable model
//! provider and a delivery channel that can be told to fail. They implement
//! the real `hearth-core` traits, so the code under test is the real code.

mod channel;
mod provider;

pub use channel::RecordingChannel;
pub use provider::{FakeProvider, Reply};
