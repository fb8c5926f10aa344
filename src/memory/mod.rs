//! Durable memory for agents (issue 7, in progress): notes with full-text search first, in one
//! SQLite database per profile that several switchboard processes share safely. No MCP types
//! here; the memory tools will be thin adapters.

pub mod notes;
