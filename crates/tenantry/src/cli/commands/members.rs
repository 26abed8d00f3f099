//! `members list | role | suspend | unsuspend | remove` and `transfer-ownership`.

use clap::{Args, Subcommand};
use tenantry_client::types::{ChangeMemberBody, MemberStatusField, MemberView, OrgView, TransferBody};

use super::{find_member, password};
use crate::cli::error::Result;
use crate::cli::http::{seg, Api};
use crate::cli::output::{self, or_dash, Table};
use crate::cli::time;
use crate::cli::{Global, Limit};

#[derive(Subcommand)]
pub enum MembersCommand {
    /// The org's members, in the order they joined
    List(Limit),
    /// Change a member's role (needs members.change_role)
    Role {
        /// The member's user id or email
        user: String,
        /// A role of the org, e.g. admin, developer, viewer
        role: String,
    },
    /// Suspend a member: they keep the seat but are refused everywhere in the org (needs
    /// members.remove)
    Suspend {
        /// The member's user id or email
        user: String,
    },
    /// Lift a member's suspension (needs members.remove)
    Unsuspend {
        /// The member's user id or email
        user: String,
    },
    /// Remove a member from the org (needs members.remove)
    Remove {
        /// The member's user id or email
        user: String,
    },
}

#[derive(Args)]
pub struct TransferArgs {
    /// The new owner's user id or email; they must be a member
    user: String,
    /// Read your password from the first line of standard input instead of prompting
    #[arg(long)]
    password_stdin: bool,
    #[command(flatten)]
    global: Global,
}

pub async fn run(command: MembersCommand, global: &Global) -> Result<()> {
    let mut api = Api::open(global)?;
    let org = api.org()?;
    match command {
        MembersCommand::List(limit) => {
            let path = format!("/v1/orgs/{}/members", seg(&org));
            let members: Vec<MemberView> = api.get(path).in_org(&org).list(limit.limit).await?;
            if global.json {
                output::json(&members);
                return Ok(());
            }
            let mut table = Table::new(&["USER ID", "EMAIL", "NAME", "ROLE", "STATUS", "JOINED"]);
            for m in members {
                table.row(vec![m.user_id, m.email, m.display_name, m.role, m.status, time::show(Some(m.joined_at))]);
            }
            table.print();
            Ok(())
        }
        MembersCommand::Role { user, role } => {
            let body = ChangeMemberBody { role: Some(role), status: None };
            let updated = change(&mut api, &org, &user, &body).await?;
            if global.json {
                output::json(&updated);
            } else {
                output::print_text(&format!("{} is now {}.\n", updated.email, updated.role));
            }
            Ok(())
        }
        MembersCommand::Suspend { user } => {
            set_status(&mut api, &org, &user, MemberStatusField::Suspended, global).await
        }
        MembersCommand::Unsuspend { user } => {
            set_status(&mut api, &org, &user, MemberStatusField::Active, global).await
        }
        MembersCommand::Remove { user } => {
            let member = find_member(&mut api, &org, &user).await?;
            let path = format!("/v1/orgs/{}/members/{}", seg(&org), seg(&member.user_id));
            api.call(reqwest::Method::DELETE, path).in_org(&org).no_content().await?;
            if !global.json {
                output::print_text(&format!("Removed {} from the org.\n", member.email));
            }
            Ok(())
        }
    }
}

/// Applies `body` to the member `user` names and returns the member as changed.
async fn change(api: &mut Api, org: &str, user: &str, body: &ChangeMemberBody) -> Result<MemberView> {
    let member = find_member(api, org, user).await?;
    let path = format!("/v1/orgs/{}/members/{}", seg(org), seg(&member.user_id));
    api.call(reqwest::Method::PATCH, path).in_org(org).json(body).data().await
}

async fn set_status(api: &mut Api, org: &str, user: &str, status: MemberStatusField, global: &Global) -> Result<()> {
    let updated = change(api, org, user, &ChangeMemberBody { role: None, status: Some(status) }).await?;
    if global.json {
        output::json(&updated);
    } else {
        output::print_text(&format!("{} is now {}.\n", updated.email, updated.status));
    }
    Ok(())
}

pub async fn transfer(args: TransferArgs) -> Result<()> {
    let mut api = Api::open(&args.global)?;
    let org = api.org()?;
    let member = find_member(&mut api, &org, &args.user).await?;
    let password = password(args.password_stdin)?;
    let body = TransferBody { new_owner_user_id: member.user_id.clone(), current_password: Some(password) };
    let updated: OrgView =
        api.post(format!("/v1/orgs/{}/transfer-ownership", seg(&org)), &body).in_org(&org).data().await?;
    if args.global.json {
        output::json(&updated);
    } else {
        output::print_text(&format!(
            "{} now owns {}; your role is {}.\n",
            member.email,
            updated.slug,
            or_dash(updated.role.as_deref())
        ));
    }
    Ok(())
}
