//! `tenantry-bench`: the project's load benchmark.
//!
//! Starts Tenantry (release build, its own runtime) on a fresh SQLite database — or, with
//! `--postgres`, a fresh PostgreSQL database with its own owner and application roles — seeds it,
//! then drives each scenario over keep-alive loopback connections for a fixed time and prints
//! requests per second with p50/p99 latency. Run it with:
//!
//! ```sh
//! cargo run --release -p tenantry-bench -- --scenarios health,authorize,verify,members
//! cargo run --release -p tenantry-bench -- --scenarios health,authorize,verify,members \
//!     --postgres postgres://postgres@127.0.0.1:5432/postgres
//! ```
//!
//! `authorize` asks `POST /v1/authorize` with a service token about random members of the seeded
//! orgs (and some non-members); `verify` checks random keys of the 100,000 seeded with
//! `POST /v1/keys/verify`; `members` reads pages of 100 from anywhere in an org of 100,000;
//! `dashboard` renders the owner's members page of that org (50 members a page, with role
//! dropdowns and pending invitations) from anywhere in it, signed in with the session cookie.
//! Before authorize and verify are measured, every subject and key they will ask about is asked
//! about once, so the figures are the steady state (`--cold` skips that). When `health` ran too,
//! each scenario's throughput is also shown as a share of health's, the figure SPEC 11 sets a
//! floor for.

mod client;
mod database;
mod scenarios;
mod seed;

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use tenantry_server::startup::Options;
use tenantry_server::{Application, Config};

/// The allocator the `tenantry` binary serves with, so the figures are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub const ADMIN_TOKEN: &str = "bench-admin-token";
pub const SERVICE_TOKEN: &str = "bench-service-token";

#[derive(Parser, Clone)]
#[command(about = "Load benchmark for Tenantry")]
pub struct Args {
    /// Comma-separated scenarios to run, in order.
    #[arg(long, default_value = "health,authorize,login,signup", value_delimiter = ',')]
    pub scenarios: Vec<String>,
    /// Seconds each scenario runs (after a one-second warm-up).
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Orgs in the seeded dataset.
    #[arg(long, default_value_t = 10_000)]
    pub orgs: usize,
    /// Memberships in the seeded dataset (spread over the orgs).
    #[arg(long, default_value_t = 100_000)]
    pub memberships: usize,
    /// API keys in the seeded dataset (spread over the orgs).
    #[arg(long, default_value_t = 100_000)]
    pub keys: usize,
    /// Members of the one big org the `members` scenario lists.
    #[arg(long, default_value_t = 100_000)]
    pub big_org_members: usize,
    /// Run on PostgreSQL: a superuser URL (e.g. postgres://postgres@127.0.0.1:5432/postgres); the
    /// benchmark creates and drops its own database and roles. SQLite when absent.
    #[arg(long)]
    pub postgres: Option<String>,
    /// Measure authorize and verify from cold caches, without first asking about every subject
    /// and key once.
    #[arg(long)]
    pub cold: bool,
    /// Threads of the server's runtime.
    #[arg(long, default_value_t = 2)]
    pub server_threads: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let setup = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let database = setup.block_on(database::Database::create(args.postgres.as_deref()))?;

    let (addr_tx, addr_rx) = std::sync::mpsc::channel::<anyhow::Result<SocketAddr>>();
    let server_threads = args.server_threads;
    let server_db = tenantry_server::config::DatabaseConfig {
        url: database.url.clone(),
        owner_url: database.owner_url.clone(),
        ..Default::default()
    };
    std::thread::spawn(move || {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(server_threads).enable_all().build().unwrap();
        runtime.block_on(async move {
            let config = Config {
                bind: "127.0.0.1:0".into(),
                admin_token: Some(ADMIN_TOKEN.into()),
                service_tokens: vec![SERVICE_TOKEN.into()],
                log: "warn".into(),
                database: server_db,
                ..Config::default()
            };
            match Application::build(config, Options::default()).await {
                Ok(app) => {
                    addr_tx.send(Ok(app.local_addr())).unwrap();
                    app.run(std::future::pending()).await.unwrap();
                }
                Err(e) => addr_tx.send(Err(e)).unwrap(),
            }
        });
    });
    let addr = addr_rx.recv()??;

    let admin_url = database.admin_url.clone();
    let finished = setup.block_on(async move {
        println!(
            "tenantry-bench on {}: {} connections, {} s per scenario, server threads {}, cores {}",
            if args.postgres.is_some() { "PostgreSQL" } else { "SQLite" },
            args.connections,
            args.seconds,
            args.server_threads,
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        let mut context = scenarios::Context::new(addr, admin_url, args.clone());
        println!(
            "{:<28} {:>10} {:>10} {:>10} {:>10} {:>8}",
            "scenario", "req/s", "p50 ms", "p99 ms", "max ms", "errors"
        );
        let mut health = None;
        for name in &args.scenarios {
            let report = context.run(name, Duration::from_secs(args.seconds)).await?;
            println!("{report}");
            match name.as_str() {
                "health" => health = Some(report.rps()),
                "authorize" | "verify" | "members" => {
                    if let Some(health) = health {
                        println!("{:<28} {:>9.0}% of health", "", 100.0 * report.rps() / health);
                    }
                }
                _ => {}
            }
        }
        anyhow::Ok(())
    });
    setup.block_on(database.drop_all())?;
    finished
}
