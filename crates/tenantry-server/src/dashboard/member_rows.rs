//! The rows of the members table: fifty members, each with the role dropdown, suspension and
//! removal the viewer may use on them. They are most of the members page and most of its cost,
//! and they change far less often than they are viewed, so a page's rows are rendered (and
//! compressed, for browsers that take gzip) once per viewer and served again while nothing they
//! show has changed. They hold no secret: their forms' buttons submit the page's shared forms,
//! which carry the browser's anti-forgery value, so one viewer's browsers share them.
//!
//! A kept rendering is served only when it was made from the very page of members the
//! member-page cache holds now (that page is replaced whenever a membership, a team or a custom
//! role of the org changes), from the very team list the grant cache holds now (replaced when a
//! team is created, renamed or deleted), and with a frame equal to this request's: the org's
//! slug and owner, the viewer, and what the viewer may do to holders of each role. Anything else
//! shown on the page is rendered on every request.

use std::sync::{Arc, Weak};

use askama::Template;
use axum::body::Bytes;
use quick_cache::sync::Cache;
use quick_cache::Weighter;
use tenantry_core::caches::grants::OrgTeams;
use tenantry_core::caches::member_pages::ListedPage;
use tenantry_core::domain::ids::{OrgId, TeamId, UserId};
use tenantry_core::domain::models::{Member, MemberStatus};
use tenantry_core::domain::pagination::PageRequest;
use tenantry_core::domain::permission::Permission;
use tenantry_core::service::Tenantry;

use super::day;
use super::gzip::Deflated;
use super::orgs::OrgPage;
use super::pieces::Rows;

/// Bytes of kept renderings at most, plain and compressed: about 1,400 pages of 50 rows (every
/// page of an org of 70,000 members, for one viewer).
const MAX_BYTES: u64 = 64 * 1024 * 1024;
/// A page of 50 rows, plain and compressed, for sizing the cache's table.
const TYPICAL_ROWS_BYTES: u64 = 48 * 1024;

/// A role as the rows offer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRole {
    pub key: String,
    pub name: String,
    /// Whether the viewer may give it to someone.
    pub grantable: bool,
    /// Whether the viewer may change or remove the role's holders.
    pub actionable: bool,
}

/// Everything the rows show besides the members themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowsFrame {
    pub slug: String,
    pub viewer: UserId,
    pub owner: UserId,
    pub may_change_roles: bool,
    pub may_remove: bool,
    /// Every role of the org.
    pub roles: Vec<FrameRole>,
}

impl RowsFrame {
    pub fn of(page: &OrgPage, tenantry: &Tenantry) -> Self {
        let roles = page
            .choices
            .roles
            .iter()
            .map(|offered| FrameRole {
                key: offered.role.key.clone(),
                name: offered.role.name.clone(),
                grantable: offered.grantable,
                actionable: page.choices.may_act_on(tenantry, &offered.role.key),
            })
            .collect();
        Self {
            slug: page.slug().to_owned(),
            viewer: page.user.user_id,
            owner: page.access.org.owner_id,
            may_change_roles: tenantry.holds(&page.access, Permission::MembersChangeRole),
            may_remove: tenantry.holds(&page.access, Permission::MembersRemove),
            roles,
        }
    }

    /// The roles the viewer may give.
    pub fn grantable(&self) -> impl Iterator<Item = &FrameRole> {
        self.roles.iter().filter(|r| r.grantable)
    }

    fn role(&self, key: &str) -> Option<&FrameRole> {
        self.roles.iter().find(|r| r.key == key)
    }
}

struct MemberRow {
    user_id: String,
    name: String,
    email: String,
    role: String,
    role_name: String,
    /// The member's teams, by slug.
    teams: String,
    joined: String,
    is_me: bool,
    is_owner: bool,
    suspended: bool,
    may_change: bool,
    may_remove: bool,
}

impl MemberRow {
    fn of(member: &Member, frame: &RowsFrame, teams: &OrgTeams) -> Self {
        let user = member.membership.user_id;
        let (is_me, is_owner) = (user == frame.viewer, user == frame.owner);
        let role = frame.role(&member.membership.role);
        let may_act = !is_me && !is_owner && role.is_some_and(|r| r.actionable);
        Self {
            user_id: user.to_string(),
            name: member.display_name.clone(),
            email: member.email.as_str().to_owned(),
            role: member.membership.role.clone(),
            role_name: role.map_or_else(|| member.membership.role.clone(), |r| r.name.clone()),
            teams: team_slugs(teams, &member.team_ids),
            joined: day(member.membership.joined_at),
            is_me,
            is_owner,
            suspended: member.membership.status == MemberStatus::Suspended,
            may_change: may_act && frame.may_change_roles,
            may_remove: may_act && frame.may_remove,
        }
    }
}

fn team_slugs(teams: &OrgTeams, ids: &[TeamId]) -> String {
    let slugs: Vec<&str> =
        ids.iter().filter_map(|id| teams.iter().find(|(team, _)| team == id).map(|(_, slug)| &**slug)).collect();
    slugs.join(", ")
}

#[derive(Template)]
#[template(path = "dashboard/member_rows.html")]
struct MemberRows<'a> {
    frame: &'a RowsFrame,
    members: Vec<MemberRow>,
}

/// `members` as table rows, as `frame`'s viewer sees them.
pub fn render(members: &[Member], teams: &OrgTeams, frame: &RowsFrame) -> askama::Result<String> {
    let members = members.iter().map(|m| MemberRow::of(m, frame, teams)).collect();
    MemberRows { frame, members }.render()
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RowsKey {
    org: OrgId,
    after: Option<String>,
    viewer: UserId,
}

struct Rendering {
    /// What it was rendered from: held weakly, so a page or team list the caches dropped is not
    /// kept alive here (and its address cannot be taken by another while this is held).
    page: Weak<ListedPage>,
    teams: Weak<[(TeamId, Arc<str>)]>,
    frame: RowsFrame,
    rows: Rows,
}

impl Rendering {
    fn made_from(&self, page: &Arc<ListedPage>, teams: &OrgTeams, frame: &RowsFrame) -> bool {
        std::ptr::eq(self.page.as_ptr(), Arc::as_ptr(page))
            && std::ptr::eq(self.teams.as_ptr(), Arc::as_ptr(teams))
            && self.frame == *frame
    }
}

/// A rendering weighs its bytes, plain and compressed.
#[derive(Clone)]
struct RenderingWeight;

impl Weighter<RowsKey, Arc<Rendering>> for RenderingWeight {
    fn weight(&self, _: &RowsKey, rendering: &Arc<Rendering>) -> u64 {
        let rows = &rendering.rows;
        (rows.plain.len() + rows.deflated.as_ref().map_or(0, Deflated::len)).max(1) as u64
    }
}

pub struct MemberRowsCache {
    renderings: Cache<RowsKey, Arc<Rendering>, RenderingWeight>,
}

impl Default for MemberRowsCache {
    fn default() -> Self {
        Self { renderings: Cache::with_weighter((MAX_BYTES / TYPICAL_ROWS_BYTES) as usize, MAX_BYTES, RenderingWeight) }
    }
}

impl MemberRowsCache {
    /// The rows of `listed` (the page `request` of `org`'s members, as the member-page cache
    /// holds it) as `frame` shows them: the kept rendering if it was made from the same page,
    /// teams and frame, else rendered (and compressed) now and kept.
    pub fn rows(
        &self,
        org: OrgId,
        request: &PageRequest,
        listed: &Arc<ListedPage>,
        teams: &OrgTeams,
        frame: &RowsFrame,
    ) -> askama::Result<Rows> {
        let key = RowsKey { org, after: request.after.clone(), viewer: frame.viewer };
        if let Some(kept) = self.renderings.get(&key).filter(|kept| kept.made_from(listed, teams, frame)) {
            return Ok(kept.rows.clone());
        }
        let plain = Bytes::from(render(&listed.page.items, teams, frame)?);
        let rows = Rows { deflated: Some(Deflated::of(&plain)), plain };
        let (page, teams) = (Arc::downgrade(listed), Arc::downgrade(teams));
        let rendering = Rendering { page, teams, frame: frame.clone(), rows: rows.clone() };
        self.renderings.insert(key, Arc::new(rendering));
        Ok(rows)
    }
}
