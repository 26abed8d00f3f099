//! `invite` and `invites list | revoke | resend`.

use clap::{Args, Subcommand, ValueEnum};
use tenantry_client::types::{InvitationView, InviteBody, IssuedInvitationView};

use crate::cli::error::Result;
use crate::cli::http::{seg, Api};
use crate::cli::output::{self, Table};
use crate::cli::time;
use crate::cli::{Global, Limit};

#[derive(Args)]
pub struct InviteArgs {
    /// The invitee's email
    email: String,
    /// The role they join with [default: the preset's invitation role]
    #[arg(long)]
    role: Option<String>,
    /// Seconds the invitation stays valid (at most 30 days) [default: 7 days]
    #[arg(long, value_name = "SECS")]
    expires_in: Option<u64>,
    #[command(flatten)]
    global: Global,
}

#[derive(Subcommand)]
pub enum InvitesCommand {
    /// The org's invitations, oldest first (needs members.invite)
    List {
        /// Only invitations in this state
        #[arg(long, value_enum)]
        state: Option<State>,
        #[command(flatten)]
        limit: Limit,
    },
    /// Revoke a pending invitation: its link stops working
    Revoke {
        /// The invitation's id (inv_…) or the invitee's email
        id: String,
    },
    /// Send an invitation again with a new link and a fresh expiry
    Resend {
        /// The invitation's id (inv_…) or the invitee's email
        id: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum State {
    Pending,
    Accepted,
    Expired,
    Revoked,
    Declined,
}

pub async fn invite(args: InviteArgs) -> Result<()> {
    let mut api = Api::open(&args.global)?;
    let org = api.org()?;
    let body = InviteBody { email: args.email, role: args.role, team_ids: Vec::new(), expires_in: args.expires_in };
    let issued: IssuedInvitationView =
        api.post(format!("/v1/orgs/{}/invitations", seg(&org)), &body).in_org(&org).data().await?;
    let invitation = &issued.invitation;
    let headline = format!("Invited {} as {} ({})", invitation.email, invitation.role, invitation.id);
    print_issued(&issued, &headline, &args.global);
    Ok(())
}

pub async fn run(command: InvitesCommand, global: &Global) -> Result<()> {
    let mut api = Api::open(global)?;
    let org = api.org()?;
    match command {
        InvitesCommand::List { state, limit } => {
            let state = state.and_then(|s| s.to_possible_value()).map(|v| v.get_name().to_owned());
            let path = format!("/v1/orgs/{}/invitations", seg(&org));
            let invitations: Vec<InvitationView> =
                api.get(path).in_org(&org).query("state", state).list(limit.limit).await?;
            if global.json {
                output::json(&invitations);
                return Ok(());
            }
            if invitations.is_empty() {
                output::print_text("No invitations.\n");
                return Ok(());
            }
            let mut table = Table::new(&["ID", "EMAIL", "ROLE", "STATE", "EXPIRES", "INVITED BY"]);
            for inv in invitations {
                table.row(vec![
                    inv.id,
                    inv.email,
                    inv.role,
                    inv.state,
                    time::show(Some(inv.expires_at)),
                    inv.invited_by,
                ]);
            }
            table.print();
            Ok(())
        }
        InvitesCommand::Revoke { id } => {
            let id = super::find_invitation(&mut api, &org, &id).await?;
            let path = format!("/v1/orgs/{}/invitations/{}", seg(&org), seg(&id));
            api.call(reqwest::Method::DELETE, path).in_org(&org).no_content().await?;
            if !global.json {
                output::print_text(&format!("Revoked invitation {id}.\n"));
            }
            Ok(())
        }
        InvitesCommand::Resend { id } => {
            let id = super::find_invitation(&mut api, &org, &id).await?;
            let path = format!("/v1/orgs/{}/invitations/{}/resend", seg(&org), seg(&id));
            let issued: IssuedInvitationView = api.call(reqwest::Method::POST, path).in_org(&org).data().await?;
            let headline = format!("Sent {} a new invitation link ({})", issued.invitation.email, issued.invitation.id);
            print_issued(&issued, &headline, global);
            Ok(())
        }
    }
}

/// The accept link is shown to the inviter only here, once (the invitee also gets it by email).
fn print_issued(issued: &IssuedInvitationView, headline: &str, global: &Global) {
    if global.json {
        output::json(issued);
        return;
    }
    output::print_text(&format!(
        "{headline}; it expires {}.\nAccept link (also emailed): {}\n",
        time::show(Some(issued.invitation.expires_at)),
        issued.accept_url,
    ));
}
