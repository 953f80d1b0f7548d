//! Per-session working memory with TTL (placeholder; see the short-term helper).
