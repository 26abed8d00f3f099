//! Users, sessions, refresh tokens and email tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tenantry_core::domain::email::Email;
use tenantry_core::domain::ids::{OrgId, SessionId, UserId};
use tenantry_core::domain::models::{EmailTokenKind, RefreshToken, Session, User};
use tenantry_core::store::{AccountsRead, AccountsTx, CacheChange, Stale, StoreResult};

use crate::rows::{self, ms};

use super::SqlTx;
use crate::db_err;

#[async_trait]
impl AccountsRead for SqlTx {
    async fn user(&mut self, id: UserId) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {} FROM users WHERE id = $1", rows::USER_COLUMNS);
        let row = sqlx::query(&sql).bind(id.to_string()).fetch_optional(self.conn()).await.map_err(db_err)?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn user_by_email(&mut self, email: &Email) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {} FROM users WHERE email = $1", rows::USER_COLUMNS);
        let row = sqlx::query(&sql).bind(email.as_str()).fetch_optional(self.conn()).await.map_err(db_err)?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn session(&mut self, id: SessionId) -> StoreResult<Option<Session>> {
        let sql = format!("SELECT {} FROM sessions WHERE id = $1", rows::SESSION_COLUMNS);
        let row = sqlx::query(&sql).bind(id.to_string()).fetch_optional(self.conn()).await.map_err(db_err)?;
        row.as_ref().map(rows::session).transpose()
    }

    async fn refresh_token(&mut self, hash: &str) -> StoreResult<Option<RefreshToken>> {
        let row = sqlx::query("SELECT hash, session_id, expires_at, used_at FROM refresh_tokens WHERE hash = $1")
            .bind(hash)
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?;
        row.map(|row| {
            Ok(RefreshToken {
                hash: rows::get(&row, "hash")?,
                session_id: rows::id(&row, "session_id")?,
                expires_at: rows::time(&row, "expires_at")?,
                used_at: rows::opt_time(&row, "used_at")?,
            })
        })
        .transpose()
    }
}

#[async_trait]
impl AccountsTx for SqlTx {
    async fn insert_user(&mut self, user: &User) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO users (id, email, display_name, password_hash, email_verified_at, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(user.id.to_string())
        .bind(user.email.as_str())
        .bind(&user.display_name)
        .bind(&user.password_hash)
        .bind(user.email_verified_at.map(ms))
        .bind(user.status.as_str())
        .bind(ms(user.created_at))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn set_email_verified(&mut self, id: UserId, at: DateTime<Utc>) -> StoreResult<Stale> {
        sqlx::query("UPDATE users SET email_verified_at = $1 WHERE id = $2")
            .bind(ms(at))
            .bind(id.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(Stale::new(CacheChange::User { user: id }))
    }

    async fn set_password_hash(&mut self, id: UserId, hash: &str) -> StoreResult<Stale> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(Stale::new(CacheChange::User { user: id }))
    }

    async fn insert_session(&mut self, session: &Session) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, active_org_id, created_at, revoked_at, amr, ip, user_agent, \
             last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(session.id.to_string())
        .bind(session.user_id.to_string())
        .bind(session.active_org_id.map(|id| id.to_string()))
        .bind(ms(session.created_at))
        .bind(session.revoked_at.map(ms))
        .bind(session.amr.join(" "))
        .bind(session.ip.clone())
        .bind(session.user_agent.clone())
        .bind(session.last_used_at.map(ms))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn set_session_org(&mut self, id: SessionId, org: Option<OrgId>) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET active_org_id = $1 WHERE id = $2")
            .bind(org.map(|o| o.to_string()))
            .bind(id.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn revoke_session(&mut self, id: SessionId, at: DateTime<Utc>) -> StoreResult<Stale> {
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(ms(at))
            .bind(id.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(Stale::new(CacheChange::Session { id }))
    }

    async fn revoke_user_sessions(&mut self, user: UserId, at: DateTime<Utc>) -> StoreResult<Stale> {
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(ms(at))
            .bind(user.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(Stale::new(CacheChange::UserSessions { user }))
    }

    async fn revoke_other_sessions(&mut self, user: UserId, keep: SessionId, at: DateTime<Utc>) -> StoreResult<Stale> {
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL")
            .bind(ms(at))
            .bind(user.to_string())
            .bind(keep.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(Stale::new(CacheChange::UserSessions { user }))
    }

    async fn insert_refresh_token(&mut self, token: &RefreshToken) -> StoreResult<()> {
        sqlx::query("INSERT INTO refresh_tokens (hash, session_id, expires_at, used_at) VALUES ($1, $2, $3, $4)")
            .bind(&token.hash)
            .bind(token.session_id.to_string())
            .bind(ms(token.expires_at))
            .bind(token.used_at.map(ms))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn use_refresh_token(&mut self, hash: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE hash = $2 AND used_at IS NULL")
            .bind(ms(at))
            .bind(hash)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_email_token(
        &mut self,
        kind: EmailTokenKind,
        hash: &str,
        user: UserId,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO email_tokens (hash, kind, user_id, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(hash)
            .bind(kind.as_str())
            .bind(user.to_string())
            .bind(ms(expires_at))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn consume_email_token(
        &mut self,
        kind: EmailTokenKind,
        hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        let row = sqlx::query(
            "UPDATE email_tokens SET used_at = $1 \
             WHERE hash = $2 AND kind = $3 AND used_at IS NULL AND expires_at > $4 RETURNING user_id",
        )
        .bind(ms(now))
        .bind(hash)
        .bind(kind.as_str())
        .bind(ms(now))
        .fetch_optional(self.conn())
        .await
        .map_err(db_err)?;
        row.map(|row| rows::id(&row, "user_id")).transpose()
    }
}
