//! The web dashboard (SPEC 15): server-rendered pages where the SaaS's own users manage their
//! organizations, from the same binary and with no front-end build.
//!
//! Every page handler reads `Ctx` (session, anti-forgery value, notice), calls the same service
//! functions as the JSON API and renders an askama template checked at compile time; no rule
//! lives here. Every action is a plain form POSTed with the anti-forgery field and answered
//! with a redirect (POST-redirect-GET), or with the page again showing the refusal beside the
//! field it names. The one script only adds conveniences such as copy buttons.

/// The value of a `Result<T, Response>`, or return the response.
macro_rules! or_respond {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(response) => return response,
        }
    };
}

/// The value of a service call, or return the page that explains its refusal.
macro_rules! shown_or_error {
    ($ctx:expr, $result:expr) => {
        match $result {
            Ok(value) => value,
            Err(error) => return $crate::dashboard::error_page(&$ctx, error),
        }
    };
}

mod account;
mod admin;
mod admin_webhooks;
mod api_keys;
mod audit;
mod auth;
mod billing;
mod context;
mod gzip;
mod member_rows;
mod members;
mod orgs;
mod pieces;
mod roles;
mod security;
mod session;
mod settings;
mod shell;
pub mod site;
mod teams;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use tenantry_core::Error;

pub(crate) use self::auth::after_login;
pub(crate) use self::context::Ctx;
pub(crate) use self::session::{sign_in_cookies, sign_out_cookies};
pub(crate) use self::shell::{Problem, Shell};
use crate::error::ApiError;
use crate::routes::pages::describe;
use crate::state::AppState;

pub use site::{Branding, Site};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(landing))
        .route("/assets/{file}", get(asset))
        .route("/login", get(auth::show_login).post(auth::login))
        .route("/login/mfa", post(auth::login_mfa))
        .route("/signup", get(auth::show_signup).post(auth::signup))
        .route("/forgot-password", get(auth::show_forgot).post(auth::forgot))
        .route("/logout", get(auth::show_logout).post(auth::logout))
        .route("/app", get(orgs::home))
        .route("/app/switch", post(orgs::switch))
        .route("/app/new-org", get(orgs::show_new_org).post(orgs::create_org))
        .route("/app/org/{slug}", get(orgs::overview))
        .route("/app/org/{slug}/members", get(members::list))
        .route("/app/org/{slug}/members/{user}/role", post(members::change_role))
        .route("/app/org/{slug}/members/{user}/status", post(members::change_status))
        .route("/app/org/{slug}/members/{user}/remove", get(members::confirm_remove).post(members::remove))
        .route("/app/org/{slug}/invitations", post(members::invite))
        .route("/app/org/{slug}/invitations/{id}/resend", post(members::resend_invitation))
        .route("/app/org/{slug}/invitations/{id}/revoke", post(members::revoke_invitation))
        .route("/app/account", get(account::show))
        .route("/app/account/password", post(account::change_password))
        .route("/app/account/verification", post(account::resend_verification))
        .route("/app/account/mfa", get(security::show_setup).post(security::start))
        .route("/app/account/mfa/confirm", post(security::confirm))
        .route("/app/account/mfa/disable", post(security::disable))
        .route("/app/account/sessions/{id}/revoke", post(security::revoke_session))
        .route("/app/account/sessions/revoke-others", post(security::revoke_others))
        .route("/admin", get(admin::home))
        .route("/admin/login", post(admin::login))
        .route("/admin/logout", post(admin::logout))
        .route("/admin/orgs", get(admin::orgs))
        .route("/admin/orgs/{org}/plan", post(admin::set_plan))
        .route("/admin/users", get(admin::users))
        .route("/admin/users/{user}/suspend", post(admin::suspend))
        .route("/admin/users/{user}/unsuspend", post(admin::unsuspend))
        .route("/admin/users/{user}/mfa-reset", post(admin::reset_mfa))
        .route("/admin/outbox", get(admin::outbox))
        .route("/admin/webhooks", get(admin_webhooks::list).post(admin_webhooks::create))
        .route("/admin/webhooks/{id}", get(admin_webhooks::show))
        .route("/admin/webhooks/{id}/test", post(admin_webhooks::test))
        .route("/admin/webhooks/{id}/rotate", post(admin_webhooks::rotate))
        .route("/admin/webhooks/{id}/enabled", post(admin_webhooks::set_enabled))
        .route("/admin/webhooks/{id}/delete", get(admin_webhooks::confirm_delete).post(admin_webhooks::delete))
        .route("/admin/webhooks/{id}/deliveries/{delivery}/redeliver", post(admin_webhooks::redeliver))
        .route("/app/org/{slug}/api-keys", get(api_keys::list).post(api_keys::create))
        .route("/app/org/{slug}/api-keys/{key}/roll", post(api_keys::roll))
        .route("/app/org/{slug}/api-keys/{key}/revoke", get(api_keys::confirm_revoke).post(api_keys::revoke))
        .route("/app/org/{slug}/teams", get(teams::list).post(teams::create))
        .route("/app/org/{slug}/teams/{team}", get(teams::show).post(teams::edit))
        .route("/app/org/{slug}/teams/{team}/members", post(teams::add_member))
        .route("/app/org/{slug}/teams/{team}/members/{user}/role", post(teams::change_role))
        .route("/app/org/{slug}/teams/{team}/members/{user}/remove", post(teams::remove_member))
        .route("/app/org/{slug}/teams/{team}/delete", get(teams::confirm_delete).post(teams::delete))
        .route("/app/org/{slug}/roles", get(roles::list).post(roles::create))
        .route("/app/org/{slug}/roles/{key}/delete", get(roles::confirm_delete).post(roles::delete))
        .route("/app/org/{slug}/billing", get(billing::show))
        .route("/app/org/{slug}/audit", get(audit::show))
        .route("/app/org/{slug}/audit/export", get(audit::export))
        .route("/app/org/{slug}/settings", get(settings::show).post(settings::save_document))
        .route("/app/org/{slug}/settings/general", post(settings::save_name))
        .route("/app/org/{slug}/settings/transfer", post(settings::transfer))
        .route("/app/org/{slug}/settings/test-notification", post(settings::test_notification))
        .route("/app/org/{slug}/settings/delete", get(settings::confirm_delete).post(settings::delete))
        .route("/app/org/{slug}/settings/leave", get(settings::confirm_leave).post(settings::leave))
        .route("/app/org/{slug}/billing/plan", post(billing::change_plan))
}

/// The page for a service's refusal: a visitor whose session ended goes to log in; an org or
/// object the viewer may not see is "not found", as in the API.
pub fn error_page(ctx: &Ctx, error: Error) -> Response {
    if matches!(error, Error::Unauthorized(_)) {
        return ctx.require_user().err().unwrap_or_else(|| ctx.redirect("/login", None));
    }
    let error = ApiError::from(error);
    let (title, text) = if error.status == StatusCode::NOT_FOUND {
        ("Not found".to_owned(), "There is nothing here, or it is not yours to see.".to_owned())
    } else {
        ("This could not be done".to_owned(), describe(&error))
    };
    message(ctx, error.status, &title, &text, true)
}

#[derive(Template)]
#[template(path = "dashboard/message.html")]
struct MessagePage {
    shell: Shell,
    text: String,
    error: bool,
    link_href: String,
    link_label: String,
}

/// A page with one message and a link on.
pub(crate) fn message(ctx: &Ctx, status: StatusCode, title: &str, text: &str, error: bool) -> Response {
    let (link_href, link_label) = if ctx.user.is_some() {
        ("/app".to_owned(), "Back to your organizations".to_owned())
    } else {
        ("/login".to_owned(), "Log in".to_owned())
    };
    let page = MessagePage { shell: ctx.shell(title), text: text.to_owned(), error, link_href, link_label };
    ctx.page(status, &page)
}

/// A form with repeated fields (checkboxes), as its name-value pairs.
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, empty when absent.
    pub fn one(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// Every value of `name`, in the form's order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
}

/// A form that carries nothing but the anti-forgery field: a button.
#[derive(serde::Deserialize)]
pub struct NoFields {}

/// A field the person must type to confirm (a password, the org's slug).
pub struct Typed {
    pub name: &'static str,
    pub label: String,
    pub kind: &'static str,
    pub required: bool,
}

/// A confirmation before a destructive action.
pub struct Confirm {
    pub question: String,
    pub action: String,
    pub confirm_label: String,
    pub back: String,
    pub typed: Option<Typed>,
}

#[derive(Template)]
#[template(path = "dashboard/confirm.html")]
struct ConfirmPage {
    shell: Shell,
    problem: Problem,
    question: String,
    action: String,
    confirm_label: String,
    back: String,
    typed: Option<Typed>,
}

pub fn confirm_page(ctx: Ctx, shell: Shell, confirm: Confirm, status: StatusCode, problem: Problem) -> Response {
    let page = ConfirmPage {
        shell,
        problem,
        question: confirm.question,
        action: confirm.action,
        confirm_label: confirm.confirm_label,
        back: confirm.back,
        typed: confirm.typed,
    };
    ctx.page(status, &page)
}

/// A time as pages show it.
pub fn date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The day alone, where the time adds nothing and a page shows it fifty times (members' joining).
pub fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

#[derive(Template)]
#[template(path = "dashboard/landing.html")]
struct LandingPage {
    shell: Shell,
}

/// `GET /`: where a person or a developer landing on the server is pointed on.
async fn landing(ctx: Ctx) -> Response {
    if ctx.user.is_some() {
        return ctx.redirect("/app", None);
    }
    let page = LandingPage { shell: ctx.shell("Welcome") };
    ctx.page(StatusCode::OK, &page)
}

/// The stylesheet and the script, named by their content so they can be cached for a year.
async fn asset(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    match state.site.asset(&format!("/assets/{file}")) {
        Some(asset) => {
            let mut response = asset.body.clone().into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
            headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            response
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
