//! A real XMPP server for the XMPP channel's tests: Debian's Prosody with
//! a config of our own (loopback c2s port, no TLS, a MUC component at
//! `conference.localhost`, accounts `bot` and `alice` with passwords
//! `botpass` / `alicepass`), all state in the test's directory.
//!
//! Notes from setting it up: as root Prosody needs `run_as_root`, else it
//! half-starts with the port open; `prosodyctl` needs `--config` or it
//! edits the system's server; s2s is disabled so nothing else listens;
//! MUC room locking is off so a room is usable as soon as it exists;
//! Nagle is off or every stanza waits ~40 ms for a delayed ACK.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

pub const DOMAIN: &str = "localhost";
pub const MUC: &str = "conference.localhost";

/// A prosody process; killed on drop.
#[derive(Debug)]
pub struct Prosody {
    child: Option<Child>,
    pub port: u16,
    config: PathBuf,
}

impl Prosody {
    pub async fn start(dir: &Path) -> Prosody {
        std::fs::create_dir_all(dir.join("certs")).expect("prosody dir");
        std::fs::create_dir_all(dir.join("data")).expect("prosody data dir");
        let port = super::free_port();
        let config = dir.join("prosody.cfg.lua");
        let d = dir.display();
        std::fs::write(
            &config,
            format!(
                r#"run_as_root = true
data_path = "{d}/data"
pidfile = "{d}/prosody.pid"
log = {{ {{ levels = {{ min = "info" }}, to = "file", filename = "{d}/prosody.log" }}; }}
interfaces = {{ "127.0.0.1" }}
local_interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {port} }}
c2s_direct_tls_ports = {{ }}
legacy_ssl_ports = {{ }}
modules_disabled = {{ "s2s"; "s2s_auth_certs" }}
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = true
certificates = "{d}/certs"
authentication = "internal_hashed"
storage = "internal"
modules_enabled = {{ "roster"; "saslauth"; "disco"; "ping"; "posix"; "offline"; }}
network_settings = {{ nagle = false }}
VirtualHost "{DOMAIN}"
Component "{MUC}" "muc"
    muc_room_locking = false
    muc_room_default_persistent = true
    muc_room_default_public = true
"#
            ),
        )
        .expect("write prosody.cfg.lua");
        for (user, password) in [("bot", "botpass"), ("alice", "alicepass")] {
            let status = Command::new("prosodyctl")
                .arg("--config")
                .arg(&config)
                .args(["register", user, DOMAIN, password])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("prosodyctl is not installed: run scripts/start-services.sh");
            assert!(status.success(), "prosodyctl register {user} failed");
        }
        let mut server = Prosody {
            child: None,
            port,
            config,
        };
        server.restart().await;
        server
    }

    /// Starts the server (again) on the same port and data.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "prosody is running");
        let child = Command::new("prosody")
            .arg("-F")
            .arg("--config")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prosody is not installed: run scripts/start-services.sh");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "prosody did not start on {}",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the server (a crash: no goodbye to clients).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `host:port` for clients.
    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Prosody {
    fn drop(&mut self) {
        self.kill();
    }
}
