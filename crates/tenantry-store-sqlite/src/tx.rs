//! The SQL behind each `Tx` operation.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, Transaction};
use tenantry_core::domain::audit::AuditEvent;
use tenantry_core::domain::email::Email;
use tenantry_core::domain::ids::{MessageId, OrgId, SessionId, UserId};
use tenantry_core::domain::models::{
    CustomRole, EmailTokenKind, Member, Membership, Org, OrgWithRole, OutboxMessage, RefreshToken, Session, SigningKey,
    User,
};
use tenantry_core::domain::pagination::PageRequest;
use tenantry_core::domain::slug::Slug;
use tenantry_core::store::{StoreResult, Tx};

use crate::db_err;
use crate::rows::{self, ms};

pub enum SqliteTx {
    Transaction(Transaction<'static, Sqlite>),
    /// A read connection: no transaction, nothing to commit.
    Connection(PoolConnection<Sqlite>),
}

impl SqliteTx {
    fn conn(&mut self) -> &mut SqliteConnection {
        match self {
            Self::Transaction(tx) => tx,
            Self::Connection(conn) => conn,
        }
    }
}

/// The page's cursor key, or the empty string (which sorts before every id).
fn after(page: &PageRequest) -> &str {
    page.after.as_deref().unwrap_or("")
}

#[async_trait]
impl Tx for SqliteTx {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        match *self {
            Self::Transaction(tx) => tx.commit().await.map_err(db_err),
            Self::Connection(_) => Ok(()),
        }
    }

    async fn insert_user(&mut self, user: &User) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO users (id, email, display_name, password_hash, email_verified_at, status, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
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

    async fn user(&mut self, id: UserId) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {} FROM users WHERE id = ?", rows::USER_COLUMNS);
        let row = sqlx::query(&sql).bind(id.to_string()).fetch_optional(self.conn()).await.map_err(db_err)?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn user_by_email(&mut self, email: &Email) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {} FROM users WHERE email = ?", rows::USER_COLUMNS);
        let row = sqlx::query(&sql).bind(email.as_str()).fetch_optional(self.conn()).await.map_err(db_err)?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn set_email_verified(&mut self, id: UserId, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE users SET email_verified_at = ? WHERE id = ?")
            .bind(ms(at))
            .bind(id.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn set_password_hash(&mut self, id: UserId, hash: &str) -> StoreResult<()> {
        sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(hash)
            .bind(id.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn insert_org(&mut self, org: &Org) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO orgs (id, slug, name, owner_id, is_personal, plan, billing_customer_id, metadata, seat_count, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
        )
        .bind(org.id.to_string())
        .bind(org.slug.as_str())
        .bind(&org.name)
        .bind(org.owner_id.to_string())
        .bind(org.is_personal)
        .bind(&org.plan)
        .bind(&org.billing_customer_id)
        .bind(org.metadata.to_string())
        .bind(ms(org.created_at))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn org(&mut self, id: OrgId) -> StoreResult<Option<Org>> {
        let sql = format!("SELECT {} FROM orgs o WHERE o.id = ?", rows::ORG_COLUMNS);
        let row = sqlx::query(&sql).bind(id.to_string()).fetch_optional(self.conn()).await.map_err(db_err)?;
        row.as_ref().map(rows::org).transpose()
    }

    async fn org_by_slug(&mut self, slug: &str) -> StoreResult<Option<Org>> {
        let sql = format!("SELECT {} FROM orgs o WHERE o.slug = ?", rows::ORG_COLUMNS);
        let row = sqlx::query(&sql).bind(slug).fetch_optional(self.conn()).await.map_err(db_err)?;
        row.as_ref().map(rows::org).transpose()
    }

    async fn update_org_profile(&mut self, org: &Org) -> StoreResult<()> {
        sqlx::query("UPDATE orgs SET name = ?, metadata = ? WHERE id = ?")
            .bind(&org.name)
            .bind(org.metadata.to_string())
            .bind(org.id.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn orgs_of_user(&mut self, user: UserId, page: Option<&PageRequest>) -> StoreResult<Vec<OrgWithRole>> {
        let sql = format!(
            "SELECT {}, {} FROM memberships m JOIN orgs o ON o.id = m.org_id \
             WHERE m.user_id = ? AND m.id > ? ORDER BY m.id LIMIT ?",
            rows::ORG_COLUMNS,
            rows::MEMBERSHIP_COLUMNS
        );
        let (after_key, limit) = page.map_or(("", -1i64), |p| (after(p), i64::from(p.fetch_limit())));
        let found = sqlx::query(&sql)
            .bind(user.to_string())
            .bind(after_key)
            .bind(limit)
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        found.iter().map(rows::org_with_role).collect()
    }

    async fn list_orgs(&mut self, page: &PageRequest) -> StoreResult<Vec<Org>> {
        let sql = format!("SELECT {} FROM orgs o WHERE o.id > ? ORDER BY o.id LIMIT ?", rows::ORG_COLUMNS);
        let found = sqlx::query(&sql)
            .bind(after(page))
            .bind(i64::from(page.fetch_limit()))
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        found.iter().map(rows::org).collect()
    }

    async fn slug_exists(&mut self, slug: &Slug) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM orgs WHERE slug = ?")
            .bind(slug.as_str())
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?;
        Ok(found.is_some())
    }

    async fn insert_membership(&mut self, membership: &Membership) -> StoreResult<()> {
        sqlx::query("INSERT INTO memberships (id, org_id, user_id, role, joined_at) VALUES (?, ?, ?, ?, ?)")
            .bind(membership.id.to_string())
            .bind(membership.org_id.to_string())
            .bind(membership.user_id.to_string())
            .bind(&membership.role)
            .bind(ms(membership.joined_at))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        sqlx::query("UPDATE orgs SET seat_count = seat_count + 1 WHERE id = ?")
            .bind(membership.org_id.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn membership(&mut self, org: OrgId, user: UserId) -> StoreResult<Option<Membership>> {
        let sql =
            format!("SELECT {} FROM memberships m WHERE m.org_id = ? AND m.user_id = ?", rows::MEMBERSHIP_COLUMNS);
        let row = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(user.to_string())
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::membership).transpose()
    }

    async fn list_members(&mut self, org: OrgId, page: &PageRequest) -> StoreResult<Vec<Member>> {
        let sql = format!(
            "SELECT {}, u.email, u.display_name FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.org_id = ? AND m.id > ? ORDER BY m.id LIMIT ?",
            rows::MEMBERSHIP_COLUMNS
        );
        let found = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(after(page))
            .bind(i64::from(page.fetch_limit()))
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        found.iter().map(rows::member).collect()
    }

    async fn member(&mut self, org: OrgId, user: UserId) -> StoreResult<Option<Member>> {
        let sql = format!(
            "SELECT {}, u.email, u.display_name FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.org_id = ? AND m.user_id = ?",
            rows::MEMBERSHIP_COLUMNS
        );
        let row = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(user.to_string())
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::member).transpose()
    }

    async fn set_member_role(&mut self, org: OrgId, user: UserId, role: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE memberships SET role = ? WHERE org_id = ? AND user_id = ?")
            .bind(role)
            .bind(org.to_string())
            .bind(user.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_membership(&mut self, org: OrgId, user: UserId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM memberships WHERE org_id = ? AND user_id = ?")
            .bind(org.to_string())
            .bind(user.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("UPDATE orgs SET seat_count = seat_count - 1 WHERE id = ?")
            .bind(org.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(true)
    }

    async fn count_members_with_role(&mut self, org: OrgId, role: &str) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE org_id = ? AND role = ?")
            .bind(org.to_string())
            .bind(role)
            .fetch_one(self.conn())
            .await
            .map_err(db_err)?;
        Ok(count as u64)
    }

    async fn reassign_role(&mut self, org: OrgId, from: &str, to: &str) -> StoreResult<u64> {
        let done = sqlx::query("UPDATE memberships SET role = ? WHERE org_id = ? AND role = ?")
            .bind(to)
            .bind(org.to_string())
            .bind(from)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn custom_roles(&mut self, org: OrgId) -> StoreResult<Vec<CustomRole>> {
        let found = sqlx::query(
            "SELECT id, org_id, key, name, permissions, created_at FROM custom_roles WHERE org_id = ? ORDER BY id",
        )
        .bind(org.to_string())
        .fetch_all(self.conn())
        .await
        .map_err(db_err)?;
        found.iter().map(rows::custom_role).collect()
    }

    async fn insert_custom_role(&mut self, role: &CustomRole) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO custom_roles (id, org_id, key, name, permissions, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(role.id.to_string())
        .bind(role.org_id.to_string())
        .bind(&role.key)
        .bind(&role.name)
        .bind(rows::json_list(&role.permissions))
        .bind(ms(role.created_at))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn update_custom_role(&mut self, role: &CustomRole) -> StoreResult<()> {
        sqlx::query("UPDATE custom_roles SET name = ?, permissions = ? WHERE org_id = ? AND key = ?")
            .bind(&role.name)
            .bind(rows::json_list(&role.permissions))
            .bind(role.org_id.to_string())
            .bind(&role.key)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn delete_custom_role(&mut self, org: OrgId, key: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM custom_roles WHERE org_id = ? AND key = ?")
            .bind(org.to_string())
            .bind(key)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_session(&mut self, session: &Session) -> StoreResult<()> {
        sqlx::query("INSERT INTO sessions (id, user_id, active_org_id, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)")
            .bind(session.id.to_string())
            .bind(session.user_id.to_string())
            .bind(session.active_org_id.map(|id| id.to_string()))
            .bind(ms(session.created_at))
            .bind(session.revoked_at.map(ms))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn session(&mut self, id: SessionId) -> StoreResult<Option<Session>> {
        let row = sqlx::query("SELECT id, user_id, active_org_id, created_at, revoked_at FROM sessions WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::session).transpose()
    }

    async fn set_session_org(&mut self, id: SessionId, org: Option<OrgId>) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET active_org_id = ? WHERE id = ?")
            .bind(org.map(|o| o.to_string()))
            .bind(id.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn revoke_session(&mut self, id: SessionId, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(ms(at))
            .bind(id.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn revoke_user_sessions(&mut self, user: UserId, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
            .bind(ms(at))
            .bind(user.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn insert_refresh_token(&mut self, token: &RefreshToken) -> StoreResult<()> {
        sqlx::query("INSERT INTO refresh_tokens (hash, session_id, expires_at, used_at) VALUES (?, ?, ?, ?)")
            .bind(&token.hash)
            .bind(token.session_id.to_string())
            .bind(ms(token.expires_at))
            .bind(token.used_at.map(ms))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn refresh_token(&mut self, hash: &str) -> StoreResult<Option<RefreshToken>> {
        let row = sqlx::query("SELECT hash, session_id, expires_at, used_at FROM refresh_tokens WHERE hash = ?")
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

    async fn use_refresh_token(&mut self, hash: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL")
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
        sqlx::query("INSERT INTO email_tokens (hash, kind, user_id, expires_at) VALUES (?, ?, ?, ?)")
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
            "UPDATE email_tokens SET used_at = ? \
             WHERE hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id",
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

    async fn insert_outbox(&mut self, message: &OutboxMessage) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO outbox (id, recipient, subject, text_body, html_body, created_at, sent_at, attempts, next_attempt_at, last_error) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(message.id.to_string())
        .bind(message.to.as_str())
        .bind(&message.subject)
        .bind(&message.text)
        .bind(&message.html)
        .bind(ms(message.created_at))
        .bind(message.sent_at.map(ms))
        .bind(i64::from(message.attempts))
        .bind(message.next_attempt_at.map(ms))
        .bind(&message.last_error)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn list_outbox(&mut self, page: &PageRequest) -> StoreResult<Vec<OutboxMessage>> {
        let sql =
            format!("SELECT {} FROM outbox WHERE (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?", rows::OUTBOX_COLUMNS);
        let found = sqlx::query(&sql)
            .bind(page.after.as_deref())
            .bind(page.after.as_deref())
            .bind(i64::from(page.fetch_limit()))
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        found.iter().map(rows::outbox).collect()
    }

    async fn due_outbox(&mut self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<OutboxMessage>> {
        let sql = format!(
            "SELECT {} FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
            rows::OUTBOX_COLUMNS
        );
        let found =
            sqlx::query(&sql).bind(ms(now)).bind(i64::from(limit)).fetch_all(self.conn()).await.map_err(db_err)?;
        found.iter().map(rows::outbox).collect()
    }

    async fn mark_outbox_sent(&mut self, id: MessageId, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET sent_at = ?, attempts = attempts + 1, next_attempt_at = NULL, last_error = NULL WHERE id = ?")
            .bind(ms(at))
            .bind(id.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn mark_outbox_failed(
        &mut self,
        id: MessageId,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?")
            .bind(ms(next_attempt_at))
            .bind(error)
            .bind(id.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn signing_key(&mut self) -> StoreResult<Option<SigningKey>> {
        let row = sqlx::query("SELECT kid, pkcs8, created_at FROM signing_keys ORDER BY created_at DESC LIMIT 1")
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?;
        row.map(|row| {
            Ok(SigningKey {
                kid: rows::get(&row, "kid")?,
                pkcs8: rows::get(&row, "pkcs8")?,
                created_at: rows::time(&row, "created_at")?,
            })
        })
        .transpose()
    }

    async fn insert_signing_key(&mut self, key: &SigningKey) -> StoreResult<()> {
        sqlx::query("INSERT INTO signing_keys (kid, pkcs8, created_at) VALUES (?, ?, ?)")
            .bind(&key.kid)
            .bind(&key.pkcs8)
            .bind(ms(key.created_at))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn instance_secret(&mut self, name: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT value FROM instance_secrets WHERE name = ?")
            .bind(name)
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)
    }

    async fn set_instance_secret(&mut self, name: &str, value: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO instance_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
            .bind(name)
            .bind(value)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn last_audit_hash(&mut self, org: Option<OrgId>) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT hash FROM audit_events WHERE org_id IS ? ORDER BY seq DESC LIMIT 1")
            .bind(org.map(|o| o.to_string()))
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)
    }

    async fn insert_audit(&mut self, event: &AuditEvent, prev_hash: &str, hash: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_events (id, org_id, actor_type, actor_id, action, target_type, target_id, occurred_at, ip, user_agent, metadata, prev_hash, hash) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(event.id.to_string())
        .bind(event.org_id.map(|o| o.to_string()))
        .bind(&event.actor.kind)
        .bind(&event.actor.id)
        .bind(&event.action)
        .bind(&event.target.kind)
        .bind(&event.target.id)
        .bind(ms(event.occurred_at))
        .bind(&event.ip)
        .bind(&event.user_agent)
        .bind(event.metadata.to_string())
        .bind(prev_hash)
        .bind(hash)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
