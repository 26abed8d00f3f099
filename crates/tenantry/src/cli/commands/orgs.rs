//! `org list | use | create | show | rename`.

use clap::Subcommand;
use serde_json::{json, Value};

use super::auth::active_org;
use crate::cli::error::{CliError, Result};
use crate::cli::http::{now, seg, Api};
use crate::cli::output::{self, fields, text, Table};
use crate::cli::time;
use crate::cli::{Global, Limit};

#[derive(Subcommand)]
pub enum OrgCommand {
    /// The orgs you belong to, with your role; `*` marks the active one
    List(Limit),
    /// Make an org the active one for the commands that follow
    Use {
        /// The org's id or slug
        #[arg(value_name = "ID_OR_SLUG")]
        reference: String,
    },
    /// Create an org; you become its owner
    Create {
        name: String,
        /// URL-safe and permanent (lowercase letters, digits, hyphens); derived from the name when absent
        #[arg(long)]
        slug: Option<String>,
    },
    /// Show the active org
    Show,
    /// Rename the active org (needs org.manage)
    Rename { name: String },
}

pub async fn run(command: OrgCommand, global: &Global) -> Result<()> {
    let mut api = Api::open(global)?;
    match command {
        OrgCommand::List(limit) => list(&mut api, global, limit).await,
        OrgCommand::Use { reference } => {
            let org = switch(&mut api, &reference).await?;
            if global.json {
                output::json(&org);
            } else {
                output::print_text(&format!("Active org: {}.\n", describe(&org)));
            }
            Ok(())
        }
        OrgCommand::Create { name, slug } => {
            let org = api.post("/v1/orgs", json!({ "name": name, "slug": slug })).data().await?;
            if global.json {
                output::json(&org);
            } else {
                output::print_text(&format!(
                    "Created org {}.\nMake it the active org with `tenantry org use {}`.\n",
                    describe(&org),
                    text(&org["slug"])
                ));
            }
            Ok(())
        }
        OrgCommand::Show => {
            let reference = api.org()?;
            let org = api.get(format!("/v1/orgs/{}", seg(&reference))).in_org(&reference).data().await?;
            show(&org, global);
            Ok(())
        }
        OrgCommand::Rename { name } => {
            let reference = api.org()?;
            let org = api
                .call(reqwest::Method::PATCH, format!("/v1/orgs/{}", seg(&reference)))
                .in_org(&reference)
                .json(json!({ "name": name }))
                .data()
                .await?;
            if global.json {
                output::json(&org);
            } else {
                output::print_text(&format!("Renamed the org: {}.\n", describe(&org)));
            }
            Ok(())
        }
    }
}

async fn list(api: &mut Api, global: &Global, limit: Limit) -> Result<()> {
    let orgs = if api.credentials()?.api_key.is_some() {
        // A key belongs to exactly one org.
        let reference = api.org()?;
        vec![api.get(format!("/v1/orgs/{}", seg(&reference))).in_org(&reference).data().await?]
    } else {
        api.list("/v1/orgs", None, &[], limit.limit).await?
    };
    if global.json {
        output::json(&Value::Array(orgs));
        return Ok(());
    }
    if orgs.is_empty() {
        output::print_text("You belong to no org.\n");
        return Ok(());
    }
    let mut table = Table::new(&["", "ID", "SLUG", "NAME", "ROLE", "PLAN", "MEMBERS"]);
    for org in &orgs {
        let active = api.is_active(org["id"].as_str().unwrap_or(""), org["slug"].as_str().unwrap_or(""));
        table.row(vec![
            if active { "*" } else { "" }.to_owned(),
            text(&org["id"]),
            text(&org["slug"]),
            text(&org["name"]),
            text(&org["role"]),
            text(&org["plan"]),
            text(&org["seat_count"]),
        ]);
    }
    table.print();
    Ok(())
}

/// Makes `reference` the active org and returns it. A user's session switches on the server too,
/// so its tokens carry the org; an API key can only confirm its own org.
pub async fn switch(api: &mut Api, reference: &str) -> Result<Value> {
    if api.credentials()?.api_key.is_some() {
        let org = api.get(format!("/v1/orgs/{}", seg(reference))).in_org(reference).data().await?;
        api.update_login(|c| c.org = active_org(&org))?;
        return Ok(org);
    }
    let data = api.post("/v1/auth/switch-org", json!({ "org_id": reference })).data().await?;
    let (Some(access), Some(expires_in)) = (data["access_token"].as_str(), data["expires_in"].as_i64()) else {
        return Err(CliError::server("the server's answer to switch-org lacks the access token"));
    };
    let org = data["org"].clone();
    api.update_login(|c| {
        c.org = active_org(&org);
        if let Some(user) = c.user.as_mut() {
            user.access_token = access.to_owned();
            user.access_expires_at = now() + expires_in;
        }
    })?;
    Ok(org)
}

fn show(org: &Value, global: &Global) {
    if global.json {
        output::json(org);
        return;
    }
    fields(&[
        ("Name", text(&org["name"])),
        ("Slug", text(&org["slug"])),
        ("Id", text(&org["id"])),
        ("Plan", text(&org["plan"])),
        ("Members", text(&org["seat_count"])),
        ("Owner", text(&org["owner_id"])),
        ("Your role", text(&org["role"])),
        ("Personal", if org["is_personal"] == true { "yes" } else { "no" }.to_owned()),
        ("Created", time::show(&org["created_at"])),
        ("Metadata", metadata(&org["metadata"])),
    ]);
}

/// An org's metadata as `key=value` pairs (values that are not strings as JSON), or `-`.
fn metadata(value: &Value) -> String {
    match value.as_object() {
        Some(entries) if !entries.is_empty() => entries
            .iter()
            .map(|(key, value)| match value {
                Value::String(text) => format!("{key}={text}"),
                other => format!("{key}={other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => "-".to_owned(),
    }
}

/// `Acme (acme, org_…)`, and the caller's role when known.
pub fn describe(org: &Value) -> String {
    let role = org["role"].as_str().map(|r| format!(", your role: {r}")).unwrap_or_default();
    format!("{} ({}, {}){role}", text(&org["name"]), text(&org["slug"]), text(&org["id"]))
}
