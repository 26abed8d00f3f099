//! The dashboard in a real browser: Debian's headless Chromium driven over WebDriver
//! (`chromedriver`) against a server on port 0 with its own SQLite database. Each test starts its
//! own server, its own `chromedriver` and a browser session per person in it.
//!
//! Run with `cargo test -p tenantry-server --test browser`; it needs `/usr/bin/chromium` and
//! `/usr/bin/chromedriver` (Debian's `chromium` and `chromium-driver`) and fails without them.

const BACKEND: common::Backend = common::Backend::Sqlite;

// The API suite's harness: the server on port 0, the outbox, plans set by the admin.
#[allow(dead_code)]
#[path = "../api/common.rs"]
mod common;
#[allow(dead_code)]
#[path = "../api/test_db.rs"]
mod test_db;

mod access;
mod accessibility;
mod branding;
mod console_webhooks;
mod flow;
mod harness;
mod plans;
mod sessions;
mod two_step;
mod world;
