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
