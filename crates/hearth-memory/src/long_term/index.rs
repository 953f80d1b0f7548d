//! The ANN index: usearch's HNSW over the items' vectors, plus a compact
//! copy of each item's filterable fields so filters are checked inside the
//! graph walk instead of by a query per candidate, and the keyword index
//! ([`Lexicon`]) filtered by the same fields.
//!
//! Vectors are held as f16 (half the memory of f32; recall against an exact
//! f32 scan is measured by `hearth bench memory`). A filter that leaves few
//! items is answered by an exact scan of those items instead: HNSW walks
//! degrade when most of the graph is filtered out.

use std::collections::HashMap;
use std::path::Path;

use rustc_hash::FxHashMap;
use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

use super::MemoryError;
use super::item::Filter;
use super::lexicon::Lexicon;

/// Below this many matching items an exact scan is both exact and fast.
const EXACT_SCAN_LIMIT: usize = 4096;
/// HNSW parameters: M = 16 links per node; construction and search beams
/// chosen for recall@10 ≥ 0.95 at 100k items (see docs/benchmarks.md).
const CONNECTIVITY: usize = 16;
const EXPANSION_ADD: usize = 128;
const EXPANSION_SEARCH: usize = 96;

/// Interned strings: filters compare integers, and 100k items naming the
/// same agent store its name once.
#[derive(Debug, Default)]
struct Symbols {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Symbols {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.ids.insert(name.to_owned(), id);
        id
    }

    fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }
}

/// The filterable fields of one item.
#[derive(Debug, Clone)]
pub struct ItemFields<'a> {
    pub text: &'a str,
    pub agent: &'a str,
    pub kind: &'a str,
    pub user: Option<&'a str>,
    pub channel: Option<&'a str>,
    pub session: Option<&'a str>,
    pub tags: &'a [String],
    pub created_ms: i64,
}

#[derive(Debug)]
struct Meta {
    agent: u32,
    kind: u32,
    user: Option<u32>,
    channel: Option<u32>,
    session: Option<u32>,
    tags: Box<[u32]>,
    created_ms: i64,
}

/// A filter with its strings resolved to symbols. `None` from
/// [`VectorIndex::compile`] means a named value was never stored, so
/// nothing can match.
#[derive(Debug)]
pub struct CompiledFilter {
    agent: u32,
    kinds: Vec<u32>,
    user: Option<u32>,
    channel: Option<u32>,
    session: Option<u32>,
    tags: Vec<u32>,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
}

impl CompiledFilter {
    fn matches(&self, meta: &Meta) -> bool {
        meta.agent == self.agent
            && (self.kinds.is_empty() || self.kinds.contains(&meta.kind))
            && (self.user.is_none() || self.user == meta.user)
            && (self.channel.is_none() || self.channel == meta.channel)
            && (self.session.is_none() || self.session == meta.session)
            && self.tags.iter().all(|t| meta.tags.contains(t))
            && self.since_ms.is_none_or(|s| meta.created_ms >= s)
            && self.until_ms.is_none_or(|u| meta.created_ms < u)
    }
}

pub struct VectorIndex {
    index: Index,
    dimensions: usize,
    /// Fx hashing: the filter looks items up on every step of a walk.
    meta: FxHashMap<u64, Meta>,
    symbols: Symbols,
    lexicon: Lexicon,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("dimensions", &self.dimensions)
            .field("size", &self.meta.len())
            .finish()
    }
}

fn options(dimensions: usize) -> IndexOptions {
    IndexOptions {
        dimensions,
        metric: MetricKind::Cos,
        quantization: ScalarKind::F16,
        connectivity: CONNECTIVITY,
        expansion_add: EXPANSION_ADD,
        expansion_search: EXPANSION_SEARCH,
        multi: false,
    }
}

fn ann(error: impl std::fmt::Display) -> MemoryError {
    MemoryError::Index(error.to_string())
}

impl VectorIndex {
    pub fn new(dimensions: usize) -> Result<Self, MemoryError> {
        let index = Index::new(&options(dimensions)).map_err(ann)?;
        Ok(Self {
            index,
            dimensions,
            meta: FxHashMap::default(),
            symbols: Symbols::default(),
            lexicon: Lexicon::default(),
        })
    }

    /// Loads a saved graph; the caller then registers every item's fields
    /// with [`Self::add_fields`] and checks the sizes agree.
    pub fn load(path: &Path, dimensions: usize) -> Result<Self, MemoryError> {
        let this = Self::new(dimensions)?;
        this.index.load(&path.to_string_lossy()).map_err(ann)?;
        if this.index.dimensions() != dimensions {
            return Err(MemoryError::Index(format!(
                "{} holds {}-dimensional vectors, expected {dimensions}",
                path.display(),
                this.index.dimensions()
            )));
        }
        this.index.change_expansion_search(EXPANSION_SEARCH);
        Ok(this)
    }

    /// Writes the graph to `path` atomically (temp file, then rename).
    pub fn save(&self, path: &Path) -> Result<(), MemoryError> {
        let temp = path.with_extension("tmp");
        self.index.save(&temp.to_string_lossy()).map_err(ann)?;
        std::fs::rename(&temp, path)
            .map_err(|e| MemoryError::Index(format!("cannot write {}: {e}", path.display())))
    }

    pub fn len(&self) -> usize {
        self.meta.len()
    }

    /// Keys held by the loaded graph (to compare against the database).
    pub fn graph_size(&self) -> usize {
        self.index.size()
    }

    pub fn contains(&self, id: u64) -> bool {
        self.index.contains(id)
    }

    /// Makes room for `additional` more vectors; usearch refuses adds past
    /// its capacity. Grows geometrically so bulk inserts stay linear.
    pub fn reserve(&self, additional: usize) -> Result<(), MemoryError> {
        let needed = self.index.size() + additional;
        if needed > self.index.capacity() {
            let target = needed.max(self.index.capacity() * 2).max(1024);
            self.index.reserve(target).map_err(ann)?;
        }
        Ok(())
    }

    /// Adds a vector (call [`Self::reserve`] first). Safe to call from
    /// several threads at once: usearch locks per node.
    pub fn add_vector(&self, id: u64, vector: &[f32]) -> Result<(), MemoryError> {
        if vector.len() != self.dimensions {
            return Err(MemoryError::Index(format!(
                "vector of {} dimensions, index holds {}",
                vector.len(),
                self.dimensions
            )));
        }
        self.index.add(id, vector).map_err(ann)
    }

    pub fn add_fields(&mut self, id: u64, fields: &ItemFields<'_>) {
        let symbols = &mut self.symbols;
        let meta = Meta {
            agent: symbols.intern(fields.agent),
            kind: symbols.intern(fields.kind),
            user: fields.user.map(|v| symbols.intern(v)),
            channel: fields.channel.map(|v| symbols.intern(v)),
            session: fields.session.map(|v| symbols.intern(v)),
            tags: fields.tags.iter().map(|t| symbols.intern(t)).collect(),
            created_ms: fields.created_ms,
        };
        self.meta.insert(id, meta);
        self.lexicon.add(id, fields.text);
    }

    pub fn remove(&mut self, id: u64) -> Result<(), MemoryError> {
        self.meta.remove(&id);
        self.lexicon.remove(id);
        self.index.remove(id).map_err(ann)?;
        Ok(())
    }

    pub fn compile(&self, filter: &Filter) -> Option<CompiledFilter> {
        let symbols = &self.symbols;
        let optional = |value: &Option<String>| -> Option<Option<u32>> {
            match value {
                None => Some(None),
                Some(v) => symbols.get(v).map(Some),
            }
        };
        Some(CompiledFilter {
            agent: symbols.get(&filter.agent)?,
            kinds: {
                // A kind never stored cannot match; if none of the kinds
                // asked for exist, nothing can.
                let kinds: Vec<u32> = filter.kinds.iter().filter_map(|k| symbols.get(k)).collect();
                if kinds.is_empty() && !filter.kinds.is_empty() {
                    return None;
                }
                kinds
            },
            user: optional(&filter.user)?,
            channel: optional(&filter.channel)?,
            session: optional(&filter.session)?,
            tags: filter
                .tags
                .iter()
                .map(|t| symbols.get(t))
                .collect::<Option<Vec<_>>>()?,
            since_ms: filter.since_ms,
            until_ms: filter.until_ms,
        })
    }

    /// Whether the item passes the filter.
    pub fn matches(&self, id: u64, filter: &CompiledFilter) -> bool {
        self.meta.get(&id).is_some_and(|m| filter.matches(m))
    }

    /// The `k` nearest items passing `filter`, as (id, cosine similarity),
    /// best first.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        filter: &CompiledFilter,
    ) -> Result<Vec<(u64, f32)>, MemoryError> {
        let mut few = Vec::new();
        let mut many = false;
        for (id, meta) in &self.meta {
            if filter.matches(meta) {
                if few.len() == EXACT_SCAN_LIMIT {
                    many = true;
                    break;
                }
                few.push(*id);
            }
        }
        if !many {
            return self.exact(query, k, &few);
        }
        let matches = self
            .index
            .filtered_search(query, k, |id| self.matches(id, filter))
            .map_err(ann)?;
        Ok(matches
            .keys
            .into_iter()
            .zip(matches.distances)
            .map(|(id, distance)| (id, 1.0 - distance))
            .collect())
    }

    /// The `k` best items passing `filter` by BM25 over their words, as
    /// (id, score), best first; `None` when no word of the query is known.
    pub fn text_search(
        &self,
        query: &str,
        k: usize,
        filter: &CompiledFilter,
    ) -> Option<Vec<(u64, f32)>> {
        self.lexicon.search(query, k, |id| self.matches(id, filter))
    }

    /// Exact nearest neighbours among `ids`.
    pub fn exact(
        &self,
        query: &[f32],
        k: usize,
        ids: &[u64],
    ) -> Result<Vec<(u64, f32)>, MemoryError> {
        let mut scored = Vec::with_capacity(ids.len());
        let mut buffer = vec![0f32; self.dimensions];
        for &id in ids {
            if self.index.get(id, &mut buffer).map_err(ann)? > 0 {
                scored.push((id, super::super::embed::cosine(query, &buffer)));
            }
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored.truncate(k);
        Ok(scored)
    }

    /// Unfiltered ANN search (benchmark).
    pub fn ann_all(&self, query: &[f32], k: usize) -> Result<Vec<u64>, MemoryError> {
        let matches = self.index.search(query, k).map_err(ann)?;
        Ok(matches.keys)
    }

    /// The stored vector of `id` (as held: f16 precision).
    pub fn vector(&self, id: u64) -> Option<Vec<f32>> {
        let mut buffer = vec![0f32; self.dimensions];
        match self.index.get(id, &mut buffer) {
            Ok(n) if n > 0 => Some(buffer),
            _ => None,
        }
    }

    /// Bytes the graph and vectors take.
    pub fn memory_bytes(&self) -> usize {
        self.index.memory_usage()
    }
}
