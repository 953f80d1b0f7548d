//! Test-only fake HTTP API: an axum server on 127.0.0.1:0 that replays
//! scripted answers (SSE bodies split into frames, error statuses, an
//! endless stream) and records every request it gets, so provider tests run
//! the real client code path against the documented wire format.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// One scripted answer.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    /// 200 `text/event-stream`, each piece sent as its own body frame.
    Sse(Vec<String>),
    /// Any status with headers and a body.
    Status {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// 200 SSE that sends `first`, then `tick` every 10 ms until the client
    /// goes away; the server notes when hyper drops the body.
    Endless { first: Vec<String>, tick: String },
}

impl Answer {
    pub(crate) fn status(status: u16, body: &str) -> Answer {
        Answer::Status {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    /// `data: <json>\n\n` frames, for APIs that send only data lines.
    pub(crate) fn data(events: &[&str]) -> Answer {
        Answer::Sse(events.iter().map(|e| format!("data: {e}\n\n")).collect())
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: serde_json::Value,
}

#[derive(Debug)]
struct Shared {
    answers: Mutex<VecDeque<Answer>>,
    last: Mutex<Option<Answer>>,
    seen: Mutex<Vec<Seen>>,
    body_dropped: Arc<Notify>,
}

#[derive(Debug)]
pub(crate) struct FakeApi {
    pub base_url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeApi {
    /// Starts the server; `answers` are given in order, the last repeats.
    pub(crate) async fn start(answers: Vec<Answer>) -> FakeApi {
        let shared = Arc::new(Shared {
            answers: Mutex::new(answers.into()),
            last: Mutex::new(None),
            seen: Mutex::new(Vec::new()),
            body_dropped: Arc::new(Notify::new()),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeApi {
            base_url: format!("http://{addr}"),
            shared,
            task,
        }
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().clone()
    }

    /// Waits (up to 5 s) until the server has dropped an endless body,
    /// which hyper does when the client closes the connection.
    pub(crate) async fn wait_body_dropped(&self) -> bool {
        tokio::time::timeout(Duration::from_secs(5), self.shared.body_dropped.notified())
            .await
            .is_ok()
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.seen.lock().push(Seen {
        method,
        path: uri.path().to_string(),
        headers,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    });
    let answer = {
        let next = shared.answers.lock().pop_front();
        let mut last = shared.last.lock();
        if let Some(next) = next {
            *last = Some(next);
        }
        last.clone()
            .unwrap_or_else(|| Answer::status(500, "no answer scripted"))
    };
    match answer {
        Answer::Sse(pieces) => sse_response(Body::from_stream(futures::stream::iter(
            pieces.into_iter().map(Ok::<_, Infallible>),
        ))),
        Answer::Status {
            status,
            headers,
            body,
        } => {
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = StatusCode::from_u16(status).unwrap();
            response
                .headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json"));
            for (name, value) in headers {
                response.headers_mut().insert(
                    HeaderName::from_static(name),
                    HeaderValue::from_str(&value).unwrap(),
                );
            }
            response
        }
        Answer::Endless { first, tick } => {
            struct OnDrop(Arc<Notify>);
            impl Drop for OnDrop {
                fn drop(&mut self) {
                    self.0.notify_one();
                }
            }
            let guard = OnDrop(shared.body_dropped.clone());
            let head = futures::stream::iter(first.into_iter().map(Ok::<_, Infallible>));
            let ticks = futures::stream::unfold((tick, guard), |(tick, guard)| async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                Some((Ok(tick.clone()), (tick, guard)))
            });
            sse_response(Body::from_stream(futures::StreamExt::chain(head, ticks)))
        }
    }
}

fn sse_response(body: Body) -> Response {
    let mut response = Response::new(body);
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/event-stream"),
    );
    response
}

/// Drains a stream: the events before any error, and the error.
pub(crate) async fn collect(
    mut stream: hearth_core::ChatStream,
) -> (
    Vec<hearth_core::ChatEvent>,
    Option<hearth_core::ProviderError>,
) {
    use futures::StreamExt;
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(event) => events.push(event),
            Err(err) => {
                assert!(stream.next().await.is_none(), "nothing after an error");
                return (events, Some(err));
            }
        }
    }
    (events, None)
}
