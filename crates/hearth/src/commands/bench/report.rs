//! The benchmark's figures: derived ratios (against the in-run `/healthz`
//! reference, the targets, OpenClaw for scale), a table for people and
//! JSON for scripts.

use serde::Serialize;

use super::load::{Kind, Phase};

/// OpenClaw's figures, measured elsewhere: CPU per turn and idle RSS.
const OPENCLAW_CPU_MS_PER_TURN: (f64, f64) = (336.0, 473.0);
const OPENCLAW_IDLE_RSS_MB: f64 = 1024.0;

const TARGET_TURNS_PER_SEC_AT_8: f64 = 1000.0;
const TARGET_CPU_MS_PER_TURN: f64 = 1.5;
const TARGET_IDLE_RSS_MB: f64 = 25.0;
const TARGET_READY_MS: f64 = 100.0;

#[derive(Debug, Serialize)]
pub struct Startup {
    /// Exec to `/readyz` 200 of each cold start (fresh data dir), in ms.
    pub runs_ms: Vec<f64>,
    pub median_ms: f64,
    pub min_ms: f64,
    /// SIGTERM to exit of the idle daemons, in ms.
    pub stop_median_ms: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Memory {
    /// VmRSS after ready and ~1 s idle.
    pub idle_rss_mb: f64,
    /// Daemon CPU over that idle second.
    pub idle_cpu_ms: f64,
    /// VmRSS and VmHWM after all load phases.
    pub after_load_rss_mb: f64,
    pub peak_rss_mb: f64,
}

/// A turn phase against the `/healthz` phase at the same concurrency.
#[derive(Debug, Serialize)]
pub struct Relative {
    pub kind: Kind,
    pub clients: usize,
    /// Daemon CPU per turn ÷ daemon CPU per `/healthz` request.
    pub cpu_ratio: f64,
    /// Turns/s ÷ `/healthz` requests/s.
    pub rate_ratio: f64,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub target: String,
    pub measured: f64,
    pub unit: &'static str,
    pub pass: bool,
}

#[derive(Debug, Serialize)]
pub struct Report {
    /// False when any operation failed: the figures are then not valid.
    pub ok: bool,
    pub turns_per_phase: usize,
    pub cpus: usize,
    pub load_average_at_start: Option<f64>,
    pub clock_ticks_per_sec: u64,
    pub startup: Startup,
    pub memory: Memory,
    pub phases: Vec<Phase>,
    pub relative_to_healthz: Vec<Relative>,
    pub targets: Vec<Check>,
    /// OpenClaw's figure ÷ Hearth's (how many times less Hearth uses).
    pub openclaw_cpu_per_turn_times: (f64, f64),
    pub openclaw_idle_rss_times: f64,
    pub notes: Vec<String>,
}

fn is_turn(phase: &Phase) -> bool {
    phase.kind != Kind::Healthz
}

impl Report {
    /// Derives ratios and checks from the measured figures.
    pub fn new(
        turns: usize,
        load_average: Option<f64>,
        startup: Startup,
        memory: Memory,
        phases: Vec<Phase>,
    ) -> Self {
        let relative_to_healthz = phases
            .iter()
            .filter(|p| is_turn(p))
            .filter_map(|turn| {
                let reference = phases
                    .iter()
                    .find(|p| p.kind == Kind::Healthz && p.clients == turn.clients)?;
                Some(Relative {
                    kind: turn.kind,
                    clients: turn.clients,
                    cpu_ratio: turn.daemon_cpu_ms_per_op / reference.daemon_cpu_ms_per_op.max(1e-9),
                    rate_ratio: turn.per_sec / reference.per_sec.max(1e-9),
                })
            })
            .collect();
        // The targets hold for every transport, so the worst phase counts.
        let slowest_at_8 = phases
            .iter()
            .filter(|p| is_turn(p) && p.clients == 8)
            .map(|p| p.per_sec)
            .fold(f64::INFINITY, f64::min);
        let worst_cpu = worst_cpu_per_turn(&phases);
        let targets = vec![
            check(
                "turns/s at 8 clients (slowest transport)",
                slowest_at_8,
                TARGET_TURNS_PER_SEC_AT_8,
                "turns/s",
                true,
            ),
            check(
                "daemon CPU per turn (worst phase)",
                worst_cpu,
                TARGET_CPU_MS_PER_TURN,
                "ms",
                false,
            ),
            check(
                "idle RSS",
                memory.idle_rss_mb,
                TARGET_IDLE_RSS_MB,
                "MB",
                false,
            ),
            check(
                "exec to ready (median)",
                startup.median_ms,
                TARGET_READY_MS,
                "ms",
                false,
            ),
        ];
        let ok = phases.iter().all(|p| p.errors == 0);
        let (low, high) = OPENCLAW_CPU_MS_PER_TURN;
        Self {
            ok,
            turns_per_phase: turns,
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            load_average_at_start: load_average,
            clock_ticks_per_sec: super::procfs::clock_ticks_per_sec(),
            openclaw_cpu_per_turn_times: (low / worst_cpu.max(1e-9), high / worst_cpu.max(1e-9)),
            openclaw_idle_rss_times: OPENCLAW_IDLE_RSS_MB / memory.idle_rss_mb.max(1e-9),
            startup,
            memory,
            phases,
            relative_to_healthz,
            targets,
            notes: vec![
                "Model: the built-in echo provider (answers at once), so turn figures are Hearth's own overhead.".into(),
                "Each client has its own session per phase; every turn stores 2 rows and reads up to 200 rows of history (history_limit), so most turns pay a full 200-row history read, as a long chat does.".into(),
                "The load generator (this process) shares the machine with the daemon: its CPU per op is shown, and turns/s is bounded by both.".into(),
                "CPU figures are the daemon's utime+stime from /proc/<pid>/stat, read before and after each timed phase (after a per-client warm-up).".into(),
            ],
        }
    }
}

fn worst_cpu_per_turn(phases: &[Phase]) -> f64 {
    phases
        .iter()
        .filter(|p| is_turn(p))
        .map(|p| p.daemon_cpu_ms_per_op)
        .fold(0.0, f64::max)
}

/// `at_least`: the measured value must reach the target, else stay under it.
fn check(
    name: &'static str,
    measured: f64,
    target: f64,
    unit: &'static str,
    at_least: bool,
) -> Check {
    let (pass, sign) = if at_least {
        (measured >= target, "≥")
    } else {
        (measured <= target, "≤")
    };
    Check {
        name,
        target: format!("{sign} {target} {unit}"),
        measured,
        unit,
        pass,
    }
}

/// "1/840" for a ratio of 840, "2.0×" for one under 1 (more, not less).
fn times_less(times: f64) -> String {
    if times >= 1.0 {
        format!("1/{times:.0}")
    } else {
        format!("{:.1}×", 1.0 / times.max(1e-9))
    }
}

impl Report {
    pub fn print_text(&self) {
        let s = &self.startup;
        let m = &self.memory;
        println!("Hearth gateway benchmark: echo provider, real daemon process");
        println!(
            "  {} turns per phase, {} CPUs, load average at start {}",
            self.turns_per_phase,
            self.cpus,
            self.load_average_at_start
                .map_or("?".into(), |l| format!("{l:.2}"))
        );
        println!();
        let runs: Vec<String> = s.runs_ms.iter().map(|r| format!("{r:.1}")).collect();
        println!(
            "Exec to /readyz 200 ({} cold starts, fresh data dir): median {:.1} ms, min {:.1} ms  [{}]",
            s.runs_ms.len(),
            s.median_ms,
            s.min_ms,
            runs.join(", ")
        );
        if let Some(stop) = s.stop_median_ms {
            println!("SIGTERM to exit (idle daemon): median {stop:.1} ms");
        }
        println!(
            "Memory: idle RSS {:.1} MB (CPU while idle 1 s: {:.0} ms); after load RSS {:.1} MB, peak {:.1} MB",
            m.idle_rss_mb, m.idle_cpu_ms, m.after_load_rss_mb, m.peak_rss_mb
        );
        println!();
        println!(
            "{:<16} {:>7} {:>7} {:>6} {:>9} {:>11} {:>11} {:>8} {:>8}",
            "phase", "clients", "ops", "errors", "ops/s", "daemon CPU", "client CPU", "p50", "p99"
        );
        println!(
            "{:<16} {:>7} {:>7} {:>6} {:>9} {:>11} {:>11} {:>8} {:>8}",
            "", "", "", "", "", "ms/op", "ms/op", "ms", "ms"
        );
        for p in &self.phases {
            println!(
                "{:<16} {:>7} {:>7} {:>6} {:>9.0} {:>11.3} {:>11.3} {:>8.3} {:>8.3}",
                p.kind.label(),
                p.clients,
                p.ops,
                p.errors,
                p.per_sec,
                p.daemon_cpu_ms_per_op,
                p.client_cpu_ms_per_op,
                p.p50_ms,
                p.p99_ms
            );
        }
        println!();
        println!(
            "Turn cost relative to GET /healthz at the same concurrency, same HTTP clients (this run):"
        );
        for r in &self.relative_to_healthz {
            println!(
                "  {:<16} {} clients: daemon CPU per turn = {:.1}× a /healthz request; turns/s = {:.3}× /healthz req/s",
                r.kind.label(),
                r.clients,
                r.cpu_ratio,
                r.rate_ratio
            );
        }
        println!();
        println!("Targets:");
        for c in &self.targets {
            println!(
                "  {:<42} {:>10.2} {:<8} target {:<16} {}",
                c.name,
                c.measured,
                c.unit,
                c.target,
                if c.pass { "PASS" } else { "MISS" }
            );
        }
        println!();
        let worst = worst_cpu_per_turn(&self.phases);
        let (low, high) = OPENCLAW_CPU_MS_PER_TURN;
        let (t_low, t_high) = self.openclaw_cpu_per_turn_times;
        println!("For scale, OpenClaw (measured elsewhere):");
        println!(
            "  CPU per turn: {worst:.3} ms = {} to {} of OpenClaw's {low:.0}–{high:.0} ms",
            times_less(t_low),
            times_less(t_high)
        );
        println!(
            "  idle RSS: {:.1} MB = {} of OpenClaw's ~1 GB",
            m.idle_rss_mb,
            times_less(self.openclaw_idle_rss_times)
        );
        println!();
        for note in &self.notes {
            println!("Note: {note}");
        }
        for p in self.phases.iter().filter(|p| p.errors > 0) {
            println!(
                "FAILED: {} at {} clients: {} errors, e.g.:",
                p.kind.label(),
                p.clients,
                p.errors
            );
            for e in &p.first_errors {
                println!("  {e}");
            }
        }
        if !self.ok {
            println!("RESULT: FAILED (operations errored; the figures above are not valid)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_and_ratio_wording() {
        assert!(check("x", 1200.0, 1000.0, "turns/s", true).pass);
        assert!(!check("x", 900.0, 1000.0, "turns/s", true).pass);
        assert!(check("x", 1.2, 1.5, "ms", false).pass);
        assert_eq!(check("x", 1.2, 1.5, "ms", false).target, "≤ 1.5 ms");
        assert_eq!(times_less(840.4), "1/840");
        assert_eq!(times_less(0.5), "2.0×");
    }
}
