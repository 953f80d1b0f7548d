//! The load phases: N operations split across concurrent clients, each
//! with its own connection (and, for turns, its own session so the
//! per-session lane does not serialize them), timed after a warm-up, with
//! the daemon's CPU time read before and after and every answer checked.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hearth_gateway::client::Client;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{Barrier, watch};

use super::procfs;
use super::stats::{ms, percentile};

/// Longest one operation may take before it counts as an error, so a
/// wedged daemon fails the run instead of hanging it.
const OP_TIMEOUT: Duration = Duration::from_secs(30);
/// Error messages kept per phase (the count is always exact).
const KEPT_ERRORS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `GET /healthz`: the in-run reference, a request that does no work.
    Healthz,
    /// A turn via `POST /v1/chat/completions`.
    Http,
    /// A turn via the WebSocket `agent` method.
    Ws,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Healthz => "GET /healthz",
            Kind::Http => "turn, HTTP",
            Kind::Ws => "turn, WebSocket",
        }
    }
}

/// Where and how to reach the daemon; the HTTP clients (keep-alive pools)
/// are made once and shared by the healthz and HTTP turn phases, so the
/// reference runs over the very same connections.
pub struct Target {
    pub pid: u32,
    pub token: String,
    pub ws_url: String,
    pub healthz_url: String,
    pub completions_url: String,
    pub http: Vec<reqwest::Client>,
}

impl Target {
    pub fn new(pid: u32, base: &str, token: String, clients: usize) -> Result<Self> {
        let http = (0..clients)
            .map(|_| {
                reqwest::Client::builder()
                    .no_proxy() // a proxy from the environment would be measured too
                    .timeout(OP_TIMEOUT)
                    .build()
                    .context("cannot build an HTTP client")
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            pid,
            token,
            ws_url: base.replacen("http://", "ws://", 1),
            healthz_url: format!("{base}/healthz"),
            completions_url: format!("{base}/v1/chat/completions"),
            http,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    pub kind: Kind,
    pub clients: usize,
    pub ops: usize,
    pub errors: usize,
    pub first_errors: Vec<String>,
    pub wall_ms: f64,
    pub per_sec: f64,
    /// Daemon CPU (user + system) per operation.
    pub daemon_cpu_ms_per_op: f64,
    /// This process's CPU per operation: the load generator shares the
    /// machine, so it bounds throughput too.
    pub client_cpu_ms_per_op: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// A client's own connection.
enum Conn {
    Http(reqwest::Client),
    Ws(Box<Client>),
}

#[derive(Default)]
struct Outcome {
    latencies: Vec<Duration>,
    errors: usize,
    messages: Vec<String>,
}

impl Outcome {
    fn error(&mut self, message: String) {
        self.errors += 1;
        if self.messages.len() < KEPT_ERRORS {
            self.messages.push(message);
        }
    }
}

/// Runs `ops` operations of `kind` over `clients` clients, after `warmup`
/// untimed operations per client.
pub async fn run(
    target: &Arc<Target>,
    kind: Kind,
    clients: usize,
    ops: usize,
    warmup: usize,
) -> Result<Phase> {
    let warmed = Arc::new(Barrier::new(clients + 1));
    let (go, start) = watch::channel(false);
    let workers: Vec<_> = (0..clients)
        .map(|worker| {
            // An even split; the first `ops % clients` clients take one more.
            let share = ops / clients + usize::from(worker < ops % clients);
            let (target, warmed, start) = (target.clone(), warmed.clone(), start.clone());
            tokio::spawn(async move {
                client(&target, kind, clients, worker, warmup, share, warmed, start).await
            })
        })
        .collect();
    // CPU and clock are read once every client is connected and warm.
    warmed.wait().await;
    let daemon_before = procfs::cpu_time(target.pid)?;
    let self_before = procfs::cpu_time(std::process::id())?;
    let started = Instant::now();
    let _ = go.send(true);
    let mut all = Outcome::default();
    for worker in futures::future::join_all(workers).await {
        let outcome = worker.context("a benchmark client panicked")?;
        all.latencies.extend(outcome.latencies);
        all.errors += outcome.errors;
        let room = KEPT_ERRORS.saturating_sub(all.messages.len());
        all.messages.extend(outcome.messages.into_iter().take(room));
    }
    let wall = started.elapsed();
    // Work the daemon finishes just after answering (the run's bookkeeping)
    // belongs to the turns; a short settle lets it land in the reading.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let daemon_cpu = procfs::cpu_time(target.pid)?.saturating_sub(daemon_before);
    let self_cpu = procfs::cpu_time(std::process::id())?.saturating_sub(self_before);
    all.latencies.sort_unstable();
    let per_op = |cpu: Duration| ms(cpu) / ops.max(1) as f64;
    Ok(Phase {
        kind,
        clients,
        ops,
        errors: all.errors,
        first_errors: all.messages,
        wall_ms: ms(wall),
        per_sec: ops as f64 / wall.as_secs_f64().max(1e-9),
        daemon_cpu_ms_per_op: per_op(daemon_cpu),
        client_cpu_ms_per_op: per_op(self_cpu),
        p50_ms: percentile(&all.latencies, 50.0).map_or(0.0, ms),
        p99_ms: percentile(&all.latencies, 99.0).map_or(0.0, ms),
    })
}

#[allow(clippy::too_many_arguments)] // one client's whole brief; a struct would only rename it
async fn client(
    target: &Target,
    kind: Kind,
    clients: usize,
    worker: usize,
    warmup: usize,
    share: usize,
    warmed: Arc<Barrier>,
    mut start: watch::Receiver<bool>,
) -> Outcome {
    let mut outcome = Outcome::default();
    let session = format!("agent:main:bench-{kind:?}-c{clients}-w{worker}").to_lowercase();
    let conn = connect(target, kind, worker).await;
    let conn = match conn {
        Ok(mut conn) => {
            for i in 0..warmup {
                let text = format!("warm-up {worker}.{i}");
                if let Err(e) = op(target, &mut conn, kind, &session, &text).await {
                    outcome.error(format!("warm-up: {e:#}"));
                }
            }
            Some(conn)
        }
        Err(e) => {
            outcome.error(format!("connect: {e:#}"));
            None
        }
    };
    // Every client must reach the barrier, even a failed one, or the
    // phase would wait forever.
    warmed.wait().await;
    let _ = start.wait_for(|go| *go).await;
    let Some(mut conn) = conn else {
        outcome.errors += share; // none of its operations could run
        return outcome;
    };
    outcome.latencies.reserve(share);
    for i in 0..share {
        let text = format!("bench {worker}.{i}");
        let sent = Instant::now();
        match op(target, &mut conn, kind, &session, &text).await {
            Ok(()) => outcome.latencies.push(sent.elapsed()),
            Err(e) => outcome.error(format!("{e:#}")),
        }
    }
    if let Conn::Ws(client) = conn {
        client.close().await;
    }
    outcome
}

async fn connect(target: &Target, kind: Kind, worker: usize) -> Result<Conn> {
    Ok(match kind {
        Kind::Healthz | Kind::Http => Conn::Http(target.http[worker].clone()),
        Kind::Ws => {
            let connecting = Client::connect(&target.ws_url, Some(&target.token));
            let client = tokio::time::timeout(OP_TIMEOUT, connecting)
                .await
                .context("WebSocket connect timed out")??;
            Conn::Ws(Box::new(client))
        }
    })
}

/// One operation, its answer checked: the echo of `text`, or `/healthz`'s
/// liveness.
async fn op(target: &Target, conn: &mut Conn, kind: Kind, session: &str, text: &str) -> Result<()> {
    match (kind, conn) {
        (Kind::Healthz, Conn::Http(http)) => {
            let response = http.get(&target.healthz_url).send().await?;
            let status = response.status();
            // Read the whole body so the connection goes back to the pool.
            let body: Value = response.json().await?;
            if !status.is_success() || body["ok"] != true {
                bail!("/healthz answered {status}: {body}");
            }
        }
        (Kind::Http, Conn::Http(http)) => {
            let response = http
                .post(&target.completions_url)
                .bearer_auth(&target.token)
                .header("x-hearth-session-key", session)
                .json(
                    &json!({ "model": "main", "messages": [{ "role": "user", "content": text }] }),
                )
                .send()
                .await?;
            let status = response.status();
            let body: Value = response.json().await?;
            if !status.is_success() {
                bail!("/v1/chat/completions answered {status}: {body}");
            }
            check_echo(text, &body["choices"][0]["message"]["content"])?;
        }
        (Kind::Ws, Conn::Ws(client)) => {
            let params = json!({
                "message": text,
                "sessionKey": session,
                "idempotencyKey": uuid::Uuid::new_v4().to_string(),
            });
            let answer = tokio::time::timeout(OP_TIMEOUT, client.request_final("agent", params))
                .await
                .context("no answer in time")??;
            if answer["status"] != "ok" {
                bail!("agent answered {answer}");
            }
            check_echo(text, &answer["result"]["payloads"][0]["text"])?;
        }
        _ => bail!("internal: {kind:?} on the wrong connection"),
    }
    Ok(())
}

fn check_echo(sent: &str, got: &Value) -> Result<()> {
    match got.as_str() {
        Some(got) if got == sent => Ok(()),
        _ => bail!("wrong answer: sent {sent:?}, got {got}"),
    }
}
