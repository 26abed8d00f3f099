//! `org list | use | create | show | rename`.

use clap::Subcommand;
// An org's metadata is the host app's own JSON object, shown as it is.
use serde_json::Value;
use tenantry_client::types::{CreateOrgBody, OrgView, SwitchOrgBody, SwitchedView, UpdateOrgBody};

use super::auth::active_org;
use crate::cli::error::Result;
use crate::cli::http::{now, seg, Api};
use crate::cli::output::{self, fields, or_dash, Table};
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
            let org: OrgView = api.post("/v1/orgs", &CreateOrgBody { name, slug, metadata: None }).data().await?;
            if global.json {
                output::json(&org);
            } else {
                output::print_text(&format!(
                    "Created org {}.\nMake it the active org with `tenantry org use {}`.\n",
                    describe(&org),
                    org.slug
                ));
            }
            Ok(())
        }
        OrgCommand::Show => {
            let reference = api.org()?;
            let org: OrgView = api.get(format!("/v1/orgs/{}", seg(&reference))).in_org(&reference).data().await?;
            show(&org, global);
            Ok(())
        }
        OrgCommand::Rename { name } => {
            let reference = api.org()?;
            let body = UpdateOrgBody { name: Some(name), ..UpdateOrgBody::default() };
            let org: OrgView = api
                .call(reqwest::Method::PATCH, format!("/v1/orgs/{}", seg(&reference)))
                .in_org(&reference)
                .json(&body)
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
    let orgs: Vec<OrgView> = if api.credentials()?.api_key.is_some() {
        // A key belongs to exactly one org.
        let reference = api.org()?;
        vec![api.get(format!("/v1/orgs/{}", seg(&reference))).in_org(&reference).data().await?]
    } else {
        api.get("/v1/orgs").list(limit.limit).await?
    };
    if global.json {
        output::json(&orgs);
        return Ok(());
    }
    if orgs.is_empty() {
        output::print_text("You belong to no org.\n");
        return Ok(());
    }
    let mut table = Table::new(&["", "ID", "SLUG", "NAME", "ROLE", "PLAN", "MEMBERS"]);
    for org in &orgs {
        let active = api.is_active(&org.id, &org.slug);
        table.row(vec![
            if active { "*" } else { "" }.to_owned(),
            org.id.clone(),
            org.slug.clone(),
            org.name.clone(),
            or_dash(org.role.as_deref()),
            org.plan.clone(),
            org.seat_count.to_string(),
        ]);
    }
    table.print();
    Ok(())
}

/// Makes `reference` the active org and returns it. A user's session switches on the server too,
/// so its tokens carry the org; an API key can only confirm its own org.
pub async fn switch(api: &mut Api, reference: &str) -> Result<OrgView> {
    if api.credentials()?.api_key.is_some() {
        let org: OrgView = api.get(format!("/v1/orgs/{}", seg(reference))).in_org(reference).data().await?;
        api.update_login(|c| c.org = Some(active_org(&org)))?;
        return Ok(org);
    }
    let body = SwitchOrgBody { org_id: reference.to_owned() };
    let switched: SwitchedView = api.post("/v1/auth/switch-org", &body).data().await?;
    api.update_login(|c| {
        c.org = Some(active_org(&switched.org));
        if let Some(user) = c.user.as_mut() {
            user.access_token = switched.access_token;
            user.access_expires_at = now() + switched.expires_in;
        }
    })?;
    Ok(switched.org)
}

fn show(org: &OrgView, global: &Global) {
    if global.json {
        output::json(org);
        return;
    }
    fields(&[
        ("Name", org.name.clone()),
        ("Slug", org.slug.clone()),
        ("Id", org.id.clone()),
        ("Plan", org.plan.clone()),
        ("Members", org.seat_count.to_string()),
        ("Owner", org.owner_id.clone()),
        ("Your role", or_dash(org.role.as_deref())),
        ("Personal", if org.is_personal { "yes" } else { "no" }.to_owned()),
        ("Created", time::show(Some(org.created_at))),
        ("Metadata", metadata(&org.metadata)),
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
pub fn describe(org: &OrgView) -> String {
    let role = org.role.as_deref().map(|r| format!(", your role: {r}")).unwrap_or_default();
    format!("{} ({}, {}){role}", org.name, org.slug, org.id)
}
