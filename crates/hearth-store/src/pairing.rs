//! Channel access state: the only writer of `channel_senders` (approved
//! senders) and `channel_pairing` (live pairing codes).

use hearth_core::{ApprovedSender, PairingOutcome, PairingRequest, Sender, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::backend;

pub(crate) fn is_approved(
    conn: &Connection,
    channel: &str,
    sender: &str,
) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT 1 FROM channel_senders WHERE channel = ?1 AND sender_id = ?2")
        .and_then(|mut st| st.exists(params![channel, sender]))
        .map_err(backend)
}

fn request_from(row: &Row<'_>) -> rusqlite::Result<PairingRequest> {
    Ok(PairingRequest {
        channel: row.get(0)?,
        sender: Sender {
            id: row.get(1)?,
            name: row.get(2)?,
        },
        code: row.get(3)?,
        created_at_ms: row.get(4)?,
        expires_at_ms: row.get(5)?,
    })
}

const REQUEST_COLUMNS: &str = "channel, sender_id, sender_name, code, created_at_ms, expires_at_ms";

pub(crate) fn request(
    conn: &Connection,
    channel: &str,
    sender: &Sender,
    code: &str,
    now_ms: i64,
    ttl_ms: i64,
    max_pending: usize,
) -> Result<PairingOutcome, StoreError> {
    conn.execute(
        "DELETE FROM channel_pairing WHERE expires_at_ms <= ?1",
        [now_ms],
    )
    .map_err(backend)?;
    let existing = conn
        .query_row(
            &format!("SELECT {REQUEST_COLUMNS} FROM channel_pairing WHERE channel = ?1 AND sender_id = ?2"),
            params![channel, sender.id],
            request_from,
        )
        .optional()
        .map_err(backend)?;
    if let Some(existing) = existing {
        return Ok(PairingOutcome::Existing(existing));
    }
    let pending: i64 = conn
        .query_row(
            "SELECT count(*) FROM channel_pairing WHERE channel = ?1",
            [channel],
            |row| row.get(0),
        )
        .map_err(backend)?;
    if pending as usize >= max_pending {
        return Ok(PairingOutcome::TooMany);
    }
    let request = PairingRequest {
        channel: channel.to_owned(),
        sender: sender.clone(),
        code: code.to_uppercase(),
        created_at_ms: now_ms,
        expires_at_ms: now_ms + ttl_ms,
    };
    conn.execute(
        &format!("INSERT INTO channel_pairing ({REQUEST_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![
            request.channel,
            request.sender.id,
            request.sender.name,
            request.code,
            request.created_at_ms,
            request.expires_at_ms
        ],
    )
    .map_err(backend)?;
    Ok(PairingOutcome::Created(request))
}

pub(crate) fn approve(
    conn: &Connection,
    channel: &str,
    code: &str,
    approved_by: &str,
    now_ms: i64,
) -> Result<Option<ApprovedSender>, StoreError> {
    let found = conn
        .query_row(
            &format!(
                "SELECT {REQUEST_COLUMNS} FROM channel_pairing
                 WHERE channel = ?1 AND code = ?2 AND expires_at_ms > ?3"
            ),
            params![channel, code.trim().to_uppercase(), now_ms],
            request_from,
        )
        .optional()
        .map_err(backend)?;
    let Some(request) = found else {
        return Ok(None);
    };
    conn.execute(
        "DELETE FROM channel_pairing WHERE channel = ?1 AND sender_id = ?2",
        params![channel, request.sender.id],
    )
    .map_err(backend)?;
    conn.execute(
        "INSERT OR REPLACE INTO channel_senders
             (channel, sender_id, sender_name, approved_at_ms, approved_by)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            channel,
            request.sender.id,
            request.sender.name,
            now_ms,
            approved_by
        ],
    )
    .map_err(backend)?;
    Ok(Some(ApprovedSender {
        channel: channel.to_owned(),
        sender: request.sender,
        approved_at_ms: now_ms,
        approved_by: approved_by.to_owned(),
    }))
}

pub(crate) fn requests(
    conn: &Connection,
    channel: Option<&str>,
    now_ms: i64,
) -> Result<Vec<PairingRequest>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {REQUEST_COLUMNS} FROM channel_pairing
         WHERE (?1 IS NULL OR channel = ?1) AND expires_at_ms > ?2
         ORDER BY created_at_ms"
    ))
    .and_then(|mut st| {
        st.query_map(params![channel, now_ms], request_from)?
            .collect()
    })
    .map_err(backend)
}

pub(crate) fn approved(
    conn: &Connection,
    channel: Option<&str>,
) -> Result<Vec<ApprovedSender>, StoreError> {
    conn.prepare_cached(
        "SELECT channel, sender_id, sender_name, approved_at_ms, approved_by FROM channel_senders
         WHERE (?1 IS NULL OR channel = ?1) ORDER BY channel, approved_at_ms",
    )
    .and_then(|mut st| {
        st.query_map(params![channel], |row| {
            Ok(ApprovedSender {
                channel: row.get(0)?,
                sender: Sender {
                    id: row.get(1)?,
                    name: row.get(2)?,
                },
                approved_at_ms: row.get(3)?,
                approved_by: row.get(4)?,
            })
        })?
        .collect()
    })
    .map_err(backend)
}

pub(crate) fn revoke(conn: &Connection, channel: &str, sender: &str) -> Result<bool, StoreError> {
    conn.execute(
        "DELETE FROM channel_senders WHERE channel = ?1 AND sender_id = ?2",
        params![channel, sender],
    )
    .map(|n| n > 0)
    .map_err(backend)
}
