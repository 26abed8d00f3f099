//! `/v1/orgs/{org}/audit-events`: reading, exporting and adding to an org's audit log, and
//! `/v1/admin/audit-events` for the instance's own events.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tenantry_core::domain::audit::{ActionFilter, Actor, AuditFilter, Target};
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::service::audit::{AuditExport, HostEvent};
use tenantry_core::Tenantry;
use tenantry_types::audit::HostEventBody;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit_export::ExportFormat;
use crate::auth::{AdminAuth, Caller};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, ClientMeta, Pagination};
use crate::state::AppState;
use crate::views::{data, list, AuditEventView, Data, ErrorBody, List};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events, add_event))
        .routes(routes!(export_events))
        .routes(routes!(list_instance_events))
}

/// Filters shared by the list and the export. No `deny_unknown_fields`: they share the query
/// string with pagination and the export format.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    /// The actor's id: a user id, key id, `admin`, a service name, an IP for anonymous callers.
    pub actor: Option<String>,
    /// An action (`member.role_changed`), or every action under a prefix ending in `.` (`member.`).
    pub action: Option<String>,
    /// The target's id.
    pub target: Option<String>,
    /// Events at or after this time (RFC 3339; empty is the same as absent).
    #[param(schema_with = time_or_empty)]
    pub since: Option<String>,
    /// Events before this time (RFC 3339; empty is the same as absent).
    #[param(schema_with = time_or_empty)]
    pub until: Option<String>,
}

/// An RFC 3339 time, or the empty string (a form's empty field, read as absent).
fn time_or_empty() -> utoipa::openapi::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
    AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        )
        .item(ObjectBuilder::new().schema_type(Type::String).max_length(Some(0)))
        .into()
}

impl FilterParams {
    pub fn filter(self) -> Result<AuditFilter, ApiError> {
        let time = |field: &str, value: Option<String>| -> Result<Option<DateTime<Utc>>, ApiError> {
            value
                .filter(|v| !v.is_empty())
                .map(|v| {
                    DateTime::parse_from_rfc3339(&v)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|_| ApiError::invalid(field, "must be an RFC 3339 time, like 2026-01-31T12:00:00Z"))
                })
                .transpose()
        };
        let non_empty = |value: Option<String>| value.filter(|v| !v.is_empty());
        Ok(AuditFilter {
            since: time("since", self.since)?,
            until: time("until", self.until)?,
            actor: non_empty(self.actor),
            action: non_empty(self.action).map(|a| ActionFilter::parse(&a)),
            target: non_empty(self.target),
        })
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatParam {
    /// `csv` or `jsonl`.
    #[param(inline)]
    pub format: ExportFormat,
}

/// The org's audit events, newest first (`audit.view`; plan feature `audit_log`).
#[utoipa::path(get, path = "/v1/orgs/{org}/audit-events", tag = "audit", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug"), FilterParams, ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = List<AuditEventView>), (status = 400, body = ErrorBody), (status = 402, description = "plan_limit_reached", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_events(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    ApiQuery(filters): ApiQuery<FilterParams>,
    Pagination(page): Pagination,
) -> Result<Json<List<AuditEventView>>, ApiError> {
    let page = state.tenantry.audit().list_audit_events(&caller, &org, &filters.filter()?, &page).await?;
    Ok(list(page, AuditEventView::from))
}

/// Add a host app's own event to the org's log (service tokens and the instance admin).
#[utoipa::path(post, path = "/v1/orgs/{org}/audit-events", tag = "audit", security(("bearer" = [])), request_body(content = HostEventBody, example = json!({"actor": {"type": "user", "id": "usr_42"}, "action": "deploy.created", "target": {"type": "deployment", "id": "dep_7"}, "metadata": {"commit": "4f2a9c1"}})),
    params(("org" = String, Path, description = "org id or slug")),
    responses((status = 201, body = Data<AuditEventView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn add_event(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<HostEventBody>,
) -> Result<(StatusCode, Json<Data<AuditEventView>>), ApiError> {
    let event = HostEvent {
        actor: Actor::new(&body.actor.kind, &body.actor.id),
        action: body.action,
        target: Target::new(&body.target.kind, &body.target.id),
        metadata: body.metadata,
        occurred_at: body.occurred_at,
    };
    let entry = state.tenantry.audit().record_host_event(&caller, &org, event, &meta).await?;
    Ok((StatusCode::CREATED, data(AuditEventView::from(entry))))
}

/// Export the org's audit events, newest first, as CSV or JSON Lines, streamed. Same filters and
/// permissions as the list.
#[utoipa::path(get, path = "/v1/orgs/{org}/audit-events/export", tag = "audit", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug"), FormatParam, FilterParams),
    responses((status = 200, description = "The events, one per row: CSV (with a header row) for `format=csv`, JSON Lines (one event object a line) for `format=jsonl`",
            content((String = "text/csv", example = "id,occurred_at,actor_type,actor_id,action,target_type,target_id,ip,user_agent,metadata,hash\n"),
                (String = "application/jsonl")),
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"audit-events.csv\"` (or `.jsonl`)"))),
        (status = 400, body = ErrorBody), (status = 402, description = "plan_limit_reached", body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export_events(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    ApiQuery(FormatParam { format }): ApiQuery<FormatParam>,
    ApiQuery(filters): ApiQuery<FilterParams>,
) -> Result<Response, ApiError> {
    let export = state.tenantry.audit().open_audit_export(&caller, &org, filters.filter()?).await?;
    let body = Body::from_stream(export_stream(state.tenantry.clone(), export, format));
    let disposition = format!("attachment; filename=\"audit-events.{}\"", format.extension());
    Response::builder()
        .header(header::CONTENT_TYPE, format.content_type())
        .header(header::CONTENT_DISPOSITION, disposition)
        .body(body)
        .map_err(|e| ApiError::from(tenantry_core::Error::Internal(e.to_string())))
}

/// One chunk per batch of rows: memory stays constant however long the log.
pub(crate) fn export_stream(
    tenantry: std::sync::Arc<Tenantry>,
    export: AuditExport,
    format: ExportFormat,
) -> impl futures_util::Stream<Item = Result<Bytes, tenantry_core::Error>> {
    struct Position {
        header: bool,
        before: Option<i64>,
        done: bool,
    }
    let start = Position { header: true, before: None, done: false };
    futures_util::stream::try_unfold(start, move |position| {
        let (tenantry, export) = (tenantry.clone(), export.clone());
        async move {
            if position.done {
                return Ok(None);
            }
            let batch = tenantry.audit().audit_export_batch(&export, position.before).await.inspect_err(|error| {
                // The status line has gone out; the client sees the transfer break off.
                tracing::error!(%error, "audit export failed part-way");
            })?;
            let mut chunk = if position.header { format.header() } else { Vec::new() };
            chunk.extend(format.encode(&batch));
            let next = Position { header: false, before: batch.last().map(|e| e.seq), done: batch.is_empty() };
            Ok(Some((Bytes::from(chunk), next)))
        }
    })
}

/// The instance's own events: sign-ups, logins, failed logins and refusals outside any org.
#[utoipa::path(get, path = "/v1/admin/audit-events", tag = "admin", security(("bearer" = [])),
    params(FilterParams, ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = List<AuditEventView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_instance_events(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiQuery(filters): ApiQuery<FilterParams>,
    Pagination(page): Pagination,
) -> Result<Json<List<AuditEventView>>, ApiError> {
    let page = state.tenantry.audit().list_instance_audit_events(&filters.filter()?, &page).await?;
    Ok(list(page, AuditEventView::from))
}
