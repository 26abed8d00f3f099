//! `usage` and `plan show | set`.

use clap::Subcommand;
use tenantry_client::types::{ChangePlanBody, OrgView, PlanView, UsageView};

use crate::cli::error::{CliError, Result};
use crate::cli::http::{seg, Api};
use crate::cli::output::{self, fields, joined, limit, Table};
use crate::cli::Global;

#[derive(Subcommand)]
pub enum PlanCommand {
    /// The org's plan with its limits and features
    Show,
    /// Change the org's plan (billing mode `open` only; needs billing.change_plan)
    ///
    /// With billing mode `managed` (the default) plans change only through billing or the
    /// instance admin; with `open`, members holding billing.change_plan change them here.
    Set {
        /// A plan key, e.g. free, starter, team, enterprise
        plan: String,
    },
}

pub async fn usage(global: &Global) -> Result<()> {
    let mut api = Api::open(global)?;
    let org = api.org()?;
    let usage: UsageView = api.get(format!("/v1/orgs/{}/usage", seg(&org))).in_org(&org).data().await?;
    if global.json {
        output::json(&usage);
        return Ok(());
    }
    let of = |metric: &str| limit(usage.limits.get(metric).copied());
    let mut table = Table::new(&["METRIC", "USED", "LIMIT"]);
    table.row(vec!["members".into(), usage.member_count.to_string(), of("members")]);
    table.row(vec!["endpoints".into(), usage.endpoint_count.to_string(), of("endpoints")]);
    table.row(vec!["requests this month".into(), usage.requests_this_month.to_string(), of("requests")]);
    table.print();
    Ok(())
}

pub async fn run(command: PlanCommand, global: &Global) -> Result<()> {
    let mut api = Api::open(global)?;
    let org = api.org()?;
    match command {
        PlanCommand::Show => {
            let current: OrgView = api.get(format!("/v1/orgs/{}", seg(&org))).in_org(&org).data().await?;
            let plans: Vec<PlanView> = api.get("/v1/plans").anonymous().data().await?;
            let plan = plans
                .into_iter()
                .find(|p| p.key == current.plan)
                .ok_or_else(|| CliError::server(format!("the server lists no plan `{}`", current.plan)))?;
            show(&plan, &current, global);
            Ok(())
        }
        PlanCommand::Set { plan } => {
            let path = format!("/v1/orgs/{}/plan", seg(&org));
            let call = api.call(reqwest::Method::PUT, path).in_org(&org).json(&ChangePlanBody { plan });
            let updated: OrgView = call.data().await?;
            if global.json {
                output::json(&updated);
            } else {
                output::print_text(&format!("{} is now on the {} plan.\n", updated.slug, updated.plan));
            }
            Ok(())
        }
    }
}

fn show(plan: &PlanView, org: &OrgView, global: &Global) {
    if global.json {
        output::json(plan);
        return;
    }
    let mut rows = vec![("Org", org.slug.clone()), ("Plan", format!("{} ({})", plan.name, plan.key))];
    for (metric, value) in &plan.limits {
        rows.push((metric.as_str(), limit(Some(*value))));
    }
    rows.push(("retention days", plan.retention_days.to_string()));
    rows.push(("API calls/minute", plan.api_calls_per_minute.to_string()));
    rows.push(("features", joined(&plan.features)));
    fields(&rows);
}
