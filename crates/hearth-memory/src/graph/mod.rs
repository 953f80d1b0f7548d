//! Knowledge graph (placeholder; see the graph helper).
