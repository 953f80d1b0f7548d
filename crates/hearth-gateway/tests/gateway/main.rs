//! The gateway end to end on a real socket: the control protocol through
//! the real client (`ws`), and the HTTP API through reqwest (`http`), over
//! the real pipeline (SQLite store, model router, echo provider). This file
//! is the shared harness.

mod http;
mod ws;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use hearth_agent::{
    AgentRegistry, AgentSettings, Channels, LocalChannel, Metrics, ProviderFactory, Runtime,
    RuntimeConfig,
};
use hearth_core::{AgentId, Provider};
use hearth_gateway::client::Client;
use hearth_gateway::{Auth, GatewayConfig, GatewayState, ModelCatalog, ModelListing};
use hearth_models::{ModelConfig, ProviderKind, Router, RouterSettings};
use hearth_store::{SqliteOptions, SqliteStore};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

pub(crate) const TOKEN: &str = "test-token";

struct Routes(Router);

impl ProviderFactory for Routes {
    fn build(&self, settings: &AgentSettings) -> Result<Arc<dyn Provider>, String> {
        let route = self
            .0
            .route(&settings.model, &settings.fallbacks)
            .map_err(|e| e.to_string())?;
        Ok(Arc::new(route))
    }
}

impl ModelCatalog for Routes {
    fn models(&self) -> Vec<ModelListing> {
        self.0
            .models()
            .into_iter()
            .map(|m| ModelListing {
                id: m.name,
                name: m.model,
                provider: m.provider,
                breaker: format!("{:?}", m.breaker),
                embedded: None,
            })
            .collect()
    }
}

pub(crate) struct Server {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) url: String,
    pub(crate) http: String,
    pub(crate) state: Arc<GatewayState>,
}

pub(crate) async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(dir.path().join("hearth.db"), SqliteOptions::default()).unwrap(),
    );
    let mut models = BTreeMap::new();
    models.insert(
        "echo".to_owned(),
        ModelConfig::new(ProviderKind::Echo, "echo"),
    );
    let routes = Arc::new(Routes(
        Router::from_config(&models, RouterSettings::default()).unwrap(),
    ));
    let mut agents = BTreeMap::new();
    agents.insert(AgentId::main(), AgentSettings::new("echo"));
    let registry = AgentRegistry::load(
        agents,
        AgentId::main(),
        routes.clone(),
        store.clone(),
        dir.path().join("agents"),
    )
    .await
    .unwrap();
    let channels = Channels::default()
        .with(Arc::new(LocalChannel("gateway")))
        .with(Arc::new(LocalChannel("openai")));
    let runtime = Runtime::new(
        store,
        Arc::new(registry),
        channels,
        Arc::new(Metrics::default()),
        RuntimeConfig::default(),
    );
    runtime.start().await.unwrap();
    let state = GatewayState::new(
        runtime,
        Auth::new(Some(TOKEN.into())),
        GatewayConfig::default(),
        routes,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    state.set_ready();
    tokio::spawn(hearth_gateway::serve(listener, state.clone()));
    Server {
        _dir: dir,
        url: format!("ws://{addr}"),
        http: format!("http://{addr}"),
        state,
    }
}

pub(crate) async fn client(s: &Server) -> Client {
    Client::connect(&s.url, Some(TOKEN)).await.unwrap()
}

/// A raw socket, for frames the client would never send.
pub(crate) async fn raw(
    s: &Server,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    tokio_tungstenite::connect_async(&s.url).await.unwrap().0
}

pub(crate) async fn next_json(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Option<Value> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .ok()??
        {
            Ok(Message::Text(t)) => return Some(serde_json::from_str(&t).unwrap()),
            Ok(Message::Close(f)) => {
                return Some(json!({ "closed": f.map(|f| u16::from(f.code)) }));
            }
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

pub(crate) fn connect_frame(token: &str) -> String {
    json!({"type": "req", "id": "c1", "method": "connect", "params": {
        "minProtocol": 4, "maxProtocol": 4,
        "client": {"id": "cli", "version": "1", "platform": "linux", "mode": "cli"},
        "role": "operator", "scopes": ["operator.write"], "caps": [], "auth": {"token": token}}})
    .to_string()
}
