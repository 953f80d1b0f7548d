//! Real mail servers for the e-mail channel's tests: a private Dovecot
//! (IMAP with IDLE) on a loopback port with one mailbox,
//! `bot@example.test` / `password`, and an SMTP sink (Python aiosmtpd)
//! that saves every message it accepts as a `.eml` file.
//!
//! Notes from setting them up: as root, Dovecot refuses root for mail
//! access and for its login process, so mail runs as `dovecot` and login as
//! `dovenull`, and the test directory must be traversable by them; mail
//! is delivered by dropping a file into the Maildir's `new/` (IDLE reports
//! it within about half a second).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

const DOVECOT_CONF: &str = include_str!("dovecot.conf.in");
const SMTP_SINK: &str = include_str!("smtp_sink.py");

pub const ADDRESS: &str = "bot@example.test";
pub const PASSWORD: &str = "password";

fn am_root(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir)
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn id(flag: &str) -> String {
    let out = Command::new("id").arg(flag).output().expect("id");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A Dovecot process group; killed on drop.
#[derive(Debug)]
pub struct Dovecot {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
}

impl Dovecot {
    pub async fn start(dir: &Path) -> Dovecot {
        std::fs::create_dir_all(dir).expect("dovecot dir");
        let dir = dir.canonicalize().expect("canonical dir");
        let port = super::free_port();
        for sub in [
            "run",
            "state",
            "home",
            "mail/bot/cur",
            "mail/bot/new",
            "mail/bot/tmp",
        ] {
            std::fs::create_dir_all(dir.join(sub)).expect("dovecot dirs");
        }
        std::fs::write(
            dir.join("passwd"),
            format!("{ADDRESS}:{{PLAIN}}{PASSWORD}::::::\n"),
        )
        .expect("passwd");
        let user = id("-un");
        let group = id("-gn");
        let root = am_root(&dir);
        let (mail_user, internal, login, chroot) = if root {
            (
                "dovecot".to_owned(),
                "dovecot".to_owned(),
                "dovenull".to_owned(),
                "login",
            )
        } else {
            (user.clone(), user.clone(), user.clone(), "")
        };
        let mail_group = if root {
            "dovecot".to_owned()
        } else {
            group.clone()
        };
        if root {
            // Mail access runs as `dovecot`: it must reach the Maildir.
            let _ = Command::new("chmod").arg("go+x").arg(&dir).status();
            if let Some(parent) = dir.parent() {
                let _ = Command::new("chmod").arg("go+x").arg(parent).status();
            }
            let _ = Command::new("chown")
                .arg("-R")
                .arg(format!("{mail_user}:{mail_group}"))
                .arg(dir.join("mail"))
                .arg(dir.join("home"))
                .status();
        }
        let config = DOVECOT_CONF
            .replace("@DIR@", &dir.display().to_string())
            .replace("@PORT@", &port.to_string())
            .replace("@MAIL_USER@", &mail_user)
            .replace("@MAIL_GROUP@", &mail_group)
            .replace("@INTERNAL_USER@", &internal)
            .replace("@INTERNAL_GROUP@", if root { "dovecot" } else { &group })
            .replace("@LOGIN_USER@", &login)
            .replace("@LOGIN_CHROOT@", chroot)
            .replace("@USER@", &user);
        std::fs::write(dir.join("dovecot.conf"), config).expect("dovecot.conf");
        let mut server = Dovecot {
            child: None,
            port,
            dir,
        };
        server.restart().await;
        server
    }

    /// Starts Dovecot (again) on the same port and mailbox.
    pub async fn restart(&mut self) {
        use std::os::unix::process::CommandExt;
        assert!(self.child.is_none(), "dovecot is running");
        let binary = ["/usr/sbin/dovecot", "dovecot"]
            .into_iter()
            .find(|b| !b.starts_with('/') || Path::new(b).exists())
            .unwrap_or("dovecot");
        let child = Command::new(binary)
            .arg("-F")
            .arg("-c")
            .arg(self.dir.join("dovecot.conf"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dovecot is not installed: run scripts/start-services.sh");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut tcp) = TcpStream::connect(("127.0.0.1", self.port)).await {
                let mut greeting = [0u8; 4];
                if tcp.read_exact(&mut greeting).await.is_ok() && &greeting == b"* OK" {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "dovecot did not start; see {}",
                self.dir.join("dovecot.log").display()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the whole process group (the master and its children).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // `--`: a negative pid is a process group, not an option.
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--"])
                .arg(format!("-{}", child.id()))
                .status();
            let _ = child.wait();
        }
    }

    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Delivers a raw message into the mailbox (Maildir tmp → new).
    pub fn deliver(&self, raw: &str) {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("{}.{n}.hearth-test", std::process::id());
        let tmp = self.dir.join("mail/bot/tmp").join(&name);
        std::fs::write(&tmp, raw.replace('\n', "\r\n")).expect("write mail");
        std::fs::rename(&tmp, self.dir.join("mail/bot/new").join(&name)).expect("deliver mail");
    }

    /// Messages flagged `\Seen` (Maildir `cur/` files with `S` in the flags).
    pub fn seen(&self) -> usize {
        std::fs::read_dir(self.dir.join("mail/bot/cur"))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| {
                        e.file_name()
                            .to_string_lossy()
                            .rsplit_once(":2,")
                            .is_some_and(|(_, f)| f.contains('S'))
                    })
                    .count()
            })
            .unwrap_or(0)
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Debian's own Python, which sees Debian's python3-aiosmtpd; a `python3`
/// earlier on PATH (pyenv, a venv) would not. Other systems: `python3`.
fn debian_python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// The SMTP sink; killed on drop.
#[derive(Debug)]
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    out: PathBuf,
}

impl SmtpSink {
    pub async fn start(dir: &Path) -> SmtpSink {
        std::fs::create_dir_all(dir).expect("sink dir");
        let script = dir.join("smtp_sink.py");
        std::fs::write(&script, SMTP_SINK).expect("sink script");
        let out = dir.join("out");
        let port = super::free_port();
        let child = Command::new(debian_python())
            .arg(&script)
            .arg(port.to_string())
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 is needed for the SMTP sink");
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "the SMTP sink did not start (is python3-aiosmtpd installed? run scripts/start-services.sh)"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        SmtpSink { child, port, out }
    }

    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The messages received so far, raw, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.out)
            .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        names.sort();
        names
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    }

    /// Waits until `count` messages arrived.
    pub async fn wait_for(&self, count: usize, limit: Duration) -> Vec<String> {
        let deadline = Instant::now() + limit;
        loop {
            let messages = self.messages();
            if messages.len() >= count || Instant::now() > deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
