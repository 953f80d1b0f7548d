//! Prometheus metrics of the pipeline: turn and provider latency
//! histograms, queue depth, active runs, errors. Rendered by the gateway's
//! `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    pub state: String,
}

/// A tool call's label: the tool and `ok` or `error`. Tool names are
/// bounded by the tools configured, so the family stays small.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ToolLabel {
    pub tool: String,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

/// Latency buckets from 0.5 ms to 2 minutes: the echo provider answers in
/// well under a millisecond, a local model in seconds, a remote one may take
/// a minute.
fn latency_buckets() -> impl Iterator<Item = f64> {
    [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        60.0, 120.0,
    ]
    .into_iter()
}

#[derive(Debug)]
pub struct Metrics {
    pub turn_seconds: Histogram,
    pub provider_first_event_seconds: Histogram,
    pub turns: Family<StateLabel, Counter>,
    pub errors: Family<KindLabel, Counter>,
    pub queue_depth: Gauge,
    pub active_runs: Gauge,
    pub accepted: Counter,
    pub rejected_busy: Counter,
    pub deliveries_failed: Counter,
    pub tool_calls: Family<ToolLabel, Counter>,
    pub tool_seconds: Histogram,
    registry: Registry,
}

impl Default for Metrics {
    fn default() -> Self {
        let turn_seconds = Histogram::new(latency_buckets());
        let provider_first_event_seconds = Histogram::new(latency_buckets());
        let turns = Family::<StateLabel, Counter>::default();
        let errors = Family::<KindLabel, Counter>::default();
        let queue_depth = Gauge::default();
        let active_runs = Gauge::default();
        let accepted = Counter::default();
        let rejected_busy = Counter::default();
        let deliveries_failed = Counter::default();
        let tool_calls = Family::<ToolLabel, Counter>::default();
        let tool_seconds = Histogram::new(latency_buckets());
        let mut registry = Registry::with_prefix("hearth");
        registry.register(
            "turn_duration_seconds",
            "Time from a run's start to its end",
            turn_seconds.clone(),
        );
        registry.register(
            "provider_first_event_seconds",
            "Time from calling the model to its first streamed event",
            provider_first_event_seconds.clone(),
        );
        registry.register("turns", "Finished runs by final state", turns.clone());
        registry.register(
            "errors",
            "Errors by kind (provider error kinds, store, delivery)",
            errors.clone(),
        );
        registry.register(
            "queue_depth",
            "Accepted runs waiting for or holding a lane",
            queue_depth.clone(),
        );
        registry.register(
            "active_runs",
            "Runs currently talking to a model",
            active_runs.clone(),
        );
        registry.register(
            "messages_accepted",
            "Inbound messages durably accepted",
            accepted.clone(),
        );
        registry.register(
            "messages_rejected_busy",
            "Inbound messages refused because the queue was full",
            rejected_busy.clone(),
        );
        registry.register(
            "deliveries_failed",
            "Reply delivery attempts that failed",
            deliveries_failed.clone(),
        );
        registry.register(
            "tool_calls",
            "Tool calls by tool and outcome",
            tool_calls.clone(),
        );
        registry.register(
            "tool_call_duration_seconds",
            "Time a tool call took, validation included",
            tool_seconds.clone(),
        );
        Self {
            tool_calls,
            tool_seconds,
            turn_seconds,
            provider_first_event_seconds,
            turns,
            errors,
            queue_depth,
            active_runs,
            accepted,
            rejected_busy,
            deliveries_failed,
            registry,
        }
    }
}

impl Metrics {
    pub fn error(&self, kind: &str) {
        self.errors
            .get_or_create(&KindLabel {
                kind: kind.to_owned(),
            })
            .inc();
    }

    pub fn tool_call(&self, tool: &str, ok: bool, elapsed: std::time::Duration) {
        self.tool_calls
            .get_or_create(&ToolLabel {
                tool: tool.to_owned(),
                outcome: if ok { "ok" } else { "error" },
            })
            .inc();
        self.tool_seconds.observe(elapsed.as_secs_f64());
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
