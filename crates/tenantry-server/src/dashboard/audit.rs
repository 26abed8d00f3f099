//! `/app/org/{slug}/audit`: the org's audit log with filters and pages, and its CSV and JSON Lines
//! exports. Where the plan has no audit log the page says so and which plans have one.

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, Query};
use axum::http::{header, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::domain::pagination::PageRequest;
use tenantry_core::service::audit::AUDIT_LOG_FEATURE;
use tenantry_core::Error;

use super::context::{encode, Ctx};
use super::date;
use super::orgs::OrgPage;
use super::shell::{Problem, Section, Shell};
use crate::audit_export::ExportFormat;
use crate::routes::audit::{export_stream, FilterParams};

/// The filter form as typed: dates as `YYYY-MM-DD` (UTC days) or full RFC 3339 times.
#[derive(Deserialize, Default, Clone)]
pub struct Filters {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    cursor: Option<String>,
}

impl Filters {
    fn params(&self) -> FilterParams {
        let time = |value: &str| {
            let value = value.trim();
            match value.len() {
                0 => None,
                10 => Some(format!("{value}T00:00:00Z")),
                _ => Some(value.to_owned()),
            }
        };
        let text = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
        FilterParams {
            actor: text(&self.actor),
            action: text(&self.action),
            target: text(&self.target),
            since: time(&self.since),
            until: time(&self.until),
        }
    }

    /// `&action=…&…` of the filters in force, for links that keep them.
    fn query(&self) -> String {
        [
            ("action", &self.action),
            ("actor", &self.actor),
            ("target", &self.target),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("&{k}={}", encode(v.trim())))
        .collect()
    }
}

struct EventRow {
    when: String,
    action: String,
    actor: String,
    target: String,
    ip: String,
}

#[derive(Template)]
#[template(path = "dashboard/audit.html")]
struct AuditPage {
    shell: Shell,
    problem: Problem,
    slug: String,
    gated: Option<String>,
    filters: Filters,
    filter_query: String,
    events: Vec<EventRow>,
    next_href: Option<String>,
}

pub async fn show(ctx: Ctx, Path(slug): Path<String>, Query(filters): Query<Filters>) -> Response {
    let page = or_respond!(OrgPage::open(&ctx, &slug, Section::Audit, "Audit log").await);
    let tenantry = &ctx.state.tenantry;
    let request = PageRequest::parse(filters.cursor.as_deref(), Some(50))
        .unwrap_or_else(|_| PageRequest::parse(None, Some(50)).expect("a valid page request"));
    let mut status = StatusCode::OK;
    let mut problem = Problem::none();
    let mut gated = None;
    let mut events = Vec::new();
    let mut next_href = None;
    let filter_query = filters.query();
    let listed = match filters.params().filter() {
        Ok(filter) => tenantry.audit().list_audit_events(&page.principal, &page.org_ref(), &filter, &request).await,
        Err(error) => {
            status = error.status;
            problem = Problem { field: None, message: Some(crate::routes::pages::describe(&error)) };
            Ok(tenantry_core::domain::pagination::Page { items: Vec::new(), next_cursor: None })
        }
    };
    match listed {
        Ok(listed) => {
            events = listed
                .items
                .into_iter()
                .map(|entry| {
                    let e = entry.event;
                    EventRow {
                        when: date(e.occurred_at),
                        action: e.action,
                        actor: format!("{} {}", e.actor.kind, e.actor.id),
                        target: format!("{} {}", e.target.kind, e.target.id),
                        ip: e.ip.unwrap_or_default(),
                    }
                })
                .collect();
            next_href = listed
                .next_cursor
                .map(|c| format!("/app/org/{}/audit?cursor={}{filter_query}", page.slug(), encode(&c)));
        }
        Err(Error::PlanLimit { .. }) => {
            let plans: Vec<String> = tenantry
                .plans()
                .list_plans()
                .iter()
                .filter(|p| p.has_feature(AUDIT_LOG_FEATURE))
                .map(|p| p.name.clone())
                .collect();
            gated = Some(format!(
                "The audit log is not part of this organization's plan. It comes with: {}.",
                if plans.is_empty() { "no plan of this deployment".to_owned() } else { plans.join(", ") }
            ));
        }
        Err(error) => return super::error_page(&ctx, error),
    }
    let view = AuditPage {
        problem,
        slug: page.slug().to_owned(),
        gated,
        filters,
        filter_query,
        events,
        next_href,
        shell: page.shell,
    };
    ctx.page(status, &view)
}

#[derive(Deserialize)]
pub struct ExportQuery {
    format: ExportFormat,
    #[serde(flatten)]
    filters: Filters,
}

/// The export, streamed like the API's, for the signed-in viewer.
pub async fn export(ctx: Ctx, Path(slug): Path<String>, Query(query): Query<ExportQuery>) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let filter = match query.filters.params().filter() {
        Ok(filter) => filter,
        Err(error) => return super::error_page(&ctx, Error::invalid("filters", error.message)),
    };
    let tenantry = ctx.state.tenantry.clone();
    let export = shown_or_error!(
        ctx,
        tenantry.audit().open_audit_export(&principal, &OrgRef::from(slug.as_str()), filter).await
    );
    let format = query.format;
    let disposition = format!("attachment; filename=\"audit-{slug}.{}\"", format.extension());
    Response::builder()
        .header(header::CONTENT_TYPE, format.content_type())
        .header(header::CONTENT_DISPOSITION, disposition)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from_stream(export_stream(tenantry, export, format)))
        .unwrap_or_else(|_| super::error_page(&ctx, Error::Internal("export response".into())))
}
