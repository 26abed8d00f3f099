//! `teams list | create | show | rename | delete` and `teams members list | add | role | remove`.

use clap::Subcommand;
use reqwest::Method;
use serde_json::{json, Value};

use super::{find_member, member_name};
use crate::cli::error::Result;
use crate::cli::http::{seg, Api};
use crate::cli::output::{self, text, Table};
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

fn show_team(team: &Value, global: &Global) {
    if global.json {
        output::json(team);
        return;
    }
    output::fields(&[
        ("ID", text(&team["id"])),
        ("Slug", text(&team["slug"])),
        ("Name", text(&team["name"])),
        ("Description", text(&team["description"])),
        ("Members", text(&team["member_count"])),
        ("Created", time::show(&team["created_at"])),
    ]);
}

pub async fn run(command: TeamsCommand, global: &Global) -> Result<()> {
    let mut api = Api::open(global)?;
    let org = api.org()?;
    match command {
        TeamsCommand::List(limit) => {
            let teams = api.list(&format!("/v1/orgs/{}/teams", seg(&org)), Some(&org), &[], limit.limit).await?;
            if global.json {
                output::json(&Value::Array(teams));
                return Ok(());
            }
            let mut table = Table::new(&["ID", "SLUG", "NAME", "MEMBERS", "CREATED"]);
            for t in &teams {
                table.row(vec![
                    text(&t["id"]),
                    text(&t["slug"]),
                    text(&t["name"]),
                    text(&t["member_count"]),
                    time::show(&t["created_at"]),
                ]);
            }
            table.print();
            Ok(())
        }
        TeamsCommand::Create { name, slug, description } => {
            let body = json!({ "name": name, "slug": slug, "description": description });
            let team = api.post(format!("/v1/orgs/{}/teams", seg(&org)), body).in_org(&org).data().await?;
            show_team(&team, global);
            Ok(())
        }
        TeamsCommand::Show { team } => {
            let team = api.get(team_path(&org, &team)).in_org(&org).data().await?;
            show_team(&team, global);
            Ok(())
        }
        TeamsCommand::Rename { team, name } => {
            let call = api.call(Method::PATCH, team_path(&org, &team)).in_org(&org);
            let team = call.json(json!({ "name": name })).data().await?;
            show_team(&team, global);
            Ok(())
        }
        TeamsCommand::Delete { team } => {
            api.call(Method::DELETE, team_path(&org, &team)).in_org(&org).body().await?;
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
            let members = api.list(&format!("{}/members", team_path(org, &team)), Some(org), &[], limit.limit).await?;
            if global.json {
                output::json(&Value::Array(members));
                return Ok(());
            }
            let mut table = Table::new(&["USER ID", "EMAIL", "NAME", "TEAM ROLE", "JOINED"]);
            for m in &members {
                table.row(vec![
                    text(&m["user_id"]),
                    text(&m["email"]),
                    text(&m["display_name"]),
                    text(&m["role"]),
                    time::show(&m["joined_at"]),
                ]);
            }
            table.print();
            Ok(())
        }
        TeamMembersCommand::Add { team, user, role } => {
            let member = find_member(api, org, &user).await?;
            let body = json!({ "user_id": member["user_id"], "role": role });
            let added = api.post(format!("{}/members", team_path(org, &team)), body).in_org(org).data().await?;
            if global.json {
                output::json(&added);
            } else {
                output::print_text(&format!("Added {} to {team} as {}.\n", member_name(&added), text(&added["role"])));
            }
            Ok(())
        }
        TeamMembersCommand::Role { team, user, role } => {
            let member = find_member(api, org, &user).await?;
            let path = format!("{}/members/{}", team_path(org, &team), seg(&text(&member["user_id"])));
            let updated = api.call(Method::PATCH, path).in_org(org).json(json!({ "role": role })).data().await?;
            if global.json {
                output::json(&updated);
            } else {
                output::print_text(&format!(
                    "{} is now {} in {team}.\n",
                    member_name(&updated),
                    text(&updated["role"])
                ));
            }
            Ok(())
        }
        TeamMembersCommand::Remove { team, user } => {
            let member = find_member(api, org, &user).await?;
            let path = format!("{}/members/{}", team_path(org, &team), seg(&text(&member["user_id"])));
            api.call(Method::DELETE, path).in_org(org).body().await?;
            if !global.json {
                output::print_text(&format!("Removed {} from {team}.\n", member_name(&member)));
            }
            Ok(())
        }
    }
}
