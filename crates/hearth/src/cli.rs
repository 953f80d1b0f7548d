//! The command line: one binary, subcommands for the daemon, its clients
//! and its maintenance.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "hearth",
    version,
    about = "Hearth: a local-first AI assistant gateway"
)]
pub struct Cli {
    /// Config file (default: $XDG_CONFIG_HOME/hearth/config.toml).
    #[arg(long, global = true, env = "HEARTH_CONFIG")]
    pub config: Option<PathBuf>,
    /// Print data as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented default config (with a fresh gateway token) and the
    /// default agent's persona files.
    Init {
        /// Replace an existing config (the old one is kept as a backup).
        #[arg(long)]
        force: bool,
    },
    /// Run the daemon in the foreground until SIGTERM or Ctrl-C.
    Run {
        /// Fetch a missing default model before starting (`hearth models
        /// pull`), instead of stopping with instructions.
        #[arg(long)]
        pull: bool,
    },
    /// Talk to an agent through the running daemon.
    Chat {
        /// Send one message, print the answer, exit.
        #[arg(short, long)]
        message: Option<String>,
        /// Agent to talk to (default: the config's default agent).
        #[arg(long)]
        agent: Option<String>,
        /// Session key (default: the agent's main session).
        #[arg(long)]
        session: Option<String>,
    },
    /// Show whether the daemon runs, its agents, sessions and queue.
    Status,
    /// Check config, state directory, port, models; say how to fix problems.
    Doctor,
    /// List and manage sessions (through the running daemon).
    Sessions {
        #[command(subcommand)]
        action: Option<SessionsAction>,
    },
    /// Chat channels: their health, and templates to add one.
    Channels {
        #[command(subcommand)]
        action: Option<ChannelsAction>,
    },
    /// Approve unknown senders who asked to talk to the assistant (through
    /// the running daemon).
    Pairing {
        #[command(subcommand)]
        action: Option<PairingAction>,
    },
    /// Skills (SKILL.md folders) each agent can use, and why others cannot.
    Skills {
        #[command(subcommand)]
        action: Option<SkillsAction>,
    },
    /// Shell commands waiting for an operator's approval; approve or deny
    /// them (through the running daemon).
    Approvals {
        #[command(subcommand)]
        action: Option<ApprovalsAction>,
    },
    /// Long-term memory, working memory and the knowledge graph (through
    /// the running daemon).
    Memory {
        #[command(subcommand)]
        action: MemoryAction,
    },
    /// The configured models and the model files on disk; fetch, add and
    /// remove GGUF files; load and unload them in the running daemon.
    Models {
        #[command(subcommand)]
        action: Option<ModelsAction>,
        /// Also check that each model's server answers (same as `models check`).
        #[arg(long)]
        check: bool,
    },
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// The control protocol's JSON Schema.
    Protocol {
        #[command(subcommand)]
        action: ProtocolAction,
    },
    /// Benchmarks that print figures and ratios.
    Bench {
        #[command(subcommand)]
        target: BenchTarget,
    },
}

#[derive(Debug, Subcommand)]
pub enum SessionsAction {
    /// List sessions, most recent first.
    List {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        agent: Option<String>,
    },
    /// Show a session's transcript.
    Show {
        key: String,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Start a new transcript for a session (the old one is kept).
    Reset { key: String },
    /// Delete a session and its transcripts.
    Delete { key: String },
}

#[derive(Debug, Subcommand)]
pub enum ChannelsAction {
    /// Each channel's connection state, last error and traffic.
    Status,
    /// Print a commented `[channels.<name>]` table for a channel type, to
    /// paste into the config (`--write` appends it after validating).
    Add {
        /// The adapter type: irc, xmpp, telegram, mqtt, webhook, email.
        kind: String,
        /// The channel's name (default: the type).
        #[arg(long)]
        name: Option<String>,
        /// Append to the config file (a backup of the old file is kept).
        #[arg(long)]
        write: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PairingAction {
    /// Pending codes and approved senders.
    List {
        /// Only this channel.
        channel: Option<String>,
    },
    /// Approve the sender who received `code` on `channel`.
    Approve { channel: String, code: String },
    /// Withdraw a sender's approval.
    Revoke { channel: String, sender: String },
}

#[derive(Debug, Subcommand)]
pub enum SkillsAction {
    /// Every agent's skills: ready, missing a requirement (which), hidden.
    List {
        /// Only this agent.
        #[arg(long)]
        agent: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApprovalsAction {
    /// Requests waiting now (the default).
    List,
    /// Let the command of request `id` run, once.
    Approve { id: String },
    /// Refuse it; the agent is told it was refused.
    Deny { id: String },
    /// Print requests and answers as they happen.
    Watch,
}

#[derive(Debug, Subcommand)]
pub enum MemoryAction {
    /// Remember a text (`--document` chunks a long one).
    Add {
        text: String,
        #[arg(long)]
        agent: Option<String>,
        /// Repeatable.
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// 0.0..=1.0 (default 0.5).
        #[arg(long)]
        importance: Option<f32>,
        #[arg(long)]
        kind: Option<String>,
        /// Split a long text into overlapping chunks.
        #[arg(long)]
        document: bool,
    },
    /// Hybrid search (vector + full text).
    Search {
        query: String,
        #[arg(long)]
        agent: Option<String>,
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// `hybrid` (default), `vector` or `text`.
        #[arg(long)]
        mode: Option<String>,
        #[arg(long = "tag")]
        tags: Vec<String>,
        #[arg(long)]
        session: Option<String>,
    },
    /// The newest memories.
    List {
        #[arg(long)]
        agent: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long = "tag")]
        tags: Vec<String>,
    },
    /// Delete a memory by id.
    Rm {
        id: i64,
        #[arg(long)]
        agent: Option<String>,
    },
    /// Re-embed every memory and rebuild the index.
    Reindex,
    /// Import the agent's MEMORY.md and memory/*.md now.
    Import {
        #[arg(long)]
        agent: Option<String>,
    },
    /// Counts, embedder and index size.
    Stats,
    /// The knowledge graph (types from `<workspace>/schemas/*.json`).
    Graph {
        #[command(subcommand)]
        action: GraphAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum GraphAction {
    /// Create or update an entity: `graph put Person '{"name":"Ada"}'`.
    Put {
        #[arg(value_name = "TYPE")]
        type_name: String,
        json: String,
        #[arg(long)]
        agent: Option<String>,
    },
    /// Create or update a relation between two entities (given by key).
    Relate {
        #[arg(value_name = "TYPE")]
        type_name: String,
        from_type: String,
        from_key: String,
        to_type: String,
        to_key: String,
        /// The relation's properties as JSON.
        #[arg(long, default_value = "{}")]
        props: String,
        #[arg(long)]
        agent: Option<String>,
    },
    /// One entity by type and key.
    Get {
        #[arg(value_name = "TYPE")]
        type_name: String,
        key: String,
        #[arg(long)]
        agent: Option<String>,
    },
    /// Entities, optionally of one type.
    List {
        #[arg(long = "type")]
        type_name: Option<String>,
        #[arg(long)]
        agent: Option<String>,
    },
    /// An entity's neighbours.
    Neighbours {
        #[arg(value_name = "TYPE")]
        type_name: String,
        key: String,
        #[arg(long)]
        relation: Option<String>,
        #[arg(long)]
        agent: Option<String>,
    },
    /// Paths between two entities, up to --depth relations long.
    Paths {
        from_type: String,
        from_key: String,
        to_type: String,
        to_key: String,
        #[arg(long, default_value_t = 3)]
        depth: usize,
        #[arg(long)]
        agent: Option<String>,
    },
    /// The history of changes (of one entity, or all).
    History {
        #[arg(value_name = "TYPE")]
        type_name: Option<String>,
        key: Option<String>,
        #[arg(long)]
        agent: Option<String>,
    },
    /// Delete an entity and its relations.
    Rm {
        #[arg(value_name = "TYPE")]
        type_name: String,
        key: String,
        #[arg(long)]
        agent: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelsAction {
    /// The configured models and the GGUF files in the model store.
    List,
    /// Check that each configured model answers (loads embedded ones).
    Check,
    /// Fetch a known model into the model store: `smollm2-135m` (chat,
    /// the default) or `all-minilm-l6-v2` (embeddings, for memory).
    Pull {
        name: String,
        /// Fetch again even if the file is there.
        #[arg(long)]
        force: bool,
    },
    /// Copy a GGUF file into the model store, after verifying its header.
    Add {
        path: PathBuf,
        /// Name in the store (default: the file name without `.gguf`).
        #[arg(long)]
        name: Option<String>,
        /// Replace a model of the same name.
        #[arg(long)]
        force: bool,
    },
    /// Delete a model file from the store.
    Rm { name: String },
    /// Load (or reload with the config's current settings) an embedded
    /// model in the running daemon.
    Load { name: String },
    /// Free an embedded model's memory in the running daemon.
    Unload { name: String },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Validate the config without side effects.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum ProtocolAction {
    /// Print the JSON Schema of the protocol Hearth speaks.
    Schema,
}

#[derive(Debug, Subcommand)]
pub enum BenchTarget {
    /// Gateway overhead with the echo provider: CPU per turn, turns/s over
    /// HTTP and WebSocket at 1 and 8 clients, idle RSS, time to ready.
    Gateway {
        /// Turns per measurement.
        #[arg(long, default_value_t = 4000)]
        turns: usize,
    },
    /// The embedded engine on a real GGUF: prompt and decode tokens/s at 1,
    /// 2, 4 and 8 sessions, time to first token as history grows, peak
    /// memory; each against a bare llama.cpp decode loop in the same run.
    Engine {
        /// GGUF file (default: the pulled smollm2-135m).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Decoding threads (default: the engine's default for this machine).
        #[arg(long)]
        threads: Option<usize>,
        /// Tokens generated per stream.
        #[arg(long, default_value_t = 128)]
        tokens: u32,
        /// Rounds of alternating engine/reference measurements (medians).
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// Long-term memory on real text from /usr/share/doc: embeddings/s,
    /// insert rate, query p50/p99, recall@10 of the ANN against an exact
    /// scan, RSS.
    Memory {
        /// Items stored.
        #[arg(long, default_value_t = 100_000)]
        items: usize,
        /// Queries timed (held-out lines of the same text).
        #[arg(long, default_value_t = 200)]
        queries: usize,
        /// Embedding model folder (default: the pulled all-minilm-l6-v2).
        #[arg(long)]
        embedder: Option<PathBuf>,
    },
}
