//! `teams list | create | show | rename | delete` and `teams members list | add | role | remove`.

use clap::Subcommand;
use reqwest::Method;
use tenantry_client::types::ids::UserId;
use tenantry_client::types::{
    AddTeamMemberBody, CreateTeamBody, TeamMemberView, TeamRoleBody, TeamView, UpdateTeamBody,
};

use super::find_member;
use crate::cli::error::{CliError, Result};
use crate::cli::http::{seg, Api};
use crate::cli::output::{self, Table};
use crate::cli::time;
use crate::cli::{Global, Limit};

#[derive(Subcommand)]
pub enum TeamsCommand {
    /// The org's teams, oldest first
    List(Limit),
    /// Create a team (needs teams.manage)
    Create {
        /// The team's name
        name: String,
        /// Its slug, unique in the org [default: derived from the name]
        #[arg(long)]
        slug: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Show one team
    Show {
        /// The team's id or slug
        team: String,
    },
    /// Rename a team (needs teams.manage, or team.manage in it)
    Rename {
        /// The team's id or slug
        team: String,
        /// The new name
        name: String,
    },
    /// Delete a team and its memberships (needs teams.manage)
    Delete {
        /// The team's id or slug
        team: String,
    },
    /// A team's members: list, add, change a team role, remove
    Members {
        #[command(subcommand)]
        command: TeamMembersCommand,
    },
}

#[derive(Subcommand)]
pub enum TeamMembersCommand {
    /// The team's members with their team role
    List {
        /// The team's id or slug
        team: String,
        #[command(flatten)]
        limit: Limit,
    },
    /// Add an org member to the team
    Add {
        /// The team's id or slug
        team: String,
        /// The member's user id or email
        user: String,
        /// A team role, e.g. lead or member
        role: String,
    },
    /// Change a team member's team role
    Role {
        /// The team's id or slug
        team: String,
        /// The member's user id or email
        user: String,
        /// A team role, e.g. lead or member
        role: String,
    },
    /// Remove someone from the team (they stay in the org)
    Remove {
        /// The team's id or slug
        team: String,
        /// The member's user id or email
        user: String,
    },
}

fn team_path(org: &str, team: &str) -> String {
    format!("/v1/orgs/{}/teams/{}", seg(org), seg(team))
}

fn show_team(team: &TeamView, global: &Global) {
    if global.json {
        output::json(team);
        return;
    }
    output::fields(&[
        ("ID", team.id.clone()),
        ("Slug", team.slug.clone()),
        ("Name", team.name.clone()),
        ("Description", team.description.clone()),
        ("Members", team.member_count.to_string()),
        ("Created", time::show(Some(team.created_at))),
    ]);
}

pub async fn run(command: TeamsCommand, global: &Global) -> Result<()> {
    let mut api = Api::open(global)?;
    let org = api.org()?;
    match command {
        TeamsCommand::List(limit) => {
            let path = format!("/v1/orgs/{}/teams", seg(&org));
            let teams: Vec<TeamView> = api.get(path).in_org(&org).list(limit.limit).await?;
            if global.json {
                output::json(&teams);
                return Ok(());
            }
            let mut table = Table::new(&["ID", "SLUG", "NAME", "MEMBERS", "CREATED"]);
            for t in teams {
                table.row(vec![t.id, t.slug, t.name, t.member_count.to_string(), time::show(Some(t.created_at))]);
            }
            table.print();
            Ok(())
        }
        TeamsCommand::Create { name, slug, description } => {
            let body = CreateTeamBody { name, slug, description, metadata: None };
            let team: TeamView = api.post(format!("/v1/orgs/{}/teams", seg(&org)), &body).in_org(&org).data().await?;
            show_team(&team, global);
            Ok(())
        }
        TeamsCommand::Show { team } => {
            let team: TeamView = api.get(team_path(&org, &team)).in_org(&org).data().await?;
            show_team(&team, global);
            Ok(())
        }
        TeamsCommand::Rename { team, name } => {
            let body = UpdateTeamBody { name: Some(name), ..UpdateTeamBody::default() };
            let call = api.call(Method::PATCH, team_path(&org, &team)).in_org(&org);
            let team: TeamView = call.json(&body).data().await?;
            show_team(&team, global);
            Ok(())
        }
        TeamsCommand::Delete { team } => {
            api.call(Method::DELETE, team_path(&org, &team)).in_org(&org).no_content().await?;
            if !global.json {
                output::print_text(&format!("Deleted the team {team}.\n"));
            }
            Ok(())
        }
        TeamsCommand::Members { command } => members(&mut api, &org, command, global).await,
    }
}

async fn members(api: &mut Api, org: &str, command: TeamMembersCommand, global: &Global) -> Result<()> {
    match command {
        TeamMembersCommand::List { team, limit } => {
            let path = format!("{}/members", team_path(org, &team));
            let members: Vec<TeamMemberView> = api.get(path).in_org(org).list(limit.limit).await?;
            if global.json {
                output::json(&members);
                return Ok(());
            }
            let mut table = Table::new(&["USER ID", "EMAIL", "NAME", "TEAM ROLE", "JOINED"]);
            for m in members {
                table.row(vec![m.user_id, m.email, m.display_name, m.role, time::show(Some(m.joined_at))]);
            }
            table.print();
            Ok(())
        }
        TeamMembersCommand::Add { team, user, role } => {
            let member = find_member(api, org, &user).await?;
            let user_id: UserId = member.user_id.parse().map_err(|_| {
                CliError::server(format!("the server names a member by `{}`, which is not a user id", member.user_id))
            })?;
            let body = AddTeamMemberBody { user_id, role };
            let path = format!("{}/members", team_path(org, &team));
            let added: TeamMemberView = api.post(path, &body).in_org(org).data().await?;
            if global.json {
                output::json(&added);
            } else {
                output::print_text(&format!("Added {} to {team} as {}.\n", added.email, added.role));
            }
            Ok(())
        }
        TeamMembersCommand::Role { team, user, role } => {
            let member = find_member(api, org, &user).await?;
            let path = format!("{}/members/{}", team_path(org, &team), seg(&member.user_id));
            let call = api.call(Method::PATCH, path).in_org(org).json(&TeamRoleBody { role });
            let updated: TeamMemberView = call.data().await?;
            if global.json {
                output::json(&updated);
            } else {
                output::print_text(&format!("{} is now {} in {team}.\n", updated.email, updated.role));
            }
            Ok(())
        }
        TeamMembersCommand::Remove { team, user } => {
            let member = find_member(api, org, &user).await?;
            let path = format!("{}/members/{}", team_path(org, &team), seg(&member.user_id));
            api.call(Method::DELETE, path).in_org(org).no_content().await?;
            if !global.json {
                output::print_text(&format!("Removed {} from {team}.\n", member.email));
            }
            Ok(())
        }
    }
}
