//! The closed set of methods this server implements, parsed from a request
//! frame. Anything else is answered with an `unknown method` error.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::frames::ErrorShape;
use super::params::*;
use super::{errors, handshake::ConnectParams};

#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    Connect(Box<ConnectParams>),
    Health,
    Status,
    SystemPresence,
    ChatSend(ChatSend),
    ChatHistory(ChatHistory),
    ChatAbort(ChatAbort),
    Agent(AgentRun),
    AgentWait(AgentWait),
    SessionsList(SessionsList),
    SessionsGet(SessionByKey),
    SessionsCreate(SessionsCreate),
    SessionsSend(SessionsSend),
    SessionsReset(SessionByKey),
    SessionsDelete(SessionByKey),
    SessionsAbort(SessionsAbort),
    AgentsList,
    AgentsCreate(AgentsCreate),
    AgentsUpdate(AgentsUpdate),
    AgentsDelete(AgentsDelete),
    ModelsList,
    ModelsLoad(ModelByName),
    ModelsUnload(ModelByName),
    /// `memory.*`: parameters are checked by the memory service (see
    /// docs/protocol.md), which the gateway only routes to.
    Memory {
        name: &'static str,
        params: Value,
    },
    /// `channels.*` and `pairing.*`: routed to the channel service, which
    /// checks the parameters.
    Channels {
        name: &'static str,
        params: Value,
    },
    /// `exec.approval.list`: requests waiting for an operator.
    ApprovalList,
    /// `exec.approval.resolve`: answers one.
    ApprovalResolve(ApprovalResolve),
}

/// The channel and pairing methods, each with the scope it needs.
pub const CHANNEL_METHODS: &[(&str, Scope)] = &[
    ("channels.status", Scope::Read),
    ("pairing.list", Scope::Read),
    ("pairing.approve", Scope::Pairing),
    ("pairing.revoke", Scope::Pairing),
];

/// The memory methods, each with the scope it needs.
pub const MEMORY_METHODS: &[(&str, Scope)] = &[
    ("memory.search", Scope::Read),
    ("memory.list", Scope::Read),
    ("memory.get", Scope::Read),
    ("memory.stats", Scope::Read),
    ("memory.add", Scope::Write),
    ("memory.remove", Scope::Write),
    ("memory.import", Scope::Write),
    ("memory.reindex", Scope::Admin),
    ("memory.working.list", Scope::Read),
    ("memory.working.set", Scope::Write),
    ("memory.working.remove", Scope::Write),
    ("memory.graph.get", Scope::Read),
    ("memory.graph.list", Scope::Read),
    ("memory.graph.neighbours", Scope::Read),
    ("memory.graph.paths", Scope::Read),
    ("memory.graph.history", Scope::Read),
    ("memory.graph.upsert", Scope::Write),
    ("memory.graph.relate", Scope::Write),
    ("memory.graph.delete", Scope::Write),
];

/// The methods advertised in `hello-ok` (`connect` is implied).
pub const METHODS: &[&str] = &[
    "health",
    "status",
    "system-presence",
    "chat.send",
    "chat.history",
    "chat.abort",
    "agent",
    "agent.wait",
    "sessions.list",
    "sessions.get",
    "sessions.create",
    "sessions.send",
    "sessions.reset",
    "sessions.delete",
    "sessions.abort",
    "agents.list",
    "agents.create",
    "agents.update",
    "agents.delete",
    "models.list",
    "models.load",
    "models.unload",
    "memory.search",
    "memory.list",
    "memory.get",
    "memory.stats",
    "memory.add",
    "memory.remove",
    "memory.import",
    "memory.reindex",
    "memory.working.list",
    "memory.working.set",
    "memory.working.remove",
    "memory.graph.get",
    "memory.graph.list",
    "memory.graph.neighbours",
    "memory.graph.paths",
    "memory.graph.history",
    "memory.graph.upsert",
    "memory.graph.relate",
    "memory.graph.delete",
    "channels.status",
    "pairing.list",
    "pairing.approve",
    "pairing.revoke",
    "exec.approval.list",
    "exec.approval.resolve",
];

/// Which scope a method needs (OpenClaw's operator scopes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Read,
    Write,
    Admin,
    /// Approving and revoking channel senders (`operator.pairing`);
    /// admin implies it.
    Pairing,
    /// Answering exec approval requests (`operator.approvals`); admin
    /// implies it.
    Approvals,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "operator.read",
            Scope::Write => "operator.write",
            Scope::Admin => "operator.admin",
            Scope::Pairing => "operator.pairing",
            Scope::Approvals => "operator.approvals",
        }
    }
}

impl Method {
    pub fn parse(name: &str, params: Option<Value>) -> Result<Method, ErrorShape> {
        let params = params.unwrap_or(Value::Object(Default::default()));
        Ok(match name {
            "connect" => Method::Connect(Box::new(typed(name, params)?)),
            "health" => Method::Health,
            "status" => Method::Status,
            "system-presence" => Method::SystemPresence,
            "chat.send" => Method::ChatSend(typed(name, params)?),
            "chat.history" => Method::ChatHistory(typed(name, params)?),
            "chat.abort" => Method::ChatAbort(typed(name, params)?),
            "agent" => Method::Agent(typed(name, params)?),
            "agent.wait" => Method::AgentWait(typed(name, params)?),
            "sessions.list" => Method::SessionsList(typed(name, params)?),
            "sessions.get" => Method::SessionsGet(typed(name, params)?),
            "sessions.create" => Method::SessionsCreate(typed(name, params)?),
            "sessions.send" => Method::SessionsSend(typed(name, params)?),
            "sessions.reset" => Method::SessionsReset(typed(name, params)?),
            "sessions.delete" => Method::SessionsDelete(typed(name, params)?),
            "sessions.abort" => Method::SessionsAbort(typed(name, params)?),
            "agents.list" => Method::AgentsList,
            "agents.create" => Method::AgentsCreate(typed(name, params)?),
            "agents.update" => Method::AgentsUpdate(typed(name, params)?),
            "agents.delete" => Method::AgentsDelete(typed(name, params)?),
            "models.list" => Method::ModelsList,
            "models.load" => Method::ModelsLoad(typed(name, params)?),
            "models.unload" => Method::ModelsUnload(typed(name, params)?),
            "exec.approval.list" => Method::ApprovalList,
            "exec.approval.resolve" => Method::ApprovalResolve(typed(name, params)?),
            other if let Some((name, _)) = MEMORY_METHODS.iter().find(|(m, _)| *m == other) => {
                if !params.is_object() {
                    return Err(ErrorShape::invalid(format!(
                        "invalid params for {name}: expected an object"
                    )));
                }
                Method::Memory { name, params }
            }
            other if let Some((name, _)) = CHANNEL_METHODS.iter().find(|(m, _)| *m == other) => {
                if !params.is_object() {
                    return Err(ErrorShape::invalid(format!(
                        "invalid params for {name}: expected an object"
                    )));
                }
                Method::Channels { name, params }
            }
            other => {
                return Err(ErrorShape::invalid(format!("unknown method: {other}"))
                    .with_detail(errors::detail::UNKNOWN_METHOD));
            }
        })
    }

    /// The scope a caller needs for this method.
    pub fn scope(&self) -> Scope {
        match self {
            Method::Connect(_)
            | Method::Health
            | Method::Status
            | Method::SystemPresence
            | Method::ChatHistory(_)
            | Method::AgentWait(_)
            | Method::SessionsList(_)
            | Method::SessionsGet(_)
            | Method::AgentsList
            | Method::ModelsList => Scope::Read,
            Method::ChatSend(_)
            | Method::ChatAbort(_)
            | Method::Agent(_)
            | Method::SessionsCreate(_)
            | Method::SessionsSend(_)
            | Method::SessionsReset(_)
            | Method::SessionsAbort(_) => Scope::Write,
            Method::SessionsDelete(_)
            | Method::AgentsCreate(_)
            | Method::AgentsUpdate(_)
            | Method::AgentsDelete(_)
            | Method::ModelsLoad(_)
            | Method::ModelsUnload(_) => Scope::Admin,
            Method::Memory { name, .. } => MEMORY_METHODS
                .iter()
                .find(|(m, _)| m == name)
                .map_or(Scope::Admin, |(_, scope)| *scope),
            Method::Channels { name, .. } => CHANNEL_METHODS
                .iter()
                .find(|(m, _)| m == name)
                .map_or(Scope::Admin, |(_, scope)| *scope),
            Method::ApprovalList | Method::ApprovalResolve(_) => Scope::Approvals,
        }
    }
}

fn typed<T: DeserializeOwned>(method: &str, params: Value) -> Result<T, ErrorShape> {
    serde_json::from_value(params)
        .map_err(|e| ErrorShape::invalid(format!("invalid params for {method}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn params_are_typed_and_errors_name_the_problem() {
        let m = Method::parse(
            "chat.send",
            Some(json!({"sessionKey": "agent:main:x", "message": "hi"})),
        )
        .unwrap();
        assert!(matches!(m, Method::ChatSend(ChatSend { ref message, .. }) if message == "hi"));
        let err = Method::parse("chat.send", Some(json!({"sessionKey": "k"}))).unwrap_err();
        assert_eq!(err.code, errors::INVALID_REQUEST);
        assert!(
            err.message.contains("missing field `message`"),
            "{}",
            err.message
        );
        let err =
            Method::parse("chat.send", Some(json!({"sessionKey": 5, "message": "x"}))).unwrap_err();
        assert!(err.message.contains("invalid type"), "{}", err.message);
    }

    #[test]
    fn missing_params_mean_empty_and_unknown_methods_are_refused() {
        assert_eq!(Method::parse("health", None).unwrap(), Method::Health);
        assert_eq!(
            Method::parse("sessions.list", None).unwrap(),
            Method::SessionsList(SessionsList::default())
        );
        let err = Method::parse("tts.speak", None).unwrap_err();
        assert_eq!(err.message, "unknown method: tts.speak");
    }

    #[test]
    fn memory_methods_are_routed_with_their_scopes() {
        let m = Method::parse("memory.search", Some(json!({"query": "x"}))).unwrap();
        assert_eq!(m.scope(), Scope::Read);
        assert!(matches!(
            m,
            Method::Memory {
                name: "memory.search",
                ..
            }
        ));
        let m = Method::parse("memory.reindex", None).unwrap();
        assert_eq!(m.scope(), Scope::Admin);
        assert_eq!(
            Method::parse("memory.add", None).unwrap().scope(),
            Scope::Write
        );
        assert!(Method::parse("memory.add", Some(json!([1]))).is_err());
        assert!(Method::parse("memory.drop_all", None).is_err());
        for (name, _) in MEMORY_METHODS {
            assert!(METHODS.contains(name), "{name} is advertised");
        }
    }

    #[test]
    fn channel_methods_route_with_their_scopes() {
        let scope = |name| Method::parse(name, None).unwrap().scope();
        assert_eq!(scope("channels.status"), Scope::Read);
        assert_eq!(scope("pairing.list"), Scope::Read);
        assert_eq!(scope("pairing.approve"), Scope::Pairing);
        assert_eq!(scope("pairing.revoke"), Scope::Pairing);
        assert!(Method::parse("pairing.approve", Some(json!("ABCD2345"))).is_err());
        assert!(Method::parse("pairing.approve_all", None).is_err());
        for (name, _) in CHANNEL_METHODS {
            assert!(METHODS.contains(name), "{name} is advertised");
        }
    }

    #[test]
    fn approval_methods_need_the_approvals_scope_and_a_known_decision() {
        let m = Method::parse(
            "exec.approval.resolve",
            Some(json!({"id": "abc", "decision": "allow-once"})),
        )
        .unwrap();
        assert_eq!(m.scope(), Scope::Approvals);
        assert!(matches!(
            m,
            Method::ApprovalResolve(ApprovalResolve {
                decision: ApprovalChoice::AllowOnce,
                ..
            })
        ));
        let err = Method::parse(
            "exec.approval.resolve",
            Some(json!({"id": "abc", "decision": "yes please"})),
        )
        .unwrap_err();
        assert!(err.message.contains("unknown variant"), "{}", err.message);
        assert_eq!(
            Method::parse("exec.approval.list", None).unwrap().scope(),
            Scope::Approvals
        );
    }

    #[test]
    fn every_advertised_method_parses() {
        for name in METHODS {
            let result = Method::parse(name, Some(json!({})));
            if let Err(e) = result {
                assert!(e.message.contains("missing field"), "{name}: {}", e.message);
            }
        }
    }
}
