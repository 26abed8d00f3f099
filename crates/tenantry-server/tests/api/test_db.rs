//! Each test's own database: a SQLite file in a temporary directory, or — in the PostgreSQL run
//! of the suite — a fresh PostgreSQL database with its own owner role and application role
//! (neither a superuser, the application role without `BYPASSRLS`), dropped with the test.

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

/// Which database the suite runs on; each test binary sets `crate::BACKEND` (so each binary
/// constructs only one of them).
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL superuser URL the PostgreSQL run creates its databases and roles with.
pub const POSTGRES_URL_VAR: &str = "TENANTRY_TEST_POSTGRES_URL";

pub struct TestDatabase {
    /// What the server connects as.
    pub url: String,
    /// PostgreSQL: the owner role that runs migrations.
    pub owner_url: Option<String>,
    /// A superuser's view of the test database (PostgreSQL) or the file itself (SQLite), for
    /// fixtures and checks: Row Level Security does not hide rows from it.
    pub admin_url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Directory(#[allow(dead_code)] tempfile::TempDir),
    Postgres { server_url: String, name: String },
}

fn url_with(server_url: &str, user: &str, database: &str) -> String {
    let mut url = url::Url::parse(server_url).expect("TENANTRY_TEST_POSTGRES_URL is a URL");
    url.set_username(user).expect("the URL takes a user");
    url.set_path(database);
    url.to_string()
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("tenantry.db").display());
                Self { admin_url: url.clone(), url, owner_url: None, cleanup: Cleanup::Directory(dir) }
            }
            Backend::Postgres => {
                let server_url = std::env::var(POSTGRES_URL_VAR).expect("the PostgreSQL run needs its server");
                let name = format!("tenantry_t_{}", ulid::Ulid::new().to_string().to_lowercase());
                let (owner, app) = (format!("{name}_owner"), format!("{name}_app"));
                let admin = connect(&server_url).await;
                for statement in [
                    format!("CREATE ROLE {owner} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"),
                    format!("CREATE ROLE {app} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"),
                    format!("CREATE DATABASE {name} OWNER {owner}"),
                    format!("REVOKE ALL ON DATABASE {name} FROM PUBLIC"),
                    format!("GRANT CONNECT ON DATABASE {name} TO {app}"),
                ] {
                    admin.execute(statement.as_str()).await.expect("creating the test database");
                }
                admin.close().await;
                Self {
                    url: url_with(&server_url, &app, &name),
                    owner_url: Some(url_with(&server_url, &owner, &name)),
                    admin_url: url_with(&server_url, "postgres", &name),
                    cleanup: Cleanup::Postgres { server_url, name },
                }
            }
        }
    }

    /// A pool for fixtures and checks.
    pub async fn admin_pool(&self) -> AnyPool {
        connect(&self.admin_url).await
    }
}

async fn connect(url: &str) -> AnyPool {
    sqlx::any::install_default_drivers();
    AnyPoolOptions::new().max_connections(2).connect(url).await.expect("the test database answers")
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Cleanup::Postgres { server_url, name } = &self.cleanup else { return };
        let (server_url, name) = (server_url.clone(), name.clone());
        // Drop runs inside the test's runtime; the cleanup gets a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(async move {
                let admin = connect(&server_url).await;
                for statement in [
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    format!("DROP ROLE IF EXISTS {name}_app"),
                    format!("DROP ROLE IF EXISTS {name}_owner"),
                ] {
                    if let Err(error) = admin.execute(statement.as_str()).await {
                        eprintln!("cleaning up {name}: {error}");
                    }
                }
                admin.close().await;
            })
        });
        let _ = dropped.join();
    }
}
