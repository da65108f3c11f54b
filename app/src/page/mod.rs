//! What runs in the page (beside the views): the store the views read, fed by the register
//! worker, the settings an invite link leaves in the browser, and the page's address.

pub mod download;
pub mod route;
pub mod settings;
pub mod store;
