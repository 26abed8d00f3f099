//! Invitations. Transitions are conditional updates on the state they leave; the partial unique
//! index `invitations_pending_email` keeps one pending invitation per (org, email).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tenantry_core::domain::email::Email;
use tenantry_core::domain::ids::{InvitationId, OrgId};
use tenantry_core::domain::invitation::{Invitation, InvitationState};
use tenantry_core::domain::pagination::PageRequest;
use tenantry_core::store::{CacheChange, InvitationsRead, InvitationsTx, MaybeStale, Stale, StoreResult};

use super::{after, SqlTx};
use crate::db_err;
use crate::rows::{self, ms};

#[async_trait]
impl InvitationsRead for SqlTx {
    async fn invitation(&mut self, org: OrgId, id: InvitationId) -> StoreResult<Option<Invitation>> {
        let sql = format!("SELECT {} FROM invitations WHERE org_id = $1 AND id = $2", rows::INVITATION_COLUMNS);
        let row = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(id.to_string())
            .fetch_optional(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::invitation).transpose()
    }

    async fn invitation_by_token(&mut self, token_hash: &str) -> StoreResult<Option<Invitation>> {
        // Found by its token before the transaction knows the invitation's org.
        if self.enter_org_of("SELECT org_id FROM invitations WHERE token_hash = $1", token_hash).await?.is_none() {
            return Ok(None);
        }
        let sql = format!("SELECT {} FROM invitations WHERE token_hash = $1", rows::INVITATION_COLUMNS);
        let row = sqlx::query(&sql).bind(token_hash).fetch_optional(self.conn()).await.map_err(db_err)?;
        row.as_ref().map(rows::invitation).transpose()
    }

    async fn pending_invitation_for(&mut self, org: OrgId, email: &Email) -> StoreResult<Option<Invitation>> {
        let sql = format!(
            "SELECT {} FROM invitations WHERE org_id = $1 AND email = $2 AND state = 'pending'",
            rows::INVITATION_COLUMNS
        );
        let row = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(email.as_str())
            .fetch_optional(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::invitation).transpose()
    }

    async fn count_pending_invitations(&mut self, org: OrgId, now: DateTime<Utc>) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM invitations WHERE org_id = $1 AND state = 'pending' AND expires_at > $2",
        )
        .bind(org.to_string())
        .bind(ms(now))
        .fetch_one(self.in_org(org).await?)
        .await
        .map_err(db_err)?;
        Ok(count as u64)
    }

    async fn list_invitations(
        &mut self,
        org: OrgId,
        state: Option<InvitationState>,
        now: DateTime<Utc>,
        page: &PageRequest,
    ) -> StoreResult<Vec<Invitation>> {
        // Pending and expired are told apart by the expiry, as `Invitation::state_at` does.
        let sql = format!(
            "SELECT {} FROM invitations WHERE org_id = $1 AND id > $2 AND ($4 IS NULL \
             OR ($4 = 'pending' AND state = 'pending' AND expires_at > $5) \
             OR ($4 = 'expired' AND (state = 'expired' OR (state = 'pending' AND expires_at <= $5))) \
             OR ($4 NOT IN ('pending', 'expired') AND state = $4)) \
             ORDER BY id LIMIT $3",
            rows::INVITATION_COLUMNS
        );
        let found = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(after(page))
            .bind(i64::from(page.fetch_limit()))
            .bind(state.map(InvitationState::as_str))
            .bind(ms(now))
            .fetch_all(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        found.iter().map(rows::invitation).collect()
    }
}

#[async_trait]
impl InvitationsTx for SqlTx {
    async fn insert_invitation(&mut self, inv: &Invitation) -> StoreResult<Stale> {
        sqlx::query(
            "INSERT INTO invitations (id, org_id, email, role, team_ids, invited_by, state, token_hash, expires_at, \
             created_at, responded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(inv.id.to_string())
        .bind(inv.org_id.to_string())
        .bind(inv.email.as_str())
        .bind(&inv.role)
        .bind(rows::json_list(&inv.team_ids))
        .bind(&inv.invited_by)
        .bind(inv.state.as_str())
        .bind(&inv.token_hash)
        .bind(ms(inv.expires_at))
        .bind(ms(inv.created_at))
        .bind(inv.responded_at.map(ms))
        .execute(self.in_org(inv.org_id).await?)
        .await
        .map_err(db_err)?;
        Ok(Stale::new(CacheChange::OrgInvitations { org: inv.org_id }))
    }

    async fn set_invitation_state(
        &mut self,
        org: OrgId,
        id: InvitationId,
        from: InvitationState,
        to: InvitationState,
        at: DateTime<Utc>,
    ) -> StoreResult<MaybeStale> {
        let done = sqlx::query("UPDATE invitations SET state = $1, responded_at = $2 WHERE id = $3 AND state = $4")
            .bind(to.as_str())
            .bind(ms(at))
            .bind(id.to_string())
            .bind(from.as_str())
            .execute(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        Ok((done.rows_affected() == 1).then(|| Stale::new(CacheChange::OrgInvitations { org })).into())
    }

    async fn reissue_invitation(
        &mut self,
        org: OrgId,
        id: InvitationId,
        from: InvitationState,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        invited_by: &str,
    ) -> StoreResult<MaybeStale> {
        let done = sqlx::query(
            "UPDATE invitations SET state = 'pending', token_hash = $1, expires_at = $2, invited_by = $3, \
             responded_at = NULL WHERE id = $4 AND state = $5",
        )
        .bind(token_hash)
        .bind(ms(expires_at))
        .bind(invited_by)
        .bind(id.to_string())
        .bind(from.as_str())
        .execute(self.in_org(org).await?)
        .await
        .map_err(db_err)?;
        Ok((done.rows_affected() == 1).then(|| Stale::new(CacheChange::OrgInvitations { org })).into())
    }
}
