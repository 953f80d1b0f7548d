//! The MQTT channel end to end through the daemon and a private
//! Mosquitto: a device's message is answered on its reply topic after
//! pairing, a long reply comes in numbered parts, and a broker restart
//! while a (slow) turn runs loses nothing and duplicates nothing.

use std::time::Duration;

use hearth_testkit::servers::mosquitto::Mosquitto;
use rumqttc::{AsyncClient, Event, Incoming, MqttOptions, QoS};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::common::slow_model::{Pace, SlowModel};
use crate::common::{Daemon, TestDir, hearth_bin};

const WAIT: Duration = Duration::from_secs(20);

/// A thermostat: publishes to hearth/in/thermostat, listens on
/// hearth/out/thermostat.
struct Device {
    client: AsyncClient,
    heard: mpsc::Receiver<Value>,
    pump: tokio::task::JoinHandle<()>,
}

impl Device {
    async fn connect(port: u16, id: &str) -> Device {
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(5));
        let (client, mut eventloop) = AsyncClient::new(options, 16);
        client
            .subscribe("hearth/out/thermostat", QoS::AtLeastOnce)
            .await
            .expect("subscribe");
        let (tx, heard) = mpsc::channel(256);
        let pump = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Incoming::Publish(p))) => {
                        let value = serde_json::from_slice(&p.payload).unwrap_or(Value::Null);
                        let _ = tx.send(value).await;
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        // Let the subscription land before anything is published to us.
        tokio::time::sleep(Duration::from_millis(200)).await;
        Device {
            client,
            heard,
            pump,
        }
    }

    async fn say(&self, id: &str, text: &str) {
        let payload = json!({ "id": id, "text": text }).to_string();
        self.client
            .publish("hearth/in/thermostat", QoS::AtLeastOnce, false, payload)
            .await
            .expect("publish");
    }

    async fn hear(&mut self) -> Value {
        tokio::time::timeout(WAIT, self.heard.recv())
            .await
            .expect("no reply in time")
            .expect("device pump ended")
    }

    /// A whole reply: every part of one id, their texts joined.
    async fn hear_all(&mut self) -> String {
        let first = self.hear().await;
        let parts = first["parts"].as_u64().unwrap_or(1);
        let mut text = first["text"].as_str().unwrap_or_default().to_owned();
        for _ in 1..parts {
            let part = self.hear().await;
            assert_eq!(part["id"], first["id"], "{part}");
            text.push(' ');
            text.push_str(part["text"].as_str().unwrap_or_default());
        }
        text
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        self.pump.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_pairing_replies_parts_and_broker_restart() {
    let dir = TestDir::new("mqtt");
    let mut broker = Mosquitto::start(&dir.path().join("mosquitto")).await;
    let model = SlowModel::start(Pace::Chunks {
        chunks: 3,
        min_ms: 400,
        max_ms: 600,
    })
    .await;
    let config = format!(
        "{}\n[channels.mqtt]\ntype = \"mqtt\"\nbroker = \"127.0.0.1:{}\"\nmax_payload_bytes = 80\nkeep_alive_secs = 5\n",
        model.config("slow"),
        broker.port
    );
    let daemon = Daemon::start(&dir.path().join("hearth"), &config).await;
    let mut device = Device::connect(broker.port, "thermostat-1").await;

    // Unknown device: a pairing code on its reply topic.
    device.say("1", "hello hearth").await;
    let prompt = device.hear_all().await;
    let code = prompt
        .split_whitespace()
        .skip_while(|w| *w != "mqtt")
        .nth(1)
        .unwrap_or_else(|| panic!("no code in {prompt}"))
        .to_owned();
    let out = std::process::Command::new(hearth_bin())
        .arg("--config")
        .arg(&daemon.config_path)
        .args(["pairing", "approve", "mqtt", &code])
        .output()
        .expect("hearth pairing approve");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let welcome = device.hear_all().await;
    assert!(welcome.contains("approved"), "{welcome}");

    // A reply over 80 bytes arrives in numbered parts of one id.
    let long: Vec<String> = (1..=30).map(|i| format!("w{i}")).collect();
    device.say("2", &long.join(" ")).await;
    let first = device.hear().await;
    let parts = first["parts"].as_u64().expect("parts") as usize;
    assert!(parts >= 2, "{first}");
    let mut texts = vec![first["text"].as_str().unwrap_or_default().to_owned()];
    for _ in 1..parts {
        let part = device.hear().await;
        assert_eq!(part["id"], first["id"], "{part}");
        texts.push(part["text"].as_str().unwrap_or_default().to_owned());
    }
    let words: Vec<String> = texts
        .join(" ")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(words, long);

    // The broker restarts while a turn runs: one reply, one model call.
    device.say("3", "survive the broker restart").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    broker.stop();
    drop(device);
    broker.restart().await;
    let mut device = Device::connect(broker.port, "thermostat-1").await;
    let reply = device.hear().await;
    assert_eq!(reply["text"], "survive the broker restart", "{reply}");
    assert!(
        tokio::time::timeout(Duration::from_secs(3), device.heard.recv())
            .await
            .is_err(),
        "a second reply arrived"
    );
    assert_eq!(model.requests().get("survive the broker restart"), Some(&1));
}
