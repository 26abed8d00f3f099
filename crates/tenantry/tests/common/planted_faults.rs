//! The faults `tenantry doctor` must find, each as the SQL someone editing the database by hand
//! could run (with foreign keys unchecked). Shared by the CLI suite (SQLite) and the process
//! suite (PostgreSQL in CI), so doctor is held to the same list on both.

/// `(kind doctor reports, SQL that plants it)` for an org `org` owned by `owner`, in the order
/// they are planted.
pub fn faults(org: &str, owner: &str) -> Vec<(&'static str, String)> {
    vec![
        ("org_owner", format!("UPDATE memberships SET role = 'admin' WHERE org_id = '{org}' AND user_id = '{owner}'")),
        (
            "team_member_outside_org",
            format!(
                "INSERT INTO team_members (org_id, team_id, user_id, role, joined_at) \
                 VALUES ('{org}', 'team_ghost', '{owner}', 'member', 0)"
            ),
        ),
        (
            "invitation_role_missing",
            format!(
                "INSERT INTO invitations (id, org_id, email, role, team_ids, invited_by, state, token_hash, \
                 expires_at, created_at) VALUES ('inv_planted', '{org}', 'x@example.com', 'wizard', '[]', '{owner}', \
                 'pending', 'planted', 0, 0)"
            ),
        ),
        (
            "invitation_team_missing",
            format!(
                "INSERT INTO invitations (id, org_id, email, role, team_ids, invited_by, state, token_hash, \
                 expires_at, created_at) VALUES ('inv_planted_2', '{org}', 'y@example.com', 'viewer', \
                 '[\"team_ghost\"]', '{owner}', 'pending', 'planted_2', 0, 0)"
            ),
        ),
        (
            "key_of_deleted_org",
            format!(
                "INSERT INTO api_keys (id, org_id, name, prefix, secret_hash, scopes, created_by, created_at) \
                 VALUES ('key_planted', 'org_gone', 'k', 'tn_live_x', 'planted', '[]', '{owner}', 0)"
            ),
        ),
        ("audit_chain_broken", "UPDATE audit_events SET metadata = '{}' WHERE action = 'org.created'".to_owned()),
    ]
}
