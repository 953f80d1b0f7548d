//! `hearth bench memory`: long-term memory at scale on real text from this
//! machine (`/usr/share/doc`): embeddings/s of the in-process model,
//! insert rate, query latency (ANN alone, the full hybrid search, and end
//! to end with the query's embedding), recall@10 of the ANN against an
//! exact scan, and RSS. The exact scan, timed in the same run, is the
//! reference the ANN's latency is reported against.
//!
//! Embedding 100k lines takes minutes, so the vectors are cached under the
//! user's cache directory, keyed by a hash of the corpus; the embedding
//! rate is measured fresh on every run.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hearth_memory::embed::{Embedder, LocalEmbedder, cosine};
use hearth_memory::long_term::{Filter, LongTermMemory, NewMemory, SearchOptions};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::procfs;
use super::stats::{ms, percentile};
use crate::UsageError;

const SAMPLE_FOR_EMBEDDING_RATE: usize = 1000;
const INSERT_BATCH: usize = 1000;
const AGENT: &str = "bench";

#[derive(Debug, Serialize)]
struct MemoryReport {
    items: usize,
    queries: usize,
    embeddings_per_sec: f64,
    embeddings_per_sec_short: f64,
    embeddings_per_sec_chat: f64,
    corpus_mean_tokens: f64,
    short_mean_tokens: f64,
    chat_mean_tokens: f64,
    tokens_per_sec: f64,
    inserts_per_sec: f64,
    ann_p50_ms: f64,
    ann_p99_ms: f64,
    exact_scan_p50_ms: f64,
    ann_speedup_vs_exact: f64,
    hybrid_p50_ms: f64,
    hybrid_p99_ms: f64,
    end_to_end_p50_ms: f64,
    end_to_end_p99_ms: f64,
    recall_at_10: f64,
    rss_mb: f64,
    store_rss_mb: f64,
    index_mb: f64,
    reopen_ms: f64,
}

fn say(message: &str) {
    eprintln!("bench: {message}");
}

pub async fn run(
    items: usize,
    queries: usize,
    embedder_dir: &Path,
    json: bool,
) -> Result<ExitCode> {
    if items < 1000 || queries < 10 {
        return Err(
            UsageError("--items must be at least 1000 and --queries at least 10".into()).into(),
        );
    }
    let embedder = Arc::new(LocalEmbedder::load(embedder_dir).with_context(|| {
        format!(
            "cannot load the embedding model from {}",
            embedder_dir.display()
        )
    })?);
    say(&format!(
        "reading text lines from /usr/share/doc (need {})",
        items + queries
    ));
    let mut lines = corpus(Path::new("/usr/share/doc"), items + queries);
    if lines.len() < items + queries {
        return Err(UsageError(format!(
            "only {} distinct lines of text found under /usr/share/doc; pass a smaller --items",
            lines.len()
        ))
        .into());
    }
    let held_out: Vec<String> = lines.split_off(items);

    // The rate depends on length in word pieces: measured on the corpus
    // as it is, on its lines of 40–60 characters, and on chat messages.
    let sample: Vec<String> = lines
        .iter()
        .take(SAMPLE_FOR_EMBEDDING_RATE)
        .cloned()
        .collect();
    let short: Vec<String> = lines
        .iter()
        .filter(|l| l.len() <= 60)
        .take(SAMPLE_FOR_EMBEDDING_RATE)
        .cloned()
        .collect();
    let chat = chat_messages(SAMPLE_FOR_EMBEDDING_RATE);
    embedder.embed(&sample[..64]).await?; // warm-up
    let mut rates = Vec::new();
    for texts in [&sample, &short, &chat] {
        let started = Instant::now();
        embedder.embed(texts).await?;
        let per_sec = texts.len() as f64 / started.elapsed().as_secs_f64();
        let mean_tokens = embedder.count_tokens(texts) as f64 / texts.len() as f64;
        rates.push((per_sec, mean_tokens));
    }
    let [
        (embeddings_per_sec, corpus_mean_tokens),
        (embeddings_per_sec_short, short_mean_tokens),
        (embeddings_per_sec_chat, chat_mean_tokens),
    ] = rates[..]
    else {
        unreachable!("three samples")
    };
    let tokens_per_sec = embeddings_per_sec * corpus_mean_tokens;
    say(&format!(
        "{embeddings_per_sec:.0}/s on corpus lines ({corpus_mean_tokens:.0} tokens), \
         {embeddings_per_sec_short:.0}/s on 40–60-char lines ({short_mean_tokens:.0} tokens), \
         {embeddings_per_sec_chat:.0}/s on chat messages ({chat_mean_tokens:.0} tokens)"
    ));

    let vectors = cached_vectors(&embedder, &lines).await?;
    let query_vectors = embedder.embed(&held_out).await?;

    let dir = tempfile::Builder::new()
        .prefix("hearth-bench-memory-")
        .tempdir()?;
    let db = dir.path().join("memory.db");
    let rss_before_store = procfs::memory(std::process::id())?.rss_kb;
    let memory = LongTermMemory::open(&db, embedder.clone(), Arc::new(|_| {})).await?;
    say(&format!(
        "inserting {items} items (SQLite, full text, HNSW)"
    ));
    let started = Instant::now();
    for (n, (texts, vectors)) in lines
        .chunks(INSERT_BATCH)
        .zip(vectors.chunks(INSERT_BATCH))
        .enumerate()
    {
        let batch = texts
            .iter()
            .map(|t| NewMemory::new(AGENT, t.clone()))
            .collect();
        memory.add_embedded(batch, vectors.to_vec()).await?;
        if (n + 1) % 20 == 0 {
            say(&format!("  {} / {items}", (n + 1) * INSERT_BATCH));
        }
    }
    let inserts_per_sec = items as f64 / started.elapsed().as_secs_f64();

    say("queries: ANN, exact scan, hybrid, end to end");
    let mut ann = Vec::new();
    let mut exact = Vec::new();
    let mut hybrid = Vec::new();
    let mut end_to_end = Vec::new();
    let mut recall_hits = 0usize;
    let filter = Filter::agent(AGENT);
    let options = SearchOptions::default();
    for (text, vector) in held_out.iter().zip(&query_vectors) {
        let started = Instant::now();
        let found = memory.nearest(vector, 10)?;
        ann.push(started.elapsed());
        let started = Instant::now();
        let truth = exact_top(&vectors, vector, 10);
        exact.push(started.elapsed());
        let truth: HashSet<u64> = truth.into_iter().map(|i| i as u64 + 1).collect();
        recall_hits += found.iter().filter(|id| truth.contains(id)).count();
        let started = Instant::now();
        memory
            .search_with_vector(text, vector.clone(), &filter, &options)
            .await?;
        hybrid.push(started.elapsed());
        let started = Instant::now();
        memory.search(text, &filter, &options).await?;
        end_to_end.push(started.elapsed());
    }
    let rss_kb = procfs::memory(std::process::id())?.rss_kb;
    let rss_mb = rss_kb as f64 / 1024.0;
    let store_rss_mb = rss_kb.saturating_sub(rss_before_store) as f64 / 1024.0;
    let stats = memory.stats().await?;
    drop(memory); // saves the index file
    let started = Instant::now();
    let reopened = LongTermMemory::open(&db, embedder.clone(), Arc::new(|_| {})).await?;
    let reopen_ms = ms(started.elapsed());
    drop(reopened);

    for list in [&mut ann, &mut exact, &mut hybrid, &mut end_to_end] {
        list.sort();
    }
    let p = |list: &[Duration], q: f64| percentile(list, q).map_or(0.0, ms);
    let report = MemoryReport {
        items,
        queries,
        embeddings_per_sec,
        embeddings_per_sec_short,
        embeddings_per_sec_chat,
        corpus_mean_tokens,
        short_mean_tokens,
        chat_mean_tokens,
        tokens_per_sec,
        inserts_per_sec,
        ann_p50_ms: p(&ann, 50.0),
        ann_p99_ms: p(&ann, 99.0),
        exact_scan_p50_ms: p(&exact, 50.0),
        ann_speedup_vs_exact: p(&exact, 50.0) / p(&ann, 50.0).max(1e-6),
        hybrid_p50_ms: p(&hybrid, 50.0),
        hybrid_p99_ms: p(&hybrid, 99.0),
        end_to_end_p50_ms: p(&end_to_end, 50.0),
        end_to_end_p99_ms: p(&end_to_end, 99.0),
        recall_at_10: recall_hits as f64 / (queries * 10) as f64,
        rss_mb,
        store_rss_mb,
        index_mb: stats.index_bytes as f64 / 1_048_576.0,
        reopen_ms,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_text(r: &MemoryReport) {
    println!(
        "memory benchmark: {} items of /usr/share/doc text, {} queries",
        r.items, r.queries
    );
    println!(
        "  embeddings        {:>9.0} /s   corpus lines, {:.0} tokens each ({:.0} tokens/s; all-MiniLM-L6-v2 in-process)",
        r.embeddings_per_sec, r.corpus_mean_tokens, r.tokens_per_sec
    );
    println!(
        "                    {:>9.0} /s   corpus lines of 40–60 chars, {:.0} tokens each",
        r.embeddings_per_sec_short, r.short_mean_tokens
    );
    println!(
        "                    {:>9.0} /s   chat messages, {:.0} tokens each (target ≥ 200 sentences/s)",
        r.embeddings_per_sec_chat, r.chat_mean_tokens
    );
    println!(
        "  inserts           {:>9.0} /s   (pre-embedded; SQLite + FTS5 + HNSW)",
        r.inserts_per_sec
    );
    println!(
        "  ANN top-10        p50 {:>7.3} ms  p99 {:>7.3} ms",
        r.ann_p50_ms, r.ann_p99_ms
    );
    println!(
        "  exact scan        p50 {:>7.3} ms  (reference; ANN is {:.0}× faster)",
        r.exact_scan_p50_ms, r.ann_speedup_vs_exact
    );
    println!(
        "  hybrid search     p50 {:>7.3} ms  p99 {:>7.3} ms  (target p50 ≤ 5 ms)",
        r.hybrid_p50_ms, r.hybrid_p99_ms
    );
    println!(
        "  with embedding    p50 {:>7.3} ms  p99 {:>7.3} ms",
        r.end_to_end_p50_ms, r.end_to_end_p99_ms
    );
    println!(
        "  recall@10         {:>9.3}      (ANN vs exact scan; target ≥ 0.95)",
        r.recall_at_10
    );
    println!(
        "  RSS               {:>9.0} MB   (the whole process, with the model and the benchmark's own f32 vectors)",
        r.rss_mb
    );
    println!(
        "  store RSS         {:>9.0} MB   (growth from opening the store to the end of the queries; HNSW index {:.0} MB)",
        r.store_rss_mb, r.index_mb
    );
    println!(
        "  reopen            {:>9.0} ms   (saved index loaded)",
        r.reopen_ms
    );
}

/// Short chat messages of the kind memory recall embeds on every turn.
fn chat_messages(count: usize) -> Vec<String> {
    const TEMPLATES: &[&str] = &[
        "Remind me to call {} tomorrow at nine.",
        "What did {} say about the trip?",
        "Can you book a table for {} on Friday?",
        "I think {} prefers tea over coffee.",
        "When is {}'s birthday again?",
        "Send {} the notes from this morning.",
        "Did {} ever reply to my email?",
        "Add milk and eggs to {}'s shopping list.",
    ];
    const NAMES: &[&str] = &[
        "Ada", "Bob", "Chen", "Dana", "Emil", "Fatima", "Goran", "Hana",
    ];
    (0..count)
        .map(|i| {
            let template = TEMPLATES[i % TEMPLATES.len()];
            let name = NAMES[(i / TEMPLATES.len()) % NAMES.len()];
            template.replace("{}", name)
        })
        .collect()
}

/// Exact top-k by cosine over every vector: indexes into `vectors`.
fn exact_top(vectors: &[Vec<f32>], query: &[f32], k: usize) -> Vec<usize> {
    let mut scored: Vec<(usize, f32)> = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| (i, cosine(query, v)))
        .collect();
    scored.select_nth_unstable_by(k, |a, b| b.1.total_cmp(&a.1));
    scored.truncate(k);
    scored.into_iter().map(|(i, _)| i).collect()
}

/// Distinct lines of prose (40–400 characters, mostly letters) from the
/// plain-text files under `root`, in a stable order.
fn corpus(root: &Path, want: usize) -> Vec<String> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => pending.push(path),
                Ok(t) if t.is_file() && path.extension().is_none_or(|e| e != "gz") => {
                    files.push(path)
                }
                _ => {}
            }
        }
    }
    files.sort();
    let mut seen = HashSet::new();
    let mut lines = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for line in text.lines() {
            let line = line.trim();
            let letters = line.chars().filter(|c| c.is_alphabetic()).count();
            if (40..=400).contains(&line.len())
                && letters * 2 > line.len()
                && seen.insert(line.to_owned())
            {
                lines.push(line.to_owned());
                if lines.len() == want {
                    return lines;
                }
            }
        }
    }
    lines
}

/// The corpus's vectors, from the cache when it holds this exact corpus.
async fn cached_vectors(embedder: &LocalEmbedder, lines: &[String]) -> Result<Vec<Vec<f32>>> {
    let mut hasher = Sha256::new();
    for line in lines {
        hasher.update(line.as_bytes());
        hasher.update([0]);
    }
    let key = format!("{:x}", hasher.finalize());
    let path = cache_dir().join(format!("vectors-{}-{}.bin", lines.len(), &key[..16]));
    if let Ok(bytes) = std::fs::read(&path) {
        let dims = embedder.info().dimensions;
        if bytes.len() == lines.len() * dims * 4 {
            say(&format!("using cached vectors {}", path.display()));
            return Ok(bytes
                .chunks_exact(dims * 4)
                .map(|v| {
                    v.chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect()
                })
                .collect());
        }
    }
    say(&format!(
        "embedding {} lines once (cached for later runs)",
        lines.len()
    ));
    let started = Instant::now();
    let mut vectors = Vec::with_capacity(lines.len());
    for chunk in lines.chunks(2000) {
        vectors.extend(embedder.embed(chunk).await?);
        let rate = vectors.len() as f64 / started.elapsed().as_secs_f64();
        say(&format!(
            "  {} / {} ({rate:.0}/s, about {:.0} s left)",
            vectors.len(),
            lines.len(),
            (lines.len() - vectors.len()) as f64 / rate
        ));
    }
    std::fs::create_dir_all(cache_dir())?;
    let bytes: Vec<u8> = vectors
        .iter()
        .flatten()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, &path)?;
    Ok(vectors)
}

fn cache_dir() -> PathBuf {
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("hearth/bench-memory")
}
