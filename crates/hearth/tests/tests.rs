//! Process-level integration tests of the `hearth` binary (one test
//! binary, modules beside this file): crash safety under SIGKILL, graceful
//! drain on SIGTERM, the real OpenClaw CLI as a client, and CLI smoke tests.

mod cli;
mod common;
mod crash;
mod drain;
mod email;
mod embedded;
mod irc;
mod matrix;
mod memory;
mod mqtt;
mod openclaw;
mod telegram;
mod tools;
mod webhook;
mod xmpp;
