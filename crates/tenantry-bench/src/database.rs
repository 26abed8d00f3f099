//! The benchmark's database: a SQLite file in a temporary directory, or — with `--postgres` — a
//! fresh PostgreSQL database with its own owner and application roles (the server connects as the
//! application role, so Row Level Security applies as in production), dropped at the end.

use sqlx::any::AnyPoolOptions;
use sqlx::Executor;

pub struct Database {
    /// What the server connects as.
    pub url: String,
    /// PostgreSQL: the owner that runs migrations.
    pub owner_url: Option<String>,
    /// For seeding: the SQLite file, or a superuser connection to the PostgreSQL database.
    pub admin_url: String,
    cleanup: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

fn url_with(server_url: &str, user: &str, database: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(server_url)?;
    url.set_username(user).map_err(|()| anyhow::anyhow!("{server_url} takes no user name"))?;
    url.set_path(database);
    Ok(url.to_string())
}

impl Database {
    pub async fn create(postgres: Option<&str>) -> anyhow::Result<Self> {
        let Some(server_url) = postgres else {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            return Ok(Self { admin_url: url.clone(), url, owner_url: None, cleanup: None, _dir: Some(dir) });
        };
        sqlx::any::install_default_drivers();
        let name = format!("tenantry_bench_{}", ulid::Ulid::new().to_string().to_lowercase());
        let admin = AnyPoolOptions::new().max_connections(1).connect(server_url).await?;
        for statement in [
            format!("CREATE ROLE {name}_owner LOGIN NOSUPERUSER"),
            format!("CREATE ROLE {name}_app LOGIN NOSUPERUSER NOBYPASSRLS"),
            format!("CREATE DATABASE {name} OWNER {name}_owner"),
            format!("GRANT CONNECT ON DATABASE {name} TO {name}_app"),
        ] {
            admin.execute(statement.as_str()).await?;
        }
        admin.close().await;
        let superuser = url::Url::parse(server_url)?.username().to_owned();
        Ok(Self {
            url: url_with(server_url, &format!("{name}_app"), &name)?,
            owner_url: Some(url_with(server_url, &format!("{name}_owner"), &name)?),
            admin_url: url_with(server_url, &superuser, &name)?,
            cleanup: Some((server_url.to_owned(), name)),
            _dir: None,
        })
    }

    /// Drops the PostgreSQL database and its roles.
    pub async fn drop_all(&self) -> anyhow::Result<()> {
        let Some((server_url, name)) = &self.cleanup else { return Ok(()) };
        let admin = AnyPoolOptions::new().max_connections(1).connect(server_url).await?;
        for statement in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("DROP ROLE IF EXISTS {name}_app"),
            format!("DROP ROLE IF EXISTS {name}_owner"),
        ] {
            admin.execute(statement.as_str()).await?;
        }
        admin.close().await;
        Ok(())
    }
}
