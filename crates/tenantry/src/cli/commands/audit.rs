//! `audit list` and `audit export`: the org's audit log (needs audit.view and a plan with
//! `audit_log`). Exports stream to a file or stdout, showing progress when stderr is a terminal.
//! `audit verify` is for the operator: it reads the database the server's configuration names
//! and walks the hash chains.

use std::fs::{self, File};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;
use tenantry_client::types::{AuditEventView, TypedRef};
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::service::audit::verify_audit_chains;

use crate::cli::error::{CliError, Exit, Result};
use crate::cli::http::{seg, Api};
use crate::cli::output::{self, or_dash, Table};
use crate::cli::time;
use crate::cli::Global;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Audit events, newest first as the server orders them
    List {
        #[command(flatten)]
        filters: Filters,
        /// List at most this many (default: all, fetched page by page)
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        limit: Option<u32>,
    },
    /// Export audit events as CSV or JSON Lines, streamed
    Export {
        #[arg(long, value_enum)]
        format: Format,
        /// Write to this file instead of standard output
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        filters: Filters,
    },
    /// Walk the audit hash chains in the database (every org's, or --org's) and report the
    /// first broken link of each: an edited, deleted or reordered event. Exits 7 if any.
    Verify {
        /// The server's configuration file (TENANTRY_* variables override it)
        #[arg(long, env = "TENANTRY_CONFIG", default_value = "tenantry.toml")]
        config: PathBuf,
    },
}

#[derive(Args)]
pub struct Filters {
    /// Only events of this action, e.g. member.role_changed
    #[arg(long)]
    action: Option<String>,
    /// Only events by this actor (a user id, key id, `admin`, …)
    #[arg(long)]
    actor: Option<String>,
    /// Only events about this target (an id)
    #[arg(long)]
    target: Option<String>,
    /// Only events at or after: RFC 3339, a date, or an age such as 24h or 7d
    #[arg(long, value_parser = time::past)]
    since: Option<String>,
    /// Only events before: RFC 3339, a date, or an age such as 1h
    #[arg(long, value_parser = time::past)]
    until: Option<String>,
}

impl Filters {
    fn query(&self) -> [(&'static str, Option<String>); 5] {
        [
            ("action", self.action.clone()),
            ("actor", self.actor.clone()),
            ("target", self.target.clone()),
            ("since", self.since.clone()),
            ("until", self.until.clone()),
        ]
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

pub async fn run(command: AuditCommand, global: &Global) -> Result<()> {
    if let AuditCommand::Verify { config } = &command {
        return verify(config, global).await;
    }
    let mut api = Api::open(global)?;
    let org = api.org()?;
    let events = format!("/v1/orgs/{}/audit-events", seg(&org));
    match command {
        AuditCommand::List { filters, limit } => {
            let mut call = api.get(events).in_org(&org);
            for (key, value) in filters.query() {
                call = call.query(key, value);
            }
            let list: Vec<AuditEventView> = call.list(limit).await?;
            if global.json {
                output::json(&list);
                return Ok(());
            }
            if list.is_empty() {
                output::print_text("No audit events.\n");
                return Ok(());
            }
            let mut table = Table::new(&["TIME", "ACTOR", "ACTION", "TARGET", "IP"]);
            for event in list {
                table.row(vec![
                    time::show(Some(event.occurred_at)),
                    typed(&event.actor),
                    event.action,
                    typed(&event.target),
                    or_dash(event.ip),
                ]);
            }
            table.print();
            Ok(())
        }
        AuditCommand::Verify { .. } => unreachable!("handled above"),
        AuditCommand::Export { format, output, filters } => {
            let name = if format == Format::Csv { "csv" } else { "jsonl" };
            let mut call = api.get(format!("{events}/export")).in_org(&org).query("format", Some(name.to_owned()));
            for (key, value) in filters.query() {
                call = call.query(key, value);
            }
            let response = call.stream().await?;
            export(response, output.as_deref(), format).await
        }
    }
}

async fn verify(config: &Path, global: &Global) -> Result<()> {
    let config = tenantry_server::Config::load(config).map_err(|e| CliError::usage(format!("configuration: {e}")))?;
    let store = super::operator_store(&config).await?;
    let org = global.org.as_deref().map(OrgRef::from);
    let reports = verify_audit_chains(&store, org.as_ref()).await;
    store.close().await;
    let reports = reports.map_err(|e| match e {
        tenantry_core::Error::NotFound(_) => CliError::not_found("no such organization"),
        other => CliError::server(other.to_string()),
    })?;
    let name =
        |chain: &Option<tenantry_core::domain::ids::OrgId>| chain.map_or("instance".to_owned(), |o| o.to_string());
    if global.json {
        let json: Vec<Value> = reports
            .iter()
            .map(|r| {
                serde_json::json!({
                    "org_id": r.chain.map(|o| o.to_string()),
                    "checked": r.checked,
                    "broken": r.broken.as_ref().map(|b| serde_json::json!({
                        "seq": b.seq, "event_id": b.event_id, "kind": b.kind, "explanation": b.kind.explain(),
                    })),
                })
            })
            .collect();
        output::json(&Value::Array(json));
    } else {
        let mut table = Table::new(&["CHAIN", "EVENTS", "STATUS"]);
        for report in &reports {
            let status = match &report.broken {
                None => "intact".to_owned(),
                Some(b) => format!("BROKEN at event {} (seq {}): {}", b.event_id, b.seq, b.kind.explain()),
            };
            table.row(vec![name(&report.chain), report.checked.to_string(), status]);
        }
        table.print();
    }
    let broken = reports.iter().filter(|r| r.broken.is_some()).count();
    if broken > 0 {
        return Err(CliError::new(Exit::Tampered, format!("{broken} of {} audit chains are broken", reports.len())));
    }
    Ok(())
}

/// `user:usr_…` for `{type, id}`.
fn typed(reference: &TypedRef) -> String {
    format!("{}:{}", reference.kind, reference.id)
}

/// Streams the body to `path` (through a `.part` file renamed at the end, so a broken transfer
/// never looks complete) or to stdout.
async fn export(mut response: reqwest::Response, path: Option<&Path>, format: Format) -> Result<()> {
    let (mut sink, part): (Box<dyn Write>, Option<PathBuf>) = match path {
        Some(path) => {
            let part = part_path(path);
            let file =
                File::create(&part).map_err(|e| CliError::local(format!("cannot create {}: {e}", part.display())))?;
            (Box::new(std::io::BufWriter::new(file)), Some(part))
        }
        None => (Box::new(std::io::BufWriter::new(std::io::stdout().lock())), None),
    };
    let mut progress = Progress::new(format, std::io::stderr().is_terminal());
    let streamed = async {
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| CliError::server(format!("the export broke off after {} bytes: {e}", progress.bytes)))?
        {
            sink.write_all(&chunk).map_err(|e| CliError::local(format!("cannot write the export: {e}")))?;
            progress.feed(&chunk);
        }
        sink.flush().map_err(|e| CliError::local(format!("cannot write the export: {e}")))
    }
    .await;
    drop(sink);
    progress.finish();
    match (streamed, part, path) {
        (Ok(()), Some(part), Some(path)) => {
            fs::rename(&part, path)
                .map_err(|e| CliError::local(format!("cannot move the export to {}: {e}", path.display())))?;
            eprintln!("Wrote {} events ({}) to {}.", progress.rows(), human_bytes(progress.bytes), path.display());
            Ok(())
        }
        (Err(error), Some(part), _) => {
            let _ = fs::remove_file(part);
            Err(error)
        }
        (result, _, _) => result,
    }
}

fn part_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".part");
    path.with_file_name(name)
}

/// Counts rows (newlines outside CSV quotes) and bytes; redraws one stderr line now and then.
struct Progress {
    format: Format,
    show: bool,
    bytes: u64,
    lines: u64,
    in_quotes: bool,
    drawn: Option<Instant>,
}

impl Progress {
    fn new(format: Format, show: bool) -> Self {
        Self { format, show, bytes: 0, lines: 0, in_quotes: false, drawn: None }
    }

    fn feed(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len() as u64;
        for &byte in chunk {
            match byte {
                b'"' if self.format == Format::Csv => self.in_quotes = !self.in_quotes,
                b'\n' if !self.in_quotes => self.lines += 1,
                _ => {}
            }
        }
        if self.show && self.drawn.is_none_or(|at| at.elapsed() >= Duration::from_millis(200)) {
            self.draw("\r");
            self.drawn = Some(Instant::now());
        }
    }

    fn rows(&self) -> u64 {
        match self.format {
            // The header line is not an event.
            Format::Csv => self.lines.saturating_sub(1),
            Format::Jsonl => self.lines,
        }
    }

    fn draw(&self, lead: &str) {
        eprint!("{lead}exported {} events ({})", self.rows(), human_bytes(self.bytes));
    }

    fn finish(&self) {
        if self.show {
            self.draw("\r");
            eprintln!();
        }
    }
}

fn human_bytes(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_csv_rows_across_chunks_and_quoted_newlines() {
        let mut p = Progress::new(Format::Csv, false);
        p.feed(b"id,action,metadata\nevt_1,org.created,\"a\nb\"\nevt_2,member.");
        p.feed(b"removed,\"x\"\"y\"\n");
        assert_eq!(p.rows(), 2);
        let mut j = Progress::new(Format::Jsonl, false);
        j.feed(b"{\"a\":\"\\\"\"}\n{}\n");
        assert_eq!(j.rows(), 2);
    }
}
