//! `/app/org/{slug}/billing`: the plan, every plan's limits, and changing plan where the billing
//! mode lets members do it (otherwise the page says how plans change).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::domain::permission::Permission;
use tenantry_core::domain::plan::BillingMode;

use super::context::Ctx;
use super::orgs::OrgPage;
use super::shell::{Problem, Section, Shell};
use crate::routes::pages::Form;
use crate::state::AppState;

struct PlanRow {
    key: String,
    name: String,
    members: String,
    retention_days: u32,
    api_calls: u32,
    features: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "dashboard/billing.html")]
struct BillingPage {
    shell: Shell,
    problem: Problem,
    slug: String,
    plan_name: String,
    customer_id: Option<String>,
    plans: Vec<PlanRow>,
    may_change: bool,
    reason: String,
}

pub async fn show(ctx: Ctx, Path(slug): Path<String>) -> Response {
    render(ctx, &slug, StatusCode::OK, Problem::none()).await
}

async fn render(ctx: Ctx, slug: &str, status: StatusCode, problem: Problem) -> Response {
    let page = or_respond!(OrgPage::open(&ctx, slug, Section::Billing, "Billing").await);
    let tenantry = &ctx.state.tenantry;
    let billing = shown_or_error!(ctx, tenantry.plans().billing(&page.principal, &page.org_ref()).await);
    let holds_change = tenantry.holds(&page.access, Permission::BillingChangePlan);
    let (may_change, reason) = match billing.mode {
        BillingMode::Open if holds_change => (true, String::new()),
        BillingMode::Open => (false, "Your role does not change the plan; ask an owner or admin.".to_owned()),
        BillingMode::Managed => (
            false,
            format!(
                "Plans change through {}'s billing, after payment; this page shows the plan in force.",
                ctx.state.site.brand.name
            ),
        ),
    };
    let plans = tenantry
        .plans()
        .list_plans()
        .iter()
        .map(|p| PlanRow {
            key: p.key.clone(),
            name: p.name.clone(),
            members: p.members.map_or_else(|| "unlimited".to_owned(), |m| m.to_string()),
            retention_days: p.retention_days,
            api_calls: p.api_calls_per_minute,
            features: if p.features.is_empty() { "—".to_owned() } else { p.features.join(", ") },
            current: p.key == billing.org.plan,
        })
        .collect::<Vec<_>>();
    let view = BillingPage {
        problem,
        slug: page.slug().to_owned(),
        plan_name: plans.iter().find(|p| p.current).map_or_else(|| billing.org.plan.clone(), |p| p.name.clone()),
        customer_id: billing.org.billing_customer_id.clone(),
        plans,
        may_change,
        reason,
        shell: page.shell,
    };
    ctx.page(status, &view)
}

#[derive(Deserialize)]
pub struct PlanForm {
    plan: String,
}

pub async fn change_plan(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Form(form): Form<PlanForm>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    match state.tenantry.plans().change_plan(&principal, &OrgRef::from(slug.as_str()), &form.plan, &ctx.meta).await {
        Ok(_) => ctx.redirect(&format!("/app/org/{slug}/billing"), Some("The plan was changed.")),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            render(ctx, &slug, status, problem).await
        }
    }
}
