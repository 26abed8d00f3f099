//! `/accept-invite/{token}`: the invitation, with sign-up and log-in forms for a visitor and
//! Accept / Decline for the invited user, then on into the dashboard (or the host app).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tenantry_core::domain::invitation::InvitationState;
use tenantry_core::service::accounts::SignupInput;
use tenantry_core::service::invitations::{InvitationPreview, InviteeFit};
use tenantry_core::service::mfa::LoginOutcome;
use tenantry_core::service::{Principal, UserPrincipal};
use tenantry_core::Error;

use super::{keep_token_private, plausible_token, set_cookie, Form};
use crate::dashboard::{after_login, Ctx};
use crate::dashboard::{date, sign_in_cookies, sign_out_cookies, Problem, Shell, Site};
use crate::state::AppState;

/// Remembers, across the email-verification detour, which invitation a visitor signed up from.
pub(super) const RETURN_COOKIE: &str = "tenantry_invitation";

#[derive(Deserialize)]
pub struct SignupForm {
    display_name: String,
    email: String,
    password: String,
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

/// Nothing but the anti-forgery field.
#[derive(Deserialize)]
pub struct Confirm {}

/// Who invited whom to what.
struct Intro {
    inviter: String,
    org: String,
    role: String,
}

/// How the signed-in viewer stands towards a pending invitation.
enum Fit {
    Invitee,
    Unverified,
    OtherAddress,
    AlreadyMember,
}

impl Fit {
    fn is_member(&self) -> bool {
        matches!(self, Self::AlreadyMember)
    }
}

enum Viewer {
    Visitor,
    Signed { email: String, fit: Fit },
}

enum InvitationView {
    /// The link matches no invitation.
    Unknown,
    /// Accepted, declined, withdrawn or expired: nothing left to do here.
    Closed {
        intro: Intro,
        text: String,
    },
    Open {
        intro: Intro,
        url: String,
        expires: String,
        viewer: Viewer,
    },
    Joined {
        org: String,
        role: String,
        next_href: String,
        next_label: String,
    },
    Declined {
        org: String,
        next_href: String,
        next_label: String,
    },
}

#[derive(Template)]
#[template(path = "dashboard/invitation.html")]
struct InvitationPage {
    shell: Shell,
    problem: Problem,
    view: InvitationView,
    /// When the org requires two-step verification the invitee lacks: the set-up form, which
    /// comes back to this page.
    mfa_setup_next: Option<String>,
}

fn page_url(token: &str) -> String {
    format!("/accept-invite/{token}")
}

fn show_page(ctx: &Ctx, status: StatusCode, title: &str, problem: Problem, view: InvitationView) -> Response {
    let page = InvitationPage { shell: ctx.shell(title), problem, view, mfa_setup_next: None };
    keep_token_private(ctx.page(status, &page))
}

/// Where someone who joined `slug` goes on: the host app when configured, else the org in the
/// dashboard.
pub(super) fn continue_to(site: &Site, slug: Option<&str>) -> (String, String) {
    let href = match (&site.brand.app_url, slug) {
        (None, Some(slug)) => format!("/app/org/{slug}"),
        _ => site.continue_url().to_owned(),
    };
    (href, format!("Continue to {}", site.brand.name))
}

pub async fn show(ctx: Ctx, Path(token): Path<String>) -> Response {
    render(&ctx, &token, StatusCode::OK, Problem::none()).await
}

/// The invitation page as it stands for the viewer, with `problem` (the refusal of the last
/// form) on top.
async fn render(ctx: &Ctx, token: &str, status: StatusCode, problem: Problem) -> Response {
    let preview = match lookup(ctx, token, ctx.user.as_ref()).await {
        Ok(preview) => preview,
        Err(page) => return page,
    };
    let (page_status, title, view) = invitation_view(&preview, token);
    let status = if page_status == StatusCode::OK { status } else { page_status };
    show_page(ctx, status, &title, problem, view)
}

/// The invitation behind `token`, or the page saying the link is not valid.
async fn lookup(ctx: &Ctx, token: &str, viewer: Option<&UserPrincipal>) -> Result<InvitationPreview, Response> {
    if !plausible_token(token) {
        return Err(unknown(ctx));
    }
    match ctx.state.tenantry.invitations().preview_invitation(token, viewer).await {
        Ok(preview) => Ok(preview),
        Err(Error::NotFound(_)) => Err(unknown(ctx)),
        Err(e) => {
            let (status, problem) = Problem::from_error(e);
            Err(show_page(ctx, status, "This invitation could not be shown", problem, InvitationView::Unknown))
        }
    }
}

fn unknown(ctx: &Ctx) -> Response {
    show_page(ctx, StatusCode::NOT_FOUND, "This invitation link is not valid", Problem::none(), InvitationView::Unknown)
}

fn invitation_view(p: &InvitationPreview, token: &str) -> (StatusCode, String, InvitationView) {
    let intro = || Intro { inviter: p.inviter_name.clone(), org: p.org_name.clone(), role: p.role_name.clone() };
    let expires = date(p.expires_at);
    let closed =
        |status, title: &str, text: String| (status, title.to_owned(), InvitationView::Closed { intro: intro(), text });
    let (org, inviter) = (&p.org_name, &p.inviter_name);
    match p.state {
        InvitationState::Pending => {}
        InvitationState::Accepted => {
            return closed(
                StatusCode::OK,
                "This invitation was already accepted",
                format!("It has been used. If you accepted it, {org} is among your organizations."),
            )
        }
        InvitationState::Declined => {
            return closed(
                StatusCode::OK,
                "This invitation was declined",
                format!("It was turned down. To join after all, ask {inviter} for a new invitation."),
            )
        }
        InvitationState::Revoked => {
            return closed(
                StatusCode::GONE,
                "This invitation was withdrawn",
                format!("{org} withdrew it. Ask {inviter} if you think this is a mistake."),
            )
        }
        InvitationState::Expired => {
            return closed(
                StatusCode::GONE,
                "This invitation has expired",
                format!("It expired on {expires}. Ask {inviter} to send it again."),
            )
        }
    }
    let viewer = match &p.viewer {
        None => Viewer::Visitor,
        Some(viewer) => {
            let fit = match viewer.fit {
                InviteeFit::Invitee => Fit::Invitee,
                InviteeFit::Unverified => Fit::Unverified,
                InviteeFit::OtherAddress => Fit::OtherAddress,
                InviteeFit::AlreadyMember => Fit::AlreadyMember,
            };
            Viewer::Signed { email: viewer.email.as_str().to_owned(), fit }
        }
    };
    let view = InvitationView::Open { intro: intro(), url: page_url(token), expires, viewer };
    (StatusCode::OK, format!("Join {}", p.org_name), view)
}

/// The page again with the refusal of the last form on top.
async fn refused(ctx: &Ctx, token: &str, e: Error) -> Response {
    if matches!(e, Error::Forbidden { code: "mfa_required", .. }) {
        return mfa_first(ctx, token).await;
    }
    let (status, problem) = Problem::from_error(e);
    render(ctx, token, status, problem).await
}

/// The invitation again, leading the invitee through two-step set-up before accepting.
async fn mfa_first(ctx: &Ctx, token: &str) -> Response {
    let preview = match lookup(ctx, token, ctx.user.as_ref()).await {
        Ok(preview) => preview,
        Err(page) => return page,
    };
    let (_, title, view) = invitation_view(&preview, token);
    let problem = Problem::text(format!(
        "{} requires two-step verification of its members. Set it up for your account, then accept the invitation.",
        preview.org_name
    ));
    let page = InvitationPage { shell: ctx.shell(title), problem, view, mfa_setup_next: Some(page_url(token)) };
    keep_token_private(ctx.page(StatusCode::FORBIDDEN, &page))
}

pub async fn signup(
    mut ctx: Ctx,
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<SignupForm>,
) -> Response {
    if let Err(page) = lookup(&ctx, &token, None).await {
        return page;
    }
    let input = SignupInput { email: form.email, password: form.password, display_name: form.display_name };
    match state.tenantry.accounts().signup(input, &ctx.meta).await {
        Ok(signed_in) => {
            ctx.add_cookies(sign_in_cookies(&state, &signed_in.tokens));
            ctx.add_cookies([set_cookie(&state, RETURN_COOKIE, &token, 60 * 60 * 24)]);
            keep_token_private(ctx.redirect(&page_url(&token), None))
        }
        Err(e) => refused(&ctx, &token, e).await,
    }
}

pub async fn login(
    mut ctx: Ctx,
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<LoginForm>,
) -> Response {
    if let Err(page) = lookup(&ctx, &token, None).await {
        return page;
    }
    match state.tenantry.accounts().login(&form.email, &form.password, &ctx.meta).await {
        Ok(LoginOutcome::SignedIn(signed_in)) => {
            ctx.add_cookies(sign_in_cookies(&state, &signed_in.tokens));
            keep_token_private(ctx.redirect(&page_url(&token), None))
        }
        // The second step comes back to this page once the code is given.
        Ok(outcome) => keep_token_private(after_login(ctx, &state, outcome, page_url(&token))),
        Err(e) => refused(&ctx, &token, e).await,
    }
}

pub async fn logout(
    mut ctx: Ctx,
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(_): Form<Confirm>,
) -> Response {
    if let Some(user) = ctx.user.take() {
        if let Err(e) = state.tenantry.accounts().logout(&user, &ctx.meta).await {
            let (status, problem) = Problem::from_error(e);
            return show_page(&ctx, status, "You could not be logged out", problem, InvitationView::Unknown);
        }
    }
    ctx.add_cookies(sign_out_cookies(&state));
    let location = if plausible_token(&token) { page_url(&token) } else { "/".to_owned() };
    keep_token_private(ctx.redirect(&location, None))
}

pub async fn accept(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(_): Form<Confirm>,
) -> Response {
    let Some(user) = ctx.user.clone() else {
        return render(&ctx, &token, StatusCode::UNAUTHORIZED, Problem::text("Log in first.")).await;
    };
    match state.tenantry.invitations().accept_invitation(&Principal::User(user), &token, &ctx.meta).await {
        Ok(accepted) => {
            let (next_href, next_label) = continue_to(&state.site, Some(accepted.org.org.slug.as_str()));
            let org = accepted.org.org.name.clone();
            let view = InvitationView::Joined {
                org: org.clone(),
                role: accepted.member.membership.role.clone(),
                next_href,
                next_label,
            };
            let mut ctx = ctx;
            ctx.add_cookies([set_cookie(&state, RETURN_COOKIE, "", 0)]);
            show_page(&ctx, StatusCode::OK, &format!("Welcome to {org}"), Problem::none(), view)
        }
        Err(e) => refused(&ctx, &token, e).await,
    }
}

pub async fn decline(
    mut ctx: Ctx,
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(_): Form<Confirm>,
) -> Response {
    let Some(user) = ctx.user.clone() else {
        return render(&ctx, &token, StatusCode::UNAUTHORIZED, Problem::text("Log in first.")).await;
    };
    let org = match lookup(&ctx, &token, None).await {
        Ok(preview) => preview.org_name,
        Err(page) => return page,
    };
    match state.tenantry.invitations().decline_invitation(&Principal::User(user), &token, &ctx.meta).await {
        Ok(_) => {
            ctx.add_cookies([set_cookie(&state, RETURN_COOKIE, "", 0)]);
            let (next_href, next_label) = continue_to(&state.site, None);
            let view = InvitationView::Declined { org, next_href, next_label };
            show_page(&ctx, StatusCode::OK, "Invitation declined", Problem::none(), view)
        }
        Err(e) => refused(&ctx, &token, e).await,
    }
}
