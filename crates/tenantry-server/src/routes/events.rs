//! `GET /v1/events`: the event log for host apps (SPEC 16), oldest first.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use tenantry_core::domain::host_event::{EventCursor, EventTypes, HostEvent};
use tenantry_core::domain::pagination::DEFAULT_LIMIT;
use tenantry_core::service::events::event_body;
use tenantry_types::events::EventView;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::views::{list, ErrorBody, List};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(read_event_log))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    /// The id of the last event already read (exclusive), one that is still kept; absent reads
    /// from the oldest kept.
    #[param(example = "evt_01HX2Z8Q6Y3V4W5T6R7S8P9N0M", pattern = "^(evt_[0-7][0-9A-HJKMNP-TV-Z]{25})?$")]
    pub after: Option<String>,
    /// Comma-separated types, each exact (`member.added`) or a prefix ending in `.` (`member.`):
    /// lowercase letters, digits, `_` and single dots, not starting with a dot, at most 100
    /// characters each.
    #[param(
        example = "member.,org.deleted",
        pattern = "^\\s*(?:[a-z0-9_]{1,100}(?:\\.[a-z0-9_]{1,100})*\\.?)?\\s*(?:,\\s*(?:[a-z0-9_]{1,100}(?:\\.[a-z0-9_]{1,100})*\\.?)?\\s*)*$"
    )]
    pub types: Option<String>,
    /// 1–100, default 20.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
}

fn view(event: HostEvent) -> Value {
    event_body(&event)
}

/// Events after `after`, oldest first; `pagination.next_cursor` is the `after` of the next page
/// (null at the end: poll again with the last id read). For the instance admin and host apps
/// granted `events.read`.
#[utoipa::path(get, path = "/v1/events", tag = "events", security(("bearer" = [])), params(EventParams),
    responses((status = 200, body = List<EventView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn read_event_log(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiQuery(params): ApiQuery<EventParams>,
) -> Result<Json<List<Value>>, ApiError> {
    let types = EventTypes::parse_list(params.types.as_deref().unwrap_or_default())
        .map_err(|message| ApiError::invalid("types", message))?;
    let limit = match params.limit {
        None => DEFAULT_LIMIT,
        Some(l) => l.parse().map_err(|_| ApiError::invalid("limit", "must be a whole number from 1 to 100"))?,
    };
    let page =
        state.tenantry.events().list_events(&caller, EventCursor::read(params.after.as_deref()), &types, limit).await?;
    Ok(list(page, view))
}
