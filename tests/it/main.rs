//! The one integration-test binary. In-process tests drive the real server through an rmcp
//! client over `tokio::io::duplex`; end-to-end tests spawn the built binary over real stdio.

mod ai;
mod browser;
mod browser_tools;
mod cli;
mod clients;
mod comms;
mod comms_tools;
mod database;
mod db;
mod discovery;
mod documents;
mod e2e;
mod exec;
mod exposure;
mod files;
mod folders;
mod generations;
mod golden;
mod harness;
mod http;
mod memory;
mod net;
mod path_safety;
mod prompts_resources;
mod proxy;
mod routes;
mod system;
mod workflow;
