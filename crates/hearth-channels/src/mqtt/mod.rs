//! MQTT: devices and IoT control. A device publishes to an inbound topic
//! (`hearth/in/<device>` by default), as text or JSON; the reply is
//! published to the device's reply topic. QoS 1 both ways, a persistent
//! session, acknowledgement only after the message is recorded, retained
//! commands ignored and replies never retained.
//!
//! - `config.rs`: `[channels.<name>]` with `type = "mqtt"`.
//! - `wire.rs`: payload formats (private).
//! - `adapter.rs`: the rumqttc session, normalize and publish.

mod adapter;
mod config;
mod wire;

#[cfg(test)]
mod tests;

pub use adapter::MqttChannel;
pub use config::{MqttConfig, ReplyFormat};

/// The adapter, shared: for the host and the outbox.
pub fn channel(name: &str, config: MqttConfig) -> std::sync::Arc<MqttChannel> {
    std::sync::Arc::new(MqttChannel::new(name, config))
}
