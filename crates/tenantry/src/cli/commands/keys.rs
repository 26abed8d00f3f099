//! `keys create | list | revoke | roll`.

use chrono::{DateTime, Utc};
use clap::Subcommand;
use tenantry_client::types::{ApiKeyView, CreateKeyBody, IssuedKeyView, RollKeyBody};

use crate::cli::error::Result;
use crate::cli::http::{seg, Api};
use crate::cli::output::{self, joined, Table};
use crate::cli::time;
use crate::cli::{Global, Limit};

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a key (needs api_keys.manage); its secret is printed this once
    Create {
        /// A name to tell the key apart, e.g. "CI pipeline"
        name: String,
        /// What the key may do: catalog permissions or `resource.*`, none beyond your own
        /// (repeat or separate with commas)
        #[arg(long = "scope", alias = "scopes", value_name = "SCOPE", value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// When the key stops working: RFC 3339, a date, or a lifetime such as 90d [default: never]
        #[arg(long, value_parser = time::future)]
        expires_at: Option<DateTime<Utc>>,
        /// One of the preset's key prefixes, e.g. tn_test_ [default: the first]
        #[arg(long)]
        prefix: Option<String>,
    },
    /// The org's keys, oldest first; secrets are never shown again
    List(Limit),
    /// Revoke a key: it is refused from the next request on
    Revoke {
        /// The key's id (key_…) or name
        id: String,
    },
    /// Replace a key's secret, keeping its name and scopes; the new secret is printed this once
    Roll {
        /// The key's id (key_…) or name
        id: String,
        /// Seconds the old secret keeps working (up to 30 days) [default: it stops at once]
        #[arg(long, value_name = "SECS")]
        old_expires_in: Option<i64>,
    },
}

pub async fn run(command: KeysCommand, global: &Global) -> Result<()> {
    let mut api = Api::open(global)?;
    let org = api.org()?;
    let keys = format!("/v1/orgs/{}/api-keys", seg(&org));
    match command {
        KeysCommand::Create { name, scopes, expires_at, prefix } => {
            let body = CreateKeyBody { name, scopes, expires_at, prefix };
            let issued: IssuedKeyView = api.post(keys, &body).in_org(&org).data().await?;
            print_issued(&issued, "Created", global);
            Ok(())
        }
        KeysCommand::List(limit) => {
            let list: Vec<ApiKeyView> = api.get(keys).in_org(&org).list(limit.limit).await?;
            if global.json {
                output::json(&list);
                return Ok(());
            }
            if list.is_empty() {
                output::print_text("No API keys.\n");
                return Ok(());
            }
            let mut table =
                Table::new(&["ID", "NAME", "PREFIX", "STATUS", "SCOPES", "CREATED", "EXPIRES", "LAST USED"]);
            for key in &list {
                table.row(vec![
                    key.id.clone(),
                    key.name.clone(),
                    key.prefix.clone(),
                    status(key).to_owned(),
                    joined(&key.scopes),
                    time::show(Some(key.created_at)),
                    time::show(key.expires_at),
                    time::show(key.last_used_at),
                ]);
            }
            table.print();
            Ok(())
        }
        KeysCommand::Revoke { id } => {
            let id = super::find_key(&mut api, &org, &id).await?;
            api.call(reqwest::Method::DELETE, format!("{keys}/{}", seg(&id))).in_org(&org).no_content().await?;
            if !global.json {
                output::print_text(&format!("Revoked API key {id}.\n"));
            }
            Ok(())
        }
        KeysCommand::Roll { id, old_expires_in } => {
            let id = super::find_key(&mut api, &org, &id).await?;
            let body = RollKeyBody { old_expires_in };
            let issued: IssuedKeyView =
                api.post(format!("{keys}/{}/roll", seg(&id)), &body).in_org(&org).data().await?;
            print_issued(&issued, "Rolled", global);
            if !global.json {
                let old = match old_expires_in {
                    Some(secs) if secs > 0 => format!("keeps working for {secs} more seconds"),
                    _ => "has stopped working".to_owned(),
                };
                output::print_text(&format!("The old secret of {id} {old}.\n"));
            }
            Ok(())
        }
    }
}

fn status(key: &ApiKeyView) -> &'static str {
    if key.revoked_at.is_some() {
        "revoked"
    } else if time::passed(key.expires_at) {
        "expired"
    } else {
        "active"
    }
}

/// The secret goes to stdout (alone, or in the JSON), the warning to stderr, so either can be piped.
fn print_issued(issued: &IssuedKeyView, verb: &str, global: &Global) {
    eprintln!("warning: the secret is shown only this once; store it now.");
    if global.json {
        output::json(issued);
        return;
    }
    output::print_text(&format!(
        "{verb} API key {} ({}) with scopes {}.\n\n    {}\n\n",
        issued.key.name,
        issued.key.id,
        joined(&issued.key.scopes),
        issued.secret,
    ));
}
