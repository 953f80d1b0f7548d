//! `hearth init`: the config file (mode 0600, fresh token) and the default
//! agent's persona files.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::config;

pub fn run(flag: Option<&Path>, force: bool, json: bool) -> Result<ExitCode> {
    let path = super::config_path(flag)?;
    let report = config::init(&path, None, force)?;
    if json {
        super::print_json(&serde_json::json!({
            "config": report.config_file,
            "backup": report.backup,
            "dataDir": report.data_dir,
            "workspace": report.workspace,
            "personaFiles": report.persona_files,
        }));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Wrote {} (mode 0600, with a new gateway token).",
        report.config_file.display()
    );
    if let Some(backup) = &report.backup {
        println!("The previous config is kept at {}.", backup.display());
    }
    println!("State lives in {}.", report.data_dir.display());
    for file in &report.persona_files {
        println!("Created {}: edit it to shape the agent.", file.display());
    }
    println!("\nNext: set the model under [models.local] in the config, then `hearth run`.");
    println!(
        "Clients connect to ws://127.0.0.1:{} with token {} (also in the config's [gateway]).",
        config::DEFAULT_PORT,
        report.token.expose()
    );
    Ok(ExitCode::SUCCESS)
}
