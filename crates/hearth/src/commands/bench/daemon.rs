//! The daemon under test: a real `hearth run` child process with its own
//! config and data directory, timed from exec to `/readyz` 200, and always
//! stopped — a guard sends SIGTERM (then SIGKILL) when dropped, so an error
//! or panic in the benchmark never leaves a daemon behind.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// How often readiness is probed: the figure's resolution.
const POLL: Duration = Duration::from_millis(1);
/// A daemon not ready after this is broken, not slow.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// SIGTERM drains turns; past this the daemon is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// The config of one daemon: loopback, a token (so auth is measured too),
/// the echo model, quiet logs, and limits no benchmark load reaches.
/// Memory is off: this measures the gateway and pipeline alone
/// (`hearth bench memory` measures memory).
pub fn config_text(port: u16, token: &str, data_dir: &Path) -> String {
    // toml's own string encoding quotes and escapes the path.
    let dir = toml::Value::String(data_dir.display().to_string());
    format!(
        r#"default_agent = "main"

[gateway]
bind = "127.0.0.1:{port}"
token = "{token}"

[state]
dir = {dir}

[pipeline]
max_concurrent_turns = 16
max_pending = 4096

[log]
level = "warn"

[memory]
enabled = false

[models.echo]
provider = "echo"

[agents.main]
model = "echo"
"#
    )
}

/// A port free right now: bound to 0, then released for the daemon.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(listener.local_addr()?.port())
}

pub struct Daemon {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
    pub token: String,
    pub log: PathBuf,
    stopped: bool,
}

/// A started daemon and how long it took to become ready.
pub struct Started {
    pub daemon: Daemon,
    pub ready_in: Duration,
}

/// Writes `<dir>/<name>.toml` with a fresh data dir `<dir>/<name>-data`,
/// spawns this executable's `run` on it and waits for `/readyz` 200.
/// Blocking: the 1 ms poll needs a precise sleep, not the async timer.
pub fn start(dir: &Path, name: &str) -> Result<Started> {
    let port = free_port()?;
    let token = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let config = dir.join(format!("{name}.toml"));
    let data_dir = dir.join(format!("{name}-data"));
    std::fs::write(&config, config_text(port, &token, &data_dir))
        .with_context(|| format!("cannot write {}", config.display()))?;
    let log = dir.join(format!("{name}.log"));
    let out =
        std::fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let exe = std::env::current_exe().context("cannot find the hearth executable")?;
    let mut command = Command::new(&exe);
    command
        .arg("run")
        .arg("--config")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    // The user's overrides (HEARTH_GATEWAY__BIND, RUST_LOG=debug, ...) would
    // change what is measured.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("HEARTH_") {
            command.env_remove(key);
        }
    }
    command.env_remove("RUST_LOG");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let spawned_at = Instant::now();
    let child = command
        .spawn()
        .with_context(|| format!("cannot start the daemon {}", exe.display()))?;
    let mut daemon = Daemon {
        pid: child.id(),
        child,
        addr,
        token,
        log,
        stopped: false,
    };
    loop {
        if probe_ready(addr) {
            let ready_in = spawned_at.elapsed();
            return Ok(Started { daemon, ready_in });
        }
        if let Some(status) = daemon.child.try_wait()? {
            daemon.stopped = true;
            bail!(
                "the daemon exited ({status}) before it was ready; its log:\n{}",
                daemon.log_tail()
            );
        }
        if spawned_at.elapsed() > READY_TIMEOUT {
            bail!(
                "the daemon was not ready within {READY_TIMEOUT:?}; its log:\n{}",
                daemon.log_tail()
            );
        }
        std::thread::sleep(POLL);
    }
}

/// One `GET /readyz` on a fresh connection: true on 200. A raw request,
/// so the poll costs the daemon as little as possible.
fn probe_ready(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let request = "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}

impl Daemon {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The end of its log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(2000);
        let start = (start..text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        text[start..].to_string()
    }

    /// SIGTERM, wait up to [`STOP_TIMEOUT`], then SIGKILL. Returns how long
    /// the graceful stop took, `None` if it had to be killed.
    pub fn stop(&mut self) -> Result<Option<Duration>> {
        if self.stopped {
            return Ok(None);
        }
        self.stopped = true;
        let started = Instant::now();
        terminate(self.pid)?;
        while started.elapsed() < STOP_TIMEOUT {
            if self.child.try_wait()?.is_some() {
                return Ok(Some(started.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(None)
    }
}

/// Sends SIGTERM, the daemon's graceful stop (std only offers SIGKILL).
// The workspace denies unsafe code; this FFI call is the one exception here.
#[allow(unsafe_code)]
fn terminate(pid: u32) -> Result<()> {
    let pid = libc::pid_t::try_from(pid).context("pid out of range")?;
    // SAFETY: kill has no memory preconditions. The pid is our own child,
    // not yet reaped (only `stop` waits for it), so it cannot be reused.
    if unsafe { libc::kill(pid, libc::SIGTERM) } != 0 {
        return Err(std::io::Error::last_os_error()).context("cannot send SIGTERM");
    }
    Ok(())
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Err(error) = self.stop() {
            eprintln!(
                "warning: cannot stop the benchmark daemon {}: {error:#}",
                self.pid
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_passes_hearths_own_validation() {
        let data = Path::new("/tmp/a \"b\"/data");
        let text = config_text(4242, "tok-1", data);
        let config =
            crate::config::Config::parse(Path::new("bench.toml"), &text, Vec::new()).unwrap();
        config.validate().unwrap();
        assert_eq!(config.gateway.bind.port(), 4242);
        assert_eq!(config.gateway.token(), Some("tok-1"));
        assert_eq!(config.data_dir().unwrap(), data);
        assert_eq!(config.pipeline.max_pending, 4096);
    }
}
