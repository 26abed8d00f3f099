//! `/admin`: the instance admin's console. Signing in takes the admin token, which then rides in
//! an HttpOnly cookie sent only to `/admin` and never from another site (SameSite=Strict), for a
//! limited time. Every page checks it exactly as the API checks a bearer token: by its hash
//! against the configured one. Orgs and users with search and pages, suspending users, setting an
//! org's plan and reading the email outbox all call the same services as `/v1/admin/*`; webhook
//! endpoints have their own module, `admin_webhooks`.

use askama::Template;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tenantry_core::domain::ids::{OrgRef, UserId};
use tenantry_core::domain::pagination::{Page, PageRequest};
use tenantry_core::domain::secret::hash_token;
use tenantry_core::service::Principal;

use super::context::{encode, safe_return_path, Ctx};
use super::date;
use super::shell::{AdminSection, Problem, Shell};
use crate::extract::path_id;
use crate::routes::pages::{cookie, Form};
use crate::security_events::Refused;
use crate::state::AppState;

const ADMIN_COOKIE: &str = "tenantry_admin";
/// How long a browser keeps the console open without signing in again.
const ADMIN_COOKIE_SECS: i64 = 60 * 60;
const PAGE_SIZE: u32 = 50;

/// Whether the request carries the admin token in the console's cookie.
pub struct Admin(pub bool);

impl FromRequestParts<AppState> for Admin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = cookie(&parts.headers, ADMIN_COOKIE).map(decode);
        Ok(Self(token.is_some_and(|token| is_admin_token(state, &token))))
    }
}

/// Compared by hash, as `crate::auth` compares a bearer token, so the time taken says nothing
/// about how much of the token was right.
fn is_admin_token(state: &AppState, token: &str) -> bool {
    hash_token(token) == state.credentials.admin_hash
}

fn decode(raw: &str) -> String {
    form_urlencoded::parse(format!("t={raw}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// The console's cookie: the configured token may hold any character, so it is percent-encoded.
fn admin_cookie(state: &AppState, token: &str, max_age: i64) -> String {
    let secure = if state.site.secure_cookies { "; Secure" } else { "" };
    let value: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
    format!("{ADMIN_COOKIE}={value}; Max-Age={max_age}; Path=/admin; HttpOnly; SameSite=Strict{secure}")
}

/// A return path inside the console, else its first page.
fn console_path(next: Option<&str>) -> String {
    let path = safe_return_path(next);
    if path == "/admin" || path.starts_with("/admin/") || path.starts_with("/admin?") {
        path
    } else {
        "/admin/orgs".to_owned()
    }
}

#[derive(Template)]
#[template(path = "dashboard/admin_login.html")]
struct LoginPage {
    shell: Shell,
    problem: Problem,
    next: String,
}

fn sign_in_page(ctx: &Ctx, status: StatusCode, problem: Problem, next: &str) -> Response {
    let page = LoginPage { shell: ctx.shell("Admin console"), problem, next: console_path(Some(next)) };
    ctx.page(status, &page)
}

/// What a visitor without the admin cookie sees on any console page.
pub(super) fn not_signed_in(ctx: &Ctx, next: &str) -> Response {
    sign_in_page(ctx, StatusCode::UNAUTHORIZED, Problem::none(), next)
}

/// `GET /admin`: the sign-in form, or on to the console.
pub async fn home(ctx: Ctx, Admin(admin): Admin) -> Response {
    if admin {
        return ctx.redirect("/admin/orgs", None);
    }
    sign_in_page(&ctx, StatusCode::OK, Problem::none(), "/admin/orgs")
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
    next: Option<String>,
}

pub async fn login(mut ctx: Ctx, State(state): State<AppState>, Form(form): Form<LoginForm>) -> Response {
    let next = console_path(form.next.as_deref());
    let token = form.token.trim();
    if !token.is_empty() && is_admin_token(&state, token) {
        ctx.add_cookies([admin_cookie(&state, token, ADMIN_COOKIE_SECS)]);
        return ctx.redirect(&next, Some("You are signed in to the admin console."));
    }
    let problem =
        Problem { field: Some("token".into()), message: Some("That is not the admin token of this instance.".into()) };
    let mut response = sign_in_page(&ctx, StatusCode::UNAUTHORIZED, problem, &next);
    // Recorded as the API records a wrong bearer token: a `security.unauthenticated` event.
    response.extensions_mut().insert(Refused { code: "unauthorized" });
    response
}

#[derive(Deserialize)]
pub struct Nothing {}

pub async fn logout(mut ctx: Ctx, State(state): State<AppState>, Form(_): Form<Nothing>) -> Response {
    ctx.add_cookies([admin_cookie(&state, "", 0)]);
    ctx.redirect("/admin", Some("You are signed out of the admin console."))
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    cursor: Option<String>,
}

impl ListQuery {
    fn text(&self) -> String {
        self.q.as_deref().unwrap_or_default().trim().to_owned()
    }

    /// The requested page; a cursor that is not ours starts over.
    fn page(&self) -> PageRequest {
        PageRequest::parse(self.cursor.as_deref(), Some(PAGE_SIZE)).unwrap_or_else(|_| PageRequest::first(PAGE_SIZE))
    }
}

/// The listing `result`, or an empty one with the refusal shown (a search text too long).
fn listed<T>(result: tenantry_core::Result<Page<T>>) -> (Page<T>, StatusCode, Problem) {
    match result {
        Ok(page) => (page, StatusCode::OK, Problem::none()),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            (Page { items: Vec::new(), next_cursor: None }, status, problem)
        }
    }
}

/// The link to the next page of a listing at `path`, keeping the search.
fn next_href(path: &str, next_cursor: Option<&String>, text: &str) -> Option<String> {
    next_cursor.map(|cursor| {
        let search = if text.is_empty() { String::new() } else { format!("&q={}", encode(text)) };
        format!("{path}?cursor={}{search}", encode(cursor))
    })
}

/// Where a form on a listing returns: the listing, with the search it was sent from.
fn back_to(path: &str, q: Option<&str>) -> String {
    match q.map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => format!("{path}?q={}", encode(q)),
        None => path.to_owned(),
    }
}

struct PlanOption {
    key: String,
    name: String,
}

struct OrgRow {
    id: String,
    name: String,
    slug: String,
    plan: String,
    personal: bool,
    members: u64,
    created: String,
}

#[derive(Template)]
#[template(path = "dashboard/admin_orgs.html")]
struct OrgsPage {
    shell: Shell,
    problem: Problem,
    query: String,
    query_encoded: String,
    orgs: Vec<OrgRow>,
    plans: Vec<PlanOption>,
    next_href: Option<String>,
    first_page: bool,
}

pub async fn orgs(ctx: Ctx, Admin(admin): Admin, Query(query): Query<ListQuery>) -> Response {
    if !admin {
        return not_signed_in(&ctx, &ctx.here);
    }
    render_orgs(ctx, query, StatusCode::OK, Problem::none()).await
}

async fn render_orgs(ctx: Ctx, query: ListQuery, status: StatusCode, problem: Problem) -> Response {
    let tenantry = &ctx.state.tenantry;
    let text = query.text();
    let search = Some(text.as_str()).filter(|t| !t.is_empty());
    let (found, list_status, list_problem) = listed(tenantry.admin().admin_list_orgs(search, &query.page()).await);
    let (status, problem) = if problem.message.is_some() { (status, problem) } else { (list_status, list_problem) };
    let orgs = found
        .items
        .iter()
        .map(|org| OrgRow {
            id: org.id.to_string(),
            name: org.name.clone(),
            slug: org.slug.to_string(),
            plan: org.plan.clone(),
            personal: org.is_personal,
            members: org.seat_count,
            created: date(org.created_at),
        })
        .collect();
    let plans =
        tenantry.plans().list_plans().iter().map(|p| PlanOption { key: p.key.clone(), name: p.name.clone() }).collect();
    let page = OrgsPage {
        shell: ctx.shell("Organizations").with_admin_nav(AdminSection::Orgs),
        problem,
        next_href: next_href("/admin/orgs", found.next_cursor.as_ref(), &text),
        first_page: query.cursor.is_none(),
        query_encoded: encode(&text),
        query: text,
        orgs,
        plans,
    };
    ctx.page(status, &page)
}

#[derive(Deserialize)]
pub struct PlanForm {
    plan: String,
    q: Option<String>,
}

pub async fn set_plan(
    ctx: Ctx,
    Admin(admin): Admin,
    State(state): State<AppState>,
    Path(org): Path<String>,
    Form(form): Form<PlanForm>,
) -> Response {
    if !admin {
        return not_signed_in(&ctx, "/admin/orgs");
    }
    match state
        .tenantry
        .plans()
        .change_plan(&Principal::Admin, &OrgRef::from(org.as_str()), &form.plan, &ctx.meta)
        .await
    {
        Ok(access) => {
            let plan = state.tenantry.plans().list_plans().iter().find(|p| p.key == access.org.plan);
            let notice = format!(
                "{} is now on the {} plan.",
                access.org.name,
                plan.map_or(access.org.plan.as_str(), |p| p.name.as_str())
            );
            ctx.redirect(&back_to("/admin/orgs", form.q.as_deref()), Some(&notice))
        }
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            render_orgs(ctx, ListQuery { q: form.q, cursor: None }, status, problem).await
        }
    }
}

struct UserRow {
    id: String,
    name: String,
    email: String,
    verified: bool,
    suspended: bool,
    created: String,
}

#[derive(Template)]
#[template(path = "dashboard/admin_users.html")]
struct UsersPage {
    shell: Shell,
    problem: Problem,
    query: String,
    query_encoded: String,
    users: Vec<UserRow>,
    next_href: Option<String>,
    first_page: bool,
}

pub async fn users(ctx: Ctx, Admin(admin): Admin, Query(query): Query<ListQuery>) -> Response {
    if !admin {
        return not_signed_in(&ctx, &ctx.here);
    }
    render_users(ctx, query, StatusCode::OK, Problem::none()).await
}

async fn render_users(ctx: Ctx, query: ListQuery, status: StatusCode, problem: Problem) -> Response {
    let text = query.text();
    let search = Some(text.as_str()).filter(|t| !t.is_empty());
    let (found, list_status, list_problem) =
        listed(ctx.state.tenantry.admin().admin_list_users(search, &query.page()).await);
    let (status, problem) = if problem.message.is_some() { (status, problem) } else { (list_status, list_problem) };
    let users = found
        .items
        .iter()
        .map(|user| UserRow {
            id: user.id.to_string(),
            name: user.display_name.clone(),
            email: user.email.as_str().to_owned(),
            verified: user.email_verified_at.is_some(),
            suspended: user.status == tenantry_core::domain::models::UserStatus::Suspended,
            created: date(user.created_at),
        })
        .collect();
    let page = UsersPage {
        shell: ctx.shell("Users").with_admin_nav(AdminSection::Users),
        problem,
        next_href: next_href("/admin/users", found.next_cursor.as_ref(), &text),
        first_page: query.cursor.is_none(),
        query_encoded: encode(&text),
        query: text,
        users,
    };
    ctx.page(status, &page)
}

#[derive(Deserialize)]
pub struct BackForm {
    q: Option<String>,
}

pub async fn suspend(
    ctx: Ctx,
    admin: Admin,
    State(state): State<AppState>,
    Path(user): Path<String>,
    Form(form): Form<BackForm>,
) -> Response {
    set_suspended(ctx, admin, state, user, form, true).await
}

pub async fn unsuspend(
    ctx: Ctx,
    admin: Admin,
    State(state): State<AppState>,
    Path(user): Path<String>,
    Form(form): Form<BackForm>,
) -> Response {
    set_suspended(ctx, admin, state, user, form, false).await
}

async fn set_suspended(
    ctx: Ctx,
    Admin(admin): Admin,
    state: AppState,
    user: String,
    form: BackForm,
    suspended: bool,
) -> Response {
    if !admin {
        return not_signed_in(&ctx, "/admin/users");
    }
    let done =
        async { state.tenantry.admin().admin_set_suspended(path_id(&user, "user")?, suspended, &ctx.meta).await }.await;
    match done {
        Ok(user) => {
            let notice = if suspended {
                format!("{} is suspended: every session ended and they cannot log in.", user.email.as_str())
            } else {
                format!("{} may log in again.", user.email.as_str())
            };
            ctx.redirect(&back_to("/admin/users", form.q.as_deref()), Some(&notice))
        }
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            render_users(ctx, ListQuery { q: form.q, cursor: None }, status, problem).await
        }
    }
}

/// Removes a user's two-step verification (a lost phone and lost recovery codes).
pub async fn reset_mfa(
    ctx: Ctx,
    Admin(admin): Admin,
    State(state): State<AppState>,
    Path(user): Path<String>,
    Form(form): Form<BackForm>,
) -> Response {
    if !admin {
        return not_signed_in(&ctx, "/admin/users");
    }
    let outcome = match user.parse::<UserId>() {
        Ok(id) => state.tenantry.mfa().reset_mfa(&Principal::Admin, &id, &ctx.meta).await,
        Err(_) => Err(tenantry_core::Error::NotFound("user")),
    };
    match outcome {
        Ok(()) => {
            let notice = "Two-step verification was removed and every session of the user ended; they log in with \
                          their password and may set it up again.";
            ctx.redirect(&back_to("/admin/users", form.q.as_deref()), Some(notice))
        }
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            render_users(ctx, ListQuery { q: form.q, cursor: None }, status, problem).await
        }
    }
}

struct MessageRow {
    to: String,
    subject: String,
    created: String,
    sent: Option<String>,
    attempts: u32,
    last_error: Option<String>,
    text: String,
}

#[derive(Template)]
#[template(path = "dashboard/admin_outbox.html")]
struct OutboxPage {
    shell: Shell,
    problem: Problem,
    messages: Vec<MessageRow>,
    next_href: Option<String>,
    first_page: bool,
}

/// `GET /admin/outbox`: the messages, newest first.
pub async fn outbox(ctx: Ctx, Admin(admin): Admin, Query(query): Query<ListQuery>) -> Response {
    if !admin {
        return not_signed_in(&ctx, &ctx.here);
    }
    let (found, status, problem) = listed(ctx.state.tenantry.admin().admin_list_outbox(&query.page()).await);
    let messages = found
        .items
        .iter()
        .map(|m| MessageRow {
            to: m.to.as_str().to_owned(),
            subject: m.subject.clone(),
            created: date(m.created_at),
            sent: m.sent_at.map(date),
            attempts: m.attempts,
            last_error: m.last_error.clone(),
            text: m.text.clone(),
        })
        .collect();
    let page = OutboxPage {
        shell: ctx.shell("Email outbox").with_admin_nav(AdminSection::Outbox),
        problem,
        messages,
        next_href: next_href("/admin/outbox", found.next_cursor.as_ref(), ""),
        first_page: query.cursor.is_none(),
    };
    ctx.page(status, &page)
}
