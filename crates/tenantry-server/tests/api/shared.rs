//! The test files of the HTTP suite that hold on both databases, listed once. `tests/api/main.rs`
//! (SQLite) and `tests/api_postgres/main.rs` (PostgreSQL) each invoke `shared_modules!()`, so a
//! file listed here runs on both.
//!
//! To add a test file: write `tests/api/<name>.rs` (it reaches the harness as `crate::common`,
//! and `common::backend()` says which database the run is on), then add
//! `#[path = "../api/<name>.rs"] mod <name>;` below, in alphabetical order. The path is spelled
//! out because the list is expanded in both directories, and `../api/` finds this one from either.
//!
//! A file that holds on one backend only is not listed here but declared by that run's `main.rs`:
//! `sqlite_only.rs` here, `postgres_only.rs` and `schema_parity.rs` in `tests/api_postgres/`.

/// Declares every module listed below in the crate that invokes it.
macro_rules! shared_modules {
    () => {
        #[path = "../api/accept_page.rs"]
        mod accept_page;
        #[path = "../api/accounts.rs"]
        mod accounts;
        #[path = "../api/admin.rs"]
        mod admin;
        #[path = "../api/admin_on_org_routes.rs"]
        mod admin_on_org_routes;
        #[path = "../api/api_keys.rs"]
        mod api_keys;
        #[path = "../api/audit.rs"]
        mod audit;
        #[path = "../api/authorize.rs"]
        mod authorize;
        #[path = "../api/bare_resource_scopes.rs"]
        mod bare_resource_scopes;
        // Each run uses only part of the harness (the node helpers serve the PostgreSQL run).
        #[allow(dead_code)]
        #[path = "../api/common.rs"]
        mod common;
        #[path = "../api/conventions.rs"]
        mod conventions;
        #[path = "../api/dashboard_account.rs"]
        mod dashboard_account;
        #[path = "../api/dashboard_admin.rs"]
        mod dashboard_admin;
        #[path = "../api/dashboard_members_page.rs"]
        mod dashboard_members_page;
        #[path = "../api/dashboard_pages.rs"]
        mod dashboard_pages;
        #[path = "../api/dashboard_security.rs"]
        mod dashboard_security;
        #[path = "../api/email.rs"]
        mod email;
        #[path = "../api/events.rs"]
        mod events;
        #[path = "../api/invitations.rs"]
        mod invitations;
        #[path = "../api/me.rs"]
        mod me;
        #[path = "../api/member_password_reset.rs"]
        mod member_password_reset;
        #[path = "../api/member_status.rs"]
        mod member_status;
        #[path = "../api/metrics.rs"]
        mod metrics;
        #[path = "../api/mfa.rs"]
        mod mfa;
        #[path = "../api/openapi_examples.rs"]
        mod openapi_examples;
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
        #[path = "../api/presets.rs"]
        mod presets;
        #[path = "../api/ready.rs"]
        mod ready;
        #[path = "../api/role_properties.rs"]
        mod role_properties;
        #[path = "../api/role_races.rs"]
        mod role_races;
        #[path = "../api/roles.rs"]
        mod roles;
        #[path = "../api/schema_diff.rs"]
        mod schema_diff;
        #[path = "../api/security.rs"]
        mod security;
        #[path = "../api/seed_flows.rs"]
        mod seed_flows;
        #[path = "../api/settings.rs"]
        mod settings;
        #[path = "../api/smtp_sink.rs"]
        mod smtp_sink;
        #[path = "../api/spec_table.rs"]
        mod spec_table;
        #[path = "../api/teams.rs"]
        mod teams;
        #[path = "../api/test_db.rs"]
        mod test_db;
        #[path = "../api/transfer.rs"]
        mod transfer;
        #[path = "../api/usage.rs"]
        mod usage;
        #[path = "../api/webhooks.rs"]
        mod webhooks;
    };
}
