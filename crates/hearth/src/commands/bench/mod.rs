//! `hearth bench gateway`: Hearth's own overhead, measured against a real
//! daemon process with the echo provider — time from exec to ready, idle
//! and peak memory, and turns/s and daemon CPU per turn over HTTP and
//! WebSocket at 1 and 8 clients, each next to a `/healthz` reference
//! measured in the same run.

mod daemon;
pub mod engine;
mod load;
pub mod memory;
mod procfs;
mod report;
mod stats;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use self::load::{Kind, Target};
use self::report::{Memory, Report, Startup};
use self::stats::{median, ms};
use crate::UsageError;

/// Cold starts timed; the last daemon stays up for the load phases.
const COLD_STARTS: usize = 5;
const CONCURRENCY: [usize; 2] = [1, 8];
/// `/healthz` is far cheaper than a turn: more requests keep its CPU
/// reading well above the clock tick's resolution.
const HEALTHZ_PER_TURN: usize = 4;
/// Untimed operations per client before each phase (connections, caches,
/// the session's first rows).
const WARMUP_TURNS: usize = 20;
const WARMUP_HEALTHZ: usize = 50;

fn progress(message: &str) {
    eprintln!("bench: {message}");
}

pub async fn gateway(turns: usize, json: bool) -> Result<ExitCode> {
    if turns < CONCURRENCY[1] {
        return Err(UsageError(format!("--turns must be at least {}", CONCURRENCY[1])).into());
    }
    let load_average = procfs::load_average();
    // Dropped last (declared first): daemons stop before their files go.
    let dir = tempfile::Builder::new()
        .prefix("hearth-bench-")
        .tempdir()
        .context("cannot create a temporary directory")?;

    let mut ready = Vec::new();
    let mut stops = Vec::new();
    let mut kept = None;
    for i in 0..COLD_STARTS {
        // Blocking: the 1 ms readiness poll needs a precise sleep.
        let started =
            tokio::task::block_in_place(|| daemon::start(dir.path(), &format!("start-{i}")))?;
        progress(&format!(
            "cold start {}/{COLD_STARTS}: ready in {:.1} ms",
            i + 1,
            ms(started.ready_in)
        ));
        ready.push(ms(started.ready_in));
        let mut daemon = started.daemon;
        if i + 1 < COLD_STARTS {
            if let Some(stopped) = tokio::task::block_in_place(|| daemon.stop())? {
                stops.push(ms(stopped));
            }
        } else {
            kept = Some(daemon);
        }
    }
    let mut daemon = kept.context("no daemon started")?;
    let pid = daemon.pid;

    progress("idle for 1 s, then reading RSS");
    let idle_cpu_before = procfs::cpu_time(pid)?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_cpu = procfs::cpu_time(pid)?.saturating_sub(idle_cpu_before);
    let idle = procfs::memory(pid)?;

    let target = Arc::new(Target::new(
        pid,
        &daemon.url(),
        daemon.token.clone(),
        CONCURRENCY[1],
    )?);
    let mut phases = Vec::new();
    for clients in CONCURRENCY {
        for kind in [Kind::Healthz, Kind::Http, Kind::Ws] {
            let (ops, warmup) = match kind {
                Kind::Healthz => (turns * HEALTHZ_PER_TURN, WARMUP_HEALTHZ),
                _ => (turns, WARMUP_TURNS),
            };
            progress(&format!("{} × {ops} at {clients} client(s)…", kind.label()));
            let phase = load::run(&target, kind, clients, ops, warmup).await?;
            progress(&format!(
                "  {:.0} ops/s, daemon CPU {:.3} ms/op, {} errors",
                phase.per_sec, phase.daemon_cpu_ms_per_op, phase.errors
            ));
            phases.push(phase);
        }
    }
    let after = procfs::memory(pid)?;
    progress("stopping the daemon");
    tokio::task::block_in_place(|| daemon.stop())?;
    drop(daemon);

    let mb = |kb: u64| kb as f64 / 1024.0;
    let startup = Startup {
        median_ms: median(&ready).unwrap_or_default(),
        min_ms: ready.iter().copied().fold(f64::INFINITY, f64::min),
        runs_ms: ready,
        stop_median_ms: median(&stops),
    };
    let memory = Memory {
        idle_rss_mb: mb(idle.rss_kb),
        idle_cpu_ms: ms(idle_cpu),
        after_load_rss_mb: mb(after.rss_kb),
        peak_rss_mb: mb(after.peak_kb),
    };
    let report = Report::new(turns, load_average, startup, memory, phases);
    if json {
        super::print_json(&serde_json::to_value(&report)?);
    } else {
        report.print_text();
    }
    // A measurement that misses targets still succeeded; failed turns did not.
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
