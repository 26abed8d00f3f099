//! One module per capability; `api` merges them into the documented router.

pub mod accounts;
pub mod admin;
pub mod meta;
pub mod orgs;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(meta::router()).merge(accounts::router()).merge(orgs::router()).merge(admin::router())
}
