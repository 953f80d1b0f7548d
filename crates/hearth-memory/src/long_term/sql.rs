//! SQL shared by searches and listings: the WHERE clause of a [`Filter`]
//! and reading an item row.

use rusqlite::Row;
use rusqlite::types::Value;

use super::item::{Filter, MemoryItem};

/// Columns of [`read_item`], prefixed by the table alias `i`.
pub const ITEM_COLUMNS: &str = "i.id, i.agent, i.kind, i.text, i.user_id, i.channel, i.session, \
     i.source, i.chunk, i.tags, i.importance, i.created_ms, i.accessed_ms, i.recalls";

/// Whether the agent condition may use the agent index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentIndex {
    /// Listings: the index is the way in.
    Use,
    /// Full-text queries: the match is the selective side, and walking
    /// every item of the agent to probe FTS5 for each is the slow plan.
    Skip,
}

/// ` AND ...` conditions on alias `i` for `filter`, with their parameters
/// appended to `params`.
pub fn filter_clause(filter: &Filter, params: &mut Vec<Value>, agent_index: AgentIndex) -> String {
    let mut sql = String::new();
    // `condition` has one `?`, numbered here after the parameters so far.
    fn push(sql: &mut String, condition: &str, value: Value, params: &mut Vec<Value>) {
        params.push(value);
        sql.push_str(&condition.replace('?', &format!("?{}", params.len())));
    }
    push(
        &mut sql,
        match agent_index {
            AgentIndex::Use => " AND i.agent = ?",
            // A unary `+` keeps SQLite from using an index for the term.
            AgentIndex::Skip => " AND +i.agent = ?",
        },
        Value::Text(filter.agent.clone()),
        params,
    );
    for (column, value) in [
        ("user_id", &filter.user),
        ("channel", &filter.channel),
        ("session", &filter.session),
    ] {
        if let Some(value) = value {
            let condition = format!(" AND i.{column} = ?");
            push(&mut sql, &condition, Value::Text(value.clone()), params);
        }
    }
    for tag in &filter.tags {
        push(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM json_each(i.tags) WHERE json_each.value = ?)",
            Value::Text(tag.clone()),
            params,
        );
    }
    if !filter.kinds.is_empty() {
        let mut marks = Vec::new();
        for kind in &filter.kinds {
            params.push(Value::Text(kind.clone()));
            marks.push(format!("?{}", params.len()));
        }
        sql.push_str(&format!(" AND i.kind IN ({})", marks.join(", ")));
    }
    if let Some(since) = filter.since_ms {
        push(
            &mut sql,
            " AND i.created_ms >= ?",
            Value::Integer(since),
            params,
        );
    }
    if let Some(until) = filter.until_ms {
        push(
            &mut sql,
            " AND i.created_ms < ?",
            Value::Integer(until),
            params,
        );
    }
    sql
}

pub fn read_item(row: &Row<'_>) -> rusqlite::Result<MemoryItem> {
    let tags: String = row.get(9)?;
    Ok(MemoryItem {
        id: row.get(0)?,
        agent: row.get(1)?,
        kind: row.get(2)?,
        text: row.get(3)?,
        user: row.get(4)?,
        channel: row.get(5)?,
        session: row.get(6)?,
        source: row.get(7)?,
        chunk: row.get(8)?,
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        importance: row.get::<_, f64>(10)? as f32,
        created_ms: row.get(11)?,
        accessed_ms: row.get(12)?,
        recalls: row.get(13)?,
    })
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
