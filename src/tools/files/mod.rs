//! File tools: everything an agent needs to read, write and search a project, confined to the
//! roots by the policy. This file is the registry: one line per tool.

crate::tools::registry! {
    Some(crate::policy::tools::Category::Files);
    copy_path => copy_path_router,
    create_directory => create_directory_router,
    delete_path => delete_path_router,
    directory_tree => directory_tree_router,
    edit_file => edit_file_router,
    file_info => file_info_router,
    find_files => find_files_router,
    list_directory => list_directory_router,
    list_roots => list_roots_router,
    move_path => move_path_router,
    read_document => read_document_router,
    read_file => read_file_router,
    read_many => read_many_router,
    read_media => read_media_router,
    search_content => search_content_router,
    write_file => write_file_router,
}

pub(crate) mod common;
