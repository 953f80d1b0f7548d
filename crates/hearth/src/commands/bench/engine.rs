//! `hearth bench engine`: the embedded engine on a real GGUF — prompt
//! tokens/s, time to first token (cold, and warm on a follow-up turn as the
//! history grows), decode tokens/s per stream and aggregate at 1, 2, 4 and 8
//! concurrent sessions, and peak memory; each next to a reference measured
//! in the same run: the plainest decode loop over the same bindings and
//! weights (`hearth_engine::reference`), the limit the scheduler can reach.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures::StreamExt;
use hearth_core::{ChatEvent, ChatMessage, ChatRequest, Provider};
use hearth_engine::reference::ReferenceRun;
use hearth_engine::{Engine, EngineConfig};
use serde_json::json;

use super::procfs;
use super::stats::median;

const STREAMS: [usize; 4] = [1, 2, 4, 8];
/// Turns of prior conversation before the measured follow-up.
const HISTORY_TURNS: [usize; 4] = [1, 4, 8, 16];

fn progress(message: &str) {
    eprintln!("bench: {message}");
}

/// One stream's timings.
#[derive(Debug, Clone, Copy)]
struct StreamRun {
    started: Instant,
    first_token: Option<Instant>,
    last_token: Option<Instant>,
    tokens: u32,
}

pub async fn run(
    model: PathBuf,
    threads: Option<usize>,
    tokens: u32,
    rounds: usize,
    json_out: bool,
) -> Result<ExitCode> {
    let rounds = rounds.max(1);
    let config = EngineConfig {
        threads,
        slots: 8,
        context: 2048,
        prefill_chunk: 512,
        kv_cache: if std::env::var("HEARTH_BENCH_KV").as_deref() == Ok("q8_0") {
            hearth_engine::config::KvCache::Q8_0
        } else {
            hearth_engine::config::KvCache::F16
        },
        ..EngineConfig::new(&model)
    };
    let threads = config.threads();
    progress(&format!("loading {} ({threads} threads)", model.display()));
    let engine = Arc::new(
        tokio::task::spawn_blocking(move || Engine::load(config))
            .await?
            .with_context(|| format!("cannot load {}", model.display()))?,
    );
    let load_ms = engine.info().load_time.as_secs_f64() * 1e3;
    let long_prompt = long_prompt();

    // Engine and reference alternate, measure by measure, for `rounds`
    // rounds; medians are reported. A noisy neighbour then slows both
    // sides of a ratio instead of one.
    let mut prompt_reference = Vec::new();
    let mut prompt_engine = Vec::new();
    let mut reference: Vec<Vec<ReferenceRun>> = vec![Vec::new(); STREAMS.len()];
    let mut decode: Vec<Vec<Vec<StreamRun>>> = vec![Vec::new(); STREAMS.len()];
    let prompt_text = |round: usize| format!("[{round}] {long_prompt}");
    let prompt_tokens = engine.tokenize(&prompt_text(0)).len();
    for round in 0..rounds {
        progress(&format!("round {}/{rounds}: prompt", round + 1));
        let reference_run = blocking(|| engine.reference_decode(&prompt_text(round), 1, 1))?;
        prompt_reference.push(reference_run.prompt_tokens_per_sec());
        // A fresh prefix each round, so no slot has it cached.
        let run = fixed(&engine, format!("(engine) {}", prompt_text(round)), 1).await?;
        if let Some(first) = run.first_token {
            prompt_engine.push(prompt_tokens as f64 / (first - run.started).as_secs_f64());
        }
        for (i, streams) in STREAMS.into_iter().enumerate() {
            progress(&format!(
                "round {}/{rounds}: decode, {streams} sessions",
                round + 1
            ));
            reference[i].push(blocking(|| {
                engine.reference_decode("Once upon a time", streams, tokens as usize)
            })?);
            let runs = futures::future::try_join_all((0..streams).map(|s| {
                fixed(
                    &engine,
                    format!("[{round}.{streams}.{s}] Once upon a time"),
                    tokens,
                )
            }))
            .await?;
            decode[i].push(runs);
        }
    }

    let mut ttft = Vec::new();
    for turns in HISTORY_TURNS {
        progress(&format!(
            "engine: time to first token after {turns} turns of history"
        ));
        ttft.push(follow_up(&engine, turns).await?);
    }
    let memory = procfs::memory(std::process::id())?;

    // Figures.
    let rows: Vec<serde_json::Value> = STREAMS
        .iter()
        .zip(decode.iter().zip(&reference))
        .map(|(streams, (runs, reference))| decode_row(*streams, runs, reference))
        .collect();
    let single_ref = rows[0]["referenceTokS"].as_f64().unwrap_or(0.0);
    let reference8 = rows[3]["referenceTokS"].as_f64().unwrap_or(0.0);
    let prompt_engine = median(&prompt_engine).unwrap_or(f64::NAN);
    let prompt_reference = median(&prompt_reference).unwrap_or(f64::NAN);
    let single = rows[0]["aggregateTokS"].as_f64().unwrap_or(0.0);
    let aggregate8 = rows[3]["aggregateTokS"].as_f64().unwrap_or(0.0);
    let report = json!({
        "model": engine.config().path,
        "threads": threads,
        "loadMs": load_ms,
        "rounds": rounds,
        "prompt": {
            "tokens": prompt_tokens,
            "engineTokS": prompt_engine,
            "referenceTokS": prompt_reference,
            "ratio": prompt_engine / prompt_reference,
        },
        "decode": rows,
        "ttft": ttft,
        "targets": {
            "singleStreamVsReference": single / single_ref,
            "aggregate8VsSingle": aggregate8 / single,
            "aggregate8VsReference8": aggregate8 / reference8,
            "referenceAggregate8VsSingle": reference8 / single_ref,
        },
        "peakRssMb": memory.peak_kb as f64 / 1024.0,
        "loadAverage": procfs::load_average(),
    });
    if json_out {
        super::super::print_json(&report);
    } else {
        print_report(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn blocking<T>(f: impl FnOnce() -> Result<T, hearth_engine::EngineError>) -> Result<T> {
    Ok(tokio::task::block_in_place(f)?)
}

/// A prompt of a few hundred tokens of plain prose.
fn long_prompt() -> String {
    "The river runs past the old mill, where the miller's children watch the boats go by. "
        .repeat(24)
}

async fn fixed(engine: &Engine, prompt: String, tokens: u32) -> Result<StreamRun> {
    let started = Instant::now();
    let mut stream = engine.generate_fixed(&prompt, tokens)?;
    let mut run = StreamRun {
        started,
        first_token: None,
        last_token: None,
        tokens: 0,
    };
    while let Some(event) = stream.next().await {
        match event? {
            ChatEvent::TextDelta(_) => {
                let now = Instant::now();
                run.first_token.get_or_insert(now);
                run.last_token = Some(now);
            }
            ChatEvent::Usage(usage) => run.tokens = usage.output_tokens,
            _ => {}
        }
    }
    Ok(run)
}

/// Decode rates of one session count: medians over the rounds.
fn decode_row(
    streams: usize,
    rounds: &[Vec<StreamRun>],
    reference: &[ReferenceRun],
) -> serde_json::Value {
    let mut per_stream = Vec::new();
    let mut aggregate = Vec::new();
    for runs in rounds {
        // Tokens after the first, over the time from first to last token:
        // the decode rate without prompt processing.
        per_stream.extend(runs.iter().filter_map(|r| {
            let span = (r.last_token? - r.first_token?).as_secs_f64();
            (span > 0.0).then(|| f64::from(r.tokens.saturating_sub(1)) / span)
        }));
        let first = runs.iter().filter_map(|r| r.first_token).min();
        let last = runs.iter().filter_map(|r| r.last_token).max();
        let total: u32 = runs.iter().map(|r| r.tokens.saturating_sub(1)).sum();
        if let (Some(first), Some(last)) = (first, last)
            && last > first
        {
            aggregate.push(f64::from(total) / (last - first).as_secs_f64());
        }
    }
    let reference: Vec<f64> = reference
        .iter()
        .map(ReferenceRun::decode_tokens_per_sec)
        .collect();
    let aggregate = median(&aggregate).unwrap_or(0.0);
    let reference = median(&reference).unwrap_or(f64::NAN);
    json!({
        "sessions": streams,
        "perStreamTokS": median(&per_stream).unwrap_or(0.0),
        "aggregateTokS": aggregate,
        "referenceTokS": reference,
        "vsReference": aggregate / reference,
    })
}

/// A conversation with `turns` earlier exchanges: the first request reads
/// it all (cold), the follow-up only what is new (warm, from the slot's
/// cache).
async fn follow_up(engine: &Engine, turns: usize) -> Result<serde_json::Value> {
    let mut messages = vec![ChatMessage::system(format!(
        "You are a helpful assistant. (Conversation {turns}.)"
    ))];
    for i in 0..turns {
        messages.push(ChatMessage::user(format!(
            "Question {i}: tell me something about the number {i} and why it matters."
        )));
        messages.push(ChatMessage::assistant(format!(
            "The number {i} appears in many places: counting, calendars and games, and people have written about it for centuries."
        )));
    }
    messages.push(ChatMessage::user("Which number did we talk about first?"));
    let (cold, answer, prompt_tokens) = timed_turn(engine, &messages).await?;
    messages.push(ChatMessage::assistant(answer));
    messages.push(ChatMessage::user("And which one last?"));
    let before = engine.stats();
    let (warm, _, follow_tokens) = timed_turn(engine, &messages).await?;
    let after = engine.stats();
    Ok(json!({
        "historyTurns": turns,
        "promptTokens": prompt_tokens,
        "coldMs": cold.as_secs_f64() * 1e3,
        "followUpPromptTokens": follow_tokens,
        "followUpReadTokens": after.prompt_tokens_processed - before.prompt_tokens_processed,
        "warmMs": warm.as_secs_f64() * 1e3,
    }))
}

async fn timed_turn(engine: &Engine, messages: &[ChatMessage]) -> Result<(Duration, String, u32)> {
    let request = ChatRequest {
        messages: messages.to_vec(),
        max_tokens: Some(12),
        temperature: Some(0.0),
        ..ChatRequest::default()
    };
    let started = Instant::now();
    let mut stream = engine.chat(request).await?;
    let mut first = None;
    let mut text = String::new();
    let mut prompt_tokens = 0;
    while let Some(event) = stream.next().await {
        match event? {
            ChatEvent::TextDelta(delta) => {
                first.get_or_insert_with(|| started.elapsed());
                text.push_str(&delta);
            }
            ChatEvent::Usage(usage) => prompt_tokens = usage.input_tokens,
            _ => {}
        }
    }
    Ok((
        first.unwrap_or_else(|| started.elapsed()),
        text,
        prompt_tokens,
    ))
}

fn print_report(r: &serde_json::Value) {
    let f = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    println!(
        "embedded engine: {} ({} threads, loaded in {:.0} ms)",
        r["model"].as_str().unwrap_or(""),
        r["threads"],
        f(&r["loadMs"])
    );
    println!(
        "medians of {} rounds, engine and reference alternating",
        r["rounds"]
    );
    println!(
        "prompt ({} tokens): {:.0} tok/s   reference {:.0} tok/s   ratio {:.2}",
        r["prompt"]["tokens"],
        f(&r["prompt"]["engineTokS"]),
        f(&r["prompt"]["referenceTokS"]),
        f(&r["prompt"]["ratio"])
    );
    println!(
        "\n{:>8} {:>14} {:>14} {:>14} {:>8}",
        "sessions", "per stream", "aggregate", "reference", "ratio"
    );
    for row in r["decode"].as_array().into_iter().flatten() {
        println!(
            "{:>8} {:>10.1} t/s {:>10.1} t/s {:>10.1} t/s {:>8.2}",
            row["sessions"],
            f(&row["perStreamTokS"]),
            f(&row["aggregateTokS"]),
            f(&row["referenceTokS"]),
            f(&row["vsReference"])
        );
    }
    println!(
        "\n{:>8} {:>10} {:>10} {:>12} {:>10} {:>10}",
        "history", "prompt", "cold TTFT", "follow-up", "read", "warm TTFT"
    );
    for row in r["ttft"].as_array().into_iter().flatten() {
        println!(
            "{:>6} t {:>8} t {:>7.0} ms {:>10} t {:>8} t {:>7.0} ms",
            row["historyTurns"],
            row["promptTokens"],
            f(&row["coldMs"]),
            row["followUpPromptTokens"],
            row["followUpReadTokens"],
            f(&row["warmMs"])
        );
    }
    let t = &r["targets"];
    println!(
        "\nsingle stream vs reference:   {:.2}  (target ≥ 0.95)",
        f(&t["singleStreamVsReference"])
    );
    println!(
        "8 sessions vs 1 (aggregate):  {:.2}  (target ≥ 3; llama.cpp's own loop: {:.2})",
        f(&t["aggregate8VsSingle"]),
        f(&t["referenceAggregate8VsSingle"])
    );
    println!(
        "8 sessions vs reference at 8: {:.2}",
        f(&t["aggregate8VsReference8"])
    );
    println!(
        "peak RSS: {:.0} MB   load average: {}",
        f(&r["peakRssMb"]),
        r["loadAverage"]
    );
}
