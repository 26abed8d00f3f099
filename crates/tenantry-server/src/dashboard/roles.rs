//! `/app/org/{slug}/roles`: the built-in and custom roles with their permissions, defining a
//! custom role where the plan allows it (and saying which plans do where it does not), and
//! deleting one.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::domain::permission::Permission;
use tenantry_core::service::roles::{RoleInput, CUSTOM_ROLES_FEATURE};

use super::context::Ctx;
use super::orgs::OrgPage;
use super::shell::{Problem, Section, Shell};
use super::{confirm_page, Confirm, Fields, Typed};
use crate::routes::pages::Form;
use crate::state::AppState;

struct RoleRow {
    key: String,
    name: String,
    built_in: bool,
    assignable_by: Option<String>,
    permissions: String,
    deletable: bool,
}

#[derive(Template)]
#[template(path = "dashboard/roles.html")]
struct RolesPage {
    shell: Shell,
    problem: Problem,
    slug: String,
    roles: Vec<RoleRow>,
    custom_roles_allowed: bool,
    may_manage: bool,
    plan_name: String,
    plans_with_feature: String,
    grantable_permissions: Vec<String>,
    key: String,
    name: String,
}

pub async fn list(ctx: Ctx, Path(slug): Path<String>) -> Response {
    render(ctx, &slug, StatusCode::OK, Problem::none(), String::new(), String::new()).await
}

async fn render(ctx: Ctx, slug: &str, status: StatusCode, problem: Problem, key: String, name: String) -> Response {
    let page = or_respond!(OrgPage::open(&ctx, slug, Section::Roles, "Roles").await);
    let tenantry = &ctx.state.tenantry;
    let choices = &page.choices;
    let catalog = &tenantry.preset().catalog;
    let may_manage = tenantry.holds(&page.access, Permission::MembersChangeRole);
    let roles = choices
        .roles
        .iter()
        .map(|offered| {
            let role = &offered.role;
            RoleRow {
                key: role.key.clone(),
                name: role.name.clone(),
                built_in: role.built_in,
                assignable_by: role.assignable_by.as_ref().map(|keys| keys.join(" or ")),
                permissions: catalog.names(role.permissions).join(", "),
                deletable: !role.built_in && may_manage && choices.may_act_on(tenantry, &role.key),
            }
        })
        .collect();
    let plans = tenantry.plans().list_plans();
    let org = &page.access.org;
    let plan = plans.iter().find(|p| p.key == org.plan);
    let view = RolesPage {
        problem,
        slug: page.slug().to_owned(),
        roles,
        custom_roles_allowed: plan.is_some_and(|p| p.has_feature(CUSTOM_ROLES_FEATURE)),
        may_manage,
        plan_name: plan.map_or_else(|| org.plan.clone(), |p| p.name.clone()),
        plans_with_feature: plans
            .iter()
            .filter(|p| p.has_feature(CUSTOM_ROLES_FEATURE))
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
            .join(", "),
        grantable_permissions: catalog
            .keys()
            .iter()
            .filter(|k| tenantry.directory().holds_key(&page.access, k))
            .cloned()
            .collect(),
        key,
        name,
        shell: page.shell,
    };
    ctx.page(status, &view)
}

/// The create form: `key`, `name`, `permissions` (repeated).
pub async fn create(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let fields = Fields(fields);
    let input = RoleInput { key: fields.one("key"), name: fields.one("name"), permissions: fields.all("permissions") };
    match state.tenantry.roles().create_role(&principal, &OrgRef::from(slug.as_str()), input, &ctx.meta).await {
        Ok(role) => {
            ctx.redirect(&format!("/app/org/{slug}/roles"), Some(&format!("The role {} was created.", role.name)))
        }
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            render(ctx, &slug, status, problem, fields.one("key"), fields.one("name")).await
        }
    }
}

pub async fn confirm_delete(ctx: Ctx, Path((slug, key)): Path<(String, String)>) -> Response {
    let page = or_respond!(OrgPage::open(&ctx, &slug, Section::Roles, "Delete role").await);
    let confirm = Confirm {
        question: format!(
            "Delete the role `{key}`? Members holding it move to the role you name below (leave it empty if nobody \
             holds it)."
        ),
        action: format!("/app/org/{slug}/roles/{key}/delete"),
        confirm_label: "Delete role".into(),
        back: format!("/app/org/{slug}/roles"),
        typed: Some(Typed {
            name: "reassign_to",
            label: "Move its members to the role (key)".into(),
            kind: "text",
            required: false,
        }),
    };
    confirm_page(ctx, page.shell, confirm, StatusCode::OK, Problem::none())
}

#[derive(Deserialize)]
pub struct DeleteForm {
    reassign_to: Option<String>,
}

pub async fn delete(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((slug, key)): Path<(String, String)>,
    Form(form): Form<DeleteForm>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let reassign_to = form.reassign_to.as_deref().map(str::trim).filter(|k| !k.is_empty());
    match state
        .tenantry
        .roles()
        .delete_role(&principal, &OrgRef::from(slug.as_str()), &key, reassign_to, &ctx.meta)
        .await
    {
        Ok(()) => ctx.redirect(&format!("/app/org/{slug}/roles"), Some("The role was deleted.")),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            render(ctx, &slug, status, problem, String::new(), String::new()).await
        }
    }
}
