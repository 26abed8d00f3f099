//! `/app/org/{slug}/members`: the member list with search and pages, role changes with a
//! dropdown of only the roles the viewer may grant, suspension, removal after a confirmation page,
//! invitations and the pending ones with resend and revoke.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::domain::invitation::InvitationState;
use tenantry_core::domain::models::MemberStatus;
use tenantry_core::domain::pagination::PageRequest;
use tenantry_core::domain::permission::Permission;
use tenantry_core::service::invitations::NewInvitation;
use tenantry_core::service::members::MemberPatch;

use super::context::{encode, Ctx};
use super::member_rows::{self, RowsFrame};
use super::orgs::OrgPage;
use super::pieces::{Rows, ROWS_SLOT};
use super::shell::{Problem, Section, Shell};
use super::{confirm_page, date, Confirm, NoFields, Typed};
use crate::extract::path_id;
use crate::routes::pages::Form;
use crate::state::AppState;

const PAGE_SIZE: u32 = 50;

struct InvitationRow {
    id: String,
    email: String,
    role: String,
    state: &'static str,
    pending: bool,
    expires: String,
}

#[derive(Template)]
#[template(path = "dashboard/members.html")]
struct MembersPage {
    shell: Shell,
    problem: Problem,
    slug: String,
    seat_count: u64,
    query: String,
    query_encoded: String,
    /// Where the table's rows go (`member_rows`, sent beside the page rather than copied in).
    rows_slot: &'static str,
    next_href: Option<String>,
    first_page: bool,
    may_invite: bool,
    open_invite: bool,
    invite_email: String,
    default_role: String,
    /// What the rows show of the viewer; its grantable roles are also the invitation's choices.
    frame: RowsFrame,
    invitations: Vec<InvitationRow>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    cursor: Option<String>,
}

pub async fn list(ctx: Ctx, Path(slug): Path<String>, Query(query): Query<ListQuery>) -> Response {
    render(ctx, &slug, query, StatusCode::OK, Problem::none(), String::new()).await
}

/// The members page, with `problem` (the refusal of the last form) on top.
async fn render(
    ctx: Ctx,
    slug: &str,
    query: ListQuery,
    status: StatusCode,
    problem: Problem,
    invite_email: String,
) -> Response {
    let page = or_respond!(OrgPage::open_with_invitations(&ctx, slug, Section::Members, "Members").await);
    let tenantry = &ctx.state.tenantry;
    let request = match PageRequest::parse(query.cursor.as_deref(), Some(PAGE_SIZE)) {
        Ok(request) => request,
        Err(_) => PageRequest::parse(None, Some(PAGE_SIZE)).expect("the first page is a valid request"),
    };
    let text = query.q.unwrap_or_default().trim().to_owned();
    let org_teams = shown_or_error!(ctx, tenantry.teams().team_slugs(&page.access).await);
    let frame = RowsFrame::of(&page, tenantry);
    let org = &page.access.org;
    // A page of the whole list is the member-page cache's, and its rows are kept rendered and
    // compressed; search results are neither.
    let (rows, next_cursor) = if text.is_empty() {
        let listed =
            shown_or_error!(ctx, tenantry.members().list_members(&page.principal, &page.org_ref(), &request).await);
        let rows = ctx.state.site.member_rows.rows(org.id, &request, &listed, &org_teams, &frame);
        (rows, listed.page.next_cursor.clone())
    } else {
        let found = tenantry.directory().search_members(&page.principal, &page.org_ref(), &text, &request).await;
        let found = shown_or_error!(ctx, found);
        (member_rows::render(&found.items, &org_teams, &frame).map(Rows::plain), found.next_cursor)
    };
    let rows = match rows {
        Ok(rows) => rows,
        Err(error) => return ctx.unrenderable(error),
    };
    let may_invite = tenantry.holds(&page.access, Permission::MembersInvite);
    let now = tenantry.clock().now();
    let invitations = page
        .pending_invitations
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|i| {
            let state = i.state_at(now);
            InvitationRow {
                id: i.id.to_string(),
                email: i.email.as_str().to_owned(),
                role: i.role.clone(),
                state: state.as_str(),
                pending: state == InvitationState::Pending,
                expires: date(i.expires_at),
            }
        })
        .collect();
    let query_encoded = encode(&text);
    let next_href = next_cursor.as_ref().map(|cursor| {
        let search = if text.is_empty() { String::new() } else { format!("&q={query_encoded}") };
        format!("/app/org/{}/members?cursor={}{search}", org.slug, encode(cursor))
    });
    let view = MembersPage {
        problem,
        slug: org.slug.to_string(),
        seat_count: org.seat_count,
        query: text,
        query_encoded,
        rows_slot: ROWS_SLOT,
        next_href,
        first_page: query.cursor.is_none(),
        may_invite,
        open_invite: !invite_email.is_empty(),
        invite_email,
        default_role: tenantry.preset().default_invite_role.clone(),
        frame,
        invitations,
        shell: page.shell,
    };
    ctx.page_with_rows(status, &view, rows)
}

/// Shows the members page again with a service's refusal.
async fn refused(ctx: Ctx, slug: &str, error: tenantry_core::Error, invite_email: String) -> Response {
    let (status, problem) = Problem::from_error(error);
    render(ctx, slug, ListQuery::default(), status, problem, invite_email).await
}

/// The answer to a members form: back to the list with `notice` of what was done, or the list
/// again with the refusal.
async fn answered<T>(
    ctx: Ctx,
    slug: &str,
    done: tenantry_core::Result<T>,
    notice: impl FnOnce(T) -> String,
) -> Response {
    match done {
        Ok(value) => ctx.redirect(&format!("/app/org/{slug}/members"), Some(&notice(value))),
        Err(e) => refused(ctx, slug, e, String::new()).await,
    }
}

/// The role a form gives `user`: `role` from a form of its own, or `role-{user}` from the members
/// page's shared role form, which holds every row's dropdown, each named for its member.
fn chosen_role(fields: Vec<(String, String)>, user: &str) -> Option<String> {
    let own = format!("role-{user}");
    fields.into_iter().find(|(name, _)| *name == own || name == "role").map(|(_, role)| role)
}

pub async fn change_role(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((slug, user)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let org = OrgRef::from(slug.as_str());
    let Some(role) = chosen_role(fields, &user) else {
        let error = tenantry_core::Error::invalid("role", "choose a role");
        return refused(ctx, &slug, error, String::new()).await;
    };
    let done = async {
        state.tenantry.members().change_member_role(&principal, &org, path_id(&user, "member")?, &role, &ctx.meta).await
    }
    .await;
    answered(ctx, &slug, done, |member| format!("{} now has the role {}.", member.display_name, member.membership.role))
        .await
}

#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
}

/// Suspends or unsuspends a member (the same rules as removal: `members.remove`, not the owner,
/// not oneself, only members the viewer outranks).
pub async fn change_status(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((slug, user)): Path<(String, String)>,
    Form(form): Form<StatusForm>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let Some(status) = MemberStatus::parse(&form.status) else {
        let error = tenantry_core::Error::invalid("status", "must be `active` or `suspended`");
        return refused(ctx, &slug, error, String::new()).await;
    };
    let patch = MemberPatch { role: None, status: Some(status) };
    let org = OrgRef::from(slug.as_str());
    let done = async {
        state.tenantry.members().update_member(&principal, &org, path_id(&user, "member")?, &patch, &ctx.meta).await
    }
    .await;
    answered(ctx, &slug, done, |member| match member.membership.status {
        MemberStatus::Suspended => format!("{} is suspended.", member.display_name),
        MemberStatus::Active => format!("{} is no longer suspended.", member.display_name),
    })
    .await
}

pub async fn confirm_remove(ctx: Ctx, Path((slug, user)): Path<(String, String)>) -> Response {
    let page = or_respond!(OrgPage::open(&ctx, &slug, Section::Members, "Remove member").await);
    let org = OrgRef::from(slug.as_str());
    let member = shown_or_error!(
        ctx,
        async { ctx.state.tenantry.members().get_member(&page.principal, &org, path_id(&user, "member")?).await }.await
    );
    let question = format!(
        "Remove {} ({}) from {}? They lose access at once; their account stays.",
        member.display_name,
        member.email.as_str(),
        page.access.org.name
    );
    confirm_page(
        ctx,
        page.shell,
        Confirm {
            question,
            action: format!("/app/org/{slug}/members/{user}/remove"),
            confirm_label: "Remove member".into(),
            back: format!("/app/org/{slug}/members"),
            typed: None::<Typed>,
        },
        StatusCode::OK,
        Problem::none(),
    )
}

pub async fn remove(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((slug, user)): Path<(String, String)>,
    Form(_): Form<NoFields>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let org = OrgRef::from(slug.as_str());
    let done =
        async { state.tenantry.members().remove_member(&principal, &org, path_id(&user, "member")?, &ctx.meta).await }
            .await;
    answered(ctx, &slug, done, |()| "The member was removed.".to_owned()).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    email: String,
    role: String,
}

pub async fn invite(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Form(form): Form<InviteForm>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let input =
        NewInvitation { email: form.email.clone(), role: Some(form.role), team_ids: Vec::new(), expires_in: None };
    match state
        .tenantry
        .invitations()
        .create_invitation(&principal, &OrgRef::from(slug.as_str()), input, &ctx.meta)
        .await
    {
        Ok(issued) => {
            let notice = format!("Invitation sent to {}.", issued.invitation.email.as_str());
            ctx.redirect(&format!("/app/org/{slug}/members"), Some(&notice))
        }
        Err(e) => refused(ctx, &slug, e, form.email).await,
    }
}

pub async fn resend_invitation(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Form(_): Form<NoFields>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let org = OrgRef::from(slug.as_str());
    let done = async {
        state.tenantry.invitations().resend_invitation(&principal, &org, path_id(&id, "invitation")?, &ctx.meta).await
    }
    .await;
    answered(ctx, &slug, done, |issued| {
        format!("A new invitation link was sent to {}.", issued.invitation.email.as_str())
    })
    .await
}

pub async fn revoke_invitation(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Form(_): Form<NoFields>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let org = OrgRef::from(slug.as_str());
    let done = async {
        state.tenantry.invitations().revoke_invitation(&principal, &org, path_id(&id, "invitation")?, &ctx.meta).await
    }
    .await;
    answered(ctx, &slug, done, |()| "The invitation was revoked.".to_owned()).await
}

#[cfg(test)]
mod tests {
    use super::chosen_role;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect()
    }

    #[test]
    fn the_shared_role_form_gives_each_member_the_role_of_their_own_dropdown() {
        let sent = fields(&[("csrf", "x"), ("role-usr_a", "admin"), ("role-usr_b", "viewer")]);
        assert_eq!(chosen_role(sent.clone(), "usr_b").as_deref(), Some("viewer"));
        assert_eq!(chosen_role(sent.clone(), "usr_a").as_deref(), Some("admin"));
        assert_eq!(chosen_role(sent, "usr_c"), None, "another member's dropdown is not this one's");
        assert_eq!(chosen_role(fields(&[("csrf", "x"), ("role", "developer")]), "usr_a").as_deref(), Some("developer"));
    }
}
