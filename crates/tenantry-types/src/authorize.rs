use serde::{Deserialize, Serialize};
use tenantry_ids::{ApiKeyId, UserId};
use utoipa::ToSchema;

/// Who a check is about: a user (through their membership) or an API key (through its scopes).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectBody {
    #[schema(value_type = Option<String>, example = "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub user_id: Option<UserId>,
    #[schema(value_type = Option<String>)]
    pub key_id: Option<ApiKeyId>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DecisionView {
    pub allowed: bool,
    /// The role (or key) and the permission that decided, e.g. "role `viewer` lacks endpoints.delete".
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum AuthorizeAnswer {
    Single(DecisionView),
    Batch(Vec<DecisionView>),
}
