//! Tools as a turn uses them: the set offered to the model, argument
//! validation, which tools a policy lets through, the calls' execution, and
//! operator approvals.
//!
//! - [`set`]: [`ToolSet`], the tools of one turn, and argument validation
//!   against each tool's JSON Schema.
//! - [`policy`]: profiles, groups and allow/deny lists ([`ToolPolicy`],
//!   [`ChannelToolPolicy`]).
//! - [`exec`]: running a batch of calls in parallel under a time limit.
//! - [`approvals`]: the broker operator approvals go through.
//! - [`source`]: where a turn's tools come from ([`ToolSource`]).
//! - [`sessions`]: the session tools and `send_message`, over the runtime.

pub mod approvals;
pub mod exec;
pub mod policy;
pub mod sessions;
pub mod set;
pub mod source;

pub use approvals::{ApprovalBroker, ApprovalEvent, PendingApproval, ResolveError};
pub use exec::{CallLimits, CallOutcome};
pub use policy::{ChannelToolPolicy, ToolPolicy, ToolProfile};
pub use sessions::{RuntimeSlot, session_tools};
pub use set::ToolSet;
pub use source::{StaticTools, ToolSource};

#[cfg(test)]
mod tests;
