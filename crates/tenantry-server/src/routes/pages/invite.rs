//! `/accept-invite/{token}`: the invitation, with sign-up and log-in forms for a visitor and
//! Accept / Decline for the invited user.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tenantry_core::domain::invitation::InvitationState;
use tenantry_core::service::accounts::SignupInput;
use tenantry_core::service::invitations::{InvitationPreview, InviteeFit};
use tenantry_core::service::{Principal, UserPrincipal};
use tenantry_core::Error;

use super::{
    button_form, clear_session_cookie, csrf, csrf_field, esc, page_user, plausible_token, see_other, session_cookie,
    set_cookie, Form, Page,
};
use crate::error::ApiError;
use crate::extract::ClientMeta;
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

fn page_url(token: &str) -> String {
    format!("/accept-invite/{token}")
}

pub async fn show(State(state): State<AppState>, Path(token): Path<String>, headers: HeaderMap) -> Response {
    let user = page_user(&state, &headers).await;
    render(&state, &token, &headers, user.as_ref(), None).await
}

/// The invitation page as it stands, with `notice` (an error of the last form) on top.
async fn render(
    state: &AppState,
    token: &str,
    headers: &HeaderMap,
    user: Option<&Principal>,
    notice: Option<(StatusCode, String)>,
) -> Response {
    let viewer = match user {
        Some(Principal::User(user)) => Some(user),
        _ => None,
    };
    let preview = match lookup(state, token, viewer).await {
        Ok(preview) => preview,
        Err(page) => return page.into_response(),
    };
    let (csrf_value, csrf_cookie) = csrf(state, headers);
    let (status, notice) = match notice {
        Some((status, text)) => (status, format!("<p class=\"error\">{}</p>", esc(&text))),
        None => (StatusCode::OK, String::new()),
    };
    let mut page = invitation_page(&preview, token, &csrf_value);
    if page.status == StatusCode::OK {
        page.status = status;
    }
    page.body = format!("{notice}{}", page.body);
    page.with_cookies(csrf_cookie).into_response()
}

/// The invitation behind `token`, or the page saying the link is not valid.
async fn lookup(state: &AppState, token: &str, viewer: Option<&UserPrincipal>) -> Result<InvitationPreview, Page> {
    if !plausible_token(token) {
        return Err(unknown());
    }
    match state.tenantry.preview_invitation(token, viewer).await {
        Ok(preview) => Ok(preview),
        Err(Error::NotFound(_)) => Err(unknown()),
        Err(e) => Err(Page::from_error("This invitation could not be shown", e)),
    }
}

fn unknown() -> Page {
    Page::new(
        StatusCode::NOT_FOUND,
        "This invitation link is not valid",
        "<p>The link may be mistyped, or the invitation was sent again with a new link. Look for the newest \
         invitation email, or ask the person who invited you to send a new one.</p>",
    )
}

fn invitation_page(p: &InvitationPreview, token: &str, csrf: &str) -> Page {
    let org = esc(&p.org_name);
    let inviter = esc(&p.inviter_name);
    let role = esc(&p.role_name);
    let expires = p.expires_at.format("%Y-%m-%d %H:%M UTC").to_string();
    let intro = format!("<p>{inviter} invited you to join <strong>{org}</strong> as <strong>{role}</strong>.</p>");
    match p.state {
        InvitationState::Pending => {}
        InvitationState::Accepted => {
            return Page::ok(
                "This invitation was already accepted",
                format!("{intro}<p>It has been used. If you accepted it, {org} is among your organizations.</p>"),
            )
        }
        InvitationState::Declined => {
            return Page::ok(
                "This invitation was declined",
                format!("{intro}<p>It was turned down. To join after all, ask {inviter} for a new invitation.</p>"),
            )
        }
        InvitationState::Revoked => {
            return Page::new(
                StatusCode::GONE,
                "This invitation was withdrawn",
                format!("{intro}<p>{org} withdrew it. Ask {inviter} if you think this is a mistake.</p>"),
            )
        }
        InvitationState::Expired => {
            return Page::new(
                StatusCode::GONE,
                "This invitation has expired",
                format!("{intro}<p>It expired on {expires}. Ask {inviter} to send it again.</p>"),
            )
        }
    }
    let title = format!("Join {}", p.org_name);
    let expiry = format!("<p class=\"muted\">The invitation is valid until {expires}.</p>");
    let url = page_url(token);
    let Some(viewer) = &p.viewer else {
        return Page::ok(title, format!("{intro}{expiry}{}", visitor_forms(&url, csrf)));
    };
    let me = format!("<p class=\"muted\">Signed in as {}.</p>", esc(viewer.email.as_str()));
    let logout = button_form(&format!("{url}/logout"), csrf, "Log out");
    let body = match viewer.fit {
        InviteeFit::Invitee => format!(
            "{intro}{expiry}{me}<div class=\"row\">{}{}</div><section>{logout}</section>",
            button_form(&format!("{url}/accept"), csrf, "Accept and join"),
            button_form(&format!("{url}/decline"), csrf, "Decline"),
        ),
        InviteeFit::Unverified => format!(
            "{intro}{expiry}{me}<p class=\"error\">Confirm your email address first: open the link we emailed to {}, \
             then come back to this page to accept.</p><p><a href=\"{}\">I have confirmed it</a></p><section>{logout}</section>",
            esc(viewer.email.as_str()),
            esc(&url),
        ),
        InviteeFit::OtherAddress => format!(
            "{intro}{expiry}{me}<p class=\"error\">This invitation was sent to another email address. Log out, then \
             log in or sign up with the address the invitation was sent to.</p><section>{logout}</section>"
        ),
        InviteeFit::AlreadyMember => {
            format!("{intro}{me}<p class=\"ok\">You are already a member of {org}.</p><section>{logout}</section>")
        }
    };
    Page::ok(title, body)
}

fn visitor_forms(url: &str, csrf: &str) -> String {
    let field = csrf_field(csrf);
    format!(
        "<p>Use the email address this invitation was sent to.</p>\
         <section><h2>New to Tenantry? Create an account</h2><form method=\"post\" action=\"{url}/signup\">{field}\
         <label for=\"s-name\">Your name</label><input type=\"text\" id=\"s-name\" name=\"display_name\" required maxlength=\"100\" autocomplete=\"name\">\
         <label for=\"s-email\">Email</label><input type=\"email\" id=\"s-email\" name=\"email\" required autocomplete=\"email\">\
         <label for=\"s-password\">Password (at least 8 characters)</label><input type=\"password\" id=\"s-password\" name=\"password\" required minlength=\"8\" maxlength=\"128\" autocomplete=\"new-password\">\
         <button type=\"submit\">Create account</button></form></section>\
         <section><h2>Already have an account? Log in</h2><form method=\"post\" action=\"{url}/login\">{field}\
         <label for=\"l-email\">Email</label><input type=\"email\" id=\"l-email\" name=\"email\" required autocomplete=\"email\">\
         <label for=\"l-password\">Password</label><input type=\"password\" id=\"l-password\" name=\"password\" required autocomplete=\"current-password\">\
         <button type=\"submit\">Log in</button></form></section>",
        url = esc(url),
    )
}

/// The page again with the refusal of the last form on top.
async fn refused(state: &AppState, token: &str, headers: &HeaderMap, user: Option<&Principal>, e: Error) -> Response {
    let error = ApiError::from(e);
    let text = super::describe(&error);
    render(state, token, headers, user, Some((error.status, text))).await
}

pub async fn signup(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    ClientMeta(meta): ClientMeta,
    Form(form): Form<SignupForm>,
) -> Response {
    if let Err(page) = lookup(&state, &token, None).await {
        return page.into_response();
    }
    let input = SignupInput { email: form.email, password: form.password, display_name: form.display_name };
    match state.tenantry.signup(input, &meta).await {
        Ok(signed_in) => see_other(
            &page_url(&token),
            vec![
                session_cookie(&state, &signed_in.tokens.access_token, signed_in.tokens.expires_in),
                set_cookie(&state, RETURN_COOKIE, &token, 60 * 60 * 24),
            ],
        ),
        Err(e) => refused(&state, &token, &headers, None, e).await,
    }
}

pub async fn login(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    ClientMeta(meta): ClientMeta,
    Form(form): Form<LoginForm>,
) -> Response {
    if let Err(page) = lookup(&state, &token, None).await {
        return page.into_response();
    }
    match state.tenantry.login(&form.email, &form.password, &meta).await {
        Ok(signed_in) => see_other(
            &page_url(&token),
            vec![session_cookie(&state, &signed_in.tokens.access_token, signed_in.tokens.expires_in)],
        ),
        Err(e) => refused(&state, &token, &headers, None, e).await,
    }
}

pub async fn logout(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    ClientMeta(meta): ClientMeta,
    Form(_): Form<Confirm>,
) -> Response {
    if let Some(Principal::User(user)) = page_user(&state, &headers).await {
        if let Err(e) = state.tenantry.logout(&user, &meta).await {
            return Page::from_error("You could not be logged out", e).into_response();
        }
    }
    let location = if plausible_token(&token) { page_url(&token) } else { "/".to_owned() };
    see_other(&location, vec![clear_session_cookie(&state)])
}

pub async fn accept(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    ClientMeta(meta): ClientMeta,
    Form(_): Form<Confirm>,
) -> Response {
    let Some(user) = page_user(&state, &headers).await else {
        return render(&state, &token, &headers, None, Some((StatusCode::UNAUTHORIZED, "Log in first.".into()))).await;
    };
    match state.tenantry.accept_invitation(&user, &token, &meta).await {
        Ok(accepted) => Page::ok(
            format!("Welcome to {}", accepted.org.org.name),
            format!(
                "<p class=\"ok\">You joined <strong>{}</strong> as <strong>{}</strong>.</p>\
                 <p>You can close this page and continue in the app.</p>",
                esc(&accepted.org.org.name),
                esc(&accepted.member.membership.role),
            ),
        )
        .with_cookies([set_cookie(&state, RETURN_COOKIE, "", 0)])
        .into_response(),
        Err(e) => refused(&state, &token, &headers, Some(&user), e).await,
    }
}

pub async fn decline(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    ClientMeta(meta): ClientMeta,
    Form(_): Form<Confirm>,
) -> Response {
    let Some(user) = page_user(&state, &headers).await else {
        return render(&state, &token, &headers, None, Some((StatusCode::UNAUTHORIZED, "Log in first.".into()))).await;
    };
    let org = match lookup(&state, &token, None).await {
        Ok(preview) => preview.org_name,
        Err(page) => return page.into_response(),
    };
    match state.tenantry.decline_invitation(&user, &token, &meta).await {
        Ok(_) => Page::ok(
            "Invitation declined",
            format!("<p>You declined the invitation to join <strong>{}</strong>.</p>", esc(&org)),
        )
        .with_cookies([set_cookie(&state, RETURN_COOKIE, "", 0)])
        .into_response(),
        Err(e) => refused(&state, &token, &headers, Some(&user), e).await,
    }
}
