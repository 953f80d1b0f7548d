//! Denormalization helpers: from the agent's markdown to what a platform
//! accepts.

mod chunk;
mod markup;

pub use chunk::{Measure, chunk};
pub use markup::{Markup, render};
