//! `tenantry-bench`: the project's load benchmark.
//!
//! Starts Tenantry (release build, its own runtime) on a fresh SQLite database — or, with
//! `--postgres`, a fresh PostgreSQL database with its own owner and application roles — seeds it,
//! then drives each scenario over keep-alive loopback connections for a fixed time and prints
//! requests per second with p50/p99 latency. Run it with:
//!
//! ```sh
//! cargo run --release -p tenantry-bench -- --scenarios health,authorize,verify,members,me
//! cargo run --release -p tenantry-bench -- --scenarios health,authorize,verify,members,me \
//!     --postgres postgres://postgres@127.0.0.1:5432/postgres
//! ```
//!
//! `authorize` asks `POST /v1/authorize` with a service token about random members of the seeded
//! orgs (and some non-members); `authorize-team` asks the same, each check naming a team of the
//! org (each seeded org has ten teams and each non-owner member is in one of them, as lead or
//! member), so team roles decide some answers; `verify` checks random keys of the 100,000 seeded with
//! `POST /v1/keys/verify`; `members` reads pages of 100 from anywhere in an org of 100,000;
//! `me` asks `GET /v1/me` as 1,000 seeded members (200,000 at `--scale`; in the default dataset
//! each belongs to two orgs), a random one's access token on each request: each member gets a
//! session in the database as a login leaves it and an access token signed with the instance's
//! key by the core's own signer, since signing 200,000 users in would cost as many argon2 hashes;
//! `dashboard` renders the owner's members page of that org (50 members a page, with role
//! dropdowns and pending invitations) from anywhere in it, signed in with the session cookie and
//! taking gzip, as a browser does.
//!
//! `org-rename` renames the big org over and over as its owner: a change with its audit record
//! and its host apps' event (run it again with `--no-events` to see what the event costs);
//! `deliveries` registers a webhook endpoint on a local receiver, runs `org-rename`, and reports
//! how fast the events reach the receiver, during the load and after it.
//!
//! `--scale` seeds 1,000,000 orgs, 2,000,000 memberships, 200,000 keys and the org of 100,000,
//! has authorize ask about 250,000 (org, subject) pairs instead of 65,536 and `me` 200,000 users
//! instead of 1,000: with verify's 200,000 keys, more than 200,000 keys and subjects are active
//! within one minute. It shows
//! that no hot path slows with the number of orgs, members or active keys.
//!
//! The server runs in a process of its own (the benchmark started again with `--serve`), and its
//! resident memory is printed after each scenario: all of it, and in brackets its heap (where the
//! caches live), without the database file SQLite maps into memory.
//! Before authorize, verify and me are measured, every subject, key and token they will ask about
//! is asked about once, so the figures are the steady state (`--cold` skips that). When `health`
//! ran too, each scenario's throughput is also shown as a share of health's, the figure SPEC 11
//! sets a floor for: of the last health run before it, so naming health again later in the list
//! measures the later scenarios against the machine as it is then.

mod client;
mod database;
mod receiver;
mod scenarios;
mod seed;
mod server;

use std::time::Duration;

use clap::Parser;

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
    /// Measure authorize, verify and me from cold caches, without first asking about every
    /// subject, key and token once.
    #[arg(long)]
    pub cold: bool,
    /// Threads of the server's runtime.
    #[arg(long, default_value_t = 2)]
    pub server_threads: usize,
    /// (org, subject) pairs the authorize scenario asks about.
    #[arg(long, default_value_t = 65_536)]
    pub subjects: usize,
    /// Users the `me` scenario asks as (each a seeded member with a session of their own).
    #[arg(long, default_value_t = 1_000)]
    pub me_users: usize,
    /// The scale dataset: 1,000,000 orgs, 2,000,000 memberships, 200,000 keys, an org of 100,000
    /// members, 250,000 authorize subjects and 200,000 `me` users (overriding those flags).
    #[arg(long)]
    pub scale: bool,
    /// Internal: serve on this database URL in this process (the benchmark starts itself so).
    #[arg(long, hide = true)]
    pub serve: Option<String>,
    /// Internal: with `--serve` on PostgreSQL, the owner's URL that runs the migrations.
    #[arg(long, hide = true)]
    pub serve_owner: Option<String>,
    /// Serve without writing host apps' events, to measure what they cost a change (compare
    /// `org-rename` with and without it).
    #[arg(long)]
    pub no_events: bool,
    /// Serve without counting and timing each request for `/metrics`, to measure what that
    /// costs (compare `authorize` with and without it).
    #[arg(long)]
    pub no_metrics: bool,
}

impl Args {
    fn scaled(mut self) -> Self {
        if self.scale {
            self.orgs = 1_000_000;
            self.memberships = 2_000_000;
            self.keys = 200_000;
            self.big_org_members = 100_000;
            self.subjects = 250_000;
            self.me_users = 200_000;
        }
        self
    }
}

fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse().scaled();
    if let Some(url) = args.serve.clone() {
        let threads = args.server_threads;
        let (host_events, request_metrics) = (!args.no_events, !args.no_metrics);
        return server::serve(server::ServeArgs {
            url,
            owner_url: args.serve_owner,
            threads,
            host_events,
            request_metrics,
        });
    }
    let setup = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let database = setup.block_on(database::Database::create(args.postgres.as_deref()))?;
    let server = server::Server::start(&server::ServeArgs {
        url: database.url.clone(),
        owner_url: database.owner_url.clone(),
        threads: args.server_threads,
        host_events: !args.no_events,
        request_metrics: !args.no_metrics,
    })?;
    let addr = server.addr;

    let admin_url = database.admin_url.clone();
    let server_ref = &server;
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
            "{:<28} {:>10} {:>10} {:>10} {:>10} {:>8} {:>13}",
            "scenario", "req/s", "p50 ms", "p99 ms", "max ms", "errors", "RSS MB (heap)"
        );
        // Seeded before the first scenario, so health is measured in the same conditions as the
        // scenarios compared with it (seeding a scale dataset takes minutes).
        if args.scenarios.iter().any(|name| name != "health" && name != "signup") {
            context.dataset().await?;
        }
        let mut health = None;
        for name in &args.scenarios {
            let report = context.run(name, Duration::from_secs(args.seconds)).await?;
            let rss = server_ref
                .rss()
                .map_or_else(|| "?".into(), |rss| format!("{:.0} ({:.0})", megabytes(rss.now), megabytes(rss.anonymous)));
            println!("{report} {rss:>13}");
            match name.as_str() {
                "health" => health = Some(report.rps()),
                "authorize" | "authorize-team" | "verify" | "members" | "me" | "dashboard" => {
                    if let Some(health) = health {
                        println!("{:<28} {:>9.0}% of health", "", 100.0 * report.rps() / health);
                    }
                }
                _ => {}
            }
        }
        if let Some(rss) = server_ref.rss() {
            println!(
                "server RSS after the run: {:.0} MB, of which {:.0} MB heap (anonymous) and the rest mapped files; peak {:.0} MB",
                megabytes(rss.now),
                megabytes(rss.anonymous),
                megabytes(rss.peak)
            );
        }
        anyhow::Ok(())
    });
    drop(server);
    setup.block_on(database.drop_all())?;
    finished
}
