//! Black-box tests of the HTTP API: every test starts its own server on port 0, here on SQLite
//! (`api_postgres` runs the same suite on PostgreSQL).

const BACKEND: common::Backend = common::Backend::Sqlite;

mod accept_page;
mod accounts;
mod admin;
mod api_keys;
mod audit;
mod authorize;
// The harness also serves the PostgreSQL run, whose node helpers this run does not use.
#[allow(dead_code)]
mod common;
mod conventions;
mod dashboard_account;
mod dashboard_admin;
mod dashboard_pages;
mod email;
mod invitations;
mod member_password_reset;
mod org_deletion;
mod orgs;
mod page_client;
mod permission_matrix;
mod plans;
mod presets;
mod role_properties;
mod role_races;
mod roles;
mod schema_diff;
mod security;
mod settings;
mod smtp_sink;
mod spec_table;
mod sqlite_only;
mod test_db;
mod transfer;
mod usage;
