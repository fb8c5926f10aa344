//! File tools: everything an agent needs to read, write and search a project, confined to the
//! roots by the policy. This file is the registry: one line per tool.

pub mod copy_path;
pub mod create_directory;
pub mod delete_path;
pub mod directory_tree;
pub mod edit_file;
pub mod file_info;
pub mod find_files;
pub mod list_directory;
pub mod list_roots;
pub mod move_path;
pub mod read_file;
pub mod read_many;
pub mod read_media;
pub mod search_content;
pub mod write_file;

pub(crate) mod common;

use rmcp::handler::server::router::tool::ToolRouter;

use crate::server::Switchboard;

pub fn router() -> ToolRouter<Switchboard> {
    Switchboard::list_roots_router()
        + Switchboard::read_file_router()
        + Switchboard::read_media_router()
        + Switchboard::read_many_router()
        + Switchboard::write_file_router()
        + Switchboard::edit_file_router()
        + Switchboard::create_directory_router()
        + Switchboard::move_path_router()
        + Switchboard::copy_path_router()
        + Switchboard::delete_path_router()
        + Switchboard::list_directory_router()
        + Switchboard::directory_tree_router()
        + Switchboard::find_files_router()
        + Switchboard::search_content_router()
        + Switchboard::file_info_router()
}
