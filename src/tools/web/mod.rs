//! Web tools: HTTP through the one guarded client (`policy::net`), so every destination,
//! redirect, size and timeout is checked the same way. This file is the registry.

crate::tools::registry! {
    Some(crate::policy::tools::Category::Web);
    download_file => download_file_router,
    fetch_url => fetch_url_router,
    http_request => http_request_router,
    web_search => web_search_router,
}
