//! `read_file`: a text file from the workspace, whole or a range of lines,
//! never more than [`READ_MAX_BYTES`] at once.
//!
//! The text comes back as it is in the file, without line numbers: the
//! model copies from it into `edit_file`'s `old`, and small models copy
//! line-number prefixes along. Where the text is partial, a note in
//! brackets at the end says which lines were shown and where to read on.

use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

use async_trait::async_trait;
use hearth_core::{ToolContext, ToolError, ToolResult, TypedTool};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{READ_MAX_BYTES, Shared, human_size, looks_binary, run_cancellable};
use crate::workspace::{Workspace, io_error};

/// Bytes looked at to tell text from binary.
const SNIFF_BYTES: usize = 8 * 1024;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadArgs {
    /// The file, relative to the workspace root.
    pub path: String,
    /// The first line to show, counting from 1. Default 1.
    #[serde(default)]
    pub offset: Option<u64>,
    /// How many lines to show at most. Default: as many as fit in 256 KiB.
    #[serde(default)]
    pub limit: Option<u64>,
}

#[derive(Debug)]
pub struct ReadFile(pub(crate) Arc<Shared>);

#[async_trait]
impl TypedTool for ReadFile {
    type Args = ReadArgs;
    const NAME: &'static str = "read_file";

    fn description(&self) -> String {
        "Read a text file from the workspace. Returns the text exactly as stored (no line \
         numbers). Long files come back in parts of up to 256 KiB: a note at the end says \
         which lines were shown and the offset to read on from."
            .into()
    }

    async fn run(&self, context: &ToolContext, args: ReadArgs) -> ToolResult {
        if args.offset == Some(0) {
            return Err(ToolError::InvalidArguments(
                "offset counts lines from 1".into(),
            ));
        }
        if args.limit == Some(0) {
            return Err(ToolError::InvalidArguments(
                "limit must be at least 1".into(),
            ));
        }
        let shared = self.0.clone();
        run_cancellable(context, move || read(&shared.workspace, &args)).await
    }
}

/// What one pass over the file found.
struct Scan {
    text: Vec<u8>,
    /// Lines seen up to where the scan stopped.
    lines_seen: u64,
    /// The scan stopped with text left in the file.
    more: bool,
    /// It stopped because of the byte limit (else the line limit or EOF).
    hit_byte_limit: bool,
}

pub(crate) fn read(workspace: &Workspace, args: &ReadArgs) -> ToolResult {
    let path = &args.path;
    let (file, _) = workspace.open_read(path)?;
    let size = file.metadata().map_err(|e| io_error(path, &e))?.len();
    let mut reader = BufReader::with_capacity(64 * 1024, file);

    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut reader)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| io_error(path, &e))?;
    if looks_binary(&head) {
        return Err(ToolError::Failed(format!(
            "`{path}` looks like a binary file ({}); read_file reads UTF-8 text only",
            human_size(size)
        )));
    }
    if size == 0 && head.is_empty() {
        return Ok(format!("[`{path}` is empty]"));
    }

    let offset = args.offset.unwrap_or(1);
    let scan =
        scan(head.as_slice().chain(reader), offset, args.limit).map_err(|e| io_error(path, &e))?;
    if scan.text.is_empty() && !scan.more {
        return Ok(format!(
            "[`{path}` has {} lines; offset {offset} is past the end]",
            scan.lines_seen
        ));
    }

    let mut text = scan.text;
    // A cut in the middle of a character drops the partial character.
    if let Err(e) = std::str::from_utf8(&text) {
        if e.error_len().is_none() {
            text.truncate(e.valid_up_to());
        }
    }
    let mut out = String::from_utf8_lossy(&text).into_owned();
    let last = offset + count_lines(&out).saturating_sub(1);
    if scan.more {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        if scan.hit_byte_limit && !text.ends_with(b"\n") {
            out.push_str(&format!(
                "\n[showing lines {offset}-{last}; line {last} is cut at the 256 KiB limit; \
                 read on with offset={}]",
                last + 1
            ));
        } else {
            out.push_str(&format!(
                "\n[showing lines {offset}-{last}; more follows: read on with offset={}]",
                last + 1
            ));
        }
    } else if offset > 1 {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("\n[lines {offset}-{last}, the end of the file]"));
    }
    Ok(out)
}

/// Lines in `text`, counting a last line without a newline.
fn count_lines(text: &str) -> u64 {
    let newlines = text.bytes().filter(|b| *b == b'\n').count() as u64;
    newlines + u64::from(!text.is_empty() && !text.ends_with('\n'))
}

/// Walks the file without holding more than one buffer of it, keeping the
/// lines from `offset` on until `limit` lines or [`READ_MAX_BYTES`].
fn scan(reader: impl Read, offset: u64, limit: Option<u64>) -> std::io::Result<Scan> {
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let mut text = Vec::new();
    // The number of the line the next byte belongs to.
    let mut line = 1u64;
    let mut in_line = false;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            let lines_seen = line - 1 + u64::from(in_line);
            return Ok(Scan {
                text,
                lines_seen,
                more: false,
                hit_byte_limit: false,
            });
        }
        let mut used = 0;
        while used < buf.len() {
            let rest = &buf[used..];
            let (piece, ends_line) = match rest.iter().position(|b| *b == b'\n') {
                Some(i) => (&rest[..=i], true),
                None => (rest, false),
            };
            if line >= offset {
                if limit.is_some_and(|limit| line >= offset + limit) {
                    return Ok(stopped(text, line, false));
                }
                let room = READ_MAX_BYTES - text.len();
                if piece.len() > room {
                    text.extend_from_slice(&piece[..room]);
                    return Ok(stopped(text, line, true));
                }
                text.extend_from_slice(piece);
            }
            used += piece.len();
            if ends_line {
                line += 1;
                in_line = false;
            } else {
                in_line = true;
            }
        }
        reader.consume(used);
    }
}

fn stopped(text: Vec<u8>, line: u64, hit_byte_limit: bool) -> Scan {
    Scan {
        text,
        lines_seen: line,
        more: true,
        hit_byte_limit,
    }
}
