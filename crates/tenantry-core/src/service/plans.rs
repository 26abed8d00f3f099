//! Plans: the preset's catalogue, changing an org's plan, and the billing customer id.
//!
//! Who changes a plan depends on the billing mode. `managed`: only the instance admin and host
//! apps (service tokens — the billing backend, after payment); members, even the owner, are told
//! that plans change through billing. `open`: members and keys holding `billing.change_plan` too.
//! A downgrade below current usage is allowed: limits are checked when usage grows (metering,
//! new members), never retroactively.

use serde_json::json;

use super::access::{OrgAccess, Standing};
use super::unit_of_work::Event;
use super::{Plans, Principal, RequestMeta};
use crate::domain::audit::Target;
use crate::domain::ids::OrgRef;
use crate::domain::models::Org;
use crate::domain::permission::Permission;
use crate::domain::plan::{BillingMode, Plan};
use crate::service::service_grants::ServiceGrant;
use crate::{Error, Result};

pub const MAX_CUSTOMER_ID_CHARS: usize = 255;

/// An org's billing facts.
pub struct Billing {
    pub org: Org,
    pub mode: BillingMode,
}

fn parse_customer_id(raw: Option<String>) -> Result<Option<String>> {
    let Some(raw) = raw else { return Ok(None) };
    let ok = !raw.is_empty() && raw.len() <= MAX_CUSTOMER_ID_CHARS && raw.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(Some(raw))
    } else {
        Err(Error::invalid(
            "billing_customer_id",
            format!("must be 1 to {MAX_CUSTOMER_ID_CHARS} visible ASCII characters, or null to clear it"),
        ))
    }
}

impl<'a> Plans<'a> {
    /// The preset's plans, in the order it lists them.
    pub fn list_plans(&self) -> &'a [Plan] {
        &self.context.preset.plans
    }

    /// The plan an org is on.
    pub(crate) fn plan_of(&self, org: &Org) -> Result<&'a Plan> {
        self.context
            .preset
            .plan(&org.plan)
            .ok_or_else(|| Error::Internal(format!("org {} is on plan `{}`, which the preset lacks", org.id, org.plan)))
    }

    pub async fn change_plan(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        plan_key: &str,
        meta: &RequestMeta,
    ) -> Result<OrgAccess> {
        principal.require_grant(ServiceGrant::Billing)?;
        let mut w = self.operator_write(principal, reference, None, meta).await?;
        if !matches!(w.access.standing, Standing::Operator { .. }) {
            if self.settings.billing_mode == BillingMode::Managed {
                return Err(Error::forbidden(
                    "plans change through billing: the billing backend or the instance admin changes the plan after \
                     payment",
                ));
            }
            w.require(Permission::BillingChangePlan)?;
        }
        let plan = self.preset.plan(plan_key).ok_or_else(|| {
            let known: Vec<&str> = self.preset.plans.iter().map(|p| p.key.as_str()).collect();
            Error::invalid("plan", format!("`{plan_key}` is not a plan (known: {})", known.join(", ")))
        })?;
        if plan.key == w.access.org.plan {
            return Ok(w.access);
        }
        let from = std::mem::replace(&mut w.access.org.plan, plan.key.clone());
        let org = w.org_id();
        let stale = w.tx().set_org_plan(org, &plan.key).await?.ok_or(Error::NotFound("organization"))?;
        w.invalidate(stale);
        let metadata = json!({ "from": from, "to": plan.key });
        w.commit(Event::new("org.plan_changed", Target::new("organization", org), metadata)).await
    }

    /// The org's plan, billing customer and billing mode (`billing.view`; operators).
    pub async fn billing(&self, principal: &Principal, reference: &OrgRef) -> Result<Billing> {
        principal.require_grant(ServiceGrant::Billing)?;
        let mut tx = self.store.read().await?;
        let access = self.operator_access(tx.as_mut(), principal, reference).await?;
        self.require(&access, Permission::BillingView)?;
        Ok(Billing { org: access.org, mode: self.settings.billing_mode })
    }

    /// Stores the payment provider's customer id (`billing.update_payment`; operators).
    pub async fn set_billing_customer(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        customer: Option<String>,
        meta: &RequestMeta,
    ) -> Result<Billing> {
        principal.require_grant(ServiceGrant::Billing)?;
        let customer = parse_customer_id(customer)?;
        let mut w = self.operator_write(principal, reference, Some(Permission::BillingUpdatePayment), meta).await?;
        if customer == w.access.org.billing_customer_id {
            return Ok(Billing { org: w.access.org, mode: self.settings.billing_mode });
        }
        let from = std::mem::replace(&mut w.access.org.billing_customer_id, customer.clone());
        let org = w.org_id();
        let stale =
            w.tx().set_billing_customer(org, customer.as_deref()).await?.ok_or(Error::NotFound("organization"))?;
        w.invalidate(stale);
        let metadata = json!({ "from": from, "to": customer });
        let access =
            w.commit(Event::new("org.billing_customer_changed", Target::new("organization", org), metadata)).await?;
        Ok(Billing { org: access.org, mode: self.settings.billing_mode })
    }
}
