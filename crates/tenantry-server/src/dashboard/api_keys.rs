//! `/app/org/{slug}/api-keys`: create a key with scopes from the catalog, see its secret once,
//! roll and revoke keys, and see when each was last used.
//!
//! The secret of a new or rolled key reaches the next page in a cookie that lives a minute,
//! is sent only to this page and is cleared when shown: the form is answered with a redirect
//! (so a reload does not create a second key), no secret goes into a URL, and a reload of the
//! page no longer shows it.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Duration;
use serde::Deserialize;
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::domain::pagination::PageRequest;
use tenantry_core::service::api_keys::NewKey;

use super::context::{encode, Ctx};
use super::orgs::OrgPage;
use super::shell::{Problem, Section, Shell};
use super::{confirm_page, date, Confirm, Fields, NoFields};
use crate::extract::path_id;
use crate::routes::pages::{cookie, Form};
use crate::state::AppState;

const REVEAL_COOKIE: &str = "tenantry_new_key";

struct Revealed {
    name: String,
    secret: String,
}

struct ScopeChoice {
    key: String,
    description: String,
    checked: bool,
}

struct KeyRow {
    id: String,
    name: String,
    prefix: String,
    scopes: String,
    last_used: String,
    expires: String,
    state: &'static str,
    active: bool,
}

#[derive(Template)]
#[template(path = "dashboard/api_keys.html")]
struct KeysPage {
    shell: Shell,
    problem: Problem,
    slug: String,
    revealed: Option<Revealed>,
    name: String,
    scopes: Vec<ScopeChoice>,
    prefixes: Vec<String>,
    keys: Vec<KeyRow>,
    next_href: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    cursor: Option<String>,
}

fn reveal_path(slug: &str) -> String {
    format!("/app/org/{slug}/api-keys")
}

fn reveal_cookie(ctx: &Ctx, slug: &str, value: &str, max_age: i64) -> String {
    let secure = if ctx.state.site.secure_cookies { "; Secure" } else { "" };
    format!("{REVEAL_COOKIE}={value}; Max-Age={max_age}; Path={}; HttpOnly; SameSite=Strict{secure}", reveal_path(slug))
}

pub async fn list(
    mut ctx: Ctx,
    Path(slug): Path<String>,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> Response {
    // `name:secret`, both URL-safe, set by the form that made the key.
    let revealed = cookie(&headers, REVEAL_COOKIE).and_then(|raw| {
        let (name, secret) = raw.split_once(':')?;
        let name = form_urlencoded::parse(format!("n={name}").as_bytes()).next()?.1.into_owned();
        Some(Revealed { name, secret: secret.to_owned() })
    });
    if revealed.is_some() {
        let clear = reveal_cookie(&ctx, &slug, "", 0);
        ctx.add_cookies([clear]);
    }
    render(ctx, &slug, query, StatusCode::OK, Problem::none(), revealed, FormState::default()).await
}

/// What the create form held, to show it again after a refusal.
#[derive(Default)]
struct FormState {
    name: String,
    scopes: Vec<String>,
}

async fn render(
    ctx: Ctx,
    slug: &str,
    query: ListQuery,
    status: StatusCode,
    problem: Problem,
    revealed: Option<Revealed>,
    form: FormState,
) -> Response {
    let page = or_respond!(OrgPage::open(&ctx, slug, Section::ApiKeys, "API keys").await);
    let tenantry = &ctx.state.tenantry;
    let request = PageRequest::parse(query.cursor.as_deref(), Some(100))
        .unwrap_or_else(|_| PageRequest::parse(None, Some(100)).expect("a valid page request"));
    let listed =
        shown_or_error!(ctx, tenantry.api_keys().list_api_keys(&page.principal, &page.org_ref(), &request).await);
    let now = tenantry.clock().now();
    let preset = tenantry.preset();
    let scopes = preset
        .catalog
        .keys()
        .iter()
        .filter(|key| tenantry.directory().holds_key(&page.access, key))
        .map(|key| ScopeChoice {
            key: key.clone(),
            description: preset.permission_descriptions.get(key).cloned().unwrap_or_default(),
            checked: form.scopes.contains(key),
        })
        .collect();
    let keys = listed
        .items
        .iter()
        .map(|k| {
            let (state, active) = if k.revoked_at.is_some() {
                ("revoked", false)
            } else if k.expires_at.is_some_and(|at| at <= now) {
                ("expired", false)
            } else {
                ("active", true)
            };
            KeyRow {
                id: k.id.to_string(),
                name: k.name.clone(),
                prefix: k.prefix.clone(),
                scopes: k.scopes.join(", "),
                last_used: k.last_used_at.map_or_else(|| "never".to_owned(), date),
                expires: k.expires_at.map_or_else(|| "never".to_owned(), date),
                state,
                active,
            }
        })
        .collect();
    let next_href =
        listed.next_cursor.as_ref().map(|c| format!("/app/org/{}/api-keys?cursor={}", page.slug(), encode(c)));
    let view = KeysPage {
        problem,
        slug: page.slug().to_owned(),
        revealed,
        name: form.name,
        scopes,
        prefixes: preset.api_key_prefixes.clone(),
        keys,
        next_href,
        shell: page.shell,
    };
    ctx.page(status, &view)
}

/// Answers a form that made a key (or a new secret for one) with a redirect to the list,
/// which shows the secret once.
fn reveal(mut ctx: Ctx, slug: &str, name: &str, secret: &str, notice: &str) -> Response {
    let value = format!("{}:{secret}", encode(name));
    let cookie = reveal_cookie(&ctx, slug, &value, 60);
    ctx.add_cookies([cookie]);
    ctx.redirect(&reveal_path(slug), Some(notice))
}

/// The create form: `name`, `scopes` (repeated), `prefix`, `expires_in_days`.
pub async fn create(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let fields = Fields(fields);
    let scopes = fields.all("scopes");
    let name = fields.one("name");
    let expires_in_days = fields.one("expires_in_days");
    let expires_at = match Some(expires_in_days).filter(|d| !d.is_empty()).map(|d| d.parse::<i64>()) {
        None => None,
        Some(Ok(days)) if (1..=3650).contains(&days) => Some(state.tenantry.clock().now() + Duration::days(days)),
        Some(_) => {
            let problem = Problem {
                field: Some("expires_in_days".into()),
                message: Some("Choose an expiry from the list.".into()),
            };
            let form = FormState { name, scopes };
            return render(ctx, &slug, ListQuery::default(), StatusCode::BAD_REQUEST, problem, None, form).await;
        }
    };
    let new = NewKey {
        name: name.clone(),
        scopes: scopes.clone(),
        expires_at,
        prefix: Some(fields.one("prefix")).filter(|p| !p.is_empty()),
    };
    match state.tenantry.api_keys().create_api_key(&principal, &OrgRef::from(slug.as_str()), new, &ctx.meta).await {
        Ok(issued) => reveal(ctx, &slug, &issued.key.name, &issued.secret, "The key was created."),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            render(ctx, &slug, ListQuery::default(), status, problem, None, FormState { name, scopes }).await
        }
    }
}

#[derive(Deserialize)]
pub struct RollForm {
    old_expires_in: i64,
}

pub async fn roll(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((slug, key)): Path<(String, String)>,
    Form(form): Form<RollForm>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    // The service checks the range; the choices offered are 0, an hour and a day.
    let org = OrgRef::from(slug.as_str());
    let rolled = async {
        state
            .tenantry
            .api_keys()
            .roll_api_key(&principal, &org, path_id(&key, "API key")?, Some(form.old_expires_in), &ctx.meta)
            .await
    };
    match rolled.await {
        Ok(issued) => {
            reveal(ctx, &slug, &issued.key.name, &issued.secret, "The key was rolled; here is its new secret.")
        }
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            render(ctx, &slug, ListQuery::default(), status, problem, None, FormState::default()).await
        }
    }
}

pub async fn confirm_revoke(ctx: Ctx, Path((slug, key)): Path<(String, String)>) -> Response {
    let page = or_respond!(OrgPage::open(&ctx, &slug, Section::ApiKeys, "Revoke API key").await);
    let confirm = Confirm {
        question: "Revoke this key? Requests made with it are refused from the next one on, on every node. \
                   This cannot be undone."
            .into(),
        action: format!("/app/org/{slug}/api-keys/{key}/revoke"),
        confirm_label: "Revoke key".into(),
        back: reveal_path(&slug),
        typed: None,
    };
    confirm_page(ctx, page.shell, confirm, StatusCode::OK, Problem::none())
}

pub async fn revoke(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((slug, key)): Path<(String, String)>,
    Form(_): Form<NoFields>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let org = OrgRef::from(slug.as_str());
    match async {
        state.tenantry.api_keys().revoke_api_key(&principal, &org, path_id(&key, "API key")?, &ctx.meta).await
    }
    .await
    {
        Ok(()) => ctx.redirect(&reveal_path(&slug), Some("The key was revoked.")),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            render(ctx, &slug, ListQuery::default(), status, problem, None, FormState::default()).await
        }
    }
}
