//! Black-box tests of the HTTP API: every test starts its own server on port 0.

mod accounts;
mod admin;
mod common;
mod conventions;
mod email;
mod orgs;
mod smtp_sink;
mod usage;
