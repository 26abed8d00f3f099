//! Orgs and memberships. Each org row keeps its `seat_count` in the transaction that adds or removes a membership.

use async_trait::async_trait;
use tenantry_core::domain::ids::{OrgId, UserId};
use tenantry_core::domain::models::{Member, MemberStatus, Membership, Org, OrgWithRole};
use tenantry_core::domain::pagination::PageRequest;
use tenantry_core::domain::slug::Slug;
use tenantry_core::store::{CacheChange, MaybeStale, OrgsRead, OrgsTx, Stale, StoreResult};

use super::after;
use crate::rows::{self, ms};

use super::SqlTx;
use crate::{db_err, Backend};

#[async_trait]
impl OrgsRead for SqlTx {
    async fn org(&mut self, id: OrgId) -> StoreResult<Option<Org>> {
        let sql = format!("SELECT {} FROM orgs o WHERE o.id = $1", rows::ORG_COLUMNS);
        let row =
            sqlx::query(&sql).bind(id.to_string()).fetch_optional(self.in_org(id).await?).await.map_err(db_err)?;
        row.as_ref().map(rows::org).transpose()
    }

    async fn org_by_slug(&mut self, slug: &str) -> StoreResult<Option<Org>> {
        // The slug names the org before the transaction knows which org it is in.
        match self.enter_org_of("SELECT id FROM orgs WHERE slug = $1", slug).await? {
            Some(id) => OrgsRead::org(self, id).await,
            None => Ok(None),
        }
    }

    async fn orgs_of_user(&mut self, user: UserId, page: Option<&PageRequest>) -> StoreResult<Vec<OrgWithRole>> {
        let sql = format!(
            "SELECT {}, {} FROM memberships m JOIN orgs o ON o.id = m.org_id \
             WHERE m.user_id = $1 AND m.id > $2 ORDER BY m.id LIMIT $3",
            rows::ORG_COLUMNS,
            rows::MEMBERSHIP_COLUMNS
        );
        let (after_key, limit) = page.map_or(("", i64::MAX), |p| (after(p), i64::from(p.fetch_limit())));
        self.as_user(Some(user)).await?;
        let found = sqlx::query(&sql)
            .bind(user.to_string())
            .bind(after_key)
            .bind(limit)
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        self.as_user(None).await?;
        found.iter().map(rows::org_with_role).collect()
    }

    async fn slug_exists(&mut self, slug: &Slug) -> StoreResult<bool> {
        self.all_orgs(true).await?;
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM orgs WHERE slug = $1")
            .bind(slug.as_str())
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?;
        self.all_orgs(false).await?;
        Ok(found.is_some())
    }

    async fn count_orgs_of_user(&mut self, user: UserId) -> StoreResult<u64> {
        self.as_user(Some(user)).await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE user_id = $1")
            .bind(user.to_string())
            .fetch_one(self.conn())
            .await
            .map_err(db_err)?;
        self.as_user(None).await?;
        Ok(count as u64)
    }

    async fn membership(&mut self, org: OrgId, user: UserId) -> StoreResult<Option<Membership>> {
        let sql =
            format!("SELECT {} FROM memberships m WHERE m.org_id = $1 AND m.user_id = $2", rows::MEMBERSHIP_COLUMNS);
        let row = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(user.to_string())
            .fetch_optional(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::membership).transpose()
    }

    async fn list_members(&mut self, org: OrgId, page: &PageRequest) -> StoreResult<Vec<Member>> {
        // A page is one range of the `memberships_org_page` index, which holds everything a
        // member page shows (each membership keeps a copy of its user's email and display name).
        // It comes back as one row holding a JSON array: a page of 100 crossing from the driver row
        // by row (for SQLite, a hand-off between its worker thread and the runtime per row) costs
        // several times the query itself. The limit is written into the statement, not bound:
        // PostgreSQL's generic plan for an unknown limit reads the whole org to sort it, instead
        // of walking the index for one page.
        let columns = "p.id, p.user_id, p.role, p.joined_at, p.email, p.display_name, p.team_ids, p.status";
        let aggregate = match self.backend {
            Backend::Sqlite => format!("json_group_array(json_array({columns}))"),
            Backend::Postgres => format!("COALESCE(json_agg(json_build_array({columns}))::text, '[]')"),
        };
        let sql = format!(
            "SELECT {aggregate} AS page FROM (\
               SELECT m.id, m.user_id, m.role, m.joined_at, m.email, m.display_name, m.team_ids, m.status FROM memberships m \
               WHERE m.org_id = $1 AND m.id > $2 ORDER BY m.id LIMIT {}) p",
            page.fetch_limit()
        );
        let row = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(after(page))
            .fetch_one(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        rows::member_page(org, &rows::get::<String>(&row, "page")?)
    }

    async fn member(&mut self, org: OrgId, user: UserId) -> StoreResult<Option<Member>> {
        let sql = format!(
            "SELECT {}, m.email, m.display_name, m.team_ids FROM memberships m WHERE m.org_id = $1 AND m.user_id = $2",
            rows::MEMBERSHIP_COLUMNS
        );
        let row = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(user.to_string())
            .fetch_optional(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::member).transpose()
    }

    async fn search_members(&mut self, org: OrgId, query: &str, page: &PageRequest) -> StoreResult<Vec<Member>> {
        let sql = format!(
            "SELECT {}, m.email, m.display_name, m.team_ids FROM memberships m WHERE m.org_id = $1 AND m.id > $2 \
             AND (m.email LIKE $3 ESCAPE '\\' OR LOWER(m.display_name) LIKE $3 ESCAPE '\\') ORDER BY m.id LIMIT $4",
            rows::MEMBERSHIP_COLUMNS
        );
        let found = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(after(page))
            .bind(super::admin::contains_pattern(Some(query)))
            .bind(i64::from(page.fetch_limit()))
            .fetch_all(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        found.iter().map(rows::member).collect()
    }

    async fn count_members_with_role(&mut self, org: OrgId, role: &str) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = $2")
            .bind(org.to_string())
            .bind(role)
            .fetch_one(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        Ok(count as u64)
    }
}

#[async_trait]
impl OrgsTx for SqlTx {
    async fn insert_org(&mut self, org: &Org) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO orgs (id, slug, name, owner_id, is_personal, plan, billing_customer_id, metadata, seat_count, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)",
        )
        .bind(org.id.to_string())
        .bind(org.slug.as_str())
        .bind(&org.name)
        .bind(org.owner_id.to_string())
        .bind(i64::from(org.is_personal))
        .bind(&org.plan)
        .bind(&org.billing_customer_id)
        .bind(org.metadata.to_string())
        .bind(ms(org.created_at))
        .execute(self.in_org(org.id).await?)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn update_org_profile(&mut self, org: &Org) -> StoreResult<Stale> {
        sqlx::query("UPDATE orgs SET name = $1, metadata = $2 WHERE id = $3")
            .bind(&org.name)
            .bind(org.metadata.to_string())
            .bind(org.id.to_string())
            .execute(self.in_org(org.id).await?)
            .await
            .map_err(db_err)?;
        Ok(Stale::new(CacheChange::Org { org: org.id }))
    }

    async fn delete_org(&mut self, org: OrgId) -> StoreResult<MaybeStale> {
        let slug: Option<String> = sqlx::query_scalar("DELETE FROM orgs WHERE id = $1 RETURNING slug")
            .bind(org.to_string())
            .fetch_optional(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        Ok(slug.map(|slug| Stale::new(CacheChange::OrgDeleted { org, slug })).into())
    }

    async fn insert_membership(&mut self, membership: &Membership) -> StoreResult<Stale> {
        sqlx::query(
            "INSERT INTO memberships (id, org_id, user_id, role, status, joined_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(membership.id.to_string())
        .bind(membership.org_id.to_string())
        .bind(membership.user_id.to_string())
        .bind(&membership.role)
        .bind(membership.status.as_str())
        .bind(ms(membership.joined_at))
        .execute(self.in_org(membership.org_id).await?)
        .await
        .map_err(db_err)?;
        sqlx::query("UPDATE orgs SET seat_count = seat_count + 1 WHERE id = $1")
            .bind(membership.org_id.to_string())
            .execute(self.in_org(membership.org_id).await?)
            .await
            .map_err(db_err)?;
        Ok(Stale::new(CacheChange::Member { org: membership.org_id, user: membership.user_id }))
    }

    async fn set_member_role(&mut self, org: OrgId, user: UserId, role: &str) -> StoreResult<MaybeStale> {
        let done = sqlx::query("UPDATE memberships SET role = $1 WHERE org_id = $2 AND user_id = $3")
            .bind(role)
            .bind(org.to_string())
            .bind(user.to_string())
            .execute(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        Ok((done.rows_affected() == 1).then(|| Stale::new(CacheChange::Member { org, user })).into())
    }

    async fn set_member_status(&mut self, org: OrgId, user: UserId, status: MemberStatus) -> StoreResult<MaybeStale> {
        let done = sqlx::query("UPDATE memberships SET status = $1 WHERE org_id = $2 AND user_id = $3")
            .bind(status.as_str())
            .bind(org.to_string())
            .bind(user.to_string())
            .execute(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        Ok((done.rows_affected() == 1).then(|| Stale::new(CacheChange::Member { org, user })).into())
    }

    async fn delete_membership(&mut self, org: OrgId, user: UserId) -> StoreResult<MaybeStale> {
        let done = sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(org.to_string())
            .bind(user.to_string())
            .execute(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Ok(None.into());
        }
        sqlx::query("UPDATE orgs SET seat_count = seat_count - 1 WHERE id = $1")
            .bind(org.to_string())
            .execute(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        Ok(Some(Stale::new(CacheChange::Member { org, user })).into())
    }

    async fn reassign_role(&mut self, org: OrgId, from: &str, to: &str) -> StoreResult<(u64, Stale)> {
        let done = sqlx::query("UPDATE memberships SET role = $1 WHERE org_id = $2 AND role = $3")
            .bind(to)
            .bind(org.to_string())
            .bind(from)
            .execute(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        Ok((done.rows_affected(), Stale::new(CacheChange::OrgRoles { org })))
    }
}
