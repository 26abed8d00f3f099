//! Black-box tests of the HTTP API: every test starts its own server on port 0, here on SQLite
//! (`api_postgres` runs the same suite on PostgreSQL). The files both runs share are listed once,
//! in `shared.rs`, which says how to add one.

const BACKEND: common::Backend = common::Backend::Sqlite;

#[macro_use]
mod shared;
shared_modules!();

mod sqlite_only;
