//! `/app/org/{slug}/teams`: the org's teams (creating one within the plan's limit), and each
//! team's page: its members with their team role, adding a member by email, changing a team
//! role, removing someone, editing the team and deleting it after a confirmation page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tenantry_core::domain::ids::{OrgRef, TeamRef};
use tenantry_core::domain::pagination::PageRequest;
use tenantry_core::domain::permission::Permission;
use tenantry_core::service::teams::{NewTeam, TeamPatch};
use tenantry_core::Error;

use super::context::{encode, Ctx};
use super::orgs::OrgPage;
use super::shell::{Problem, Section, Shell};
use super::{confirm_page, date, Confirm, NoFields, Typed};
use crate::extract::path_id;
use crate::routes::pages::Form;
use crate::state::AppState;

const PAGE_SIZE: u32 = 50;

struct TeamRow {
    slug: String,
    name: String,
    description: String,
    member_count: u64,
}

#[derive(Template)]
#[template(path = "dashboard/teams.html")]
struct TeamsPage {
    shell: Shell,
    problem: Problem,
    slug: String,
    teams: Vec<TeamRow>,
    next_href: Option<String>,
    may_manage: bool,
    /// "3 of 3 teams on the Starter plan", or empty when unlimited.
    limit_text: String,
    at_limit: bool,
    name: String,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    cursor: Option<String>,
}

fn page_request(cursor: Option<&str>) -> PageRequest {
    PageRequest::parse(cursor, Some(PAGE_SIZE))
        .unwrap_or_else(|_| PageRequest::parse(None, Some(PAGE_SIZE)).expect("the first page is a valid request"))
}

pub async fn list(ctx: Ctx, Path(slug): Path<String>, Query(query): Query<ListQuery>) -> Response {
    render_list(ctx, &slug, query, StatusCode::OK, Problem::none(), String::new()).await
}

async fn render_list(
    ctx: Ctx,
    slug: &str,
    query: ListQuery,
    status: StatusCode,
    problem: Problem,
    name: String,
) -> Response {
    let page = or_respond!(OrgPage::open(&ctx, slug, Section::Teams, "Teams").await);
    let tenantry = &ctx.state.tenantry;
    let request = page_request(query.cursor.as_deref());
    let listed = shown_or_error!(ctx, tenantry.teams().list_teams(&page.principal, &page.org_ref(), &request).await);
    let org = &page.access.org;
    let plan = tenantry.preset().plan(&org.plan);
    let count = shown_or_error!(ctx, tenantry.teams().team_slugs(&page.access).await).len() as u64;
    let (limit_text, at_limit) = match plan.and_then(|p| p.teams.map(|max| (p, max))) {
        Some((plan, max)) => (format!("{count} of {max} teams on the {} plan.", plan.name), count >= max),
        None => (String::new(), false),
    };
    let next_href =
        listed.next_cursor.as_ref().map(|cursor| format!("/app/org/{}/teams?cursor={}", org.slug, encode(cursor)));
    let view = TeamsPage {
        problem,
        slug: org.slug.to_string(),
        teams: listed
            .items
            .iter()
            .map(|t| TeamRow {
                slug: t.slug.to_string(),
                name: t.name.clone(),
                description: t.description.clone(),
                member_count: t.member_count,
            })
            .collect(),
        next_href,
        may_manage: tenantry.holds(&page.access, Permission::TeamsManage),
        limit_text,
        at_limit,
        name,
        shell: page.shell,
    };
    ctx.page(status, &view)
}

#[derive(Deserialize)]
pub struct CreateForm {
    name: String,
    description: Option<String>,
}

pub async fn create(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Form(form): Form<CreateForm>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let new = NewTeam { name: form.name.clone(), slug: None, description: form.description, metadata: None };
    match state.tenantry.teams().create_team(&principal, &OrgRef::from(slug.as_str()), new, &ctx.meta).await {
        Ok(team) => ctx.redirect(
            &format!("/app/org/{slug}/teams/{}", team.slug),
            Some(&format!("The team {} was created.", team.name)),
        ),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            render_list(ctx, &slug, ListQuery::default(), status, problem, form.name).await
        }
    }
}

struct TeamMemberRow {
    user_id: String,
    name: String,
    email: String,
    role: String,
    role_name: String,
    joined: String,
    is_me: bool,
}

struct RoleOption {
    key: String,
    name: String,
}

#[derive(Template)]
#[template(path = "dashboard/team.html")]
struct TeamPage {
    shell: Shell,
    problem: Problem,
    slug: String,
    team_slug: String,
    name: String,
    description: String,
    member_count: u64,
    members: Vec<TeamMemberRow>,
    next_href: Option<String>,
    manages: bool,
    may_delete: bool,
    grantable: Vec<RoleOption>,
    default_role: String,
    add_email: String,
}

pub async fn show(ctx: Ctx, Path((slug, team)): Path<(String, String)>, Query(query): Query<ListQuery>) -> Response {
    render_team(ctx, &slug, &team, query, StatusCode::OK, Problem::none(), String::new()).await
}

async fn render_team(
    ctx: Ctx,
    slug: &str,
    team: &str,
    query: ListQuery,
    status: StatusCode,
    problem: Problem,
    add_email: String,
) -> Response {
    let page = or_respond!(OrgPage::open(&ctx, slug, Section::Teams, "Team").await);
    let tenantry = &ctx.state.tenantry;
    let request = page_request(query.cursor.as_deref());
    let overview = shown_or_error!(
        ctx,
        tenantry.teams().team_overview(&page.principal, &page.org_ref(), &TeamRef::from(team), &request).await
    );
    let preset = tenantry.preset();
    let role_name = |key: &str| preset.team_role(key).map_or_else(|| key.to_owned(), |r| r.name.clone());
    let found = &overview.team;
    let members = overview
        .members
        .items
        .iter()
        .map(|m| TeamMemberRow {
            user_id: m.membership.user_id.to_string(),
            name: m.display_name.clone(),
            email: m.email.as_str().to_owned(),
            role: m.membership.role.clone(),
            role_name: role_name(&m.membership.role),
            joined: date(m.membership.joined_at),
            is_me: m.membership.user_id == page.user.user_id,
        })
        .collect();
    let next_href = overview
        .members
        .next_cursor
        .as_ref()
        .map(|cursor| format!("/app/org/{}/teams/{}?cursor={}", page.access.org.slug, found.slug, encode(cursor)));
    let view = TeamPage {
        problem,
        slug: page.access.org.slug.to_string(),
        team_slug: found.slug.to_string(),
        name: found.name.clone(),
        description: found.description.clone(),
        member_count: found.member_count,
        members,
        next_href,
        manages: overview.manages,
        may_delete: tenantry.holds(&page.access, Permission::TeamsManage),
        grantable: overview
            .grantable_roles
            .iter()
            .map(|r| RoleOption { key: r.key.clone(), name: r.name.clone() })
            .collect(),
        default_role: preset.default_team_role.clone(),
        add_email,
        shell: page.shell,
    };
    ctx.page(status, &view)
}

/// The answer to a team form: back to the team's page with `notice`, or the page again with
/// the refusal.
async fn answered<T>(
    ctx: Ctx,
    (slug, team): (&str, &str),
    done: tenantry_core::Result<T>,
    notice: impl FnOnce(T) -> String,
    add_email: String,
) -> Response {
    match done {
        Ok(value) => ctx.redirect(&format!("/app/org/{slug}/teams/{team}"), Some(&notice(value))),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            render_team(ctx, slug, team, ListQuery::default(), status, problem, add_email).await
        }
    }
}

#[derive(Deserialize)]
pub struct EditForm {
    name: String,
    description: String,
}

pub async fn edit(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((slug, team)): Path<(String, String)>,
    Form(form): Form<EditForm>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let patch = TeamPatch { name: Some(form.name), description: Some(form.description), ..TeamPatch::default() };
    let done = state
        .tenantry
        .teams()
        .update_team(&principal, &OrgRef::from(slug.as_str()), &TeamRef::from(team.as_str()), patch, &ctx.meta)
        .await;
    answered(ctx, (&slug, &team), done, |t| format!("The team {} was saved.", t.name), String::new()).await
}

#[derive(Deserialize)]
pub struct AddForm {
    email: String,
    role: String,
}

/// Adds the org member with this email (found by the member search) to the team.
pub async fn add_member(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((slug, team)): Path<(String, String)>,
    Form(form): Form<AddForm>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let tenantry = &state.tenantry;
    let org = OrgRef::from(slug.as_str());
    let email = form.email.trim().to_owned();
    let found =
        tenantry.directory().search_members(&principal, &org, &email, &PageRequest::first(100)).await.map(|page| {
            page.items.into_iter().find(|m| m.email.as_str().eq_ignore_ascii_case(&email)).map(|m| m.membership.user_id)
        });
    let done = match found {
        Ok(Some(user)) => {
            tenantry
                .teams()
                .add_team_member(&principal, &org, &TeamRef::from(team.as_str()), user, &form.role, &ctx.meta)
                .await
        }
        Ok(None) => Err(Error::invalid("email", "no member of this organization has this email")),
        Err(error) => Err(error),
    };
    answered(ctx, (&slug, &team), done, |m| format!("{} joined the team.", m.display_name), email).await
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

pub async fn change_role(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((slug, team, user)): Path<(String, String, String)>,
    Form(form): Form<RoleForm>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let org = OrgRef::from(slug.as_str());
    let done = match path_id(&user, "team member") {
        Ok(user) => {
            state
                .tenantry
                .teams()
                .change_team_member_role(&principal, &org, &TeamRef::from(team.as_str()), user, &form.role, &ctx.meta)
                .await
        }
        Err(error) => Err(error),
    };
    answered(
        ctx,
        (&slug, &team),
        done,
        |m| format!("{} is now {} in this team.", m.display_name, m.membership.role),
        String::new(),
    )
    .await
}

pub async fn remove_member(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((slug, team, user)): Path<(String, String, String)>,
    Form(_): Form<NoFields>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let org = OrgRef::from(slug.as_str());
    let done = match path_id(&user, "team member") {
        Ok(user) => {
            state
                .tenantry
                .teams()
                .remove_team_member(&principal, &org, &TeamRef::from(team.as_str()), user, &ctx.meta)
                .await
        }
        Err(error) => Err(error),
    };
    answered(ctx, (&slug, &team), done, |()| "Removed from the team.".to_owned(), String::new()).await
}

pub async fn confirm_delete(ctx: Ctx, Path((slug, team)): Path<(String, String)>) -> Response {
    let page = or_respond!(OrgPage::open(&ctx, &slug, Section::Teams, "Delete team").await);
    let found = shown_or_error!(
        ctx,
        ctx.state.tenantry.teams().get_team(&page.principal, &page.org_ref(), &TeamRef::from(team.as_str())).await
    );
    let question = format!(
        "Delete the team {} ({} member(s))? Its members stay in {}; only their places in this team go.",
        found.name, found.member_count, page.access.org.name
    );
    confirm_page(
        ctx,
        page.shell,
        Confirm {
            question,
            action: format!("/app/org/{slug}/teams/{team}/delete"),
            confirm_label: "Delete team".into(),
            back: format!("/app/org/{slug}/teams/{team}"),
            typed: None::<Typed>,
        },
        StatusCode::OK,
        Problem::none(),
    )
}

pub async fn delete(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((slug, team)): Path<(String, String)>,
    Form(_): Form<NoFields>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let org = OrgRef::from(slug.as_str());
    match state.tenantry.teams().delete_team(&principal, &org, &TeamRef::from(team.as_str()), &ctx.meta).await {
        Ok(()) => ctx.redirect(&format!("/app/org/{slug}/teams"), Some("The team was deleted.")),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            render_team(ctx, &slug, &team, ListQuery::default(), status, problem, String::new()).await
        }
    }
}
