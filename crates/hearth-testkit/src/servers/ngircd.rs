//! A real IRC server for the IRC channel's end-to-end tests: Debian's
//! `ngircd` on a loopback port, in the foreground, with a config of our
//! own; and a minimal IRC client speaking for the "other person".

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// An ngircd process; killed on drop.
#[derive(Debug)]
pub struct Ngircd {
    child: Option<Child>,
    pub port: u16,
    config: PathBuf,
}

impl Ngircd {
    pub async fn start(dir: &Path) -> Ngircd {
        std::fs::create_dir_all(dir).expect("ngircd dir");
        let port = super::free_port();
        let config = dir.join("ngircd.conf");
        // Run as whoever we are: ngircd started as root would otherwise
        // switch to an unprivileged user that cannot read our files.
        let (uid, gid) = {
            use std::os::unix::fs::MetadataExt;
            let meta = std::fs::metadata(dir).expect("stat ngircd dir");
            (meta.uid(), meta.gid())
        };
        std::fs::write(
            &config,
            format!(
                "[Global]\nName = irc.hearth.test\nInfo = Hearth test server\n\
                 Listen = 127.0.0.1\nPorts = {port}\nMotdPhrase = hello\n\
                 PidFile = {pid}\nServerUID = {uid}\nServerGID = {gid}\n\
                 [Limits]\nMaxNickLength = 30\nPingTimeout = 120\nPongTimeout = 30\n\
                 [Options]\nPAM = no\nIdent = no\nDNS = no\n",
                pid = dir.join("ngircd.pid").display()
            ),
        )
        .expect("write ngircd.conf");
        let mut server = Ngircd {
            child: None,
            port,
            config,
        };
        server.restart().await;
        server
    }

    /// Starts the server (again) on the same port.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "ngircd is running");
        let child = Command::new("ngircd")
            .arg("--nodaemon")
            .arg("--config")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "ngircd is not installed: run scripts/start-services.sh (apt-get install ngircd)",
            );
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "ngircd did not start on {}",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Ngircd {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A PRIVMSG someone received: who sent it, where, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    pub from: String,
    pub target: String,
    pub text: String,
}

/// The other person: a plain IRC client.
#[derive(Debug)]
pub struct Person {
    pub nick: String,
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Person {
    /// Connects and registers, retrying while the server starts.
    pub async fn connect(port: u16, nick: &str) -> Person {
        let deadline = Instant::now() + Duration::from_secs(10);
        let stream = loop {
            match TcpStream::connect(("127.0.0.1", port)).await {
                Ok(stream) => break stream,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err(e) => panic!("cannot reach ngircd: {e}"),
            }
        };
        let (read, writer) = stream.into_split();
        let mut person = Person {
            nick: nick.to_owned(),
            reader: BufReader::new(read),
            writer,
        };
        person.send(&format!("NICK {nick}")).await;
        person.send(&format!("USER {nick} 0 * :{nick}")).await;
        person
            .wait_for(|line| line.split(' ').nth(1) == Some("001"))
            .await;
        person
    }

    pub async fn send(&mut self, line: &str) {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .expect("write to ngircd");
    }

    pub async fn say(&mut self, target: &str, text: &str) {
        self.send(&format!("PRIVMSG {target} :{text}")).await;
    }

    /// Reads lines (answering PINGs) until one satisfies `done`.
    pub async fn wait_for(&mut self, done: impl Fn(&str) -> bool) -> String {
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let line = self
                    .next_line()
                    .await
                    .expect("ngircd closed the connection");
                if done(&line) {
                    return line;
                }
            }
        })
        .await
        .expect("timed out waiting for an IRC line")
    }

    async fn next_line(&mut self) -> Option<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end().to_owned();
        if let Some(token) = line.strip_prefix("PING ") {
            self.send(&format!("PONG {token}")).await;
        }
        Some(line)
    }

    /// The next PRIVMSG to us or a channel we are in, within `limit`.
    pub async fn heard(&mut self, limit: Duration) -> Option<Said> {
        tokio::time::timeout(limit, async {
            loop {
                let line = self.next_line().await?;
                let Some(rest) = line.strip_prefix(':') else {
                    continue;
                };
                let mut parts = rest.splitn(4, ' ');
                let (prefix, command, target) = (parts.next()?, parts.next()?, parts.next()?);
                if command != "PRIVMSG" {
                    continue;
                }
                let text = parts.next().unwrap_or("").strip_prefix(':').unwrap_or("");
                return Some(Said {
                    from: prefix.split('!').next().unwrap_or(prefix).to_owned(),
                    target: target.to_owned(),
                    text: text.to_owned(),
                });
            }
        })
        .await
        .ok()
        .flatten()
    }
}
