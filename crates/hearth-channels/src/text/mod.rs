//! Denormalization helpers: from the agent's markdown to what a platform
//! accepts.

mod chunk;
mod markup;
mod mention;

pub use chunk::{Measure, chunk};
pub use markup::{Markup, render};
pub use mention::addressed;
