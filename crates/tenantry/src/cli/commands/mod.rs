//! One module per group of subcommands; shared here: reading secrets and finding members.

pub mod audit;
pub mod auth;
pub mod backup;
pub mod billing;
pub mod doctor;
pub mod invites;
pub mod keys;
pub mod members;
pub mod orgs;
pub mod teams;

use std::io::{BufRead, IsTerminal};

use tenantry_client::types::{ApiKeyView, InvitationView, MemberView};

use super::error::{CliError, Exit, Result};
use super::http::{seg, Api};

/// A password typed without echo, or the first line of standard input with `--password-stdin`.
pub fn password(from_stdin: bool) -> Result<String> {
    let password = if from_stdin {
        stdin_line("the password")?
    } else {
        rpassword::prompt_password("Password: ").map_err(|e| {
            CliError::local(format!("cannot read the password from a terminal ({e}); use --password-stdin"))
        })?
    };
    if password.is_empty() {
        return Err(CliError::usage("the password is empty"));
    }
    Ok(password)
}

/// The first line of standard input, without its line ending.
pub fn stdin_line(what: &str) -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::local(format!("cannot read {what} from standard input: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Asks on stderr and reads one line; refuses when nobody could answer.
pub fn ask(prompt: &str, flag: &str) -> Result<String> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::usage(format!("{flag} is required when standard input is not a terminal")));
    }
    eprint!("{prompt}");
    let answer = stdin_line(prompt.trim_end_matches([':', ' ']))?;
    Ok(answer.trim().to_owned())
}

/// A member of `org` named by user id (`usr_…`), membership id (`mem_…`) or email.
pub async fn find_member(api: &mut Api, org: &str, who: &str) -> Result<MemberView> {
    if who.starts_with("usr_") {
        return api.get(format!("/v1/orgs/{}/members/{}", seg(org), seg(who))).in_org(org).data().await;
    }
    let members: Vec<MemberView> = api.get(format!("/v1/orgs/{}/members", seg(org))).in_org(org).list(None).await?;
    members
        .into_iter()
        .find(|m| m.id == who || m.email.eq_ignore_ascii_case(who))
        .ok_or_else(|| CliError::not_found(format!("no member of {org} has the email or id `{who}`")))
}

/// An API key of `org` named by id (`key_…`) or by name (among keys not revoked; a name that
/// several keys share must be given as an id).
pub async fn find_key(api: &mut Api, org: &str, which: &str) -> Result<String> {
    if which.starts_with("key_") {
        return Ok(which.to_owned());
    }
    let keys: Vec<ApiKeyView> = api.get(format!("/v1/orgs/{}/api-keys", seg(org))).in_org(org).list(None).await?;
    let named: Vec<&ApiKeyView> = keys.iter().filter(|k| k.name == which && k.revoked_at.is_none()).collect();
    match named.as_slice() {
        [key] => Ok(key.id.clone()),
        [] => Err(CliError::not_found(format!("no API key of {org} is named `{which}`"))),
        several => {
            let ids: Vec<&str> = several.iter().map(|k| k.id.as_str()).collect();
            Err(CliError::usage(format!(
                "{} keys are named `{which}` ({}): name one by its id",
                ids.len(),
                ids.join(", ")
            )))
        }
    }
}

/// A pending invitation of `org` named by id (`inv_…`) or by the invitee's email.
pub async fn find_invitation(api: &mut Api, org: &str, which: &str) -> Result<String> {
    if which.starts_with("inv_") {
        return Ok(which.to_owned());
    }
    let path = format!("/v1/orgs/{}/invitations", seg(org));
    let pending = Some("pending".to_owned());
    let invitations: Vec<InvitationView> = api.get(path).in_org(org).query("state", pending).list(None).await?;
    invitations
        .into_iter()
        .find(|i| i.email.eq_ignore_ascii_case(which))
        .map(|i| i.id)
        .ok_or_else(|| CliError::not_found(format!("no pending invitation of {org} is to `{which}`")))
}

/// The server's database for an operator command (`audit verify`, `backup`, `doctor`), opened as
/// it is: never migrated, and a SQLite file that does not exist is refused rather than created
/// empty (an empty database would verify and back up as if all were well).
pub async fn operator_store(config: &tenantry_server::Config) -> Result<tenantry_store::SqlStore> {
    let url = &config.database.url;
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path);
        if !std::path::Path::new(path).exists() {
            return Err(CliError::new(
                Exit::NotFound,
                format!("no database at {path} (database.url {url}); is this the server's configuration?"),
            ));
        }
    }
    tenantry_server::startup::connect_store(config).await.map_err(|e| CliError::server(format!("{e:#}")))
}
