//! The HTTP suite of `tests/api` again, on PostgreSQL with Row Level Security, plus what only
//! holds there (isolation proofs, several nodes). Compiled when `TENANTRY_TEST_POSTGRES_URL` names a
//! PostgreSQL superuser connection; each test creates and drops its own database and roles.
#![cfg(postgres_tests)]

const BACKEND: common::Backend = common::Backend::Postgres;

#[path = "../api/accept_page.rs"]
mod accept_page;
#[path = "../api/accounts.rs"]
mod accounts;
#[path = "../api/admin.rs"]
mod admin;
#[path = "../api/api_keys.rs"]
mod api_keys;
#[path = "../api/audit.rs"]
mod audit;
#[path = "../api/authorize.rs"]
mod authorize;
#[path = "../api/common.rs"]
mod common;
#[path = "../api/conventions.rs"]
mod conventions;
#[path = "../api/dashboard_account.rs"]
mod dashboard_account;
#[path = "../api/dashboard_admin.rs"]
mod dashboard_admin;
#[path = "../api/dashboard_pages.rs"]
mod dashboard_pages;
#[path = "../api/email.rs"]
mod email;
#[path = "../api/invitations.rs"]
mod invitations;
#[path = "../api/member_password_reset.rs"]
mod member_password_reset;
#[path = "../api/org_deletion.rs"]
mod org_deletion;
#[path = "../api/orgs.rs"]
mod orgs;
#[path = "../api/page_client.rs"]
mod page_client;
#[path = "../api/permission_matrix.rs"]
mod permission_matrix;
#[path = "../api/plans.rs"]
mod plans;
mod postgres_only;
#[path = "../api/presets.rs"]
mod presets;
#[path = "../api/role_properties.rs"]
mod role_properties;
#[path = "../api/role_races.rs"]
mod role_races;
#[path = "../api/roles.rs"]
mod roles;
#[path = "../api/schema_diff.rs"]
mod schema_diff;
mod schema_parity;
#[path = "../api/security.rs"]
mod security;
#[path = "../api/settings.rs"]
mod settings;
#[path = "../api/smtp_sink.rs"]
mod smtp_sink;
#[path = "../api/spec_table.rs"]
mod spec_table;
#[path = "../api/test_db.rs"]
mod test_db;
#[path = "../api/transfer.rs"]
mod transfer;
#[path = "../api/usage.rs"]
mod usage;
