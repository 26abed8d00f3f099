//! `usage` and `plan show | set`.

use clap::Subcommand;
use serde_json::{json, Value};

use crate::cli::error::{CliError, Result};
use crate::cli::http::{seg, Api};
use crate::cli::output::{self, fields, joined, limit, text, Table};
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
    let usage = api.get(format!("/v1/orgs/{}/usage", seg(&org))).in_org(&org).data().await?;
    if global.json {
        output::json(&usage);
        return Ok(());
    }
    let limits = &usage["limits"];
    let mut table = Table::new(&["METRIC", "USED", "LIMIT"]);
    table.row(vec!["members".into(), text(&usage["member_count"]), limit(&limits["members"])]);
    table.row(vec!["endpoints".into(), text(&usage["endpoint_count"]), limit(&limits["endpoints"])]);
    table.row(vec!["requests this month".into(), text(&usage["requests_this_month"]), limit(&limits["requests"])]);
    table.print();
    Ok(())
}

pub async fn run(command: PlanCommand, global: &Global) -> Result<()> {
    let mut api = Api::open(global)?;
    let org = api.org()?;
    match command {
        PlanCommand::Show => {
            let current = api.get(format!("/v1/orgs/{}", seg(&org))).in_org(&org).data().await?;
            let plans = api.get("/v1/plans").anonymous().data().await?;
            let plan = plans
                .as_array()
                .and_then(|plans| plans.iter().find(|p| p["key"] == current["plan"]))
                .cloned()
                .ok_or_else(|| {
                CliError::server(format!("the server lists no plan `{}`", text(&current["plan"])))
            })?;
            show(&plan, &current, global);
            Ok(())
        }
        PlanCommand::Set { plan } => {
            let path = format!("/v1/orgs/{}/plan", seg(&org));
            let updated =
                api.call(reqwest::Method::PUT, path).in_org(&org).json(json!({ "plan": plan })).data().await?;
            if global.json {
                output::json(&updated);
            } else {
                output::print_text(&format!(
                    "{} is now on the {} plan.\n",
                    text(&updated["slug"]),
                    text(&updated["plan"])
                ));
            }
            Ok(())
        }
    }
}

fn show(plan: &Value, org: &Value, global: &Global) {
    if global.json {
        output::json(plan);
        return;
    }
    let mut rows =
        vec![("Org", text(&org["slug"])), ("Plan", format!("{} ({})", text(&plan["name"]), text(&plan["key"])))];
    if let Some(limits) = plan["limits"].as_object() {
        for (metric, value) in limits {
            rows.push((metric.as_str(), limit(value)));
        }
    }
    rows.push(("retention days", text(&plan["retention_days"])));
    rows.push(("API calls/minute", text(&plan["api_calls_per_minute"])));
    rows.push(("features", joined(&plan["features"])));
    fields(&rows);
}
