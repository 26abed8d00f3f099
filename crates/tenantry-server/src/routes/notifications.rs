//! `/v1/orgs/{org}/notifications`: an org's notifications to its email, Slack and Telegram
//! channels (SPEC 16).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::service::notifications::{Notification, Severity};
use tenantry_types::notifications::{NotificationBody, NotificationView};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ClientMeta};
use crate::state::AppState;
use crate::views::{data, Data, ErrorBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(send_notification)).routes(routes!(send_test_notification))
}

/// Send a notification to the channels the org's settings name (service tokens granted
/// `notifications`). Delivery is retried; the answer says where it was queued.
#[utoipa::path(post, path = "/v1/orgs/{org}/notifications", tag = "notifications", security(("bearer" = [])),
    request_body(content = NotificationBody, example = json!({"subject": "Monitor api.example.com is down", "text": "No answer since 09:12 UTC.", "severity": "critical"})), params(("org" = String, Path, description = "org id or slug")),
    responses((status = 202, body = Data<NotificationView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn send_notification(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<NotificationBody>,
) -> Result<(StatusCode, Json<Data<NotificationView>>), ApiError> {
    let severity = match body.severity.as_deref() {
        None => Severity::Info,
        Some(s) => Severity::parse(s)
            .ok_or_else(|| ApiError::invalid("severity", "must be `info`, `warning` or `critical`"))?,
    };
    let notification = Notification { subject: body.subject, text: body.text, severity };
    let sent = state.tenantry.notifications().send_notification(&caller, &org, notification, &meta).await?;
    Ok((StatusCode::ACCEPTED, data(sent.into())))
}

/// Send a test message to the org's channels (`org.manage`), to see them work.
#[utoipa::path(post, path = "/v1/orgs/{org}/notifications/test", tag = "notifications", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug")),
    responses((status = 202, body = Data<NotificationView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn send_test_notification(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    ClientMeta(meta): ClientMeta,
) -> Result<(StatusCode, Json<Data<NotificationView>>), ApiError> {
    let sent = state.tenantry.notifications().send_test_notification(&caller, &org, &meta).await?;
    Ok((StatusCode::ACCEPTED, data(sent.into())))
}
