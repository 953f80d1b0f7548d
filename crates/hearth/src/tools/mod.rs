//! The daemon's tools: what every agent can be offered before its policy
//! and its channel's narrow it. Built once at start; a few depend on the
//! agent (files and `exec` in its workspace, its skills), so they are made
//! per turn from shared parts.
//!
//! - `memory`: the memory tools, over the memory service.
//! - built-in tools from `hearth-tools` (files, web fetch, exec), the
//!   session tools and skills from `hearth-agent`, MCP servers' tools from
//!   `hearth-mcp`.

pub mod memory;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hearth_agent::Agent;
use hearth_agent::skills::{ReadSkill, SkillCatalog, SkillRoot, SkillSource, SystemEnv};
use hearth_agent::tools::{ApprovalBroker, ToolSource};
use hearth_core::{AgentId, Approver, Tool, typed};
use hearth_tools::{Exec, ExecConfig};
use parking_lot::Mutex;

/// How long a discovered skill catalog is reused: a turn does not re-read
/// every SKILL.md, and an edited skill shows within seconds.
const SKILLS_TTL: Duration = Duration::from_secs(10);

pub struct DaemonTools {
    /// The same for every agent: web fetch, memory, sessions, messaging,
    /// the scheduler.
    pub shared: Vec<Arc<dyn Tool>>,
    pub exec: ExecConfig,
    pub approvals: Arc<ApprovalBroker>,
    pub files_read_only: bool,
    /// Skills every agent sees, below the agent's own workspace skills.
    pub user_skills: PathBuf,
    /// The MCP servers' tools, as connected at each turn.
    pub mcp: Option<Arc<hearth_mcp::McpManager>>,
    /// One catalog per agent, bounded by the number of agents.
    skills: Mutex<HashMap<AgentId, (Instant, Arc<SkillCatalog>)>>,
}

impl std::fmt::Debug for DaemonTools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DaemonTools")
            .field("shared", &self.shared.len())
            .finish_non_exhaustive()
    }
}

impl DaemonTools {
    pub fn new(
        shared: Vec<Arc<dyn Tool>>,
        exec: ExecConfig,
        approvals: Arc<ApprovalBroker>,
        files_read_only: bool,
        user_skills: PathBuf,
        mcp: Option<Arc<hearth_mcp::McpManager>>,
    ) -> Self {
        Self {
            shared,
            exec,
            approvals,
            files_read_only,
            user_skills,
            mcp,
            skills: Mutex::default(),
        }
    }

    /// The skill roots of an agent, highest precedence first.
    pub fn skill_roots(
        workspace: &std::path::Path,
        user_skills: &std::path::Path,
    ) -> Vec<SkillRoot> {
        vec![
            SkillRoot {
                path: workspace.join("skills"),
                source: SkillSource::Workspace,
            },
            SkillRoot {
                path: user_skills.to_path_buf(),
                source: SkillSource::User,
            },
        ]
    }

    fn catalog(&self, agent: &Agent) -> Arc<SkillCatalog> {
        if let Some((at, catalog)) = self.skills.lock().get(&agent.id)
            && at.elapsed() < SKILLS_TTL
        {
            return catalog.clone();
        }
        let roots = Self::skill_roots(&agent.workspace, &self.user_skills);
        let catalog = Arc::new(SkillCatalog::discover(&roots, &SystemEnv));
        self.skills
            .lock()
            .insert(agent.id.clone(), (Instant::now(), catalog.clone()));
        catalog
    }
}

impl ToolSource for DaemonTools {
    fn tools(&self, agent: &Agent) -> Vec<Arc<dyn Tool>> {
        let mut tools = self.shared.clone();
        tools.extend(hearth_tools::file_tools(
            agent.workspace.clone(),
            self.files_read_only,
        ));
        let approver: Arc<dyn Approver> = self.approvals.clone();
        tools.push(typed(Exec::new(
            self.exec.clone(),
            agent.workspace.clone(),
            Some(approver),
        )));
        let catalog = self.catalog(agent);
        if catalog.ready().next().is_some() {
            tools.push(typed(ReadSkill::new(catalog)));
        }
        if let Some(mcp) = &self.mcp {
            tools.extend(mcp.tools());
        }
        tools
    }

    fn prompt_section(&self, agent: &Agent) -> String {
        self.catalog(agent).prompt_section()
    }
}
