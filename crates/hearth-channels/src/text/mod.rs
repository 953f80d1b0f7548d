//! Denormalization helpers: from the agent's markdown to what a platform
//! accepts.

mod chunk;

pub use chunk::{Measure, chunk};
