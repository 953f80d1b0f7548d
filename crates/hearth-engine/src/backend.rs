//! The process-wide llama.cpp backend: initialised once, on first use, with
//! its logs routed into `tracing` instead of stderr.

use llama_cpp_2::llama_backend::LlamaBackend;
use std::sync::OnceLock;

static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();

/// llama.cpp allows one backend per process, and freeing it while models
/// live is undefined, so it is kept for the life of the process.
pub fn backend() -> Result<&'static LlamaBackend, crate::EngineError> {
    BACKEND
        .get_or_init(|| {
            // llama.cpp prints every tensor it loads; at debug level that is
            // useful, at info it drowns the daemon's own log.
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| crate::EngineError::Context(format!("llama.cpp backend: {e}")))
}
