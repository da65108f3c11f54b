//! What runs in the page (beside the views): the store the views read, fed by the register
//! worker, and the settings an invite link leaves in the browser.

pub mod download;
pub mod settings;
pub mod store;
