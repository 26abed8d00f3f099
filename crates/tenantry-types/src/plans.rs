use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ChangePlanBody {
    /// A plan key from `GET /v1/plans`.
    #[schema(example = "starter")]
    pub plan: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct BillingCustomerBody {
    /// The payment provider's customer id; `null` clears it.
    /// 1 to 255 visible ASCII characters.
    #[schema(example = "cus_Q1w2E3r4", min_length = 1, max_length = 255, pattern = "^[\\x21-\\x7e]+$")]
    pub billing_customer_id: Option<String>,
}
