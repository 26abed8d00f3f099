//! The command-line client: subcommands that drive a running Tenantry server over its HTTP API
//! (no database, no core services). Commands act on the active org (`org use`) unless `--org`
//! names another, print aligned tables or, with `--json`, the API's `data`, and end with the
//! exit codes in `EXIT_CODES`.

mod commands;
mod config;
mod error;
mod http;
mod output;
mod time;

use std::process::ExitCode;

use clap::{Args, Subcommand};

use commands::{audit, auth, backup, billing, doctor, invites, keys, members, orgs, teams};
use error::Result;

pub const EXIT_CODES: &str = "\
Client exit codes:
  0  success
  1  local failure (config directory, output file, terminal)
  2  usage error (bad arguments, no active org)
  3  not logged in, session ended, or credentials refused (401)
  4  not found (404)
  5  other refusal by the API (4xx: invalid request, conflict, plan limit, rate limit)
  6  server or connection error (5xx, connection refused, timeout, not a Tenantry answer)
  7  `audit verify` found a broken audit chain, or `doctor` a fault in the database
  8  refused for want of a permission (403): logged in, but not allowed

The login is stored in $TENANTRY_CONFIG_DIR, else $XDG_CONFIG_HOME/tenantry, else ~/.config/tenantry.";

/// Options of every client command.
#[derive(Args, Clone, Default)]
pub struct Global {
    /// The Tenantry server [default: the one you logged in to, else http://127.0.0.1:8080]
    #[arg(long, global = true, env = "TENANTRY_URL", value_name = "URL")]
    pub server: Option<String>,
    /// Act on this org (id or slug) instead of the active one
    #[arg(long, global = true, env = "TENANTRY_ORG", value_name = "ORG")]
    pub org: Option<String>,
    /// Print the API's data as JSON (lists as one array)
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Args, Clone, Copy, Default)]
pub struct Limit {
    /// List at most this many (default: all, fetched page by page)
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Log in with email and password (or an org's API key) and remember the server
    Login(auth::LoginArgs),
    /// End the session and forget the stored login
    Logout(Global),
    /// Show who you are logged in as, where, and the active org
    Whoami(Global),
    /// Your organizations: list, switch, create, show, rename
    Org {
        #[command(subcommand)]
        command: orgs::OrgCommand,
        #[command(flatten)]
        global: Global,
    },
    /// Members of the active org: list, change a role, remove
    Members {
        #[command(subcommand)]
        command: members::MembersCommand,
        #[command(flatten)]
        global: Global,
    },
    /// Teams of the active org and their members
    Teams {
        #[command(subcommand)]
        command: teams::TeamsCommand,
        #[command(flatten)]
        global: Global,
    },
    /// Invite someone to the active org by email
    Invite(invites::InviteArgs),
    /// Invitations of the active org: list, revoke, resend
    Invites {
        #[command(subcommand)]
        command: invites::InvitesCommand,
        #[command(flatten)]
        global: Global,
    },
    /// API keys of the active org: create, list, revoke, roll
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
        #[command(flatten)]
        global: Global,
    },
    /// The active org's usage against its plan
    Usage(Global),
    /// The active org's plan: show it, or change it
    Plan {
        #[command(subcommand)]
        command: billing::PlanCommand,
        #[command(flatten)]
        global: Global,
    },
    /// The active org's audit log: list events, export them, or verify the hash chains
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
        #[command(flatten)]
        global: Global,
    },
    /// Hand the active org to another member; you become an admin
    TransferOwnership(members::TransferArgs),
    /// Copy the server's SQLite database to FILE while it runs (operators; PostgreSQL: pg_dump)
    Backup(backup::BackupArgs),
    /// Check the server's database for faults the services never make (operators); exits 7 if any
    Doctor(doctor::DoctorArgs),
    /// Print a completion script for your shell
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Runs a client command; `cli` builds the whole command tree, for completions.
pub async fn run(command: Command, cli: fn() -> clap::Command) -> ExitCode {
    match dispatch(command, cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit as u8)
        }
    }
}

async fn dispatch(command: Command, cli: fn() -> clap::Command) -> Result<()> {
    match command {
        Command::Login(args) => auth::login(args).await,
        Command::Logout(global) => auth::logout(&global).await,
        Command::Whoami(global) => auth::whoami(&global).await,
        Command::Org { command, global } => orgs::run(command, &global).await,
        Command::Members { command, global } => members::run(command, &global).await,
        Command::Teams { command, global } => teams::run(command, &global).await,
        Command::Invite(args) => invites::invite(args).await,
        Command::Invites { command, global } => invites::run(command, &global).await,
        Command::Keys { command, global } => keys::run(command, &global).await,
        Command::Usage(global) => billing::usage(&global).await,
        Command::Plan { command, global } => billing::run(command, &global).await,
        Command::Audit { command, global } => audit::run(command, &global).await,
        Command::TransferOwnership(args) => members::transfer(args).await,
        Command::Backup(args) => backup::backup(args).await,
        Command::Doctor(args) => doctor::doctor(args).await,
        Command::Completions { shell } => {
            // Written whole through `print_text`, so a closed pipe ends it quietly (clap_complete
            // itself panics on a write error).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cli(), "tenantry", &mut script);
            output::print_text(&String::from_utf8_lossy(&script));
            Ok(())
        }
    }
}
