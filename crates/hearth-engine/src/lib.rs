//! Hearth's embedded inference engine: GGUF models run in-process through
//! llama.cpp, served as a [`hearth_core::Provider`].
//!
//! How a request flows:
//!
//! 1. [`provider`] renders the model's own Jinja chat template
//!    ([`template`]), tokenizes, and drops the oldest turns if the prompt
//!    does not fit a slot. Tools become a GBNF grammar ([`tools`]).
//! 2. A [`scheduler::job::Job`] goes over a bounded channel to the
//!    [`scheduler`] thread, which owns the llama.cpp context. It keeps one
//!    KV-cache sequence per slot, reuses a slot's cached prefix for a
//!    follow-up turn, and decodes all active sequences in one batch per
//!    step, reading long prompts a chunk at a time.
//! 3. Tokens become text ([`scheduler::text`]: UTF-8 across token
//!    boundaries, stop sequences) and go back on the job's channel;
//!    [`output`] turns them into provider events, holding tool-call text back
//!    to parse it ([`toolcall`]). Dropping the stream frees the slot.
//!
//! [`store`] manages model files on disk (pull, add, list, remove);
//! [`reference`] is the bare decode loop the benchmark compares against.

mod backend;
pub mod config;
mod engine;
mod error;
pub mod gguf;
mod handle;
mod output;
mod provider;
pub mod reference;
mod sampling;
pub mod scheduler;
mod stats;
pub mod store;
pub mod template;
pub mod toolcall;
mod tools;

pub use config::{EngineConfig, SamplingDefaults, default_threads};
pub use engine::{Engine, ModelInfo};
pub use error::EngineError;
pub use handle::{EmbeddedModel, EmbeddedStatus};
pub use stats::StatsSnapshot;

#[cfg(test)]
mod tests;
