//! wirewatch's integration tests: the binary against a real HTTP server on
//! 127.0.0.1, real files, and (in `kafka` and `kafka_security`) a real Kafka
//! broker.

mod support;

mod cli;
mod crash;
mod deploy;
mod feeds;
mod health;
mod kafka;
mod kafka_crash;
mod kafka_ops;
mod kafka_security;
mod kafka_shared;
mod pipeline;
mod robustness;
mod semantic;
mod status_page;
mod webhook;
mod websub;
