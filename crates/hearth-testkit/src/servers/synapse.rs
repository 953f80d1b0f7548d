//! A real Matrix homeserver for the Matrix channel's tests: Synapse from
//! the venv `scripts/install-synapse.sh` makes (outside the repo), on a
//! loopback port, SQLite, no federation, all state in the test's
//! directory; and [`MatrixUser`], a minimal client for "the other person".
//!
//! Notes from setting it up: Synapse's default rate limits break tests
//! (the sixth login in a few seconds is refused for minutes), so every
//! `rc_*` limit is raised; accounts are made with the shared-secret
//! registration script the venv ships; the first start generates the
//! signing key (about 2 s); room ids of room version 12 have no
//! `:server` part; Synapse never writes `m.direct` for the invitee, a DM
//! shows only as `is_direct` on its invitation.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The homeserver's name: user ids are `@name:localhost`.
pub const SERVER_NAME: &str = "localhost";
const SHARED_SECRET: &str = "hearth-test-registration-secret";

/// Where the venv is (the same rule as scripts/install-synapse.sh).
fn venv() -> PathBuf {
    if let Some(dir) = std::env::var_os("HEARTH_SYNAPSE_VENV") {
        return PathBuf::from(dir);
    }
    dirs::cache_dir()
        .unwrap_or_else(|| PathBuf::from(".cache"))
        .join("hearth")
        .join("synapse-venv")
}

fn rate_limits() -> String {
    let lax = "{ per_second: 1000, burst_count: 10000 }";
    [
        "rc_message",
        "rc_registration",
        "rc_joins_per_room",
        "rc_3pid_validation",
        "rc_invites_per_room",
        "rc_invites_per_user",
        "rc_invites_per_issuer",
        "rc_room_creation",
        "rc_presence_per_user",
        "rc_delayed_event_mgmt",
        "rc_reports",
        "rc_media_create",
    ]
    .iter()
    .map(|key| format!("{key}: {lax}\n"))
    .chain([
        format!("rc_login: {{ address: {lax}, account: {lax}, failed_attempts: {lax} }}\n"),
        format!("rc_joins: {{ local: {lax}, remote: {lax} }}\n"),
        format!("rc_admin_redaction: {lax}\n"),
    ])
    .collect()
}

/// A Synapse process group; killed on drop.
#[derive(Debug)]
pub struct Synapse {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
}

impl Synapse {
    pub async fn start(dir: &Path) -> Synapse {
        std::fs::create_dir_all(dir.join("media")).expect("synapse dir");
        let dir = dir.canonicalize().expect("canonical dir");
        let port = super::free_port();
        let d = dir.display();
        std::fs::write(
            dir.join("log.yaml"),
            format!(
                "version: 1\nformatters:\n  plain:\n    format: '%(asctime)s %(levelname)s %(name)s %(message)s'\nhandlers:\n  file:\n    class: logging.FileHandler\n    formatter: plain\n    filename: {d}/synapse.log\nroot:\n  level: WARNING\n  handlers: [file]\ndisable_existing_loggers: false\n"
            ),
        )
        .expect("write log.yaml");
        std::fs::write(
            dir.join("homeserver.yaml"),
            format!(
                r#"server_name: "{SERVER_NAME}"
pid_file: {d}/homeserver.pid
report_stats: false
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: {d}/homeserver.db
media_store_path: {d}/media
signing_key_path: {d}/signing.key
log_config: {d}/log.yaml
registration_shared_secret: "{SHARED_SECRET}"
enable_registration: false
bcrypt_rounds: 4
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
presence:
  enabled: false
url_preview_enabled: false
enable_metrics: false
{limits}"#,
                limits = rate_limits()
            ),
        )
        .expect("write homeserver.yaml");
        let mut server = Synapse {
            child: None,
            port,
            dir,
        };
        server.restart().await;
        server
    }

    /// Starts the server (again) on the same port and data.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "synapse is running");
        let python = venv().join("bin").join("python");
        assert!(
            python.exists(),
            "Synapse is not installed at {}: run scripts/install-synapse.sh",
            python.display()
        );
        let mut command = Command::new(python);
        command
            .args(["-m", "synapse.app.homeserver", "-c"])
            .arg(self.dir.join("homeserver.yaml"))
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(self.dir.join("stderr.log")).expect("stderr.log"),
            ));
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        self.child = Some(command.spawn().expect("start synapse"));
        let url = format!("{}/_matrix/client/versions", self.url());
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(response) = client.get(&url).send().await
                && response.status().is_success()
            {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let log = std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default();
                panic!("synapse exited ({status}): {log}");
            }
            assert!(
                Instant::now() < deadline,
                "synapse did not start on {}",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Kills the server and everything it started (a crash: no goodbye).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Makes an account with the shared-secret registration script.
    pub fn register(&self, user: &str, password: &str) {
        let output = Command::new(venv().join("bin").join("register_new_matrix_user"))
            .args([
                "-u",
                user,
                "-p",
                password,
                "--no-admin",
                "-k",
                SHARED_SECRET,
            ])
            .arg(self.url())
            .output()
            .expect("register_new_matrix_user");
        assert!(
            output.status.success(),
            "registering {user}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for Synapse {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A person on the homeserver: logs in, makes rooms, writes, and reads
/// what others write, over the client-server API.
#[derive(Debug)]
pub struct MatrixUser {
    http: reqwest::Client,
    base: String,
    token: String,
    pub user_id: String,
    since: Option<String>,
    txn: u64,
    /// Rooms others invited this user to, as syncs showed them.
    pub invites: Vec<String>,
}

impl MatrixUser {
    pub async fn login(server: &Synapse, user: &str, password: &str) -> MatrixUser {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let base = server.url();
        let response: Value = http
            .post(format!("{base}/_matrix/client/v3/login"))
            .json(&json!({
                "type": "m.login.password",
                "identifier": { "type": "m.id.user", "user": user },
                "password": password,
            }))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("login body");
        let token = response["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("login of {user} failed: {response}"))
            .to_owned();
        let mut me = MatrixUser {
            http,
            base,
            token,
            user_id: response["user_id"].as_str().unwrap_or_default().to_owned(),
            since: None,
            txn: 0,
            invites: Vec::new(),
        };
        // Start reading from now.
        me.sync(0).await;
        me
    }

    /// Points at a restarted server (tokens survive a restart).
    pub fn reconnect(&mut self, server: &Synapse) {
        self.base = server.url();
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, format!("{}/_matrix/client/v3{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = response.status();
        let body: Value = response.json().await.unwrap_or_default();
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    /// A new room with `invite`d users; `direct` marks it a DM.
    pub async fn create_room(&self, name: &str, invite: &[&str], direct: bool) -> String {
        let body = json!({
            "name": name, "invite": invite, "is_direct": direct,
            "preset": if direct { "trusted_private_chat" } else { "private_chat" },
        });
        let created = self.call(reqwest::Method::POST, "/createRoom", body).await;
        created["room_id"].as_str().expect("room_id").to_owned()
    }

    pub async fn join(&self, room_id: &str) {
        let path = format!("/rooms/{}/join", encode(room_id));
        self.call(reqwest::Method::POST, &path, json!({})).await;
    }

    /// Waits until `user_id` has joined `room_id`.
    pub async fn wait_joined(&self, room_id: &str, user_id: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let path = format!("/rooms/{}/joined_members", encode(room_id));
        loop {
            let members = self.call(reqwest::Method::GET, &path, json!(null)).await;
            if members["joined"].get(user_id).is_some() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{user_id} never joined {room_id}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends a message event with `content`; its event id.
    pub async fn send(&mut self, room_id: &str, content: Value) -> String {
        self.send_event(room_id, "m.room.message", content).await
    }

    /// Sends an event of any type; its event id.
    pub async fn send_event(&mut self, room_id: &str, kind: &str, content: Value) -> String {
        self.txn += 1;
        let path = format!(
            "/rooms/{}/send/{kind}/t{}-{}",
            encode(room_id),
            hearth_core::now_ms(),
            self.txn
        );
        let sent = self.call(reqwest::Method::PUT, &path, content).await;
        sent["event_id"].as_str().expect("event_id").to_owned()
    }

    pub async fn send_text(&mut self, room_id: &str, text: &str) -> String {
        self.send(room_id, json!({ "msgtype": "m.text", "body": text }))
            .await
    }

    /// One sync: the message events other users sent since the last one.
    pub async fn sync(&mut self, timeout_ms: u64) -> Vec<RoomMessage> {
        // Synapse's default timeline holds 10 events: a long reply in
        // pieces would be cut.
        let filter = "%7B%22room%22%3A%7B%22timeline%22%3A%7B%22limit%22%3A200%7D%7D%7D";
        let mut path = format!("/sync?timeout={timeout_ms}&filter={filter}");
        if let Some(since) = &self.since {
            path.push_str(&format!("&since={since}"));
        }
        let response = self.call(reqwest::Method::GET, &path, json!(null)).await;
        self.since = response["next_batch"].as_str().map(str::to_owned);
        if let Some(invited) = response["rooms"]["invite"].as_object() {
            self.invites.extend(invited.keys().cloned());
        }
        let mut out = Vec::new();
        if let Some(rooms) = response["rooms"]["join"].as_object() {
            for (room_id, room) in rooms {
                for event in room["timeline"]["events"].as_array().into_iter().flatten() {
                    let sender = event["sender"].as_str().unwrap_or_default();
                    if event["type"] == "m.room.message" && sender != self.user_id {
                        out.push(RoomMessage {
                            room: room_id.clone(),
                            sender: sender.to_owned(),
                            event_id: event["event_id"].as_str().unwrap_or_default().to_owned(),
                            content: event["content"].clone(),
                        });
                    }
                }
            }
        }
        out
    }
}

/// A message event someone else sent, as a sync shows it.
#[derive(Debug, Clone)]
pub struct RoomMessage {
    pub room: String,
    pub sender: String,
    pub event_id: String,
    pub content: Value,
}

/// A path segment: room ids hold `!` and `:`.
fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
