//! Row ↔ record conversions. Stored values were validated on the way in, so they are read back
//! with the `from_trusted` constructors.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;
use tenantry_core::domain::email::Email;
use tenantry_core::domain::ids::{OrgId, TeamId};
use tenantry_core::domain::invitation::{Invitation, InvitationState};
use tenantry_core::domain::models::{
    CustomRole, Member, MemberStatus, Membership, Org, OrgWithRole, OutboxMessage, Session, User, UserStatus,
};
use tenantry_core::domain::slug::Slug;
use tenantry_core::store::{StoreError, StoreResult};

pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn corrupt(what: &str) -> StoreError {
    StoreError::Database(format!("stored value is not a valid {what}").into())
}

pub fn time(row: &AnyRow, column: &str) -> StoreResult<DateTime<Utc>> {
    let value: i64 = get(row, column)?;
    DateTime::from_timestamp_millis(value).ok_or_else(|| corrupt("time"))
}

pub fn opt_time(row: &AnyRow, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
    let value: Option<i64> = get(row, column)?;
    value.map(|v| DateTime::from_timestamp_millis(v).ok_or_else(|| corrupt("time"))).transpose()
}

pub fn get<'r, T>(row: &'r AnyRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(column).map_err(crate::db_err)
}

pub fn id<T: std::str::FromStr>(row: &AnyRow, column: &str) -> StoreResult<T> {
    let text: String = get(row, column)?;
    text.parse().map_err(|_| corrupt(column))
}

pub fn opt_id<T: std::str::FromStr>(row: &AnyRow, column: &str) -> StoreResult<Option<T>> {
    let text: Option<String> = get(row, column)?;
    text.map(|t| t.parse().map_err(|_| corrupt(column))).transpose()
}

pub const USER_COLUMNS: &str = "id, email, display_name, password_hash, email_verified_at, status, created_at";

pub fn user(row: &AnyRow) -> StoreResult<User> {
    let status: String = get(row, "status")?;
    Ok(User {
        id: id(row, "id")?,
        email: Email::from_trusted(get(row, "email")?),
        display_name: get(row, "display_name")?,
        password_hash: get(row, "password_hash")?,
        email_verified_at: opt_time(row, "email_verified_at")?,
        status: UserStatus::parse(&status).ok_or_else(|| corrupt("user status"))?,
        created_at: time(row, "created_at")?,
    })
}

pub const ORG_COLUMNS: &str =
    "o.id, o.slug, o.name, o.owner_id, o.is_personal, o.plan, o.billing_customer_id, o.metadata, o.seat_count, o.created_at";

pub fn org(row: &AnyRow) -> StoreResult<Org> {
    let metadata: String = get(row, "metadata")?;
    let seat_count: i64 = get(row, "seat_count")?;
    Ok(Org {
        id: id(row, "id")?,
        slug: Slug::from_trusted(get(row, "slug")?),
        name: get(row, "name")?,
        owner_id: id(row, "owner_id")?,
        is_personal: get::<i64>(row, "is_personal")? != 0,
        plan: get(row, "plan")?,
        billing_customer_id: get(row, "billing_customer_id")?,
        metadata: serde_json::from_str(&metadata).map_err(|_| corrupt("metadata"))?,
        created_at: time(row, "created_at")?,
        seat_count: seat_count as u64,
    })
}

/// Membership columns, aliased so they can share a row with an org's.
pub const MEMBERSHIP_COLUMNS: &str =
    "m.id AS m_id, m.org_id AS m_org_id, m.user_id AS m_user_id, m.role AS m_role, m.status AS m_status, \
     m.joined_at AS m_joined_at";

pub fn membership(row: &AnyRow) -> StoreResult<Membership> {
    Ok(Membership {
        id: id(row, "m_id")?,
        org_id: id(row, "m_org_id")?,
        user_id: id(row, "m_user_id")?,
        role: get(row, "m_role")?,
        status: member_status(&get::<String>(row, "m_status")?)?,
        joined_at: time(row, "m_joined_at")?,
    })
}

fn member_status(status: &str) -> StoreResult<MemberStatus> {
    MemberStatus::parse(status).ok_or_else(|| corrupt("membership status"))
}

pub fn org_with_role(row: &AnyRow) -> StoreResult<OrgWithRole> {
    Ok(OrgWithRole { org: org(row)?, membership: membership(row)? })
}

pub fn member(row: &AnyRow) -> StoreResult<Member> {
    Ok(Member {
        membership: membership(row)?,
        email: Email::from_trusted(get(row, "email")?),
        display_name: get(row, "display_name")?,
        team_ids: team_ids(&get::<String>(row, "team_ids")?)?,
    })
}

/// A membership's team ids, kept as a JSON array of strings.
pub fn team_ids(stored: &str) -> StoreResult<Vec<TeamId>> {
    let raw: Vec<&str> = serde_json::from_str(stored).map_err(|_| corrupt("team ids"))?;
    raw.into_iter().map(|id| id.parse().map_err(|_| corrupt("team id"))).collect()
}

/// A page of members aggregated by the database into a JSON array of
/// `[id, user_id, role, joined_at, email, display_name, team_ids, status]` rows, in id order (an
/// aggregate's input order is not promised, so the page is put in order here).
pub fn member_page(org: OrgId, page: &str) -> StoreResult<Vec<Member>> {
    type PageRow<'a> = (&'a str, &'a str, String, i64, String, String, String, &'a str);
    let mut rows: Vec<PageRow> = serde_json::from_str(page).map_err(|_| corrupt("member page"))?;
    rows.sort_unstable_by(|a, b| a.0.cmp(b.0));
    rows.into_iter()
        .map(|(id, user_id, role, joined_at, email, display_name, teams, status)| {
            Ok(Member {
                membership: Membership {
                    id: id.parse().map_err(|_| corrupt("membership id"))?,
                    org_id: org,
                    user_id: user_id.parse().map_err(|_| corrupt("user id"))?,
                    role,
                    status: member_status(status)?,
                    joined_at: DateTime::from_timestamp_millis(joined_at).ok_or_else(|| corrupt("time"))?,
                },
                email: Email::from_trusted(email),
                display_name,
                team_ids: team_ids(&teams)?,
            })
        })
        .collect()
}

pub const SESSION_COLUMNS: &str =
    "id, user_id, active_org_id, created_at, revoked_at, amr, ip, user_agent, last_used_at";

pub fn session(row: &AnyRow) -> StoreResult<Session> {
    let amr: String = get(row, "amr")?;
    Ok(Session {
        id: id(row, "id")?,
        user_id: id(row, "user_id")?,
        active_org_id: opt_id(row, "active_org_id")?,
        created_at: time(row, "created_at")?,
        revoked_at: opt_time(row, "revoked_at")?,
        amr: amr.split_whitespace().map(str::to_owned).collect(),
        ip: get(row, "ip")?,
        user_agent: get(row, "user_agent")?,
        last_used_at: opt_time(row, "last_used_at")?,
    })
}

pub const OUTBOX_COLUMNS: &str =
    "id, recipient, subject, text_body, html_body, created_at, sent_at, attempts, next_attempt_at, last_error, failed_at";

pub fn outbox(row: &AnyRow) -> StoreResult<OutboxMessage> {
    let attempts: i64 = get(row, "attempts")?;
    Ok(OutboxMessage {
        id: id(row, "id")?,
        to: Email::from_trusted(get(row, "recipient")?),
        subject: get(row, "subject")?,
        text: get(row, "text_body")?,
        html: get(row, "html_body")?,
        created_at: time(row, "created_at")?,
        sent_at: opt_time(row, "sent_at")?,
        attempts: attempts as u32,
        next_attempt_at: opt_time(row, "next_attempt_at")?,
        last_error: get(row, "last_error")?,
        failed_at: opt_time(row, "failed_at")?,
    })
}

pub fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).expect("a list of strings serialises")
}

pub fn custom_role(row: &AnyRow) -> StoreResult<CustomRole> {
    let permissions: String = get(row, "permissions")?;
    Ok(CustomRole {
        id: id(row, "id")?,
        org_id: id(row, "org_id")?,
        key: get(row, "key")?,
        name: get(row, "name")?,
        permissions: serde_json::from_str(&permissions).map_err(|_| corrupt("permission list"))?,
        created_at: time(row, "created_at")?,
    })
}

pub const INVITATION_COLUMNS: &str =
    "id, org_id, email, role, team_ids, invited_by, state, token_hash, expires_at, created_at, responded_at";

pub fn invitation(row: &AnyRow) -> StoreResult<Invitation> {
    let state: String = get(row, "state")?;
    let team_ids: String = get(row, "team_ids")?;
    Ok(Invitation {
        id: id(row, "id")?,
        org_id: id(row, "org_id")?,
        email: Email::from_trusted(get(row, "email")?),
        role: get(row, "role")?,
        team_ids: serde_json::from_str(&team_ids).map_err(|_| corrupt("team id list"))?,
        invited_by: get(row, "invited_by")?,
        state: InvitationState::parse(&state).ok_or_else(|| corrupt("invitation state"))?,
        token_hash: get(row, "token_hash")?,
        expires_at: time(row, "expires_at")?,
        created_at: time(row, "created_at")?,
        responded_at: opt_time(row, "responded_at")?,
    })
}
