//! `hearth skills list`: each agent's skills as its turns would see them:
//! which are ready, which are missing a binary or a variable (and which),
//! which are hidden by a copy of higher precedence, and files that failed
//! to load. Reads the folders directly; no daemon needed.

use std::process::ExitCode;

use anyhow::Result;
use hearth_agent::skills::{SkillCatalog, SystemEnv, render_list};
use serde_json::json;

use crate::config::Config;
use crate::paths;
use crate::tools::DaemonTools;

pub fn list(config: &Config, agent: Option<&str>, json_out: bool) -> Result<ExitCode> {
    let data_dir = config.data_dir()?;
    let user_skills = config.user_skills_dir()?;
    let agents = config.agents()?;
    let mut reports = Vec::new();
    for (id, settings) in &agents {
        if agent.is_some_and(|wanted| wanted != id.as_str()) {
            continue;
        }
        let workspace = match &settings.workspace {
            Some(dir) => paths::expand_tilde(dir)?,
            None => paths::agent_workspace(&data_dir, id),
        };
        let roots = DaemonTools::skill_roots(&workspace, &user_skills);
        let catalog = SkillCatalog::discover(&roots, &SystemEnv);
        reports.push((id.clone(), catalog));
    }
    if let Some(wanted) = agent
        && reports.is_empty()
    {
        anyhow::bail!("no agent {wanted:?} in the config file");
    }
    if json_out {
        let value: Vec<_> = reports
            .iter()
            .map(|(id, catalog)| {
                let skills: Vec<_> = catalog
                    .skills()
                    .iter()
                    .map(|s| {
                        json!({
                            "name": s.name,
                            "description": s.description,
                            "source": format!("{:?}", s.source).to_lowercase(),
                            "dir": s.dir,
                            "ready": s.gate.is_ready(),
                            "missing": s.gate.reasons(),
                        })
                    })
                    .collect();
                let problems: Vec<_> = catalog
                    .problems()
                    .iter()
                    .map(|p| json!({ "path": p.path, "error": p.error.to_string() }))
                    .collect();
                json!({ "agent": id.as_str(), "skills": skills, "problems": problems })
            })
            .collect();
        super::print_json(&json!(value));
        return Ok(ExitCode::SUCCESS);
    }
    for (index, (id, catalog)) in reports.iter().enumerate() {
        if index > 0 {
            println!();
        }
        println!("agent {id}");
        print!("{}", render_list(catalog));
    }
    Ok(ExitCode::SUCCESS)
}
