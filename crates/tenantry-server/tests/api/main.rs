//! Black-box tests of the HTTP API: every test starts its own server on port 0.

mod accept_page;
mod accounts;
mod admin;
mod api_keys;
mod authorize;
mod common;
mod conventions;
mod email;
mod invitations;
mod member_password_reset;
mod org_deletion;
mod orgs;
mod permission_matrix;
mod plans;
mod presets;
mod role_properties;
mod role_races;
mod roles;
mod settings;
mod smtp_sink;
mod spec_table;
mod transfer;
mod usage;
