//! The streamable HTTP side of a session: rmcp's transport on reqwest 0.13
//! with rustls on ring, and one fix-up for servers that answer a lost
//! session the wrong way.
//!
//! The spec says a server that no longer knows a session id answers 404,
//! and rmcp then opens a new session and retries the request. The
//! TypeScript SDK's example servers (server-everything among them) answer
//! 400 with a JSON-RPC error that names no request instead; rmcp cannot
//! match that error to the request, which then waits until its timeout.
//! [`SessionAware`] turns exactly that answer (an error without an id, to
//! a POST made within a session) into the 404 case.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use http::{HeaderName, HeaderValue};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpClientTransportConfig, StreamableHttpError,
    StreamableHttpPostResponse,
};
use sse_stream::Sse;

type Error = StreamableHttpError<reqwest013::Error>;

/// rmcp's streamable HTTP transport to `url`, sending `headers` with every
/// request.
pub(crate) fn transport(
    url: &str,
    headers: &BTreeMap<String, String>,
) -> Result<StreamableHttpClientTransport<SessionAware>, String> {
    let mut custom = HashMap::new();
    for (name, value) in headers {
        // validate() checked both.
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("header {name}: {e}"))?;
        let mut value = HeaderValue::from_str(value).map_err(|e| format!("header {name}: {e}"))?;
        value.set_sensitive(true);
        custom.insert(name, value);
    }
    let config = StreamableHttpClientTransportConfig::with_uri(url)
        .custom_headers(custom)
        .reinit_on_expired_session(true);
    Ok(StreamableHttpClientTransport::with_client(
        SessionAware(client()?),
        config,
    ))
}

/// reqwest 0.13 on rustls with ring and the web's roots, like every other
/// HTTP client of Hearth. No redirects: a redirect would replay the
/// session id and the `Authorization` header to wherever it points. No
/// idle pool, as rmcp's own default client: reusing a connection whose SSE
/// body was not read to the end stalls on delayed ACKs.
fn client() -> Result<reqwest013::Client, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS setup: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest013::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest013::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

/// rmcp's reqwest client, with a lost session recognized also when the
/// server says so with a 400 (see the file's doc).
#[derive(Debug, Clone)]
pub(crate) struct SessionAware(reqwest013::Client);

fn session_lost(
    in_session: bool,
    response: Result<StreamableHttpPostResponse, Error>,
) -> Result<StreamableHttpPostResponse, Error> {
    match response {
        Ok(StreamableHttpPostResponse::Json(ServerJsonRpcMessage::Error(error), _))
            if in_session && error.id.is_none() =>
        {
            tracing::debug!(error = %error.error.message, "mcp session lost; starting a new one");
            Err(StreamableHttpError::SessionExpired)
        }
        other => other,
    }
}

impl StreamableHttpClient for SessionAware {
    type Error = reqwest013::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, Error> {
        let in_session = session_id.is_some();
        let response = self
            .0
            .post_message(uri, message, session_id, auth_header, custom_headers)
            .await;
        session_lost(in_session, response)
    }

    async fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<StreamableHttpPostResponse, Error> {
        let in_session = session_id.is_some();
        let response = self
            .0
            .post_message_with_max_sse_event_size(
                uri,
                message,
                session_id,
                auth_header,
                custom_headers,
                max_sse_event_size,
            )
            .await;
        session_lost(in_session, response)
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), Error> {
        self.0
            .delete_session(uri, session_id, auth_header, custom_headers)
            .await
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, Error> {
        self.0
            .get_stream(uri, session_id, last_event_id, auth_header, custom_headers)
            .await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, Error> {
        self.0
            .get_stream_with_max_sse_event_size(
                uri,
                session_id,
                last_event_id,
                auth_header,
                custom_headers,
                max_sse_event_size,
            )
            .await
    }
}
