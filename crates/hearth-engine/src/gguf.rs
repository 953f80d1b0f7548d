//! A GGUF file's identity, read from its header without loading weights:
//! used to verify downloads and to list models on disk.

use crate::error::EngineError;
use llama_cpp_2::gguf::GgufContext;
use std::io::Read;
use std::path::Path;

/// What a GGUF says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GgufInfo {
    /// GGUF format version (2 or 3 today).
    pub version: u32,
    /// `general.architecture`, e.g. `llama`, `qwen2`.
    pub architecture: String,
    /// `general.name`, when present.
    pub name: Option<String>,
    /// `<arch>.context_length`: the context the model was trained with.
    pub context_length: Option<u64>,
    pub has_chat_template: bool,
    pub tensors: i64,
}

const MAGIC: &[u8; 4] = b"GGUF";

/// Checks the magic and version, then parses the metadata with ggml's own
/// reader. Errors name the file and what is wrong with it.
pub fn inspect(path: &Path) -> Result<GgufInfo, EngineError> {
    let not_gguf = |reason: String| EngineError::NotGguf {
        path: path.to_path_buf(),
        reason,
    };
    let mut header = [0u8; 8];
    let mut file = std::fs::File::open(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => EngineError::Missing {
            path: path.to_path_buf(),
        },
        _ => EngineError::Io {
            path: path.to_path_buf(),
            source,
        },
    })?;
    file.read_exact(&mut header)
        .map_err(|_| not_gguf("the file is shorter than a GGUF header".into()))?;
    if &header[..4] != MAGIC {
        return Err(not_gguf(format!(
            "it starts with {:02x?}, not the GGUF magic",
            &header[..4]
        )));
    }
    let version = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if !(2..=3).contains(&version) {
        return Err(not_gguf(format!("unsupported GGUF version {version}")));
    }
    let context = GgufContext::from_file(path)
        .ok_or_else(|| not_gguf("its metadata is truncated or corrupt".into()))?;
    let string = |key: &str| {
        let index = context.find_key(key);
        (index >= 0)
            .then(|| context.val_str(index).map(str::to_owned))
            .flatten()
    };
    let architecture = string("general.architecture")
        .ok_or_else(|| not_gguf("it names no architecture".into()))?;
    let context_length = {
        let index = context.find_key(&format!("{architecture}.context_length"));
        // Value type codes from the GGUF spec: 4 = uint32, 10 = uint64.
        // Reading a key with the wrong getter aborts inside ggml, so the
        // type is checked first.
        (index >= 0).then(|| match context.kv_type(index) {
            4 => u64::from(context.val_u32(index)),
            10 => context.val_u64(index),
            _ => 0,
        })
    };
    Ok(GgufInfo {
        version,
        name: string("general.name"),
        has_chat_template: context.find_key("tokenizer.chat_template") >= 0,
        context_length: context_length.filter(|n| *n > 0),
        tensors: context.n_tensors(),
        architecture,
    })
}
