//! Ranking: fuse the vector and BM25 candidates, weigh in recency and
//! importance, then pick a diverse top-k with MMR.
//!
//! Fusion is a convex combination: cosine similarity as is (its absolute
//! value means something, which is what makes `min_score` usable) plus
//! BM25 scaled so the best text match of this search is 1. The default
//! weight (0.8 vector) was chosen on the labelled set in `tests.rs`: the
//! trigram index matches substrings, so short words find noise ("out" in
//! "router") and text must break ties between similar vectors (identifiers)
//! rather than outvote them.

use std::collections::HashMap;

use super::item::SearchOptions;

/// A candidate while ranking.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: i64,
    pub vector_score: f32,
    /// Raw BM25 (higher is better), 0 when the text did not match.
    pub bm25: f32,
    pub text_score: f32,
    pub score: f32,
}

/// Merges the two candidate lists by id.
pub fn fuse(vector: &[(i64, f32)], text: &[(i64, f32)]) -> Vec<Candidate> {
    let mut by_id: HashMap<i64, Candidate> = HashMap::new();
    for &(id, similarity) in vector {
        by_id.insert(
            id,
            Candidate {
                id,
                vector_score: similarity.max(0.0),
                bm25: 0.0,
                text_score: 0.0,
                score: 0.0,
            },
        );
    }
    for &(id, bm25) in text {
        by_id
            .entry(id)
            .or_insert(Candidate {
                id,
                vector_score: 0.0,
                bm25: 0.0,
                text_score: 0.0,
                score: 0.0,
            })
            .bm25 = bm25;
    }
    let best = by_id.values().map(|c| c.bm25).fold(0.0f32, f32::max);
    by_id
        .into_values()
        .map(|mut c| {
            if best > 0.0 {
                c.text_score = c.bm25 / best;
            }
            c
        })
        .collect()
}

/// The relevance of a candidate under the search's mode and weights.
pub fn relevance(candidate: &Candidate, options: &SearchOptions) -> f32 {
    use super::item::SearchMode;
    match options.mode {
        SearchMode::Vector => candidate.vector_score,
        SearchMode::Text => candidate.text_score,
        SearchMode::Hybrid => {
            options.vector_weight * candidate.vector_score
                + (1.0 - options.vector_weight) * candidate.text_score
        }
    }
}

/// Multiplies relevance by recency and importance factors, each of which
/// can lower a score by at most its weight.
pub fn adjust(relevance: f32, age_ms: i64, importance: f32, options: &SearchOptions) -> f32 {
    let age_days = age_ms.max(0) as f32 / 86_400_000.0;
    let decay = 0.5f32.powf(age_days / options.recency_half_life_days);
    let recency = 1.0 - options.recency_weight + options.recency_weight * decay;
    let weight = 1.0 - options.importance_weight + options.importance_weight * importance;
    relevance * recency * weight
}

/// Maximal marginal relevance: repeatedly takes the candidate with the
/// best `λ·score − (1−λ)·max similarity to those taken`. `vectors` holds
/// each candidate's unit vector (missing ones count as dissimilar).
pub fn mmr(
    mut candidates: Vec<Candidate>,
    vectors: &HashMap<i64, Vec<f32>>,
    lambda: f32,
    limit: usize,
) -> Vec<Candidate> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    if lambda >= 1.0 || candidates.len() <= 1 {
        candidates.truncate(limit);
        return candidates;
    }
    // Each candidate's greatest similarity to what is picked so far,
    // updated with each pick (so every pair is compared once).
    let mut redundancy = vec![0.0f32; candidates.len()];
    let mut picked: Vec<Candidate> = Vec::with_capacity(limit);
    while picked.len() < limit && !candidates.is_empty() {
        let mut best = 0;
        let mut best_value = f32::NEG_INFINITY;
        for (i, c) in candidates.iter().enumerate() {
            let value = lambda * c.score - (1.0 - lambda) * redundancy[i];
            if value > best_value {
                best_value = value;
                best = i;
            }
        }
        let chosen = candidates.remove(best);
        redundancy.remove(best);
        if let Some(chosen_vector) = vectors.get(&chosen.id) {
            for (c, r) in candidates.iter().zip(redundancy.iter_mut()) {
                if let Some(v) = vectors.get(&c.id) {
                    *r = r.max(crate::embed::cosine(v, chosen_vector));
                }
            }
        }
        picked.push(chosen);
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(id: i64, score: f32) -> Candidate {
        Candidate {
            id,
            vector_score: 0.0,
            bm25: 0.0,
            text_score: 0.0,
            score,
        }
    }

    #[test]
    fn fusion_scales_bm25_to_the_best_match() {
        let fused = fuse(&[(1, 0.8), (2, 0.4)], &[(2, 6.0), (3, 3.0)]);
        let get = |id| fused.iter().find(|c| c.id == id).unwrap().clone();
        assert_eq!(get(1).text_score, 0.0);
        assert_eq!(get(2).text_score, 1.0);
        assert_eq!(get(3).text_score, 0.5);
        assert_eq!(get(3).vector_score, 0.0);
    }

    #[test]
    fn older_and_less_important_memories_rank_lower() {
        let options = SearchOptions::default();
        let fresh = adjust(0.8, 0, 0.5, &options);
        let old = adjust(0.8, 90 * 86_400_000, 0.5, &options);
        let important = adjust(0.8, 0, 1.0, &options);
        assert!(old < fresh && fresh < important);
        // Each factor is bounded by its weight.
        assert!(old >= 0.8 * 0.9 * 0.95 - 1e-6);
    }

    #[test]
    fn mmr_prefers_a_different_second_result() {
        let vectors: HashMap<i64, Vec<f32>> = [
            (1, vec![1.0, 0.0]),
            (2, vec![1.0, 0.0]), // a duplicate of 1
            (3, vec![0.0, 1.0]),
        ]
        .into();
        let picked = mmr(
            vec![candidate(1, 0.9), candidate(2, 0.89), candidate(3, 0.7)],
            &vectors,
            0.7,
            2,
        );
        let ids: Vec<i64> = picked.iter().map(|c| c.id).collect();
        assert_eq!(ids, [1, 3]);
        let plain = mmr(
            vec![candidate(1, 0.9), candidate(2, 0.89), candidate(3, 0.7)],
            &vectors,
            1.0,
            2,
        );
        assert_eq!(plain.iter().map(|c| c.id).collect::<Vec<_>>(), [1, 2]);
    }
}
