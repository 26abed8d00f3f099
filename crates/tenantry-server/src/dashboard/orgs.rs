//! `/app` (to the active org), the org switcher, an org's overview and creating an org. Also
//! `OrgPage`, how every org page opens: the viewer's standing there (another org's pages are
//! not found, exactly as in the API) and the frame with the switcher and the navigation.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::domain::invitation::Invitation;
use tenantry_core::domain::plan::limit_to_api;
use tenantry_core::service::access::OrgAccess;
use tenantry_core::service::directory::RoleChoices;
use tenantry_core::service::{Principal, UserPrincipal};
use tenantry_core::Error;

use super::context::Ctx;
use super::session::access_cookie;
use super::shell::{Problem, Section, Shell};
use crate::routes::pages::Form;
use crate::state::AppState;

/// An org page's starting point.
pub struct OrgPage {
    pub user: UserPrincipal,
    pub principal: Principal,
    pub access: OrgAccess,
    /// The org's roles, each marked with whether the viewer may grant it.
    pub choices: RoleChoices,
    /// The pending invitations, when the page asked for them and the viewer may invite.
    pub pending_invitations: Option<Arc<[Invitation]>>,
    pub shell: Shell,
}

impl OrgPage {
    /// Opens `slug` for the signed-in viewer; a visitor is sent to log in, and an org the viewer
    /// is not in is a not-found page.
    pub async fn open(ctx: &Ctx, slug: &str, section: Section, title: &str) -> Result<Self, Response> {
        Self::open_reading(ctx, slug, section, title, false).await
    }

    /// `open`, also reading the pending invitations (in the same transaction) for a viewer who
    /// may invite.
    pub async fn open_with_invitations(ctx: &Ctx, slug: &str, section: Section, title: &str) -> Result<Self, Response> {
        Self::open_reading(ctx, slug, section, title, true).await
    }

    async fn open_reading(
        ctx: &Ctx,
        slug: &str,
        section: Section,
        title: &str,
        with_invitations: bool,
    ) -> Result<Self, Response> {
        let user = ctx.require_user()?;
        let principal = Principal::User(user.clone());
        let tenantry = &ctx.state.tenantry;
        // The standing, the roles and the switcher's orgs come from one read.
        let view = tenantry
            .directory()
            .org_view(&user, &OrgRef::from(slug), with_invitations)
            .await
            .map_err(|e| super::error_page(ctx, e))?;
        let (choices, me, pending_invitations) = (view.choices, view.me, view.pending_invitations);
        let access = choices.access.clone();
        let shell = ctx
            .shell(format!("{title} · {}", access.org.name))
            .with_viewer(&me, Some(access.org.slug.as_str()))
            .with_org_nav(&access, section, |p| tenantry.holds(&access, p));
        Ok(Self { user, principal, access, choices, pending_invitations, shell })
    }

    pub fn slug(&self) -> &str {
        self.access.org.slug.as_str()
    }

    /// The org, for the services: by id, now that the page has found it.
    pub fn org_ref(&self) -> OrgRef {
        OrgRef::Id(self.access.org.id)
    }

    /// The viewer's role key.
    pub fn role(&self) -> String {
        self.access.role().map(|r| r.name.clone()).unwrap_or_default()
    }
}

/// `GET /app`: the active org's overview, else the first org, else creating one.
pub async fn home(ctx: Ctx) -> Response {
    let user = or_respond!(ctx.require_user());
    let me = shown_or_error!(ctx, ctx.state.tenantry.accounts().me(&user).await);
    let active = me.active_org_id.and_then(|id| me.orgs.iter().find(|o| o.org.id == id)).or(me.orgs.first());
    match active {
        Some(org) => {
            let location = format!("/app/org/{}", org.org.slug);
            ctx.redirect(&location, None)
        }
        None => ctx.redirect("/app/new-org", None),
    }
}

#[derive(Deserialize)]
pub struct SwitchForm {
    org: String,
}

/// `POST /app/switch`: makes another org active for the session (so `/app` and the host app's
/// next token name it) and opens it.
pub async fn switch(mut ctx: Ctx, State(state): State<AppState>, Form(form): Form<SwitchForm>) -> Response {
    let user = or_respond!(ctx.require_user());
    match state.tenantry.accounts().switch_org(&user, &OrgRef::from(form.org.as_str())).await {
        Ok((token, expires_in, org)) => {
            // Only the access token changes; the refresh token keeps the session.
            ctx.add_cookies([access_cookie(&state, &token, expires_in)]);
            ctx.redirect(&format!("/app/org/{}", org.org.slug), None)
        }
        Err(e) => super::error_page(&ctx, e),
    }
}

struct UsageBar {
    label: String,
    value: u64,
    limit: Option<i64>,
}

#[derive(Template)]
#[template(path = "dashboard/overview.html")]
struct OverviewPage {
    shell: Shell,
    org_name: String,
    org_id: String,
    slug: String,
    plan_name: String,
    role: String,
    usage: Vec<UsageBar>,
}

/// `GET /app/org/{slug}`: plan and usage against its limits.
pub async fn overview(ctx: Ctx, Path(slug): Path<String>) -> Response {
    let page = or_respond!(OrgPage::open(&ctx, &slug, Section::Overview, "Overview").await);
    let tenantry = &ctx.state.tenantry;
    let usage = shown_or_error!(ctx, tenantry.metering().usage(&page.principal, &page.org_ref()).await);
    let org = &page.access.org;
    let plan_name =
        tenantry.plans().list_plans().iter().find(|p| p.key == org.plan).map_or(org.plan.clone(), |p| p.name.clone());
    let usage = usage
        .limits
        .iter()
        .map(|(metric, limit)| {
            let value = match metric.as_str() {
                "members" => usage.member_count,
                "endpoints" => usage.endpoint_count,
                "requests" => usage.requests_this_month,
                _ => 0,
            };
            let limit = Some(limit_to_api(*limit)).filter(|l| *l >= 0);
            UsageBar { label: metric_label(metric), value, limit }
        })
        .collect();
    let view = OverviewPage {
        org_name: org.name.clone(),
        org_id: org.id.to_string(),
        slug: org.slug.to_string(),
        plan_name,
        role: page.role(),
        usage,
        shell: page.shell,
    };
    ctx.page(StatusCode::OK, &view)
}

fn metric_label(metric: &str) -> String {
    match metric {
        "members" => "Members (with pending invitations)".into(),
        "requests" => "Requests this month".into(),
        other => {
            let mut label = other.replace('_', " ");
            if let Some(first) = label.get(0..1) {
                label.replace_range(0..1, &first.to_uppercase());
            }
            label
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/new_org.html")]
struct NewOrgPage {
    shell: Shell,
    problem: Problem,
    name: String,
    slug: String,
}

#[derive(Deserialize)]
pub struct NewOrgForm {
    name: String,
    slug: Option<String>,
}

async fn new_org_page(ctx: Ctx, status: StatusCode, problem: Problem, name: String, slug: String) -> Response {
    let user = or_respond!(ctx.require_user());
    let me = shown_or_error!(ctx, ctx.state.tenantry.accounts().me(&user).await);
    let shell = ctx.shell("New organization").with_viewer(&me, None);
    ctx.page(status, &NewOrgPage { shell, problem, name, slug })
}

pub async fn show_new_org(ctx: Ctx) -> Response {
    new_org_page(ctx, StatusCode::OK, Problem::none(), String::new(), String::new()).await
}

pub async fn create_org(ctx: Ctx, State(state): State<AppState>, Form(form): Form<NewOrgForm>) -> Response {
    let user = or_respond!(ctx.require_user());
    let slug = form.slug.clone().filter(|s| !s.trim().is_empty());
    match state.tenantry.orgs().create_org(&user, form.name.clone(), slug, None, &ctx.meta).await {
        Ok(created) => {
            let notice = format!("{} is ready.", created.org.name);
            ctx.redirect(&format!("/app/org/{}", created.org.slug), Some(&notice))
        }
        Err(Error::Unauthorized(_)) => ctx.redirect("/login", None),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            new_org_page(ctx, status, problem, form.name, form.slug.unwrap_or_default()).await
        }
    }
}
