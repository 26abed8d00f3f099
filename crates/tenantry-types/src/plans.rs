use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePlanBody {
    /// A plan key from `GET /v1/plans`.
    #[schema(example = "starter")]
    pub plan: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingCustomerBody {
    /// The payment provider's customer id; `null` clears it.
    #[schema(example = "cus_Q1w2E3r4")]
    pub billing_customer_id: Option<String>,
}
