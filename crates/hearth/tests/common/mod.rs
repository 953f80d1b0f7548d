//! Shared helpers: a real `hearth run` process per test (config, port,
//! readiness, kill/terminate, stderr capture), a protocol client that
//! retries while the daemon restarts, and a fake slow model server.

pub mod slow_model;
pub mod tool_model;

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use hearth_gateway::client::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The token every test daemon is configured with.
pub const TOKEN: &str = "test-token-0123456789";

/// How long a (re)start may take before the test fails: generous, since
/// the machine is shared with other builds.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The `hearth` binary Cargo built for these tests.
pub fn hearth_bin() -> &'static str {
    env!("CARGO_BIN_EXE_hearth")
}

/// A port that was free a moment ago: bind port 0, read it, release it.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("local addr").port()
}

/// A `hearth run` child process on its own port and data directory. Killed
/// with SIGKILL on drop, so a failing test leaks no process; on a panic the
/// daemon's stderr (all starts) is printed for diagnosis.
#[derive(Debug)]
pub struct Daemon {
    child: Option<Child>,
    /// Test directory: config, stderr log, and `state/` (the data dir).
    pub dir: PathBuf,
    pub config_path: PathBuf,
    pub port: u16,
    stderr_path: PathBuf,
    starts: u32,
}

impl Daemon {
    /// Writes the config (see [`Daemon::write_config`]), starts the daemon
    /// and waits until `/readyz` answers 200.
    pub async fn start(dir: &Path, extra_config: &str) -> Daemon {
        std::fs::create_dir_all(dir).expect("create the daemon's dir");
        let mut daemon = Daemon {
            child: None,
            dir: dir.to_path_buf(),
            config_path: dir.join("hearth.toml"),
            port: free_port(),
            stderr_path: dir.join("daemon.stderr"),
            starts: 0,
        };
        daemon.write_config(extra_config);
        daemon.restart().await;
        daemon
    }

    /// The config: loopback on our port, the token, `[state] dir`, quiet
    /// logs, an `echo` model, then `extra_config`. Unless `extra_config`
    /// defines `[agents.main]`, the main agent uses `echo`.
    pub fn write_config(&self, extra_config: &str) {
        let mut text = format!(
            "[gateway]\nbind = \"127.0.0.1:{port}\"\ntoken = \"{TOKEN}\"\n\n\
             [state]\ndir = {dir}\n\n[log]\nlevel = \"warn\"\n\n\
             [models.echo]\nprovider = \"echo\"\n\n\
             [memory]\nembedder_dir = {embedder}\n\n{extra_config}\n",
            port = self.port,
            dir = toml_string(&self.data_dir()),
            embedder = toml_string(&hearth_testkit::model::minilm_dir()),
        );
        if !extra_config.contains("[agents.main]") {
            text.push_str("\n[agents.main]\nmodel = \"echo\"\n");
        }
        std::fs::write(&self.config_path, text).expect("write config");
    }

    /// The running daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the daemon is running").id()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("state")
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir().join("hearth.db")
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// Starts the daemon (again) on the same config, port and data, and
    /// waits for readiness. Panics (with the log) if it exits or times out.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "restart while running");
        self.starts += 1;
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.stderr_path)
            .expect("open stderr log");
        writeln!(log, "---- start #{} ----", self.starts).expect("write stderr log");
        let child = Command::new(hearth_bin())
            .arg("run")
            .arg("--config")
            .arg(&self.config_path)
            .env_remove("RUST_LOG")
            .env_remove("HEARTH_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn hearth run");
        self.child = Some(child);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                panic!(
                    "hearth run exited during start with {status}\n{}",
                    self.log()
                );
            }
            if http_status(self.port, "/readyz").await == Some(200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "hearth not ready after {READY_TIMEOUT:?}\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL, then reap: simulates a crash (no drain, no cleanup).
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits up to `limit` for the exit. Returns the exit
    /// status and how long the exit took; panics (with the log) on timeout.
    pub async fn sigterm_and_wait(&mut self, limit: Duration) -> (ExitStatus, Duration) {
        let child = self.child.as_mut().expect("daemon is not running");
        send_sigterm(child.id());
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait for hearth") {
                self.child = None;
                return (status, started.elapsed());
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                self.child = None;
                panic!(
                    "hearth did not exit within {limit:?} of SIGTERM\n{}",
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Everything the daemon wrote to stderr so far, across restarts.
    pub fn log(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        format!(
            "==== hearth stderr ({}) ====\n{text}==== end ====",
            self.stderr_path.display()
        )
    }

    /// Connects the protocol client, retrying while the daemon (re)starts.
    pub async fn client(&self) -> Client {
        connect_retrying(&self.ws_url(), Duration::from_secs(30)).await
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
        if std::thread::panicking() {
            eprintln!("{}", self.log());
        }
    }
}

/// Connects with the test token, retrying until `limit`.
pub async fn connect_retrying(url: &str, limit: Duration) -> Client {
    let deadline = Instant::now() + limit;
    loop {
        match Client::connect(url, Some(TOKEN)).await {
            Ok(client) => return client,
            Err(error) => {
                assert!(
                    Instant::now() < deadline,
                    "cannot connect to {url}: {error}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// `GET path` over plain HTTP/1.0; the status code, or `None` if the
/// daemon does not answer (yet).
pub async fn http_status(port: u16, path: &str) -> Option<u16> {
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.ok()?;
        let text = String::from_utf8_lossy(&response);
        text.split_whitespace().nth(1)?.parse().ok()
    };
    tokio::time::timeout(Duration::from_secs(2), attempt)
        .await
        .ok()
        .flatten()
}

/// Sends SIGTERM to `pid`, as a service manager would.
pub fn send_sigterm(pid: u32) {
    send_signal(pid, libc::SIGTERM);
}

/// Sends `signal` to `pid` (SIGTERM, SIGHUP).
#[allow(unsafe_code)] // the workspace denies unsafe; this one call needs it
pub fn send_signal(pid: u32, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(pid).expect("pid fits pid_t");
    // SAFETY: kill(2) takes plain integers and touches no memory of ours;
    // `pid` is our own unreaped child, so it cannot have been recycled.
    let rc = unsafe { libc::kill(pid, signal) };
    assert_eq!(rc, 0, "kill({signal}) failed");
}

/// A TOML basic string holding `path`.
pub fn toml_string(path: &Path) -> String {
    let text = path.to_str().expect("utf-8 temp path");
    format!("{:?}", text)
}

/// Opens the daemon's database read-only (the daemon must be stopped).
pub fn open_db(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open hearth.db")
}

/// `run_id`'s inbox state, or `None` if there is no such run.
pub fn inbox_state(db: &rusqlite::Connection, run_id: &str) -> Option<String> {
    use rusqlite::OptionalExtension;
    db.query_row("SELECT state FROM inbox WHERE run_id = ?1", [run_id], |r| {
        r.get(0)
    })
    .optional()
    .expect("query inbox")
}

/// A temp dir for one test, kept on disk when the test fails (its path is
/// printed) so the database and log can be inspected.
#[derive(Debug)]
pub struct TestDir(Option<tempfile::TempDir>);

impl TestDir {
    pub fn new(name: &str) -> TestDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("hearth-{name}-"))
            .tempdir()
            .expect("temp dir");
        TestDir(Some(dir))
    }

    pub fn path(&self) -> &Path {
        self.0.as_ref().expect("temp dir").path()
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(dir) = self.0.take() {
                eprintln!("test files kept in {}", dir.keep().display());
            }
        }
    }
}

/// Creates (truncates) a file for a child's output.
pub fn output_file(path: &Path) -> File {
    File::create(path).expect("create output file")
}
