//! The `tenantry` command: `serve` runs the API, `migrate` prepares the database.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tenantry_server::startup::{open_store, Options};
use tenantry_server::{Application, Config};

#[derive(Parser)]
#[command(name = "tenantry", version, about = "The organization layer for multi-tenant SaaS")]
struct Cli {
    /// Configuration file (optional; TENANTRY_* environment variables override it).
    #[arg(long, global = true, env = "TENANTRY_CONFIG", default_value = "tenantry.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations and serve the API.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(&cli.config).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&config.log).context("log: not a valid filter")?)
        .init();
    match cli.command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let store = open_store(&config).await?;
            store.close().await;
            tracing::info!(database = %config.database.url, "migrations applied");
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config, Options::default()).await?;
    if let Some(token) = app.generated_admin_token() {
        eprintln!("\nInstance admin token (shown only this once; store it now):\n\n    {token}\n");
    }
    tracing::info!(address = %app.local_addr(), "tenantry is listening");
    app.run(shutdown_signal()).await.context("server error")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
