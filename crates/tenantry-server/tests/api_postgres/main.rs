//! The HTTP suite of `tests/api` again, on PostgreSQL with Row Level Security, plus what only
//! holds there (isolation proofs, several nodes, schema parity with SQLite). Compiled when
//! `TENANTRY_TEST_POSTGRES_URL` names a PostgreSQL superuser connection; each test creates and
//! drops its own database and roles. The files both runs share are listed once, in
//! `tests/api/shared.rs`, which says how to add one.
#![cfg(postgres_tests)]

const BACKEND: common::Backend = common::Backend::Postgres;

#[macro_use]
#[path = "../api/shared.rs"]
mod shared;
shared_modules!();

mod event_log_order;
mod me_nodes;
mod member_status_nodes;
mod members_page_nodes;
mod outbox_claims;
mod postgres_only;
mod ready_listener;
mod schema_parity;
mod webhook_nodes;
