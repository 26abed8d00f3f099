//! `POST /v1/authorize`: the host app asks "may this subject do P in org O?". A hot path: the
//! answer comes from the in-memory grant cache.

use axum::extract::State;
use axum::Json;
use tenantry_core::domain::ids::{OrgRef, TeamRef};
use tenantry_core::service::authorize::{Check, Decision, Subject, Wanted};
use tenantry_types::authorize::{AuthorizeAnswer, AuthorizeBody, CheckBody, DecisionView};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::views::{data, Data, ErrorBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(authorize))
}

fn check(body: CheckBody, field: &str) -> Result<Check, ApiError> {
    let subject = match (body.subject.user_id, body.subject.key_id) {
        (Some(user), None) => Subject::User(user),
        (None, Some(key)) => Subject::ApiKey(key),
        _ => return Err(ApiError::invalid(&format!("{field}subject"), "give exactly one of user_id and key_id")),
    };
    let wanted = match (body.permission, body.permissions) {
        (Some(one), None) => Wanted::One(one),
        (None, Some(many)) => Wanted::All(many),
        _ => {
            return Err(ApiError::invalid(
                &format!("{field}permission"),
                "give exactly one of permission and permissions",
            ))
        }
    };
    Ok(Check { subject, org: OrgRef::from(body.org), team: body.team.map(TeamRef::from), wanted })
}

fn view(decision: Decision) -> DecisionView {
    DecisionView { allowed: decision.allowed, reason: decision.reason }
}

/// Authorization checks for host apps (service tokens) and the instance admin.
#[utoipa::path(post, path = "/v1/authorize", tag = "host apps", security(("bearer" = [])), request_body(content = AuthorizeBody, example = json!({"subject": {"user_id": "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M"}, "org": "acme", "team": "platform", "permission": "endpoints.create"})),
    responses((status = 200, body = Data<AuthorizeAnswer>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn authorize(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<AuthorizeBody>,
) -> Result<Json<Data<AuthorizeAnswer>>, ApiError> {
    if let Some(checks) = body.checks {
        if body.subject.is_some()
            || body.org.is_some()
            || body.team.is_some()
            || body.permission.is_some()
            || body.permissions.is_some()
        {
            return Err(ApiError::invalid("checks", "send either one check or `checks`, not both"));
        }
        let checks = checks
            .into_iter()
            .enumerate()
            .map(|(i, body)| check(body, &format!("checks[{i}].")))
            .collect::<Result<Vec<_>, _>>()?;
        let decisions = state.tenantry.authorization().authorize(&caller, &checks, true).await?;
        return Ok(data(AuthorizeAnswer::Batch(decisions.into_iter().map(view).collect())));
    }
    let single = CheckBody {
        subject: body.subject.ok_or_else(|| ApiError::invalid("subject", "is required"))?,
        org: body.org.ok_or_else(|| ApiError::invalid("org", "is required"))?,
        team: body.team,
        permission: body.permission,
        permissions: body.permissions,
    };
    let mut decisions = state.tenantry.authorization().authorize(&caller, &[check(single, "")?], false).await?;
    Ok(data(AuthorizeAnswer::Single(view(decisions.remove(0)))))
}
