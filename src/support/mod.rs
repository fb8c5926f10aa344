//! Small helpers shared by tools and loaders. Nothing here knows about MCP, so every helper can
//! be unit-tested on plain values.

pub mod frontmatter;
pub mod mime;
pub mod process;
pub mod text;
pub mod time;
pub mod uri;
