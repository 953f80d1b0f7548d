//! web_fetch against a local axum server on 127.0.0.1, allowed through
//! `allow_hosts`, and the default configuration's refusals (which need no
//! network: they are refused before any connection).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use futures::StreamExt;
use hearth_core::{Tool, ToolError};
use hearth_tools::{WebFetchConfig, web_fetch_tool};
use serde_json::json;

use super::{call, context};

const PAGE: &str = r#"<!doctype html>
<html><head><title>Local page</title>
<script>window.secretToken = "abc";</script></head>
<body><nav>Menu Home About</nav>
<h1>Welcome</h1><p>Hello from the <a href="/docs">docs</a>.</p>
<script>console.log("hidden script")</script></body></html>"#;

/// Starts the test server; returns its port.
async fn serve() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new()
        .route("/page", get(|| async { html(PAGE) }))
        .route("/plain", get(|| async { text("text/plain", "just text\n") }))
        .route("/json", get(|| async { text("application/json", r#"{"a": 1}"#) }))
        .route("/big", get(|| async { text("text/plain", "0123456789".repeat(100_000)) }))
        .route("/image", get(|| async { binary("image/png") }))
        .route("/untyped", get(|| async { binary("application/octet-stream") }))
        .route("/missing", get(|| async { (StatusCode::NOT_FOUND, html("<h1>No such page</h1>")) }))
        .route("/to-page", get(|| async { Redirect::temporary("/page") }))
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route(
            "/to-loopback-ip",
            get(move || async move { Redirect::temporary(&format!("http://127.0.0.1:{port}/page")) }),
        )
        .route("/to-private", get(|| async { Redirect::temporary("http://10.0.0.1/admin") }))
        .route(
            "/to-ipv6-loopback",
            get(move || async move { Redirect::temporary(&format!("http://[::1]:{port}/page")) }),
        )
        .route("/slow-headers", get(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            html(PAGE)
        }))
        .route("/slow-body", get(|| async {
            // The headers and a first chunk, then nothing.
            let stream = futures::stream::once(async { Ok::<_, std::io::Error>(bytes::Bytes::from("<html><body>start")) })
                .chain(futures::stream::pending());
            Response::builder()
                .header(header::CONTENT_TYPE, "text/html")
                .body(Body::from_stream(stream))
                .unwrap()
        }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

fn html(body: &'static str) -> Response {
    text("text/html; charset=utf-8", body)
}

fn text(content_type: &'static str, body: impl Into<String>) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body.into()).into_response()
}

fn binary(content_type: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, content_type)],
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0".to_vec(),
    )
        .into_response()
}

/// web_fetch allowed to reach 127.0.0.1 (only that host).
fn local_tool(change: impl FnOnce(&mut WebFetchConfig)) -> Arc<dyn Tool> {
    let mut config = WebFetchConfig {
        allow_hosts: vec!["127.0.0.1".into()],
        timeout_secs: 5,
        ..WebFetchConfig::default()
    };
    change(&mut config);
    web_fetch_tool(config).unwrap()
}

async fn fetch(tool: &Arc<dyn Tool>, url: String) -> Result<String, ToolError> {
    call(tool.as_ref(), json!({ "url": url })).await
}

#[tokio::test]
async fn html_pages_come_back_as_markdown_with_a_header() {
    let port = serve().await;
    let tool = local_tool(|_| {});
    let page = fetch(&tool, format!("http://127.0.0.1:{port}/page"))
        .await
        .unwrap();
    let (header, body) = page.split_once("\n\n").unwrap();
    assert_eq!(
        header,
        format!(
            "URL: http://127.0.0.1:{port}/page\nStatus: 200 OK\n\
             Content-Type: text/html; charset=utf-8\nTitle: Local page"
        )
    );
    assert!(body.contains("# Welcome"), "{body}");
    assert!(
        body.contains(&format!("[docs](http://127.0.0.1:{port}/docs)")),
        "{body}"
    );
    for hidden in ["secretToken", "hidden script", "Menu"] {
        assert!(!page.contains(hidden), "{hidden:?} in {page}");
    }

    let redirected = fetch(&tool, format!("http://127.0.0.1:{port}/to-page"))
        .await
        .unwrap();
    assert!(
        redirected.starts_with(&format!("URL: http://127.0.0.1:{port}/page\n")),
        "{redirected}"
    );
    assert!(redirected.contains(&format!("Redirected from: http://127.0.0.1:{port}/to-page")));
    assert!(redirected.contains("# Welcome"));
}

#[tokio::test]
async fn text_types_come_back_as_they_are_and_binary_is_refused() {
    let port = serve().await;
    let tool = local_tool(|_| {});
    let plain = fetch(&tool, format!("http://127.0.0.1:{port}/plain"))
        .await
        .unwrap();
    assert!(plain.ends_with("\n\njust text\n"), "{plain}");
    let json = fetch(&tool, format!("http://127.0.0.1:{port}/json"))
        .await
        .unwrap();
    assert!(json.contains("Content-Type: application/json\n"), "{json}");
    assert!(json.ends_with("\n\n{\"a\": 1}"), "{json}");

    for (path, says) in [("image", "image/png"), ("untyped", "binary")] {
        let refused = fetch(&tool, format!("http://127.0.0.1:{port}/{path}")).await;
        assert!(
            matches!(&refused, Err(ToolError::Failed(m)) if m.contains(says)),
            "{path}: {refused:?}"
        );
    }
    let missing = fetch(&tool, format!("http://127.0.0.1:{port}/missing")).await;
    assert!(
        matches!(&missing, Err(ToolError::Failed(m)) if m.starts_with("HTTP 404") && m.contains("No such page")),
        "{missing:?}"
    );
}

#[tokio::test]
async fn bodies_and_text_are_cut_at_their_limits() {
    let port = serve().await;
    let tool = local_tool(|c| c.max_bytes = 64 * 1024);
    let cut = call(
        tool.as_ref(),
        json!({"url": format!("http://127.0.0.1:{port}/big"), "max_chars": 100_000}),
    )
    .await
    .unwrap();
    let (header, body) = cut.split_once("\n\n").unwrap();
    assert!(
        header.contains("Note: only the first 64.0 KiB of the body were read"),
        "{header}"
    );
    assert_eq!(body.len(), 64 * 1024);

    let tool = local_tool(|_| {});
    let short = call(
        tool.as_ref(),
        json!({"url": format!("http://127.0.0.1:{port}/big"), "max_chars": 500}),
    )
    .await
    .unwrap();
    let (header, body) = short.split_once("\n\n").unwrap();
    assert!(
        header.contains("Note: the text is cut to 500 of its 1000000 characters"),
        "{header}"
    );
    assert_eq!(body.chars().count(), 500);
    assert!(matches!(
        call(
            tool.as_ref(),
            json!({"url": "http://127.0.0.1/", "max_chars": 5})
        )
        .await,
        Err(ToolError::InvalidArguments(_))
    ));
}

#[tokio::test]
async fn slow_servers_time_out() {
    let port = serve().await;
    let tool = local_tool(|c| c.timeout_secs = 1);
    for path in ["slow-headers", "slow-body"] {
        let started = std::time::Instant::now();
        let result = fetch(&tool, format!("http://127.0.0.1:{port}/{path}")).await;
        assert_eq!(result, Err(ToolError::TimedOut(1)), "{path}");
        assert!(started.elapsed() < Duration::from_secs(5), "{path}");
    }
}

#[tokio::test]
async fn redirects_are_checked_at_every_hop() {
    let port = serve().await;
    // Allowed as 127.0.0.1 only: a redirect to another private address
    // is refused, even one on the same machine.
    let tool = local_tool(|_| {});
    for path in ["to-ipv6-loopback", "to-private"] {
        let result = fetch(&tool, format!("http://127.0.0.1:{port}/{path}")).await;
        assert!(
            matches!(&result, Err(ToolError::Denied(m)) if m.contains("non-public")),
            "{path}: {result:?}"
        );
    }
    let looping = fetch(&tool, format!("http://127.0.0.1:{port}/loop")).await;
    assert!(
        matches!(&looping, Err(ToolError::Failed(m)) if m.contains("redirected more than 5 times")),
        "{looping:?}"
    );
    // Allowed by name: the name's hop passes the resolver, the redirect
    // to the literal 127.0.0.1 does not.
    let by_name = local_tool(|c| c.allow_hosts = vec!["localhost".into()]);
    let page = fetch(&by_name, format!("http://localhost:{port}/page"))
        .await
        .unwrap();
    assert!(page.contains("# Welcome"), "{page}");
    let result = fetch(&by_name, format!("http://localhost:{port}/to-loopback-ip")).await;
    assert!(matches!(&result, Err(ToolError::Denied(_))), "{result:?}");
    // With private addresses allowed, the same redirect is followed.
    let open = local_tool(|c| c.allow_private = true);
    let page = fetch(&open, format!("http://127.0.0.1:{port}/to-ipv6-loopback")).await;
    // The server listens on IPv4 only: the hop is allowed, then refused
    // by the machine, not by the policy.
    assert!(matches!(&page, Err(ToolError::Failed(_))), "{page:?}");
    let page = fetch(&open, format!("http://localhost:{port}/to-loopback-ip"))
        .await
        .unwrap();
    assert!(page.contains("# Welcome"), "{page}");
}

#[tokio::test]
async fn the_default_configuration_refuses_private_and_local_addresses() {
    let port = serve().await;
    let tool = web_fetch_tool(WebFetchConfig::default()).unwrap();
    for url in [
        format!("http://127.0.0.1:{port}/page"),
        format!("http://localhost:{port}/page"),
        "http://localhost/".into(),
        "http://[::1]/".into(),
        "http://169.254.169.254/latest/meta-data/".into(),
        "http://10.0.0.1/".into(),
        "http://192.168.1.1/".into(),
        "http://[::ffff:127.0.0.1]/".into(),
        "http://0.0.0.0/".into(),
    ] {
        let result = fetch(&tool, url.clone()).await;
        assert!(
            matches!(result, Err(ToolError::Denied(_))),
            "{url}: {result:?}"
        );
    }
    for url in ["file:///etc/passwd", "ftp://example.com/"] {
        assert!(
            matches!(fetch(&tool, url.into()).await, Err(ToolError::Denied(_))),
            "{url}"
        );
    }
    assert!(matches!(
        fetch(&tool, "not a url".into()).await,
        Err(ToolError::InvalidArguments(_))
    ));
}

#[tokio::test]
async fn a_cancelled_call_stops_waiting() {
    let port = serve().await;
    let tool = local_tool(|c| c.timeout_secs = 60);
    let context = context();
    let cancel = context.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        cancel.cancel();
    });
    let started = std::time::Instant::now();
    let result = tool
        .call(
            &context,
            json!({"url": format!("http://127.0.0.1:{port}/slow-headers")}),
        )
        .await;
    assert_eq!(result, Err(ToolError::Cancelled));
    assert!(started.elapsed() < Duration::from_secs(5));
}
