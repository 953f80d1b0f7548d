//! Where tests find the real SmolLM2 GGUF: `HEARTH_TEST_MODEL`, else the
//! default model store (`hearth models pull smollm2-135m` puts it there;
//! scripts/test.sh runs that). A missing model fails the test with that
//! instruction: tests of the real model never skip.

use std::path::PathBuf;

pub fn smollm2_path() -> PathBuf {
    if let Ok(path) = std::env::var("HEARTH_TEST_MODEL") {
        return PathBuf::from(path);
    }
    let path = dirs::data_dir()
        .expect("a data dir")
        .join("hearth/models/smollm2-135m.gguf");
    assert!(
        path.exists(),
        "the test model is missing at {}: run `cargo run -p hearth -- models pull smollm2-135m` (scripts/test.sh does) or set HEARTH_TEST_MODEL",
        path.display()
    );
    path
}

/// Where tests find the real all-MiniLM-L6-v2 directory:
/// `HEARTH_TEST_EMBEDDER`, else the default model store (`hearth models
/// pull all-minilm-l6-v2` puts it there). Missing files fail the test.
pub fn minilm_dir() -> PathBuf {
    if let Ok(path) = std::env::var("HEARTH_TEST_EMBEDDER") {
        return PathBuf::from(path);
    }
    let path = dirs::data_dir()
        .expect("a data dir")
        .join("hearth/models/all-minilm-l6-v2");
    assert!(
        path.join("model.safetensors").exists(),
        "the test embedding model is missing at {}: run `cargo run -p hearth -- models pull all-minilm-l6-v2` (scripts/test.sh does) or set HEARTH_TEST_EMBEDDER",
        path.display()
    );
    path
}
