//! TOTP enrolments, recovery codes, login challenges and the sessions list.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tenantry_core::domain::ids::{OrgId, SessionId, UserId};
use tenantry_core::domain::models::{Member, Session};
use tenantry_core::store::{CacheChange, MfaChallenge, MfaRead, MfaTx, Stale, StoreResult, StoredTotp};

use crate::rows::{self, ms};

use super::SqlTx;
use crate::db_err;

/// At most this many sessions are listed (a user with more has far more to worry about).
const MAX_SESSIONS_LISTED: i64 = 200;

#[async_trait]
impl MfaRead for SqlTx {
    async fn totp(&mut self, user: UserId) -> StoreResult<Option<StoredTotp>> {
        let row = sqlx::query("SELECT sealed, confirmed_at, last_step FROM user_totp WHERE user_id = $1")
            .bind(user.to_string())
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?;
        row.map(|row| {
            let last_step: i64 = rows::get(&row, "last_step")?;
            Ok(StoredTotp {
                sealed: rows::get(&row, "sealed")?,
                confirmed_at: rows::opt_time(&row, "confirmed_at")?,
                last_step: u64::try_from(last_step).map_err(|_| rows::corrupt("user_totp.last_step"))?,
            })
        })
        .transpose()
    }

    async fn has_mfa(&mut self, user: UserId) -> StoreResult<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL")
                .bind(user.to_string())
                .fetch_optional(self.conn())
                .await
                .map_err(db_err)?;
        Ok(found.is_some())
    }

    async fn members_without_mfa(&mut self, org: OrgId, limit: u32) -> StoreResult<Vec<Member>> {
        let sql = format!(
            "SELECT {}, m.email, m.display_name, m.team_ids FROM memberships m WHERE m.org_id = $1 AND NOT EXISTS \
             (SELECT 1 FROM user_totp t WHERE t.user_id = m.user_id AND t.confirmed_at IS NOT NULL) \
             ORDER BY m.id LIMIT $2",
            rows::MEMBERSHIP_COLUMNS
        );
        let found = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(i64::from(limit))
            .fetch_all(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        found.iter().map(rows::member).collect()
    }

    async fn unused_recovery_codes(&mut self, user: UserId) -> StoreResult<u32> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
                .bind(user.to_string())
                .fetch_one(self.conn())
                .await
                .map_err(db_err)?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn mfa_challenge(&mut self, token_hash: &str) -> StoreResult<Option<MfaChallenge>> {
        let row =
            sqlx::query("SELECT user_id, expires_at, attempts, used_at FROM mfa_challenges WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(self.conn())
                .await
                .map_err(db_err)?;
        row.map(|row| {
            let attempts: i64 = rows::get(&row, "attempts")?;
            Ok(MfaChallenge {
                user_id: rows::id(&row, "user_id")?,
                expires_at: rows::time(&row, "expires_at")?,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                used: rows::opt_time(&row, "used_at")?.is_some(),
            })
        })
        .transpose()
    }

    async fn live_sessions(&mut self, user: UserId) -> StoreResult<Vec<Session>> {
        let sql = format!(
            "SELECT {} FROM sessions WHERE user_id = $1 AND revoked_at IS NULL \
             ORDER BY COALESCE(last_used_at, created_at) DESC, id DESC LIMIT $2",
            rows::SESSION_COLUMNS
        );
        let found = sqlx::query(&sql)
            .bind(user.to_string())
            .bind(MAX_SESSIONS_LISTED)
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        found.iter().map(rows::session).collect()
    }
}

#[async_trait]
impl MfaTx for SqlTx {
    async fn put_pending_totp(&mut self, user: UserId, sealed: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO user_totp (user_id, sealed, confirmed_at, last_step, created_at) VALUES ($1, $2, NULL, 0, $3) \
             ON CONFLICT (user_id) DO UPDATE SET sealed = excluded.sealed, created_at = excluded.created_at \
             WHERE user_totp.confirmed_at IS NULL",
        )
        .bind(user.to_string())
        .bind(sealed)
        .bind(ms(at))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn confirm_totp(&mut self, user: UserId, step: u64, at: DateTime<Utc>) -> StoreResult<Stale> {
        sqlx::query("UPDATE user_totp SET confirmed_at = $1, last_step = $2 WHERE user_id = $3")
            .bind(ms(at))
            .bind(step_value(step))
            .bind(user.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(Stale::new(CacheChange::UserMfa { user }))
    }

    async fn use_totp_step(&mut self, user: UserId, step: u64) -> StoreResult<bool> {
        // One conditional update: of two requests racing with the same code, one moves the step.
        let done = sqlx::query("UPDATE user_totp SET last_step = $1 WHERE user_id = $2 AND last_step < $1")
            .bind(step_value(step))
            .bind(user.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_totp(&mut self, user: UserId) -> StoreResult<Option<Stale>> {
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        let done = sqlx::query("DELETE FROM user_totp WHERE user_id = $1")
            .bind(user.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok((done.rows_affected() == 1).then(|| Stale::new(CacheChange::UserMfa { user })))
    }

    async fn replace_recovery_codes(&mut self, user: UserId, hashes: &[String]) -> StoreResult<()> {
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        for hash in hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)")
                .bind(user.to_string())
                .bind(hash)
                .execute(self.conn())
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    async fn use_recovery_code(&mut self, user: UserId, hash: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(ms(at))
        .bind(user.to_string())
        .bind(hash)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_mfa_challenge(
        &mut self,
        token_hash: &str,
        user: UserId,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO mfa_challenges (token_hash, user_id, expires_at, attempts, used_at) VALUES ($1, $2, $3, 0, NULL)")
            .bind(token_hash)
            .bind(user.to_string())
            .bind(ms(expires_at))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn count_mfa_attempt(&mut self, token_hash: &str) -> StoreResult<u32> {
        let attempts: Option<i64> = sqlx::query_scalar(
            "UPDATE mfa_challenges SET attempts = attempts + 1 WHERE token_hash = $1 RETURNING attempts",
        )
        .bind(token_hash)
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?;
        Ok(attempts.map_or(u32::MAX, |n| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    async fn use_mfa_challenge(&mut self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE mfa_challenges SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL")
            .bind(ms(at))
            .bind(token_hash)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn prune_mfa_challenges(&mut self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM mfa_challenges WHERE expires_at < $1")
            .bind(ms(before))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn touch_session(&mut self, id: SessionId, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE id = $2")
            .bind(ms(at))
            .bind(id.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn revoke_session_of(
        &mut self,
        user: UserId,
        id: SessionId,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Stale>> {
        let done =
            sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
                .bind(ms(at))
                .bind(id.to_string())
                .bind(user.to_string())
                .execute(self.conn())
                .await
                .map_err(db_err)?;
        Ok((done.rows_affected() == 1).then(|| Stale::new(CacheChange::Session { id })))
    }
}

/// Steps are about 59 million today; they fit a signed 64-bit column for ever.
fn step_value(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}
