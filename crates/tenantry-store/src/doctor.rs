//! `tenantry doctor`: integrity checks the schema's constraints cannot express, run over the
//! whole database (every org's rows, past Row Level Security). Each finding names what is wrong
//! and where; the services never produce these states, so each one means something outside them
//! wrote to the database (a hand-edited row, a partial restore).

use std::collections::{HashMap, HashSet};

use sqlx::Row;

use crate::{Backend, SqlStore};

/// One fault: its kind (stable, for scripts) and the rows it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: &'static str,
    pub detail: String,
}

/// What doctor needs from the preset: roles exist there as well as in the database.
pub struct RoleBook<'a> {
    pub owner_role: &'a str,
    pub built_in: Vec<&'a str>,
}

impl SqlStore {
    /// Every fault found; empty when the database is sound (the audit chains are checked
    /// separately, by `verify_audit_chains`).
    pub async fn doctor_findings(&self, roles: &RoleBook<'_>) -> Result<Vec<Finding>, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT set_config('app.all_orgs', 'on', true)").execute(&mut *tx).await?;
        }
        let mut findings = Vec::new();

        let rows = sqlx::query(
            "SELECT o.id, o.owner_id, (SELECT COUNT(*) FROM memberships m WHERE m.org_id = o.id AND m.role = $1) AS owners, \
             (SELECT COUNT(*) FROM memberships m WHERE m.org_id = o.id AND m.user_id = o.owner_id AND m.role = $1) AS named \
             FROM orgs o ORDER BY o.id",
        )
        .bind(roles.owner_role)
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            let (owners, named): (i64, i64) = (row.try_get("owners")?, row.try_get("named")?);
            if owners != 1 || named != 1 {
                let org: String = row.try_get("id")?;
                let owner: String = row.try_get("owner_id")?;
                findings.push(Finding {
                    kind: "org_owner",
                    detail: format!(
                        "org {org} has {owners} member(s) with the owner role `{}`, and its owner {owner} {}",
                        roles.owner_role,
                        if named == 1 { "is one of them" } else { "is not one of them" }
                    ),
                });
            }
        }

        let rows = sqlx::query(
            "SELECT tm.org_id, tm.team_id, tm.user_id, \
             (SELECT COUNT(*) FROM memberships m WHERE m.org_id = tm.org_id AND m.user_id = tm.user_id) AS member, \
             (SELECT COUNT(*) FROM teams t WHERE t.id = tm.team_id AND t.org_id = tm.org_id) AS team \
             FROM team_members tm ORDER BY tm.org_id, tm.team_id, tm.user_id",
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            let (member, team): (i64, i64) = (row.try_get("member")?, row.try_get("team")?);
            if member == 0 || team == 0 {
                let (org, team_id, user): (String, String, String) =
                    (row.try_get("org_id")?, row.try_get("team_id")?, row.try_get("user_id")?);
                let why = if team == 0 { "the team is not the org's" } else { "the user is not a member of the org" };
                findings.push(Finding {
                    kind: "team_member_outside_org",
                    detail: format!("user {user} is in team {team_id} of org {org}, but {why}"),
                });
            }
        }

        let custom: Vec<(String, String)> =
            sqlx::query_as("SELECT org_id, key FROM custom_roles").fetch_all(&mut *tx).await?;
        let custom: HashSet<(String, String)> = custom.into_iter().collect();
        let teams: Vec<(String, String)> = sqlx::query_as("SELECT id, org_id FROM teams").fetch_all(&mut *tx).await?;
        let teams: HashMap<String, String> = teams.into_iter().collect();
        let pending: Vec<(String, String, String, String)> =
            sqlx::query_as("SELECT id, org_id, role, team_ids FROM invitations WHERE state = 'pending' ORDER BY id")
                .fetch_all(&mut *tx)
                .await?;
        for (id, org, role, team_ids) in pending {
            if !roles.built_in.contains(&role.as_str()) && !custom.contains(&(org.clone(), role.clone())) {
                findings.push(Finding {
                    kind: "invitation_role_missing",
                    detail: format!(
                        "pending invitation {id} of org {org} offers the role `{role}`, which does not exist"
                    ),
                });
            }
            let named: Vec<String> = serde_json::from_str(&team_ids).unwrap_or_default();
            for team in named.iter().filter(|t| teams.get(*t) != Some(&org)) {
                findings.push(Finding {
                    kind: "invitation_team_missing",
                    detail: format!("pending invitation {id} of org {org} names team {team}, which is not the org's"),
                });
            }
        }

        let orphans: Vec<(String, String)> = sqlx::query_as(
            "SELECT k.id, k.org_id FROM api_keys k WHERE NOT EXISTS (SELECT 1 FROM orgs o WHERE o.id = k.org_id) \
             ORDER BY k.id",
        )
        .fetch_all(&mut *tx)
        .await?;
        for (key, org) in orphans {
            findings.push(Finding {
                kind: "key_of_deleted_org",
                detail: format!("API key {key} belongs to org {org}, which does not exist"),
            });
        }
        tx.rollback().await?;
        Ok(findings)
    }
}
