//! The JSON Schema of the protocol as Hearth implements it, generated from
//! the Rust types so it cannot drift from the code. `hearth protocol schema`
//! prints it; `docs/protocol.schema.json` is a checked-in copy a test keeps
//! current.

use schemars::{JsonSchema, schema_for};
use serde_json::{Map, Value, json};

use super::{channels, events, frames, handshake, memory, params};

fn add<T: JsonSchema>(defs: &mut Map<String, Value>, name: &str) {
    defs.insert(
        name.to_owned(),
        serde_json::to_value(schema_for!(T)).unwrap_or(Value::Null),
    );
}

/// One document: frames, handshake, each method's params (by method
/// name), event payloads (`event:<name>`) and awaited answers
/// (`result:<method>`).
pub fn protocol_schema() -> Value {
    let mut defs = Map::new();
    add::<frames::RequestFrame>(&mut defs, "RequestFrame");
    add::<frames::ResponseFrame>(&mut defs, "ResponseFrame");
    add::<frames::EventFrame>(&mut defs, "EventFrame");
    add::<frames::ErrorShape>(&mut defs, "ErrorShape");
    add::<handshake::Challenge>(&mut defs, "ConnectChallenge");
    add::<handshake::ConnectParams>(&mut defs, "ConnectParams");
    add::<handshake::HelloOk>(&mut defs, "HelloOk");
    add::<params::ChatSend>(&mut defs, "chat.send");
    add::<params::ChatHistory>(&mut defs, "chat.history");
    add::<params::ChatAbort>(&mut defs, "chat.abort");
    add::<params::AgentRun>(&mut defs, "agent");
    add::<params::AgentWait>(&mut defs, "agent.wait");
    add::<params::SessionsList>(&mut defs, "sessions.list");
    add::<params::SessionByKey>(&mut defs, "sessions.get");
    add::<params::SessionsCreate>(&mut defs, "sessions.create");
    add::<params::SessionsSend>(&mut defs, "sessions.send");
    add::<params::SessionByKey>(&mut defs, "sessions.reset");
    add::<params::SessionByKey>(&mut defs, "sessions.delete");
    add::<params::SessionsAbort>(&mut defs, "sessions.abort");
    add::<params::Empty>(&mut defs, "agents.list");
    add::<params::AgentsCreate>(&mut defs, "agents.create");
    add::<params::AgentsUpdate>(&mut defs, "agents.update");
    add::<params::AgentsDelete>(&mut defs, "agents.delete");
    add::<params::ModelByName>(&mut defs, "models.load");
    add::<params::ModelByName>(&mut defs, "models.unload");
    add::<params::Empty>(&mut defs, "exec.approval.list");
    add::<params::ApprovalResolve>(&mut defs, "exec.approval.resolve");
    add::<params::Empty>(&mut defs, "models.list");
    add::<memory::MemorySearch>(&mut defs, "memory.search");
    add::<memory::MemoryList>(&mut defs, "memory.list");
    add::<memory::MemoryById>(&mut defs, "memory.get");
    add::<memory::MemoryAgent>(&mut defs, "memory.stats");
    add::<memory::MemoryAdd>(&mut defs, "memory.add");
    add::<memory::MemoryById>(&mut defs, "memory.remove");
    add::<memory::MemoryAgent>(&mut defs, "memory.import");
    add::<memory::MemoryAgent>(&mut defs, "memory.reindex");
    add::<memory::WorkingMemory>(&mut defs, "memory.working.list");
    add::<memory::WorkingMemory>(&mut defs, "memory.working.set");
    add::<memory::WorkingMemory>(&mut defs, "memory.working.remove");
    add::<memory::GraphByKey>(&mut defs, "memory.graph.get");
    add::<memory::GraphByKey>(&mut defs, "memory.graph.list");
    add::<memory::GraphByKey>(&mut defs, "memory.graph.neighbours");
    add::<memory::GraphPaths>(&mut defs, "memory.graph.paths");
    add::<memory::GraphByKey>(&mut defs, "memory.graph.history");
    add::<memory::GraphUpsert>(&mut defs, "memory.graph.upsert");
    add::<memory::GraphRelate>(&mut defs, "memory.graph.relate");
    add::<memory::GraphByKey>(&mut defs, "memory.graph.delete");
    add::<channels::ChannelsStatus>(&mut defs, "channels.status");
    add::<channels::PairingList>(&mut defs, "pairing.list");
    add::<channels::PairingApprove>(&mut defs, "pairing.approve");
    add::<channels::PairingRevoke>(&mut defs, "pairing.revoke");
    add::<params::Empty>(&mut defs, "health");
    add::<params::Empty>(&mut defs, "status");
    add::<events::AgentEvent>(&mut defs, "event:agent");
    add::<events::ChatEvent>(&mut defs, "event:chat");
    add::<events::Tick>(&mut defs, "event:tick");
    add::<events::PresenceUpdate>(&mut defs, "event:presence");
    add::<events::Shutdown>(&mut defs, "event:shutdown");
    add::<events::SendResult>(&mut defs, "result:chat.send");
    add::<events::AgentAccepted>(&mut defs, "result:agent.accepted");
    add::<events::AgentResult>(&mut defs, "result:agent");
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Hearth control protocol (OpenClaw gateway protocol v4 subset)",
        "protocol": super::PROTOCOL_VERSION,
        "definitions": defs,
    })
}
