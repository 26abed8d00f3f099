//! Plans: the preset's catalogue, changing an org's plan, and the billing customer id.
//!
//! Who changes a plan depends on the billing mode. `managed`: only the instance admin and host
//! apps (service tokens — the billing backend, after payment); members, even the owner, are told
//! that plans change through billing. `open`: members and keys holding `billing.change_plan` too.
//! A downgrade below current usage is allowed: limits are checked when usage grows (metering,
//! new members), never retroactively.

use serde_json::json;

use super::access::{OrgAccess, Standing};
use super::audit::Change;
use super::{Principal, RequestMeta, Tenantry};
use crate::domain::audit::Target;
use crate::domain::models::Org;
use crate::domain::plan::{BillingMode, Plan};
use crate::service::service_grants::ServiceGrant;
use crate::store::CacheChange;
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

impl Tenantry {
    /// The preset's plans, in the order it lists them.
    pub fn list_plans(&self) -> &[Plan] {
        &self.preset.plans
    }

    /// The plan an org is on.
    pub(crate) fn plan_of(&self, org: &Org) -> Result<&Plan> {
        self.preset
            .plan(&org.plan)
            .ok_or_else(|| Error::Internal(format!("org {} is on plan `{}`, which the preset lacks", org.id, org.plan)))
    }

    pub async fn change_plan(
        &self,
        principal: &Principal,
        reference: &str,
        plan_key: &str,
        meta: &RequestMeta,
    ) -> Result<OrgAccess> {
        principal.require_grant(ServiceGrant::Billing)?;
        let mut tx = self.store.write().await?;
        let mut access = self.operator_access(tx.as_mut(), principal, reference).await?;
        if !matches!(access.standing, Standing::Operator { .. }) {
            if self.settings.billing_mode == BillingMode::Managed {
                return Err(Error::forbidden(
                    "plans change through billing: the billing backend or the instance admin changes the plan after \
                     payment",
                ));
            }
            self.require(&access, "billing.change_plan")?;
        }
        let plan = self.preset.plan(plan_key).ok_or_else(|| {
            let known: Vec<&str> = self.preset.plans.iter().map(|p| p.key.as_str()).collect();
            Error::invalid("plan", format!("`{plan_key}` is not a plan (known: {})", known.join(", ")))
        })?;
        if plan.key == access.org.plan {
            return Ok(access);
        }
        let from = std::mem::replace(&mut access.org.plan, plan.key.clone());
        if !tx.set_org_plan(access.org.id, &plan.key).await? {
            return Err(Error::NotFound("organization"));
        }
        self.record(
            tx.as_mut(),
            Change {
                org: Some(access.org.id),
                actor: access.actor(),
                action: "org.plan_changed",
                target: Target::new("organization", access.org.id),
                meta,
                metadata: json!({ "from": from, "to": plan.key }),
            },
        )
        .await?;
        self.commit(tx, &[CacheChange::OrgPlan { org: access.org.id }]).await?;
        Ok(access)
    }

    /// The org's plan, billing customer and billing mode (`billing.view`; operators).
    pub async fn billing(&self, principal: &Principal, reference: &str) -> Result<Billing> {
        principal.require_grant(ServiceGrant::Billing)?;
        let mut tx = self.store.read().await?;
        let access = self.operator_access(tx.as_mut(), principal, reference).await?;
        self.require(&access, "billing.view")?;
        Ok(Billing { org: access.org, mode: self.settings.billing_mode })
    }

    /// Stores the payment provider's customer id (`billing.update_payment`; operators).
    pub async fn set_billing_customer(
        &self,
        principal: &Principal,
        reference: &str,
        customer: Option<String>,
        meta: &RequestMeta,
    ) -> Result<Billing> {
        principal.require_grant(ServiceGrant::Billing)?;
        let customer = parse_customer_id(customer)?;
        let mut tx = self.store.write().await?;
        let mut access = self.operator_access(tx.as_mut(), principal, reference).await?;
        self.require(&access, "billing.update_payment")?;
        if customer != access.org.billing_customer_id {
            let from = std::mem::replace(&mut access.org.billing_customer_id, customer.clone());
            if !tx.set_billing_customer(access.org.id, customer.as_deref()).await? {
                return Err(Error::NotFound("organization"));
            }
            self.record(
                tx.as_mut(),
                Change {
                    org: Some(access.org.id),
                    actor: access.actor(),
                    action: "org.billing_customer_changed",
                    target: Target::new("organization", access.org.id),
                    meta,
                    metadata: json!({ "from": from, "to": customer }),
                },
            )
            .await?;
            tx.commit().await?;
        }
        Ok(Billing { org: access.org, mode: self.settings.billing_mode })
    }
}
