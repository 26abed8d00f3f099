//! The server under load, in a process of its own: the benchmark starts itself again with
//! `--serve`, so the server's memory can be read apart from the client's (which holds the
//! seeded dataset and every rendered request, several times the server's caches at scale).

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use tenantry_server::config::{DatabaseConfig, WebhooksConfig};
use tenantry_server::startup::Options;
use tenantry_server::{Application, Config};

use crate::{ADMIN_TOKEN, SERVICE_TOKEN};

/// What the child process is told on its command line.
pub struct ServeArgs {
    pub url: String,
    pub owner_url: Option<String>,
    pub threads: usize,
    /// Whether changes write host apps' events.
    pub host_events: bool,
    /// Whether requests are counted and timed for `/metrics`.
    pub request_metrics: bool,
}

/// The server's process; ended when dropped.
pub struct Server {
    child: Child,
    /// Kept open: the child's stdout must not become a broken pipe.
    _stdout: std::io::BufReader<std::process::ChildStdout>,
    pub addr: SocketAddr,
}

/// Memory of a process, in bytes.
pub struct Rss {
    pub now: u64,
    pub peak: u64,
    /// Of `now`, what is not a mapped file: the heap, where every cache lives. The rest is
    /// mostly the SQLite database, which the server maps into memory (`mmap_size`) and the
    /// kernel can drop at will.
    pub anonymous: u64,
}

impl Server {
    pub fn start(serve: &ServeArgs) -> anyhow::Result<Self> {
        let mut command = Command::new(std::env::current_exe()?);
        command.arg("--serve").arg(&serve.url).arg("--server-threads").arg(serve.threads.to_string());
        if let Some(owner) = &serve.owner_url {
            command.arg("--serve-owner").arg(owner);
        }
        if !serve.host_events {
            command.arg("--no-events");
        }
        if !serve.request_metrics {
            command.arg("--no-metrics");
        }
        let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut stdout = std::io::BufReader::new(stdout);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| anyhow::anyhow!("the server did not start: {line:?}"))?
            .parse()?;
        Ok(Self { child, _stdout: stdout, addr })
    }

    /// The server's resident memory now and at its peak, from `/proc` (Linux).
    pub fn rss(&self) -> Option<Rss> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let field = |name: &str| -> Option<u64> {
            let line = status.lines().find(|line| line.starts_with(name))?;
            Some(line[name.len()..].trim().trim_end_matches("kB").trim().parse::<u64>().ok()? * 1024)
        };
        Some(Rss { now: field("VmRSS:")?, peak: field("VmHWM:")?, anonymous: field("RssAnon:")? })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Closing its stdin shuts the server down; killing it covers a server that hangs.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child's side: serves until its stdin closes (the benchmark ended, however it ended).
pub fn serve(serve: ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(serve.threads).enable_all().build()?;
    runtime.block_on(async move {
        let config = Config {
            bind: "127.0.0.1:0".into(),
            admin_token: Some(ADMIN_TOKEN.into()),
            service_tokens: vec![SERVICE_TOKEN.into()],
            log: "warn".into(),
            database: DatabaseConfig { url: serve.url, owner_url: serve.owner_url, ..Default::default() },
            // The `deliveries` scenario's receiver listens on loopback.
            webhooks: WebhooksConfig { allow_private_targets: true },
            ..Config::default()
        };
        let options =
            Options { host_events: serve.host_events, request_metrics: serve.request_metrics, ..Options::default() };
        let app = Application::build(config, options).await?;
        println!("listening on {}", app.local_addr());
        let stdin_closed = async {
            let _ = tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin(), &mut std::io::sink())).await;
        };
        app.run(stdin_closed).await?;
        anyhow::Ok(())
    })
}
