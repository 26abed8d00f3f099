//! `/admin/webhooks`: the instance's webhook endpoints in the admin console, calling the same
//! services as `/v1/admin/webhooks`: create one (its secret shown once), see each delivery with
//! its outcome, send a test, send one again, rotate the secret, disable, enable and delete.
//!
//! A new secret reaches the next page as an API key's does (see `api_keys.rs`): in a cookie that
//! lives a minute, is sent only to the console's webhook pages and is cleared when shown.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tenantry_core::domain::host_event::EventTypes;
use tenantry_core::domain::ids::{DeliveryId, WebhookId};
use tenantry_core::domain::pagination::PageRequest;
use tenantry_core::domain::webhook::WebhookEndpoint;
use tenantry_core::service::webhooks::{NewWebhook, WebhookChanges};

use super::admin::{not_signed_in, Admin};
use super::context::{encode, Ctx};
use super::shell::{AdminSection, Problem, Shell};
use super::{confirm_page, date, Confirm, NoFields};
use crate::extract::path_id;
use crate::routes::pages::{cookie, Form};
use crate::state::AppState;
use crate::webhooks::guard;

const REVEAL_COOKIE: &str = "tenantry_new_webhook_secret";
const LIST: &str = "/admin/webhooks";

struct EndpointRow {
    id: String,
    url: String,
    description: String,
    event_types: String,
    enabled: bool,
    state: String,
}

fn row(e: &WebhookEndpoint) -> EndpointRow {
    let state = match (&e.disabled_at, &e.failing_since) {
        (Some(at), _) => format!("disabled {}", date(*at)),
        (None, Some(since)) => format!("failing since {}", date(*since)),
        (None, None) => "enabled".to_owned(),
    };
    EndpointRow {
        id: e.id.to_string(),
        url: e.url.clone(),
        description: e.description.clone(),
        event_types: if e.event_types.entries().is_empty() {
            "every type".to_owned()
        } else {
            e.event_types.entries().join(", ")
        },
        enabled: e.is_enabled(),
        state,
    }
}

#[derive(Template)]
#[template(path = "dashboard/admin_webhooks.html")]
struct EndpointsPage {
    shell: Shell,
    problem: Problem,
    revealed: Option<String>,
    endpoints: Vec<EndpointRow>,
    url: String,
    event_types: String,
    description: String,
}

struct DeliveryRow {
    id: String,
    event_type: String,
    status: &'static str,
    attempts: u32,
    created: String,
    last_attempt: String,
    next_attempt: String,
    response: String,
    latency: String,
    error: String,
    body: String,
}

#[derive(Template)]
#[template(path = "dashboard/admin_webhook.html")]
struct EndpointPage {
    shell: Shell,
    problem: Problem,
    revealed: Option<String>,
    endpoint: EndpointRow,
    disabled_reason: String,
    deliveries: Vec<DeliveryRow>,
}

fn reveal_cookie(ctx: &Ctx, value: &str, max_age: i64) -> String {
    let secure = if ctx.state.site.secure_cookies { "; Secure" } else { "" };
    format!("{REVEAL_COOKIE}={value}; Max-Age={max_age}; Path={LIST}; HttpOnly; SameSite=Strict{secure}")
}

/// The secret a form just made, once: the cookie is cleared as it is shown.
fn take_revealed(ctx: &mut Ctx, headers: &HeaderMap) -> Option<String> {
    let secret = cookie(headers, REVEAL_COOKIE).filter(|s| !s.is_empty()).map(str::to_owned)?;
    let clear = reveal_cookie(ctx, "", 0);
    ctx.add_cookies([clear]);
    Some(secret)
}

fn reveal(mut ctx: Ctx, secret: &str, to: &str, notice: &str) -> Response {
    let cookie = reveal_cookie(&ctx, secret, 60);
    ctx.add_cookies([cookie]);
    ctx.redirect(to, Some(notice))
}

fn endpoint_path(id: &str) -> String {
    format!("{LIST}/{}", encode(id))
}

/// What the create form held, to show it again after a refusal.
#[derive(Default, Deserialize)]
pub struct CreateForm {
    url: String,
    event_types: String,
    description: String,
}

/// `GET /admin/webhooks`.
pub async fn list(mut ctx: Ctx, Admin(admin): Admin, headers: HeaderMap) -> Response {
    if !admin {
        return not_signed_in(&ctx, LIST);
    }
    let revealed = take_revealed(&mut ctx, &headers);
    render_list(ctx, StatusCode::OK, Problem::none(), revealed, CreateForm::default()).await
}

async fn render_list(
    ctx: Ctx,
    status: StatusCode,
    problem: Problem,
    revealed: Option<String>,
    form: CreateForm,
) -> Response {
    let (endpoints, status, problem) = match ctx.state.tenantry.webhooks().list_webhooks().await {
        Ok(found) => (found.iter().map(row).collect(), status, problem),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            (Vec::new(), status, problem)
        }
    };
    let page = EndpointsPage {
        shell: ctx.shell("Webhooks").with_admin_nav(AdminSection::Webhooks),
        problem,
        revealed,
        endpoints,
        url: form.url,
        event_types: form.event_types,
        description: form.description,
    };
    ctx.page(status, &page)
}

fn refused(field: &str, message: String) -> Problem {
    Problem { field: Some(field.into()), message: Some(message) }
}

/// `POST /admin/webhooks`: `url`, `event_types` (comma-separated), `description`.
pub async fn create(
    ctx: Ctx,
    Admin(admin): Admin,
    State(state): State<AppState>,
    Form(form): Form<CreateForm>,
) -> Response {
    if !admin {
        return not_signed_in(&ctx, LIST);
    }
    let types = match EventTypes::parse_list(&form.event_types) {
        Ok(types) => types,
        Err(message) => {
            return render_list(ctx, StatusCode::BAD_REQUEST, refused("event_types", message), None, form).await
        }
    };
    let url = match guard::checked_target(form.url.trim(), state.allow_private_targets).await {
        Ok(url) => url,
        Err(message) => {
            let problem = refused("url", format!("The URL {message}."));
            return render_list(ctx, StatusCode::BAD_REQUEST, problem, None, form).await;
        }
    };
    let new = NewWebhook { url, event_types: types, description: form.description.trim().to_owned() };
    match state.tenantry.webhooks().create_webhook(&ctx.meta, new).await {
        Ok(created) => {
            let to = endpoint_path(&created.endpoint.id.to_string());
            reveal(ctx, &created.secret, &to, "The endpoint is created. Copy its signing secret now.")
        }
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            render_list(ctx, status, problem, None, form).await
        }
    }
}

/// `GET /admin/webhooks/{id}`: the endpoint and its latest deliveries.
pub async fn show(mut ctx: Ctx, Admin(admin): Admin, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if !admin {
        return not_signed_in(&ctx, &ctx.here.clone());
    }
    let revealed = take_revealed(&mut ctx, &headers);
    render_endpoint(ctx, &id, StatusCode::OK, Problem::none(), revealed).await
}

async fn render_endpoint(
    ctx: Ctx,
    id: &str,
    status: StatusCode,
    problem: Problem,
    revealed: Option<String>,
) -> Response {
    let tenantry = &ctx.state.tenantry;
    let found = match id.parse::<WebhookId>() {
        Ok(id) => tenantry.webhooks().get_webhook(id).await,
        Err(_) => Err(tenantry_core::Error::NotFound("webhook endpoint")),
    };
    let endpoint = match found {
        Ok(endpoint) => endpoint,
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            return render_list(ctx, status, problem, None, CreateForm::default()).await;
        }
    };
    let listed = tenantry.webhooks().list_deliveries(endpoint.id, &PageRequest::first(50)).await;
    let (deliveries, status, problem) = match listed {
        Ok(page) => (page.items, status, problem),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            (Vec::new(), status, problem)
        }
    };
    let deliveries = deliveries
        .into_iter()
        .map(|d| DeliveryRow {
            id: d.id.to_string(),
            event_type: d.event_type,
            status: d.status.as_str(),
            attempts: d.attempts,
            created: date(d.created_at),
            last_attempt: d.last_attempt_at.map_or_else(|| "not yet".to_owned(), date),
            next_attempt: d.next_attempt_at.map_or_else(String::new, date),
            response: d.response_status.map_or_else(|| "no answer".to_owned(), |s| s.to_string()),
            latency: d.latency_ms.map_or_else(String::new, |ms| format!("{ms} ms")),
            error: d.last_error.unwrap_or_default(),
            body: d.response_body.unwrap_or_default(),
        })
        .collect();
    let page = EndpointPage {
        shell: ctx.shell("Webhook endpoint").with_admin_nav(AdminSection::Webhooks),
        problem,
        revealed,
        disabled_reason: endpoint.disabled_reason.clone().unwrap_or_default(),
        endpoint: row(&endpoint),
        deliveries,
    };
    ctx.page(status, &page)
}

/// What a console action on one endpoint did, or the endpoint's page with why not.
async fn after(ctx: Ctx, id: &str, done: tenantry_core::Result<String>) -> Response {
    match done {
        Ok(notice) => ctx.redirect(&endpoint_path(id), Some(&notice)),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            render_endpoint(ctx, id, status, problem, None).await
        }
    }
}

fn parsed(id: &str) -> tenantry_core::Result<WebhookId> {
    path_id(id, "webhook endpoint")
}

/// `POST /admin/webhooks/{id}/test`.
pub async fn test(ctx: Ctx, Admin(admin): Admin, Path(id): Path<String>, Form(_): Form<NoFields>) -> Response {
    if !admin {
        return not_signed_in(&ctx, LIST);
    }
    let tenantry = ctx.state.tenantry.clone();
    let done = async {
        tenantry.webhooks().send_test_webhook(parsed(&id)?).await.map(|_| "A test event is on its way.".to_owned())
    };
    let done = done.await;
    after(ctx, &id, done).await
}

/// `POST /admin/webhooks/{id}/rotate`: a new secret, shown once.
pub async fn rotate(ctx: Ctx, Admin(admin): Admin, Path(id): Path<String>, Form(_): Form<NoFields>) -> Response {
    if !admin {
        return not_signed_in(&ctx, LIST);
    }
    let tenantry = ctx.state.tenantry.clone();
    let rotated = async { tenantry.webhooks().rotate_webhook_secret(&ctx.meta, parsed(&id)?).await }.await;
    match rotated {
        Ok(rotated) => reveal(
            ctx,
            &rotated.secret,
            &endpoint_path(&id),
            "A new secret signs from now on; the previous one also signs for 24 hours.",
        ),
        Err(error) => after(ctx, &id, Err(error)).await,
    }
}

#[derive(Deserialize)]
pub struct EnabledForm {
    enabled: String,
}

/// `POST /admin/webhooks/{id}/enabled`: `enabled` is `true` or `false`.
pub async fn set_enabled(
    ctx: Ctx,
    Admin(admin): Admin,
    Path(id): Path<String>,
    Form(form): Form<EnabledForm>,
) -> Response {
    if !admin {
        return not_signed_in(&ctx, LIST);
    }
    let enabled = form.enabled == "true";
    let tenantry = ctx.state.tenantry.clone();
    let changes = WebhookChanges { enabled: Some(enabled), ..WebhookChanges::default() };
    let done = async { tenantry.webhooks().update_webhook(&ctx.meta, parsed(&id)?, changes).await }.await;
    let notice =
        if enabled { "The endpoint is enabled." } else { "The endpoint is disabled: nothing more is sent to it." };
    after(ctx, &id, done.map(|_| notice.to_owned())).await
}

/// `GET /admin/webhooks/{id}/delete`: the confirmation.
pub async fn confirm_delete(ctx: Ctx, Admin(admin): Admin, Path(id): Path<String>) -> Response {
    if !admin {
        return not_signed_in(&ctx, LIST);
    }
    let shell = ctx.shell("Delete webhook endpoint").with_admin_nav(AdminSection::Webhooks);
    let confirm = Confirm {
        question: "Delete this endpoint and the record of its deliveries? Nothing more is sent to it.".into(),
        action: format!("{}/delete", endpoint_path(&id)),
        confirm_label: "Delete endpoint".into(),
        back: endpoint_path(&id),
        typed: None,
    };
    confirm_page(ctx, shell, confirm, StatusCode::OK, Problem::none())
}

/// `POST /admin/webhooks/{id}/delete`.
pub async fn delete(ctx: Ctx, Admin(admin): Admin, Path(id): Path<String>, Form(_): Form<NoFields>) -> Response {
    if !admin {
        return not_signed_in(&ctx, LIST);
    }
    let tenantry = ctx.state.tenantry.clone();
    match async { tenantry.webhooks().delete_webhook(&ctx.meta, parsed(&id)?).await }.await {
        Ok(()) => ctx.redirect(LIST, Some("The endpoint is deleted.")),
        Err(error) => after(ctx, &id, Err(error)).await,
    }
}

/// `POST /admin/webhooks/{id}/deliveries/{delivery}/redeliver`.
pub async fn redeliver(
    ctx: Ctx,
    Admin(admin): Admin,
    Path((id, delivery)): Path<(String, String)>,
    Form(_): Form<NoFields>,
) -> Response {
    if !admin {
        return not_signed_in(&ctx, LIST);
    }
    let tenantry = ctx.state.tenantry.clone();
    let done = async {
        let delivery: DeliveryId = path_id(&delivery, "delivery")?;
        tenantry.webhooks().redeliver(parsed(&id)?, delivery).await
    }
    .await;
    after(ctx, &id, done.map(|_| "The message is on its way again.".to_owned())).await
}
