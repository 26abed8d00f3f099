//! The `tenantry` command: `serve` runs the API, `migrate` prepares the database, and the client
//! subcommands (`login`, `org`, `members`, …) drive a running server over its HTTP API.

mod cli;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, CommandFactory, Parser, Subcommand};
use tenantry_server::config::LogFormat;
use tenantry_server::startup::{open_store, Options};
use tenantry_server::{Application, Config};

/// mimalloc rather than the system allocator: a request allocates and frees dozens of small
/// buffers, and glibc's malloc spent about a tenth of the hot paths' time on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "tenantry", version, about = "The organization layer for multi-tenant SaaS", after_help = cli::EXIT_CODES)]
struct Cli {
    /// `serve --config`, also accepted before the subcommand.
    #[arg(long, hide = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations and serve the API.
    Serve(ServerArgs),
    /// Apply pending database migrations and exit.
    Migrate(ServerArgs),
    /// Print this version's OpenAPI document (as served at /openapi.json) and exit.
    Openapi,
    #[command(flatten)]
    Client(cli::Command),
}

#[derive(Args)]
struct ServerArgs {
    /// Configuration file (optional; TENANTRY_* environment variables override it).
    #[arg(long, env = "TENANTRY_CONFIG", default_value = "tenantry.toml")]
    config: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().expect("the async runtime starts");
    let (migrate_only, args) = match cli.command {
        Command::Client(command) => return runtime.block_on(cli::run(command, Cli::command)),
        Command::Serve(args) => (false, args),
        Command::Migrate(args) => (true, args),
        Command::Openapi => {
            let (_, document) = tenantry_server::startup::api_router();
            println!("{}", document.to_pretty_json().expect("the OpenAPI document serialises"));
            return ExitCode::SUCCESS;
        }
    };
    let path = cli.config.unwrap_or(args.config);
    match runtime.block_on(server(&path, migrate_only)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("Error: {error:?}");
            ExitCode::FAILURE
        }
    }
}

async fn server(path: &std::path::Path, migrate_only: bool) -> anyhow::Result<()> {
    let config = Config::load(path).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    init_logging(&config)?;
    if migrate_only {
        let store = open_store(&config).await?;
        store.close().await;
        tracing::info!(database = %config.database.url, "migrations applied");
        return Ok(());
    }
    serve(config).await
}

/// Log lines to standard output: text (coloured only on a terminal) or one JSON object per line.
/// The per-request access line (`tenantry::access`) is off unless the filter names it, so a busy
/// node pays for it only when asked.
fn init_logging(config: &Config) -> anyhow::Result<()> {
    let filter = format!("tenantry::access=off,{}", config.log);
    let filter = tracing_subscriber::EnvFilter::try_new(&filter).context("log: not a valid filter")?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).with_span_list(false).init(),
        LogFormat::Text => builder.with_ansi(std::io::stdout().is_terminal()).init(),
    }
    Ok(())
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
