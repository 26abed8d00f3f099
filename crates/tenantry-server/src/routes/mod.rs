//! One module per capability; `api` merges them into the documented router.

pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod authorize;
pub mod events;
pub mod invitations;
pub mod members;
pub mod meta;
mod mfa;
pub mod notifications;
pub mod orgs;
pub mod ownership;
pub mod pages;
pub mod plans;
pub mod roles;
pub mod settings;
pub mod teams;
pub mod usage;
pub mod verify;
pub mod webhooks;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn api() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::new()
        .merge(meta::router())
        .merge(accounts::router())
        .merge(orgs::router())
        .merge(members::router())
        .merge(teams::router())
        .merge(roles::router())
        .merge(api_keys::router())
        .merge(invitations::router())
        .merge(pages::router())
        .merge(authorize::router())
        .merge(verify::router())
        .merge(admin::router())
        .merge(plans::router())
        .merge(usage::router())
        .merge(settings::router())
        .merge(ownership::router())
        .merge(audit::router())
        .merge(events::router())
        .merge(webhooks::router())
        .merge(notifications::router())
        .merge(mfa::router());
    // The error answers shared by whole classes of operations, once every operation is known
    // (the `ApiDoc` modifiers run before the routes add their paths).
    utoipa::Modify::modify(&crate::openapi::CommonResponses, router.get_openapi_mut());
    router
}
