//! Why a model could not be loaded or a request could not be served, and
//! how each maps onto the provider error kinds the router understands.

use hearth_core::{ErrorKind, ProviderError};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(
        "model file {path} does not exist; run `hearth models pull smollm2-135m` or point the config at a GGUF file"
    )]
    Missing { path: PathBuf },
    #[error("cannot read model file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a GGUF model: {reason}")]
    NotGguf { path: PathBuf, reason: String },
    #[error(
        "llama.cpp could not load {path} (corrupt or unsupported GGUF; see the log for its reason)"
    )]
    Load { path: PathBuf },
    #[error("cannot create the inference context: {0}")]
    Context(String),
    #[error("invalid engine settings: {0}")]
    Config(String),
    #[error(transparent)]
    Template(#[from] crate::template::TemplateError),
    #[error("the engine has stopped")]
    Stopped,
}

impl From<EngineError> for ProviderError {
    fn from(error: EngineError) -> Self {
        let kind = match &error {
            EngineError::Template(_) => ErrorKind::InvalidRequest,
            _ => ErrorKind::Unavailable,
        };
        ProviderError::new(kind, error.to_string())
    }
}
