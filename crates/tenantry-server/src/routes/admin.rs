//! `/v1/admin/*`: the instance administrator's endpoints.

use axum::extract::State;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AdminAuth;
use crate::error::ApiError;
use crate::extract::Pagination;
use crate::state::AppState;
use crate::views::{list, ErrorBody, List, OrgView, OutboxView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_orgs)).routes(routes!(list_outbox))
}

/// Every org of the instance.
#[utoipa::path(get, path = "/v1/admin/orgs", tag = "admin", security(("bearer" = [])),
    params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = List<OrgView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_orgs(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Pagination(page): Pagination,
) -> Result<Json<List<OrgView>>, ApiError> {
    let page = state.tenantry.admin_list_orgs(&page).await?;
    Ok(list(page, |org| OrgView::plain(&org)))
}

/// The email outbox, newest first.
#[utoipa::path(get, path = "/v1/admin/outbox", tag = "admin", security(("bearer" = [])),
    params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = List<OutboxView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_outbox(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Pagination(page): Pagination,
) -> Result<Json<List<OutboxView>>, ApiError> {
    let page = state.tenantry.admin_list_outbox(&page).await?;
    Ok(list(page, OutboxView::from))
}
