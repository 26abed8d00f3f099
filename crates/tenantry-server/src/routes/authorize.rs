//! `POST /v1/authorize`: the host app asks "may this subject do P in org O?". A hot path: the
//! answer comes from the in-memory grant cache.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use tenantry_core::domain::ids::{ApiKeyId, UserId};
use tenantry_core::domain::ids::{OrgRef, TeamRef};
use tenantry_core::service::authorize::{Check, Decision, Subject, Wanted};
use utoipa::ToSchema;
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

/// Who a check is about: a user (through their membership) or an API key (through its scopes).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectBody {
    #[schema(value_type = Option<String>, example = "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub user_id: Option<UserId>,
    #[schema(value_type = Option<String>)]
    pub key_id: Option<ApiKeyId>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    pub subject: SubjectBody,
    /// The org, by id or slug.
    #[schema(example = "acme")]
    pub org: String,
    /// A team of the org, by id or slug: the subject's team role there counts too.
    #[schema(example = "engineering")]
    pub team: Option<String>,
    /// One permission …
    #[schema(example = "endpoints.create")]
    pub permission: Option<String>,
    /// … or several, all of which must be held.
    pub permissions: Option<Vec<String>>,
}

/// One check (`subject`, `org`, `permission` or `permissions`), or a batch of up to 100 under
/// `checks`. One flat shape rather than two alternatives, so a bad field is named exactly.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeBody {
    pub checks: Option<Vec<CheckBody>>,
    pub subject: Option<SubjectBody>,
    #[schema(example = "acme")]
    pub org: Option<String>,
    /// A team of the org, by id or slug: the subject's team role there counts too.
    pub team: Option<String>,
    #[schema(example = "endpoints.create")]
    pub permission: Option<String>,
    pub permissions: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct DecisionView {
    pub allowed: bool,
    /// The role (or key) and the permission that decided, e.g. "role `viewer` lacks endpoints.delete".
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum AuthorizeAnswer {
    Single(DecisionView),
    Batch(Vec<DecisionView>),
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
#[utoipa::path(post, path = "/v1/authorize", tag = "host apps", security(("bearer" = [])), request_body = AuthorizeBody,
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
        let decisions = state.tenantry.authorize(&caller, &checks, true).await?;
        return Ok(data(AuthorizeAnswer::Batch(decisions.into_iter().map(view).collect())));
    }
    let single = CheckBody {
        subject: body.subject.ok_or_else(|| ApiError::invalid("subject", "is required"))?,
        org: body.org.ok_or_else(|| ApiError::invalid("org", "is required"))?,
        team: body.team,
        permission: body.permission,
        permissions: body.permissions,
    };
    let mut decisions = state.tenantry.authorize(&caller, &[check(single, "")?], false).await?;
    Ok(data(AuthorizeAnswer::Single(view(decisions.remove(0)))))
}
