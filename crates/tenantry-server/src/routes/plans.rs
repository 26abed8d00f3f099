//! `/v1/plans` and an org's plan and billing customer.

use axum::extract::{Path, State};
use axum::Json;
use tenantry_types::plans::{BillingCustomerBody, ChangePlanBody};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ClientMeta};
use crate::state::AppState;
use crate::views::{data, BillingView, Data, ErrorBody, OrgView, PlanView};
use tenantry_core::domain::ids::OrgRef;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plans))
        .routes(routes!(change_plan))
        .routes(routes!(get_billing, set_billing_customer))
}

/// The plans of this deployment, with their limits (`-1` = unlimited) and features.
#[utoipa::path(get, path = "/v1/plans", tag = "billing", responses((status = 200, body = Data<Vec<PlanView>>)))]
pub async fn list_plans(State(state): State<AppState>) -> Json<Data<Vec<PlanView>>> {
    let preset = state.tenantry.preset();
    data(state.tenantry.plans().list_plans().iter().map(|plan| PlanView::new(plan, preset)).collect())
}

/// Change an org's plan. With `billing.mode = managed` (the default) only the instance admin and
/// service tokens may; with `open`, also holders of `billing.change_plan`. Downgrading below
/// current usage is allowed and blocks further growth.
#[utoipa::path(put, path = "/v1/orgs/{org}/plan", tag = "billing", security(("bearer" = [])), request_body(content = ChangePlanBody, example = json!({"plan": "team"})),
    params(("org" = String, Path, description = "org id or slug")),
    responses((status = 200, body = Data<OrgView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn change_plan(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<ChangePlanBody>,
) -> Result<Json<Data<OrgView>>, ApiError> {
    let access = state.tenantry.plans().change_plan(&caller, &org, &body.plan, &meta).await?;
    Ok(data(OrgView::for_caller(&access)))
}

/// An org's plan, billing customer id and billing mode (`billing.view`; admin and service tokens).
#[utoipa::path(get, path = "/v1/orgs/{org}/billing", tag = "billing", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug")),
    responses((status = 200, body = Data<BillingView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_billing(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
) -> Result<Json<Data<BillingView>>, ApiError> {
    Ok(data(state.tenantry.plans().billing(&caller, &org).await?.into()))
}

/// Store the payment provider's customer id (`billing.update_payment`; admin and service tokens).
#[utoipa::path(put, path = "/v1/orgs/{org}/billing", tag = "billing", security(("bearer" = [])), request_body(content = BillingCustomerBody, example = json!({"billing_customer_id": "cus_Q1w2E3r4"})),
    params(("org" = String, Path, description = "org id or slug")),
    responses((status = 200, body = Data<BillingView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_billing_customer(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<BillingCustomerBody>,
) -> Result<Json<Data<BillingView>>, ApiError> {
    let billing = state.tenantry.plans().set_billing_customer(&caller, &org, body.billing_customer_id, &meta).await?;
    Ok(data(billing.into()))
}
