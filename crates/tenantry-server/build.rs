//! The PostgreSQL run of the HTTP suite (`tests/api_postgres`) is compiled only when
//! `TENANTRY_TEST_POSTGRES_URL` names a server to run it on.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rerun-if-env-changed=TENANTRY_TEST_POSTGRES_URL");
    if std::env::var_os("TENANTRY_TEST_POSTGRES_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    } else {
        println!(
            "cargo::warning=PostgreSQL skipped: set TENANTRY_TEST_POSTGRES_URL to run the HTTP suite on PostgreSQL too"
        );
    }
}
