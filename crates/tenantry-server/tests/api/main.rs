//! Black-box tests of the HTTP API: every test starts its own server on port 0.

mod accounts;
mod admin;
mod authorize;
mod common;
mod conventions;
mod email;
mod orgs;
mod permission_matrix;
mod presets;
mod role_properties;
mod role_races;
mod roles;
mod smtp_sink;
mod spec_table;
