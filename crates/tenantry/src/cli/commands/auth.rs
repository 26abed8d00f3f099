//! `login`, `logout` and `whoami`.

use clap::Args;
use serde::Serialize;
use tenantry_client::types::{LoginBody, LoginMfaBody, LoginView, MeView, OrgView, SessionView, UserView};

use super::{ask, password, stdin_line};
use crate::cli::config::{ActiveOrg, Credentials, UserSession};
use crate::cli::error::{CliError, Result};
use crate::cli::http::{now, seg, Api};
use crate::cli::output::{self, fields, or_dash};
use crate::cli::Global;

#[derive(Args)]
pub struct LoginArgs {
    /// Your account's email (asked for when absent)
    #[arg(long)]
    email: Option<String>,
    /// Read the password from the first line of standard input instead of prompting
    #[arg(long, requires = "email")]
    password_stdin: bool,
    /// For an account with two-step verification: the authenticator app's code, or a recovery
    /// code (asked for when absent and needed)
    #[arg(long, value_name = "CODE")]
    code: Option<String>,
    /// Log in with an org's API key instead (`-` reads it from standard input); needs --org
    #[arg(long, value_name = "KEY", conflicts_with_all = ["email", "password_stdin"], requires = "org")]
    api_key: Option<String>,
    #[command(flatten)]
    global: Global,
}

pub async fn login(args: LoginArgs) -> Result<()> {
    let mut api = Api::open(&args.global)?;
    match args.api_key {
        Some(key) => login_with_key(&mut api, &args.global, key).await,
        None => login_with_password(&mut api, &args.global, args.email, args.password_stdin, args.code).await,
    }
}

async fn login_with_password(
    api: &mut Api,
    global: &Global,
    email: Option<String>,
    from_stdin: bool,
    code: Option<String>,
) -> Result<()> {
    let email = match email {
        Some(email) => email,
        None => ask("Email: ", "--email")?,
    };
    let password = password(from_stdin)?;
    let answer = api.post("/v1/auth/login", &LoginBody { email, password }).anonymous().data().await?;
    let session = match answer {
        LoginView::Session(session) => *session,
        LoginView::Mfa(challenge) => second_step(api, challenge.mfa_token, code).await?,
    };
    let user = UserSession {
        id: session.user.id.clone(),
        email: session.user.email.clone(),
        access_token: session.access_token,
        access_expires_at: now() + session.expires_in,
        refresh_token: session.refresh_token,
    };
    let credentials = Credentials {
        server: api.server().to_owned(),
        api_key: None,
        org: session.org.as_ref().map(active_org),
        user: Some(user),
    };
    let _lock = api.store().lock()?;
    api.store().save(&credentials)?;
    drop(_lock);
    api.use_credentials(credentials);
    let mut org = session.org;
    if let Some(reference) = &global.org {
        org = Some(super::orgs::switch(api, reference).await?);
    } else if let Some(last) =
        api.store().remembered_org(api.server()).filter(|last| org.as_ref().is_none_or(|org| org.id != last.id))
    {
        // Resume the org active at the last logout, if this user may still use it.
        if let Ok(resumed) = super::orgs::switch(api, &last.id).await {
            org = Some(resumed);
        }
    }
    if global.json {
        output::json(&UserLogin { server: api.server(), user: &session.user, org: org.as_ref() });
        return Ok(());
    }
    output::print_text(&format!("Logged in to {} as {}.\n", api.server(), session.user.email));
    print_active(org.as_ref());
    Ok(())
}

/// What `login --json` prints for a user.
#[derive(Serialize)]
struct UserLogin<'a> {
    server: &'a str,
    user: &'a UserView,
    org: Option<&'a OrgView>,
}

/// What `login --json` and `whoami --json` print for an API key.
#[derive(Serialize)]
struct KeyLogin<'a> {
    server: &'a str,
    api_key: String,
    org: &'a OrgView,
}

/// The second step of a login with two-step verification: six digits are the app's code,
/// anything else a recovery code.
async fn second_step(api: &mut Api, mfa_token: String, code: Option<String>) -> Result<SessionView> {
    let code = match code {
        Some(code) => code,
        None => ask("Code from your authenticator app (or a recovery code): ", "--code")?,
    };
    let code = code.trim().to_owned();
    let is_app_code = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
    let body = if is_app_code {
        LoginMfaBody { mfa_token, code: Some(code), recovery_code: None }
    } else {
        LoginMfaBody { mfa_token, code: None, recovery_code: Some(code) }
    };
    api.post("/v1/auth/login/mfa", &body).anonymous().data().await
}

async fn login_with_key(api: &mut Api, global: &Global, key: String) -> Result<()> {
    let key = if key == "-" { stdin_line("the API key")?.trim().to_owned() } else { key };
    let reference = global.org.clone().ok_or_else(|| CliError::usage("--org is required with --api-key"))?;
    // An API key reaches only its own org: reading it proves both the key and the org.
    api.use_credentials(Credentials {
        server: api.server().to_owned(),
        api_key: Some(key.clone()),
        org: None,
        user: None,
    });
    let org: OrgView = api.get(format!("/v1/orgs/{}", seg(&reference))).in_org(&reference).data().await?;
    let credentials = Credentials {
        server: api.server().to_owned(),
        api_key: Some(key.clone()),
        org: Some(active_org(&org)),
        user: None,
    };
    let _lock = api.store().lock()?;
    api.store().save(&credentials)?;
    if global.json {
        output::json(&KeyLogin { server: api.server(), api_key: key_prefix(&key), org: &org });
        return Ok(());
    }
    output::print_text(&format!("Logged in to {} with API key {}.\n", api.server(), key_prefix(&key)));
    print_active(Some(&org));
    Ok(())
}

pub async fn logout(global: &Global) -> Result<()> {
    let mut api = Api::open(global)?;
    let Some(credentials) = api.login().cloned() else {
        if !global.json {
            output::print_text(&format!("Not logged in to {}.\n", api.server()));
        }
        return Ok(());
    };
    if credentials.user.is_some() {
        // The session ends on the server first; one that already ended is just as good.
        match api.call(reqwest::Method::POST, "/v1/auth/logout").no_content().await {
            Ok(()) => {}
            Err(e) if e.exit == crate::cli::error::Exit::Auth => {}
            Err(e) => eprintln!("warning: could not end the session on the server ({e}); forgetting it here anyway"),
        }
    }
    let _lock = api.store().lock()?;
    if let (Some(_), Some(org)) = (&credentials.user, &credentials.org) {
        api.store().remember_org(&credentials.server, org)?;
    }
    api.store().remove()?;
    if !global.json {
        output::print_text(&format!("Logged out of {}.\n", credentials.server));
        if let Some(key) = &credentials.api_key {
            output::print_text(&format!(
                "The API key {} still works until it is revoked (`tenantry keys revoke`).\n",
                key_prefix(key)
            ));
        }
    }
    Ok(())
}

pub async fn whoami(global: &Global) -> Result<()> {
    let mut api = Api::open(global)?;
    let credentials = api.credentials()?.clone();
    if let Some(key) = &credentials.api_key {
        let org = api.org()?;
        let org: OrgView = api.get(format!("/v1/orgs/{}", seg(&org))).in_org(&org).data().await?;
        if global.json {
            output::json(&KeyLogin { server: api.server(), api_key: key_prefix(key), org: &org });
            return Ok(());
        }
        fields(&[
            ("Server", api.server().to_owned()),
            ("API key", key_prefix(key)),
            ("Org", format!("{} ({}, {})", org.name, org.slug, org.id)),
        ]);
        return Ok(());
    }
    let me: MeView = api.get("/v1/me").data().await?;
    if global.json {
        output::json(&me);
        return Ok(());
    }
    let user = &me.user;
    let active = match credentials.org {
        Some(active) => me
            .orgs
            .iter()
            .find(|o| o.id == active.id)
            .map(|o| format!("{} ({}, {}), role {}", o.name, o.slug, o.id, or_dash(o.role.as_deref())))
            .unwrap_or_else(|| format!("{} (you are no longer a member)", active.slug)),
        None => "none (choose one with `tenantry org use`)".to_owned(),
    };
    let verified = if user.email_verified { "" } else { " (not verified)" };
    fields(&[
        ("Server", api.server().to_owned()),
        ("User", format!("{} <{}>{verified}", user.display_name, user.email)),
        ("User id", user.id.clone()),
        ("Active org", active),
        ("Orgs", me.orgs.len().to_string()),
    ]);
    Ok(())
}

pub fn active_org(org: &OrgView) -> ActiveOrg {
    ActiveOrg { id: org.id.clone(), slug: org.slug.clone() }
}

fn print_active(org: Option<&OrgView>) {
    match org {
        Some(org) => output::print_text(&format!("Active org: {} ({}, {})\n", org.name, org.slug, org.id)),
        None => output::print_text("No active org yet: choose one with `tenantry org use <id-or-slug>`.\n"),
    }
}

/// How a key is named once its secret is stored: its first 12 characters, as the API lists them.
fn key_prefix(key: &str) -> String {
    format!("{}…", key.chars().take(12).collect::<String>())
}
