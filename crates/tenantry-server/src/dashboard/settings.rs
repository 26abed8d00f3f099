//! `/app/org/{slug}/settings`: the org's name, its settings document (saved against the version
//! the page showed, so a stale form shows a conflict instead of overwriting someone's change),
//! transferring ownership, deleting the org, and leaving it.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::domain::pagination::PageRequest;
use tenantry_core::domain::permission::Permission;
use tenantry_core::domain::settings::{etag, Settings};
use tenantry_core::service::orgs::OrgPatch;
use tenantry_core::Error;

use super::context::Ctx;
use super::orgs::OrgPage;
use super::shell::{Problem, Section, Shell};
use super::{confirm_page, Confirm, NoFields, Typed};
use crate::routes::pages::Form;
use crate::state::AppState;

/// The settings document as the form shows it.
struct Document {
    version: u64,
    email_enabled: bool,
    slack_webhook_url: String,
    telegram_bot_token: String,
    telegram_chat_id: String,
    mfa_required: bool,
    /// Members without two-step verification, whom requiring it refuses (`mfa_impact`).
    without_mfa: Vec<String>,
    retention_days: String,
    max_retention: u32,
}

#[derive(Template)]
#[template(path = "dashboard/settings.html")]
struct SettingsPage {
    shell: Shell,
    problem: Problem,
    slug: String,
    org_name: String,
    document: Option<Document>,
    is_owner: bool,
}

pub async fn show(ctx: Ctx, Path(slug): Path<String>) -> Response {
    render(ctx, &slug, StatusCode::OK, Problem::none()).await
}

async fn render(ctx: Ctx, slug: &str, status: StatusCode, problem: Problem) -> Response {
    let page = or_respond!(OrgPage::open(&ctx, slug, Section::Settings, "Settings").await);
    let tenantry = &ctx.state.tenantry;
    // Only `org.manage` holders read the document; everyone may leave.
    let document = if tenantry.holds(&page.access, Permission::OrgManage) {
        let read = shown_or_error!(ctx, tenantry.org_settings().get_settings(&page.principal, &page.org_ref()).await);
        let max_retention = tenantry
            .plans()
            .list_plans()
            .iter()
            .find(|p| p.key == page.access.org.plan)
            .map_or(0, |p| p.retention_days);
        let without_mfa = shown_or_error!(ctx, tenantry.mfa().mfa_impact(&page.principal, &page.org_ref()).await);
        let s = read.settings;
        Some(Document {
            without_mfa: without_mfa.iter().map(|m| m.email.as_str().to_owned()).collect(),
            version: read.version,
            email_enabled: s.notifications.email_enabled,
            slack_webhook_url: s.notifications.slack_webhook_url.unwrap_or_default(),
            telegram_bot_token: s.notifications.telegram_bot_token.unwrap_or_default(),
            telegram_chat_id: s.notifications.telegram_chat_id.unwrap_or_default(),
            mfa_required: s.security.mfa_required,
            retention_days: s.retention_days.map(|d| d.to_string()).unwrap_or_default(),
            max_retention,
        })
    } else {
        None
    };
    let view = SettingsPage {
        problem,
        slug: page.slug().to_owned(),
        org_name: page.access.org.name.clone(),
        document,
        is_owner: page.access.org.owner_id == page.user.user_id,
        shell: page.shell,
    };
    ctx.page(status, &view)
}

fn settings_path(slug: &str) -> String {
    format!("/app/org/{slug}/settings")
}

async fn refused(ctx: Ctx, slug: &str, error: Error) -> Response {
    let (status, mut problem) = Problem::from_error(error);
    if status == StatusCode::PRECONDITION_FAILED {
        problem = Problem::text(
            "Someone changed these settings after you opened this page, so yours were not saved. The page now shows \
             the current settings: make your change again.",
        );
    }
    render(ctx, slug, status, problem).await
}

#[derive(Deserialize)]
pub struct NameForm {
    name: String,
}

pub async fn save_name(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Form(form): Form<NameForm>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let patch = OrgPatch { name: Some(form.name), metadata: None };
    match state.tenantry.orgs().update_org(&principal, &OrgRef::from(slug.as_str()), patch, &ctx.meta).await {
        Ok(_) => ctx.redirect(&settings_path(&slug), Some("The name was saved.")),
        Err(error) => refused(ctx, &slug, error).await,
    }
}

/// Sends a test message to the channels saved in the settings.
pub async fn test_notification(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Form(_): Form<NoFields>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    match state
        .tenantry
        .notifications()
        .send_test_notification(&principal, &OrgRef::from(slug.as_str()), &ctx.meta)
        .await
    {
        Ok(sent) if sent.channels.is_empty() => ctx.redirect(
            &settings_path(&slug),
            Some("No channel is set up yet: turn on email notifications or add a Slack or Telegram channel."),
        ),
        Ok(sent) => {
            let notice = format!("A test notification is on its way to: {}.", sent.channels.join(", "));
            ctx.redirect(&settings_path(&slug), Some(&notice))
        }
        Err(error) => refused(ctx, &slug, error).await,
    }
}

#[derive(Deserialize)]
pub struct DocumentForm {
    version: u64,
    email_enabled: Option<String>,
    slack_webhook_url: String,
    telegram_bot_token: String,
    telegram_chat_id: String,
    mfa_required: Option<String>,
    retention_days: String,
}

pub async fn save_document(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Form(form): Form<DocumentForm>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let text = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
    let retention_days = match text(&form.retention_days).map(|d| d.parse::<u32>()) {
        None => None,
        Some(Ok(days)) => Some(days),
        Some(Err(_)) => {
            let error = Error::invalid("retention_days", "must be a whole number of days");
            return refused(ctx, &slug, error).await;
        }
    };
    let mut settings = Settings { retention_days, ..Settings::default() };
    settings.notifications.email_enabled = form.email_enabled.is_some();
    settings.notifications.slack_webhook_url = text(&form.slack_webhook_url);
    settings.notifications.telegram_bot_token = text(&form.telegram_bot_token);
    settings.notifications.telegram_chat_id = text(&form.telegram_chat_id);
    settings.security.mfa_required = form.mfa_required.is_some();
    // The ingest section is not on the form: keep what is stored.
    if let Ok(current) = state.tenantry.org_settings().get_settings(&principal, &OrgRef::from(slug.as_str())).await {
        settings.ingest = current.settings.ingest;
    }
    let if_match = etag(form.version);
    match state
        .tenantry
        .org_settings()
        .put_settings(&principal, &OrgRef::from(slug.as_str()), settings, Some(&if_match), &ctx.meta)
        .await
    {
        Ok(_) => ctx.redirect(&settings_path(&slug), Some("The settings were saved.")),
        Err(error) => refused(ctx, &slug, error).await,
    }
}

#[derive(Deserialize)]
pub struct TransferForm {
    email: String,
    current_password: String,
}

pub async fn transfer(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Form(form): Form<TransferForm>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    let tenantry = &state.tenantry;
    // The form names the new owner by email; the transfer itself takes their user id.
    let email = form.email.trim().to_lowercase();
    let first = PageRequest::parse(None, Some(100)).expect("a valid page request");
    let found =
        match tenantry.directory().search_members(&principal, &OrgRef::from(slug.as_str()), &email, &first).await {
            Ok(found) => found,
            Err(error) => return refused(ctx, &slug, error).await,
        };
    let Some(member) = found.items.iter().find(|m| m.email.as_str() == email) else {
        let error =
            Error::invalid("new_owner_user_id", format!("no member of this organization has the email {email}"));
        return refused(ctx, &slug, error).await;
    };
    let new_owner = member.membership.user_id;
    match tenantry
        .orgs()
        .transfer_ownership(
            &principal,
            &OrgRef::from(slug.as_str()),
            new_owner,
            Some(&form.current_password),
            &ctx.meta,
        )
        .await
    {
        Ok(_) => {
            ctx.redirect(&settings_path(&slug), Some(&format!("{} now owns this organization.", member.display_name)))
        }
        Err(error) => refused(ctx, &slug, error).await,
    }
}

pub async fn confirm_delete(ctx: Ctx, Path(slug): Path<String>) -> Response {
    let page = or_respond!(OrgPage::open(&ctx, &slug, Section::Settings, "Delete organization").await);
    delete_page(ctx, page, StatusCode::OK, Problem::none())
}

fn delete_page(ctx: Ctx, page: OrgPage, status: StatusCode, problem: Problem) -> Response {
    let slug = page.slug().to_owned();
    let confirm = Confirm {
        question: format!(
            "Delete {} for good? Its members, invitations and API keys go with it; people's accounts stay.",
            page.access.org.name
        ),
        action: format!("/app/org/{slug}/settings/delete"),
        confirm_label: "Delete organization".into(),
        back: settings_path(&slug),
        typed: Some(Typed {
            name: "confirm_slug",
            label: format!("Type the organization's slug, {slug}, to confirm"),
            kind: "text",
            required: true,
        }),
    };
    confirm_page(ctx, page.shell, confirm, status, problem)
}

#[derive(Deserialize)]
pub struct DeleteForm {
    confirm_slug: String,
}

pub async fn delete(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Form(form): Form<DeleteForm>,
) -> Response {
    let page = or_respond!(OrgPage::open(&ctx, &slug, Section::Settings, "Delete organization").await);
    match state
        .tenantry
        .orgs()
        .delete_org(&page.principal, &OrgRef::from(slug.as_str()), form.confirm_slug.trim(), &ctx.meta)
        .await
    {
        Ok(()) => ctx.redirect("/app", Some("The organization was deleted.")),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            delete_page(ctx, page, status, problem)
        }
    }
}

pub async fn confirm_leave(ctx: Ctx, Path(slug): Path<String>) -> Response {
    let page = or_respond!(OrgPage::open(&ctx, &slug, Section::Settings, "Leave organization").await);
    let confirm = Confirm {
        question: format!(
            "Leave {}? You lose access at once; someone must invite you to come back.",
            page.access.org.name
        ),
        action: format!("/app/org/{slug}/settings/leave"),
        confirm_label: "Leave organization".into(),
        back: settings_path(&slug),
        typed: None,
    };
    confirm_page(ctx, page.shell, confirm, StatusCode::OK, Problem::none())
}

pub async fn leave(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Form(_): Form<NoFields>,
) -> Response {
    let principal = or_respond!(ctx.signed_in());
    match state.tenantry.members().leave_org(&principal, &OrgRef::from(slug.as_str()), &ctx.meta).await {
        Ok(()) => ctx.redirect("/app", Some("You left the organization.")),
        Err(error) => refused(ctx, &slug, error).await,
    }
}
