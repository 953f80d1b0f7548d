//! The IRC adapter over TLS with SASL PLAIN, against a scripted server
//! (ngircd has no SASL): a self-signed certificate trusted through
//! `tls_ca_file`, the CAP / AUTHENTICATE exchange as IRCv3 specifies it,
//! and a refused login that stops the channel for good.

#![cfg(feature = "irc")]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use hearth_channels::irc::{IrcChannel, IrcConfig};
use hearth_core::{Channel, ChannelContext, ChannelError, HealthCell};
use hearth_testkit::conformance::RecordingSink;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A test CA and a `localhost` certificate it signed, made with the
/// openssl CLI (webpki refuses a CA certificate as the server's own).
fn certificate(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let path = |name: &str| dir.join(name);
    let run = |args: &[&str]| {
        let status = std::process::Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl is needed to make test certificates");
        assert!(status.success(), "openssl {args:?}");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=Hearth test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "key.pem",
        "-out",
        "leaf.csr",
    ]);
    std::fs::write(
        path("leaf.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "leaf.ext",
        "-out",
        "cert.pem",
    ]);
    (path("cert.pem"), path("key.pem"))
}

/// Serves one connection: TLS, then the SASL exchange; accepts only
/// `bot` / `secret`. On success sends a PRIVMSG from alice.
async fn serve_once(listener: TcpListener, acceptor: TlsAcceptor) -> Vec<String> {
    let (tcp, _) = listener.accept().await.expect("accept");
    let tls = acceptor.accept(tcp).await.expect("TLS handshake");
    let (read, mut write) = tokio::io::split(tls);
    let mut lines = BufReader::new(read).lines();
    let mut seen = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        seen.push(line.clone());
        let reply = if line == "CAP REQ :sasl" {
            ":irc.test CAP * ACK :sasl".to_owned()
        } else if line == "AUTHENTICATE PLAIN" {
            "AUTHENTICATE +".to_owned()
        } else if let Some(token) = line.strip_prefix("AUTHENTICATE ") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(token)
                .unwrap_or_default();
            if decoded == b"bot\0bot\0secret" {
                ":irc.test 903 hearth :SASL authentication successful".to_owned()
            } else {
                ":irc.test 904 hearth :SASL authentication failed".to_owned()
            }
        } else if line == "CAP END" {
            ":irc.test 001 hearth :Welcome".to_owned()
        } else if line.starts_with("JOIN") {
            ":alice!a@h PRIVMSG hearth :hello over tls".to_owned()
        } else {
            continue;
        };
        if write
            .write_all(format!("{reply}\r\n").as_bytes())
            .await
            .is_err()
        {
            break;
        }
    }
    seen
}

async fn server(dir: &Path) -> (TcpListener, TlsAcceptor, std::path::PathBuf) {
    let (cert, key) = certificate(dir);
    let certs = CertificateDer::pem_file_iter(&cert)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let ca = dir.join("ca.pem");
    let key = PrivateKeyDer::from_pem_file(&key).unwrap();
    let config = ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    (listener, TlsAcceptor::from(Arc::new(config)), ca)
}

fn config(port: u16, ca: &Path, password: &str) -> IrcConfig {
    serde_json::from_value(serde_json::json!({
        "server": format!("localhost:{port}"), "tls": true, "tls_ca_file": ca,
        "nick": "hearth", "channels": ["#room"],
        "sasl": { "username": "bot", "password": password },
    }))
    .unwrap()
}

fn context(sink: Arc<RecordingSink>) -> ChannelContext {
    ChannelContext {
        inbound: sink,
        shutdown: tokio_util::sync::CancellationToken::new(),
        health: HealthCell::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_sasl_plain_log_in_and_messages_flow() {
    let dir = tempfile::tempdir().unwrap();
    let (listener, acceptor, ca) = server(dir.path()).await;
    let port = listener.local_addr().unwrap().port();
    let script = tokio::spawn(serve_once(listener, acceptor));
    let irc = Arc::new(IrcChannel::new("irc", config(port, &ca, "secret")));
    let sink = Arc::new(RecordingSink::default());
    let ctx = context(sink.clone());
    let shutdown = ctx.shutdown.clone();
    let running = tokio::spawn({
        let irc = irc.clone();
        async move { irc.start(ctx).await }
    });
    let got = sink.wait_for(1).await;
    assert_eq!(got[0].text, "hello over tls");
    assert_eq!(got[0].origin.sender.id, "alice");
    shutdown.cancel();
    running.await.unwrap().expect("a clean stop");
    let seen = script.await.unwrap();
    let order: Vec<&str> = seen
        .iter()
        .map(|l| l.split(' ').next().unwrap_or(""))
        .collect();
    // CAP before NICK/USER, AUTHENTICATE before CAP END, JOIN after.
    let at = |cmd: &str| {
        seen.iter()
            .position(|l| l.starts_with(cmd))
            .unwrap_or(usize::MAX)
    };
    assert!(at("CAP REQ") < at("AUTHENTICATE PLAIN"), "{order:?}");
    assert!(at("AUTHENTICATE PLAIN") < at("CAP END"), "{order:?}");
    assert!(at("CAP END") < at("JOIN"), "{order:?}");
    assert!(seen.iter().any(|l| l.starts_with("QUIT")), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_sasl_login_is_permanent() {
    let dir = tempfile::tempdir().unwrap();
    let (listener, acceptor, ca) = server(dir.path()).await;
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(serve_once(listener, acceptor));
    let irc = IrcChannel::new("irc", config(port, &ca, "wrong"));
    let error = tokio::time::timeout(Duration::from_secs(20), irc.start(context(Arc::default())))
        .await
        .expect("fails fast")
        .unwrap_err();
    assert!(
        matches!(error, ChannelError::Permanent(ref m) if m.contains("SASL")),
        "{error:?}"
    );
}
