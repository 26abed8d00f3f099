//! Teams and team memberships. Each membership row keeps a copy of its member's team ids
//! (`memberships.team_ids`), rewritten in the transaction of every team membership change, so
//! member pages read them from the page index.

use async_trait::async_trait;
use tenantry_core::domain::ids::{OrgId, TeamId, TeamRef, UserId};
use tenantry_core::domain::pagination::PageRequest;
use tenantry_core::domain::team::{Team, TeamMember, TeamMembership, TeamPlace};
use tenantry_core::store::{CacheChange, MaybeStale, Stale, StoreResult, TeamsRead, TeamsTx};

use super::{after, SqlTx};
use crate::rows::{self, ms};
use crate::{db_err, Backend};

const TEAM_COLUMNS: &str = "t.id, t.org_id, t.slug, t.name, t.description, t.metadata, t.created_at, \
     (SELECT COUNT(*) FROM team_members c WHERE c.org_id = t.org_id AND c.team_id = t.id) AS member_count";

const TEAM_MEMBER_COLUMNS: &str =
    "tm.org_id, tm.team_id, tm.user_id, tm.role, tm.joined_at, m.email AS email, m.display_name AS display_name";

impl SqlTx {
    /// Rewrites the `team_ids` of the org's memberships that `which` (a condition on
    /// `memberships`, with `$1` the org) selects, from their team memberships other than
    /// `leaving` (a team about to be deleted).
    async fn refresh_team_ids(
        &mut self,
        org: OrgId,
        which: &str,
        bound: &str,
        leaving: Option<TeamId>,
    ) -> StoreResult<()> {
        let skip = if leaving.is_some() { "AND t.team_id <> $2" } else { "" };
        let ids = match self.backend {
            Backend::Sqlite => format!(
                "(SELECT json_group_array(team_id) FROM (SELECT t.team_id FROM team_members t \
                  WHERE t.org_id = memberships.org_id AND t.user_id = memberships.user_id {skip} ORDER BY t.team_id))"
            ),
            Backend::Postgres => format!(
                "COALESCE((SELECT json_agg(t.team_id ORDER BY t.team_id)::text FROM team_members t \
                  WHERE t.org_id = memberships.org_id AND t.user_id = memberships.user_id {skip}), '[]')"
            ),
        };
        let sql = format!("UPDATE memberships SET team_ids = {ids} WHERE org_id = $1 AND {which}");
        sqlx::query(&sql).bind(org.to_string()).bind(bound).execute(self.in_org(org).await?).await.map_err(db_err)?;
        Ok(())
    }
}

fn team(row: &sqlx::any::AnyRow) -> StoreResult<Team> {
    let metadata: String = rows::get(row, "metadata")?;
    let count: i64 = rows::get(row, "member_count")?;
    Ok(Team {
        id: rows::id(row, "id")?,
        org_id: rows::id(row, "org_id")?,
        slug: tenantry_core::domain::slug::Slug::from_trusted(rows::get(row, "slug")?),
        name: rows::get(row, "name")?,
        description: rows::get(row, "description")?,
        metadata: serde_json::from_str(&metadata).map_err(|_| rows::corrupt("metadata"))?,
        created_at: rows::time(row, "created_at")?,
        member_count: count as u64,
    })
}

fn team_member(row: &sqlx::any::AnyRow) -> StoreResult<TeamMember> {
    Ok(TeamMember {
        membership: TeamMembership {
            org_id: rows::id(row, "org_id")?,
            team_id: rows::id(row, "team_id")?,
            user_id: rows::id(row, "user_id")?,
            role: rows::get(row, "role")?,
            joined_at: rows::time(row, "joined_at")?,
        },
        email: tenantry_core::domain::email::Email::from_trusted(rows::get(row, "email")?),
        display_name: rows::get(row, "display_name")?,
    })
}

#[async_trait]
impl TeamsRead for SqlTx {
    async fn list_teams(&mut self, org: OrgId, page: &PageRequest) -> StoreResult<Vec<Team>> {
        let sql =
            format!("SELECT {TEAM_COLUMNS} FROM teams t WHERE t.org_id = $1 AND t.id > $2 ORDER BY t.id LIMIT $3");
        let found = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(after(page))
            .bind(i64::from(page.fetch_limit()))
            .fetch_all(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        found.iter().map(team).collect()
    }

    async fn team(&mut self, org: OrgId, reference: &TeamRef) -> StoreResult<Option<Team>> {
        let (column, key) = match reference {
            TeamRef::Id(id) => ("id", id.to_string()),
            TeamRef::Slug(slug) => ("slug", slug.clone()),
        };
        let sql = format!("SELECT {TEAM_COLUMNS} FROM teams t WHERE t.org_id = $1 AND t.{column} = $2");
        let row = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(key)
            .fetch_optional(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        row.as_ref().map(team).transpose()
    }

    async fn team_slugs(&mut self, org: OrgId) -> StoreResult<Vec<(TeamId, String)>> {
        let found: Vec<(String, String)> = sqlx::query_as("SELECT id, slug FROM teams WHERE org_id = $1 ORDER BY id")
            .bind(org.to_string())
            .fetch_all(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        found.into_iter().map(|(id, slug)| Ok((id.parse().map_err(|_| rows::corrupt("team id"))?, slug))).collect()
    }

    async fn count_teams(&mut self, org: OrgId) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM teams WHERE org_id = $1")
            .bind(org.to_string())
            .fetch_one(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        Ok(count as u64)
    }

    async fn list_team_members(
        &mut self,
        org: OrgId,
        team: TeamId,
        page: &PageRequest,
    ) -> StoreResult<Vec<TeamMember>> {
        let sql = format!(
            "SELECT {TEAM_MEMBER_COLUMNS} FROM team_members tm \
             JOIN memberships m ON m.org_id = tm.org_id AND m.user_id = tm.user_id \
             WHERE tm.org_id = $1 AND tm.team_id = $2 AND tm.user_id > $3 ORDER BY tm.user_id LIMIT $4"
        );
        let found = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(team.to_string())
            .bind(after(page))
            .bind(i64::from(page.fetch_limit()))
            .fetch_all(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        found.iter().map(team_member).collect()
    }

    async fn team_member(&mut self, org: OrgId, team: TeamId, user: UserId) -> StoreResult<Option<TeamMember>> {
        let sql = format!(
            "SELECT {TEAM_MEMBER_COLUMNS} FROM team_members tm \
             JOIN memberships m ON m.org_id = tm.org_id AND m.user_id = tm.user_id \
             WHERE tm.org_id = $1 AND tm.team_id = $2 AND tm.user_id = $3"
        );
        let row = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(team.to_string())
            .bind(user.to_string())
            .fetch_optional(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        row.as_ref().map(team_member).transpose()
    }

    async fn team_roles_of(&mut self, org: OrgId, user: UserId) -> StoreResult<Vec<TeamPlace>> {
        let found: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT tm.team_id, t.slug, tm.role FROM team_members tm \
             JOIN teams t ON t.org_id = tm.org_id AND t.id = tm.team_id \
             WHERE tm.org_id = $1 AND tm.user_id = $2 ORDER BY tm.team_id",
        )
        .bind(org.to_string())
        .bind(user.to_string())
        .fetch_all(self.in_org(org).await?)
        .await
        .map_err(db_err)?;
        found
            .into_iter()
            .map(|(id, slug, role)| {
                Ok(TeamPlace { team: id.parse().map_err(|_| rows::corrupt("team id"))?, slug, role })
            })
            .collect()
    }
}

#[async_trait]
impl TeamsTx for SqlTx {
    async fn insert_team(&mut self, team: &Team) -> StoreResult<Stale> {
        sqlx::query(
            "INSERT INTO teams (id, org_id, slug, name, description, metadata, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(team.id.to_string())
        .bind(team.org_id.to_string())
        .bind(team.slug.as_str())
        .bind(&team.name)
        .bind(&team.description)
        .bind(team.metadata.to_string())
        .bind(ms(team.created_at))
        .execute(self.in_org(team.org_id).await?)
        .await
        .map_err(db_err)?;
        Ok(Stale::new(CacheChange::OrgTeams { org: team.org_id }))
    }

    async fn update_team(&mut self, team: &Team) -> StoreResult<Stale> {
        sqlx::query(
            "UPDATE teams SET slug = $1, name = $2, description = $3, metadata = $4 WHERE org_id = $5 AND id = $6",
        )
        .bind(team.slug.as_str())
        .bind(&team.name)
        .bind(&team.description)
        .bind(team.metadata.to_string())
        .bind(team.org_id.to_string())
        .bind(team.id.to_string())
        .execute(self.in_org(team.org_id).await?)
        .await
        .map_err(db_err)?;
        Ok(Stale::new(CacheChange::OrgTeams { org: team.org_id }))
    }

    async fn delete_team(&mut self, org: OrgId, team: TeamId) -> StoreResult<MaybeStale> {
        let id = team.to_string();
        self.refresh_team_ids(
            org,
            "user_id IN (SELECT user_id FROM team_members WHERE org_id = $1 AND team_id = $2)",
            &id,
            Some(team),
        )
        .await?;
        let done = sqlx::query("DELETE FROM teams WHERE org_id = $1 AND id = $2")
            .bind(org.to_string())
            .bind(&id)
            .execute(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        Ok((done.rows_affected() == 1).then(|| Stale::new(CacheChange::OrgTeams { org })).into())
    }

    async fn insert_team_member(&mut self, membership: &TeamMembership) -> StoreResult<Stale> {
        let org = membership.org_id;
        sqlx::query("INSERT INTO team_members (org_id, team_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(org.to_string())
            .bind(membership.team_id.to_string())
            .bind(membership.user_id.to_string())
            .bind(&membership.role)
            .bind(ms(membership.joined_at))
            .execute(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        self.refresh_team_ids(org, "user_id = $2", &membership.user_id.to_string(), None).await?;
        Ok(Stale::new(CacheChange::Member { org, user: membership.user_id }))
    }

    async fn set_team_member_role(
        &mut self,
        org: OrgId,
        team: TeamId,
        user: UserId,
        role: &str,
    ) -> StoreResult<MaybeStale> {
        let done = sqlx::query("UPDATE team_members SET role = $1 WHERE org_id = $2 AND team_id = $3 AND user_id = $4")
            .bind(role)
            .bind(org.to_string())
            .bind(team.to_string())
            .bind(user.to_string())
            .execute(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        Ok((done.rows_affected() == 1).then(|| Stale::new(CacheChange::Member { org, user })).into())
    }

    async fn delete_team_member(&mut self, org: OrgId, team: TeamId, user: UserId) -> StoreResult<MaybeStale> {
        let done = sqlx::query("DELETE FROM team_members WHERE org_id = $1 AND team_id = $2 AND user_id = $3")
            .bind(org.to_string())
            .bind(team.to_string())
            .bind(user.to_string())
            .execute(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Ok(None.into());
        }
        self.refresh_team_ids(org, "user_id = $2", &user.to_string(), None).await?;
        Ok(Some(Stale::new(CacheChange::Member { org, user })).into())
    }
}
