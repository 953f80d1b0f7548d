//! A real MQTT broker for the MQTT channel's tests: Mosquitto on a
//! loopback port of its own (not the machine's shared broker), so a test
//! can restart it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

/// A mosquitto process; killed on drop.
#[derive(Debug)]
pub struct Mosquitto {
    child: Option<Child>,
    pub port: u16,
    config: PathBuf,
}

impl Mosquitto {
    pub async fn start(dir: &Path) -> Mosquitto {
        std::fs::create_dir_all(dir).expect("mosquitto dir");
        let port = super::free_port();
        let config = dir.join("mosquitto.conf");
        std::fs::write(
            &config,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n\
                 persistence_location {}/\nautosave_interval 1\n",
                dir.display()
            ),
        )
        .expect("write mosquitto.conf");
        let mut broker = Mosquitto {
            child: None,
            port,
            config,
        };
        broker.restart().await;
        broker
    }

    /// Starts the broker (again) on the same port and persistence file.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "mosquitto is running");
        let binary = if Path::new("/usr/sbin/mosquitto").exists() {
            "/usr/sbin/mosquitto"
        } else {
            "mosquitto"
        };
        let child = Command::new(binary)
            .arg("-c")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto is not installed: run scripts/start-services.sh");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto did not start on {}",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the broker gracefully (SIGTERM lets it save its sessions).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
