//! `hearth bench gateway` (being written).

use std::process::ExitCode;

pub async fn gateway(_turns: usize, _json: bool) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet")
}
