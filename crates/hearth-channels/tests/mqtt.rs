//! The MQTT adapter against a real Mosquitto: the channel conformance
//! suite (with redelivery by message id), retained-command hygiene, and a
//! message published while Hearth was away arriving once it is back.

#![cfg(feature = "mqtt")]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hearth_channels::mqtt::{MqttChannel, MqttConfig};
use hearth_testkit::conformance::{self, Peer, RecordingSink};
use hearth_testkit::servers::mosquitto::Mosquitto;
use rumqttc::{AsyncClient, Event, EventLoop, Incoming, MqttOptions, QoS};
use tokio::sync::mpsc;

const DEVICE: &str = "sensor-7";

fn config(port: u16) -> MqttConfig {
    serde_json::from_value(serde_json::json!({
        "broker": format!("127.0.0.1:{port}"),
        "client_id": "hearth-test",
        "max_payload_bytes": 200,
        "keep_alive_secs": 5,
    }))
    .expect("config")
}

/// The device: publishes to hearth/in/sensor-7, hears hearth/out/sensor-7.
struct Device {
    client: AsyncClient,
    heard: mpsc::Receiver<Vec<u8>>,
    pump: tokio::task::JoinHandle<()>,
}

impl Device {
    async fn connect(port: u16) -> Device {
        let mut options = MqttOptions::new(format!("device-{}", rand_suffix()), "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(5));
        let (client, eventloop) = AsyncClient::new(options, 16);
        client
            .subscribe(format!("hearth/out/{DEVICE}"), QoS::AtLeastOnce)
            .await
            .expect("subscribe");
        let (tx, heard) = mpsc::channel(256);
        let pump = tokio::spawn(pump(eventloop, tx));
        Device {
            client,
            heard,
            pump,
        }
    }

    async fn publish(&self, payload: String, retain: bool) {
        self.client
            .publish(
                format!("hearth/in/{DEVICE}"),
                QoS::AtLeastOnce,
                retain,
                payload,
            )
            .await
            .expect("publish");
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        self.pump.abort();
    }
}

/// Distinct client ids within this test process.
fn rand_suffix() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

async fn pump(mut eventloop: EventLoop, tx: mpsc::Sender<Vec<u8>>) {
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Incoming::Publish(p))) => {
                let _ = tx.send(p.payload.to_vec()).await;
            }
            Ok(_) => {}
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

struct MqttPeer {
    broker: Mosquitto,
    device: Device,
    last: Option<String>,
    sequence: u32,
}

#[async_trait]
impl Peer for MqttPeer {
    fn sender_id(&self) -> String {
        DEVICE.into()
    }

    fn group_id(&self) -> Option<String> {
        None
    }

    async fn send_direct(&mut self, text: &str) {
        self.sequence += 1;
        let payload =
            serde_json::json!({ "text": text, "id": format!("m{}", self.sequence) }).to_string();
        self.device.publish(payload.clone(), false).await;
        self.last = Some(payload);
    }

    async fn send_group(&mut self, _text: &str, _mention: bool) {
        unreachable!("MQTT has no groups")
    }

    async fn received(&mut self, limit: Duration) -> Option<String> {
        let payload = tokio::time::timeout(limit, self.device.heard.recv())
            .await
            .ok()??;
        let part: serde_json::Value = serde_json::from_slice(&payload).expect("a JSON reply");
        part["text"].as_str().map(str::to_owned)
    }

    async fn restart_server(&mut self) -> bool {
        self.broker.stop();
        self.broker.restart().await;
        self.device = Device::connect(self.broker.port).await;
        true
    }

    async fn redeliver_last(&mut self) -> bool {
        let payload = self.last.clone().expect("a message was sent");
        self.device.publish(payload, false).await;
        true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_passes_the_channel_conformance_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(dir.path()).await;
    let channel = Arc::new(MqttChannel::new("mqtt", config(broker.port)));
    let device = Device::connect(broker.port).await;
    let mut peer = MqttPeer {
        broker,
        device,
        last: None,
        sequence: 0,
    };
    conformance::run(channel, &mut peer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retained_commands_are_ignored_and_offline_messages_arrive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(dir.path()).await;
    let device = Device::connect(broker.port).await;
    // A retained command sits on the broker before Hearth ever connects.
    device
        .publish("retained: reboot everything".into(), true)
        .await;
    // Let it reach the broker first: published after Hearth subscribes, it
    // would be delivered live (retain flag cleared), not as retained.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let channel: Arc<MqttChannel> = Arc::new(MqttChannel::new("mqtt", config(broker.port)));
    let sink = Arc::new(RecordingSink::default());
    let (shutdown, health) = conformance::run_channel(channel.clone(), sink.clone());
    while health.get().state != hearth_core::HealthState::Up {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    device.publish("plain text works".into(), false).await;
    let got = sink.wait_for(1).await;
    assert_eq!(got[0].text, "plain text works");
    assert_eq!(got[0].origin.sender.id, DEVICE);

    // Hearth goes away; a message published meanwhile waits in its
    // persistent session and arrives when it is back.
    shutdown.cancel();
    tokio::time::sleep(Duration::from_millis(300)).await;
    device.publish("while you were away".into(), false).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (shutdown, _health) = conformance::run_channel(channel, sink.clone());
    let got = sink.wait_for(2).await;
    assert_eq!(got[1].text, "while you were away");
    assert!(got.iter().all(|m| !m.text.contains("retained")), "{got:?}");
    shutdown.cancel();
}
