//! One search: embed the query, gather vector and BM25 candidates under the
//! filter (the keyword index, or FTS5's trigrams for what it cannot find),
//! fuse, adjust for recency and importance, drop what scores below
//! the threshold, and pick a diverse top-k.

use std::collections::HashMap;

use rusqlite::params_from_iter;
use rusqlite::types::Value;

use super::fts::{self, TextQuery};
use super::item::{Filter, SearchHit, SearchMode, SearchOptions};
use super::rank::{self, Candidate};
use super::sql::{AgentIndex, ITEM_COLUMNS, filter_clause, now_ms, read_item};
use super::{Inner, LongTermMemory, blocking};
use crate::MemoryError;

/// Longest query accepted (a query is a question, not a document).
const MAX_QUERY_BYTES: usize = 4096;

/// Refuses a search that cannot be run, before any embedding is paid for.
fn check(query: &str, filter: &Filter, options: &SearchOptions) -> Result<(), MemoryError> {
    options.validate()?;
    let query = query.trim();
    if query.is_empty() {
        return Err(MemoryError::Invalid("query must not be empty".into()));
    }
    if query.len() > MAX_QUERY_BYTES {
        return Err(MemoryError::Invalid(format!(
            "query is longer than {MAX_QUERY_BYTES} bytes"
        )));
    }
    if filter.agent.trim().is_empty() {
        return Err(MemoryError::Invalid(
            "filter.agent must name an agent".into(),
        ));
    }
    Ok(())
}

pub async fn run(
    memory: &LongTermMemory,
    query: &str,
    filter: &Filter,
    options: &SearchOptions,
    mark_recalled: bool,
) -> Result<Vec<SearchHit>, MemoryError> {
    check(query, filter, options)?;
    let query = query.trim();
    let vector = match options.mode {
        SearchMode::Text => None,
        _ => Some(memory.inner().embedder.embed_one(query).await?),
    };
    run_with_vector(memory, query, vector, filter, options, mark_recalled).await
}

/// [`run`] with the query's vector already computed.
pub async fn run_with_vector(
    memory: &LongTermMemory,
    query: &str,
    vector: Option<Vec<f32>>,
    filter: &Filter,
    options: &SearchOptions,
    mark_recalled: bool,
) -> Result<Vec<SearchHit>, MemoryError> {
    check(query, filter, options)?;
    let inner = memory.inner().clone();
    let (query, filter, options) = (query.trim().to_owned(), filter.clone(), options.clone());
    blocking(move || {
        search(
            &inner,
            &query,
            vector.as_deref(),
            &filter,
            &options,
            mark_recalled,
        )
    })
    .await
}

fn search(
    inner: &Inner,
    query: &str,
    vector: Option<&[f32]>,
    filter: &Filter,
    options: &SearchOptions,
    mark_recalled: bool,
) -> Result<Vec<SearchHit>, MemoryError> {
    // Gather more candidates than asked: fusion, thresholds and MMR all
    // need room to choose.
    let k = (options.limit * 4).max(40);
    let mut by_vector = Vec::new();
    let mut by_text = Vec::new();
    let mut fall_back = false;
    {
        let index = inner.index.read();
        // A filter naming a value never stored matches nothing.
        let Some(compiled) = index.compile(filter) else {
            return Ok(Vec::new());
        };
        if let Some(vector) = vector {
            by_vector = index
                .search(vector, k, &compiled)?
                .into_iter()
                .map(|(id, similarity)| (id as i64, similarity))
                .collect();
        }
        if options.mode != SearchMode::Vector {
            match index.text_search(query, k, &compiled) {
                Some(found) => {
                    by_text = found
                        .into_iter()
                        .map(|(id, score)| (id as i64, score))
                        .collect();
                }
                // No whole word of the query is indexed: the trigram
                // index still finds it inside words (a fragment of an
                // identifier). Slower, and only needed then.
                None => fall_back = true,
            }
        }
    }
    if fall_back {
        by_text = substring_candidates(inner, query, filter, k)?;
    }
    let mut candidates = rank::fuse(&by_vector, &by_text);
    if candidates.is_empty() {
        return Ok(Vec::new());
    }

    // Text-only candidates get their true similarity, so fusion compares
    // like with like; MMR needs every candidate's vector anyway.
    let vectors: HashMap<i64, Vec<f32>> = {
        let index = inner.index.read();
        candidates
            .iter()
            .filter_map(|c| Some((c.id, index.vector(c.id as u64)?)))
            .collect()
    };
    if let Some(query_vector) = vector {
        for candidate in candidates.iter_mut().filter(|c| c.vector_score == 0.0) {
            if let Some(v) = vectors.get(&candidate.id) {
                candidate.vector_score = crate::embed::cosine(query_vector, v).max(0.0);
            }
        }
    }

    let items = load_items(inner, candidates.iter().map(|c| c.id))?;
    let now = now_ms();
    candidates.retain_mut(|c| {
        let Some(item) = items.get(&c.id) else {
            return false; // deleted since the index was read
        };
        let relevance = rank::relevance(c, options);
        c.score = rank::adjust(relevance, now - item.created_ms, item.importance, options);
        c.score >= options.min_score && relevance > 0.0
    });
    let picked = rank::mmr(candidates, &vectors, options.mmr_lambda, options.limit);
    if mark_recalled && !picked.is_empty() {
        mark(inner, &picked, now)?;
    }
    Ok(picked
        .into_iter()
        .filter_map(|c: Candidate| {
            let mut item = items.get(&c.id)?.clone();
            if mark_recalled {
                item.accessed_ms = now;
                item.recalls += 1;
            }
            Some(SearchHit {
                item,
                score: c.score,
                vector_score: c.vector_score,
                text_score: c.text_score,
            })
        })
        .collect())
}

/// BM25 candidates (higher is better) under the filter from FTS5's
/// trigram index: slower than the word index, but it matches substrings.
fn substring_candidates(
    inner: &Inner,
    query: &str,
    filter: &Filter,
    k: usize,
) -> Result<Vec<(i64, f32)>, MemoryError> {
    let mut values: Vec<Value> = Vec::new();
    let sql = match fts::build(query) {
        TextQuery::Nothing => return Ok(Vec::new()),
        TextQuery::Match(expression) => {
            values.push(Value::Text(expression));
            let filter_sql = filter_clause(filter, &mut values, AgentIndex::Skip);
            values.push(Value::Integer(k as i64));
            format!(
                "SELECT f.rowid, -bm25(mem_fts) FROM mem_fts f JOIN mem_items i ON i.id = f.rowid
                 WHERE mem_fts MATCH ?1{filter_sql} ORDER BY bm25(mem_fts) LIMIT ?{}",
                values.len()
            )
        }
        TextQuery::Like(terms) => {
            // Score: how many of the short terms the text contains.
            let mut score = Vec::new();
            for term in terms {
                values.push(Value::Text(fts::like_pattern(&term)));
                score.push(format!("(i.text LIKE ?{} ESCAPE '\\')", values.len()));
            }
            let score = score.join(" + ");
            let filter_sql = filter_clause(filter, &mut values, AgentIndex::Use);
            values.push(Value::Integer(k as i64));
            format!(
                "SELECT i.id, CAST({score} AS REAL) AS s FROM mem_items i
                 WHERE s > 0{filter_sql} ORDER BY s DESC, i.id DESC LIMIT ?{}",
                values.len()
            )
        }
    };
    let conn = inner.conn.lock();
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(params_from_iter(values), |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)? as f32))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn load_items(
    inner: &Inner,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, super::MemoryItem>, MemoryError> {
    let ids: Vec<Value> = ids.map(Value::Integer).collect();
    let marks: Vec<String> = (1..=ids.len()).map(|n| format!("?{n}")).collect();
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM mem_items i WHERE i.id IN ({})",
        marks.join(", ")
    );
    let conn = inner.conn.lock();
    let mut statement = conn.prepare(&sql)?;
    let rows = statement.query_map(params_from_iter(ids), read_item)?;
    rows.map(|r| r.map(|item| (item.id, item)).map_err(MemoryError::from))
        .collect()
}

fn mark(inner: &Inner, picked: &[Candidate], now: i64) -> Result<(), MemoryError> {
    let mut conn = inner.conn.lock();
    let tx = conn.transaction()?;
    {
        let mut statement = tx.prepare_cached(
            "UPDATE mem_items SET accessed_ms = ?1, recalls = recalls + 1 WHERE id = ?2",
        )?;
        for c in picked {
            statement.execute(rusqlite::params![now, c.id])?;
        }
    }
    tx.commit()?;
    Ok(())
}
