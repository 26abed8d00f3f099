//! `backup FILE`: a consistent copy of the server's SQLite database, taken while it runs. Like
//! `audit verify`, it reads the database the server's configuration names.

use std::path::PathBuf;

use clap::Args;

use crate::cli::error::{CliError, Result};
use crate::cli::output;

#[derive(Args)]
pub struct BackupArgs {
    /// Where to write the copy (a new file)
    file: PathBuf,
    /// The server's configuration file (TENANTRY_* variables override it)
    #[arg(long, env = "TENANTRY_CONFIG", default_value = "tenantry.toml")]
    config: PathBuf,
}

pub async fn backup(args: BackupArgs) -> Result<()> {
    let config =
        tenantry_server::Config::load(&args.config).map_err(|e| CliError::usage(format!("configuration: {e}")))?;
    if config.database.url.starts_with("postgres") {
        return Err(CliError::usage(
            "the database is PostgreSQL: back it up with pg_dump (or your provider's snapshots)",
        ));
    }
    let store = super::operator_store(&config).await?;
    let done = store.backup_to(&args.file).await;
    store.close().await;
    done.map_err(CliError::usage)?;
    output::print_text(&format!("Backed up to {}.\n", args.file.display()));
    Ok(())
}
