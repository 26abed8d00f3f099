//! `doctor`: the operator's integrity check of the server's database: orgs without exactly one
//! owner, team members outside their org, pending invitations to missing roles or teams, keys of
//! deleted orgs, and broken audit chains. Exits 7 when it finds anything.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;
use tenantry_core::domain::preset::Preset;
use tenantry_core::service::audit::verify_audit_chains;
use tenantry_store::doctor::{Finding, RoleBook};

use crate::cli::error::{CliError, Exit, Result};
use crate::cli::output;
use crate::cli::Global;

#[derive(Args)]
pub struct DoctorArgs {
    /// The server's configuration file (TENANTRY_* variables override it)
    #[arg(long, env = "TENANTRY_CONFIG", default_value = "tenantry.toml")]
    config: PathBuf,
    #[command(flatten)]
    global: Global,
}

pub async fn doctor(args: DoctorArgs) -> Result<()> {
    let config =
        tenantry_server::Config::load(&args.config).map_err(|e| CliError::usage(format!("configuration: {e}")))?;
    let preset = Preset::load(&config.preset).map_err(|e| CliError::usage(format!("preset: {e}")))?;
    let store = super::operator_store(&config).await?;
    let roles =
        RoleBook { owner_role: &preset.owner_role, built_in: preset.roles.iter().map(|r| r.key.as_str()).collect() };
    let found = store.doctor_findings(&roles).await.map_err(|e| CliError::server(e.to_string()));
    let chains = verify_audit_chains(&store, None).await.map_err(|e| CliError::server(e.to_string()));
    store.close().await;
    let mut findings = found?;
    for report in chains? {
        if let Some(broken) = report.broken {
            let chain = report.chain.map_or("the instance's".to_owned(), |org| format!("org {org}'s"));
            findings.push(Finding {
                kind: "audit_chain_broken",
                detail: format!("{chain} audit chain breaks at event {} ({})", broken.event_id, broken.kind.explain()),
            });
        }
    }
    if args.global.json {
        let list: Vec<_> = findings.iter().map(|f| json!({ "kind": f.kind, "detail": f.detail })).collect();
        output::json(&json!(list));
    } else if findings.is_empty() {
        output::print_text("No problems found.\n");
    } else {
        for finding in &findings {
            output::print_text(&format!("{}: {}\n", finding.kind, finding.detail));
        }
    }
    if findings.is_empty() {
        return Ok(());
    }
    Err(CliError::new(Exit::Tampered, format!("{} problem(s) found", findings.len())))
}
