//! Durable memory for agents: notes with full-text search and a knowledge graph, in one SQLite
//! database per profile that several switchboard processes share safely. No MCP types here;
//! the memory tools are thin adapters.

pub mod graph;
pub mod notes;
pub mod quota;
pub mod resources;
pub mod vectors;
