//! Without `TENANTRY_TEST_POSTGRES_URL` the PostgreSQL run of the HTTP suite (`api_postgres`) is
//! not compiled; this says so — and fails under `CI=true`, where PostgreSQL must be tested.
#![cfg(not(postgres_tests))]

#[test]
fn postgresql_suite_skipped() {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(!ci, "CI runs the HTTP suite on PostgreSQL too: set TENANTRY_TEST_POSTGRES_URL");
    eprintln!("PostgreSQL skipped: set TENANTRY_TEST_POSTGRES_URL to run the HTTP suite on PostgreSQL too");
}
