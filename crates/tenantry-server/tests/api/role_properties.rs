//! Property test of the role rules: random sequences of role changes, removals and leaves by
//! random members of one org, replayed over HTTP against the real store and checked against a
//! model of SPEC 3.
//!
//! Team operations on one team (`core`) are mixed in and checked against SPEC 13: only the org's
//! `teams.manage` or the team's `team.manage` manages the team, and nobody grants a team role
//! holding a permission they hold neither org-wide nor in the team.
//!
//! After every step: the org has exactly one owner, the member recorded in `owner_id`; every
//! membership and team membership is what the model says (leaving or removal from the org takes
//! the team membership with it); no accepted grant gave a role or team role holding a permission
//! the granter lacked; and the audit log has exactly one row per accepted change.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::json;

use crate::common::{spawn_app, Account, TestApp};
use crate::spec_table;

const PEOPLE: usize = 6;

/// Custom roles defined in every org of the test (the org is on the `team` plan).
const CUSTOM: &[(&str, &[&str])] = &[
    ("support", &["endpoints.view", "requests.replay"]),
    // Manages members, but only up to its own permissions.
    ("lead", &["members.change_role", "members.remove", "endpoints.create", "endpoints.edit", "endpoints.view"]),
    // Holds a permission no built-in but the owner has, so only the owner may grant it.
    ("janitor", &["endpoints.delete", "endpoints.view"]),
    // Manages members and holds `endpoints.delete`: admins cannot act on it, nor it on admins.
    ("warden", &["members.change_role", "members.remove", "endpoints.delete"]),
];

/// Roles an operation may name; `ghost` does not exist.
const ROLE_KEYS: &[&str] =
    &["owner", "admin", "developer", "viewer", "finance", "support", "lead", "janitor", "warden", "ghost"];

/// Roles the non-owners start with; `None` is not a member.
const INITIAL: &[Option<&str>] = &[
    None,
    Some("admin"),
    Some("admin"),
    Some("developer"),
    Some("viewer"),
    Some("finance"),
    Some("support"),
    Some("lead"),
    Some("janitor"),
    Some("warden"),
];

/// Team roles an operation may name (the `standard` preset's); `ghost` does not exist.
const TEAM_ROLE_KEYS: &[&str] = &["lead", "member", "ghost"];

#[derive(Clone, Debug)]
enum Op {
    Change { actor: usize, target: usize, role: &'static str },
    Remove { actor: usize, target: usize },
    Leave { actor: usize },
    TeamAdd { actor: usize, target: usize, role: &'static str },
    TeamRole { actor: usize, target: usize, role: &'static str },
    TeamRemove { actor: usize, target: usize },
}

#[derive(Clone, Debug)]
struct Case {
    creator: usize,
    initial: Vec<Option<&'static str>>,
    ops: Vec<Op>,
}

fn op() -> impl Strategy<Value = Op> {
    let person = 0..PEOPLE;
    prop_oneof![
        6 => (person.clone(), person.clone(), prop::sample::select(ROLE_KEYS))
            .prop_map(|(actor, target, role)| Op::Change { actor, target, role }),
        2 => (person.clone(), person.clone()).prop_map(|(actor, target)| Op::Remove { actor, target }),
        1 => person.clone().prop_map(|actor| Op::Leave { actor }),
        3 => (person.clone(), person.clone(), prop::sample::select(TEAM_ROLE_KEYS))
            .prop_map(|(actor, target, role)| Op::TeamAdd { actor, target, role }),
        2 => (person.clone(), person.clone(), prop::sample::select(TEAM_ROLE_KEYS))
            .prop_map(|(actor, target, role)| Op::TeamRole { actor, target, role }),
        2 => (person.clone(), person).prop_map(|(actor, target)| Op::TeamRemove { actor, target }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (0..PEOPLE, prop::collection::vec(prop::sample::select(INITIAL), PEOPLE), prop::collection::vec(op(), 1..24))
        .prop_map(|(creator, initial, ops)| Case { creator, initial, ops })
}

/// The permissions of a role, from the SPEC table and the custom roles above.
fn perms(role: &str) -> BTreeSet<&'static str> {
    match CUSTOM.iter().find(|(key, _)| *key == role) {
        Some((_, permissions)) => permissions.iter().copied().collect(),
        None => spec_table::permissions_of(role).into_iter().collect(),
    }
}

fn holds(role: &str, permission: &str) -> bool {
    perms(role).contains(permission)
}

fn outranks(actor: &str, role: &str) -> bool {
    perms(role).is_subset(&perms(actor))
}

/// The catalog permissions of a team role (`team.manage` is apart), per the `standard` preset.
fn team_perms(role: &str) -> BTreeSet<&'static str> {
    match role {
        "lead" => ["endpoints.create", "endpoints.edit", "endpoints.view", "requests.replay"].into(),
        "member" => ["endpoints.view", "requests.replay"].into(),
        _ => BTreeSet::new(),
    }
}

/// The model's state: each person's org role and their team role in `core`.
#[derive(Clone, Debug)]
struct State {
    roles: Vec<Option<&'static str>>,
    teams: Vec<Option<&'static str>>,
}

/// What an actor holds in the team: their org permissions plus their team role's, and whether
/// they manage it.
fn team_standing(state: &State, actor: usize) -> (BTreeSet<&'static str>, bool) {
    let own = state.roles[actor].expect("the actor is a member");
    let mut held = perms(own);
    let team_role = state.teams[actor];
    held.extend(team_role.map(team_perms).unwrap_or_default());
    (held, holds(own, "teams.manage") || team_role == Some("lead"))
}

/// What SPEC 13 says a team operation must do: the status, and the team membership change if any.
fn expected_in_team(state: &State, op: &Op) -> (u16, Option<(usize, Option<&'static str>)>) {
    match *op {
        Op::TeamAdd { actor, target, role } => {
            if role == "ghost" {
                return (400, None);
            }
            if state.roles[actor].is_none() {
                return (404, None);
            }
            let (held, manages) = team_standing(state, actor);
            if !manages || !team_perms(role).is_subset(&held) {
                return (403, None);
            }
            if state.roles[target].is_none() {
                return (400, None);
            }
            if state.teams[target].is_some() {
                return (409, None);
            }
            (201, Some((target, Some(role))))
        }
        Op::TeamRole { actor, target, role } => {
            if role == "ghost" {
                return (400, None);
            }
            if state.roles[actor].is_none() {
                return (404, None);
            }
            let (held, manages) = team_standing(state, actor);
            if !manages {
                return (403, None);
            }
            let Some(current) = state.teams[target] else { return (404, None) };
            if !team_perms(current).is_subset(&held) || !team_perms(role).is_subset(&held) {
                return (403, None);
            }
            if current == role {
                (200, None)
            } else {
                (200, Some((target, Some(role))))
            }
        }
        Op::TeamRemove { actor, target } => {
            if state.roles[actor].is_none() {
                return (404, None);
            }
            let Some(current) = state.teams[target] else { return (404, None) };
            if actor != target {
                let (held, manages) = team_standing(state, actor);
                if !manages || !team_perms(current).is_subset(&held) {
                    return (403, None);
                }
            }
            (204, Some((target, None)))
        }
        _ => unreachable!("an org operation"),
    }
}

/// What SPEC 3 says an operation must do: the status, and the membership change if any
/// (`Some(None)` removes the target).
fn expected(roles: &[Option<&'static str>], op: &Op) -> (u16, Option<(usize, Option<&'static str>)>) {
    match *op {
        Op::Change { actor, target, role } => {
            let Some(own) = roles[actor] else { return (404, None) };
            if !holds(own, "members.change_role") {
                return (403, None);
            }
            let Some(current) = roles[target] else { return (404, None) };
            if actor == target {
                return (403, None);
            }
            if current == "owner" {
                return (409, None);
            }
            if role == "ghost" {
                return (400, None);
            }
            if role == "owner" || !outranks(own, role) || !outranks(own, current) {
                return (403, None);
            }
            if role == current {
                (200, None)
            } else {
                (200, Some((target, Some(role))))
            }
        }
        Op::Remove { actor, target } => {
            let Some(own) = roles[actor] else { return (404, None) };
            let Some(current) = roles[target] else { return (404, None) };
            if actor == target {
                return if own == "owner" { (409, None) } else { (204, Some((actor, None))) };
            }
            if !holds(own, "members.remove") {
                return (403, None);
            }
            if current == "owner" {
                return (409, None);
            }
            if !outranks(own, current) {
                return (403, None);
            }
            (204, Some((target, None)))
        }
        Op::Leave { actor } => match roles[actor] {
            None => (404, None),
            Some("owner") => (409, None),
            Some(_) => (204, Some((actor, None))),
        },
        Op::TeamAdd { .. } | Op::TeamRole { .. } | Op::TeamRemove { .. } => unreachable!("a team operation"),
    }
}

struct World {
    app: TestApp,
    people: Vec<Account>,
}

impl World {
    async fn new() -> Self {
        let app = spawn_app().await;
        let mut people = Vec::new();
        for i in 0..PEOPLE {
            people.push(app.signup(&format!("p{i}@example.com"), &format!("Person {i}")).await);
        }
        Self { app, people }
    }

    async fn send(&self, org: &str, op: &Op) -> u16 {
        let path = |target: usize| format!("/v1/orgs/{org}/members/{}", self.people[target].user_id);
        let r = match *op {
            Op::Change { actor, target, role } => {
                self.app.patch(&path(target), Some(&self.people[actor].access), json!({ "role": role })).await
            }
            Op::Remove { actor, target } => self.app.delete(&path(target), Some(&self.people[actor].access)).await,
            Op::Leave { actor } => {
                self.app.post(&format!("/v1/orgs/{org}/leave"), Some(&self.people[actor].access), json!({})).await
            }
            Op::TeamAdd { actor, target, role } => {
                let body = json!({ "user_id": self.people[target].user_id, "role": role });
                self.app.post(&format!("/v1/orgs/{org}/teams/core/members"), Some(&self.people[actor].access), body).await
            }
            Op::TeamRole { actor, target, role } => {
                let path = format!("/v1/orgs/{org}/teams/core/members/{}", self.people[target].user_id);
                self.app.patch(&path, Some(&self.people[actor].access), json!({ "role": role })).await
            }
            Op::TeamRemove { actor, target } => {
                let path = format!("/v1/orgs/{org}/teams/core/members/{}", self.people[target].user_id);
                self.app.delete(&path, Some(&self.people[actor].access)).await
            }
        };
        r.status.as_u16()
    }

    async fn team_roles_in_db(&self, org: &str) -> Vec<Option<String>> {
        let mut roles = Vec::new();
        for person in &self.people {
            let role: Option<String> =
                // The org's one team is `core`.
                sqlx::query_scalar("SELECT role FROM team_members WHERE org_id = $1 AND user_id = $2")
                    .bind(org)
                    .bind(&person.user_id)
                    .fetch_optional(&self.app.db)
                    .await
                    .unwrap();
            roles.push(role);
        }
        roles
    }

    async fn roles_in_db(&self, org: &str) -> Vec<Option<String>> {
        let mut roles = Vec::new();
        for person in &self.people {
            roles.push(self.app.role_in_db(org, &person.user_id).await);
        }
        roles
    }

    async fn run(&self, case: &Case) -> Result<(), TestCaseError> {
        let owner = &self.people[case.creator];
        let org = self.app.create_org(owner, "Prop").await["id"].as_str().unwrap().to_owned();
        self.app.set_plan_in_db(&org, "team").await;
        for (key, permissions) in CUSTOM {
            sqlx::query(
                "INSERT INTO custom_roles (id, org_id, key, name, permissions, created_at) VALUES ($1, $2, $3, $4, $5, 0)",
            )
            .bind(format!("role_{}", ulid::Ulid::new()))
            .bind(&org)
            .bind(key)
            .bind(key.to_uppercase())
            .bind(json!(permissions).to_string())
            .execute(&self.app.db)
            .await
            .unwrap();
        }
        // The team, written directly so that it leaves no audit row of the setup.
        sqlx::query(
            "INSERT INTO teams (id, org_id, slug, name, description, metadata, created_at) \
             VALUES ($1, $2, 'core', 'Core', '', '{}', 0)",
        )
        .bind(format!("team_{}", ulid::Ulid::new()))
        .bind(&org)
        .execute(&self.app.db)
        .await
        .unwrap();
        let mut roles: Vec<Option<&'static str>> = case.initial.clone();
        let mut teams: Vec<Option<&'static str>> = vec![None; PEOPLE];
        roles[case.creator] = Some("owner");
        for (person, role) in self.people.iter().zip(&roles) {
            if let (Some(role), false) = (role, person.user_id == owner.user_id) {
                self.app.add_member(&org, person, role).await;
            }
        }

        let mut accepted_changes = 0;
        for (step, op) in case.ops.iter().enumerate() {
            let team_op = matches!(op, Op::TeamAdd { .. } | Op::TeamRole { .. } | Op::TeamRemove { .. });
            let (want, change) = if team_op {
                expected_in_team(&State { roles: roles.clone(), teams: teams.clone() }, op)
            } else {
                expected(&roles, op)
            };
            let got = self.send(&org, op).await;
            prop_assert_eq!(got, want, "step {}: {:?} with roles {:?} and team roles {:?}", step, op, roles, teams);
            if let (true, Some((who, role))) = (team_op, change) {
                if let (Op::TeamAdd { actor, .. } | Op::TeamRole { actor, .. }, Some(granted)) = (op, role) {
                    let (held, _) = team_standing(&State { roles: roles.clone(), teams: teams.clone() }, *actor);
                    prop_assert!(team_perms(granted).is_subset(&held), "a team grant of {granted} beyond the granter");
                }
                teams[who] = role;
                accepted_changes += 1;
            } else if let Some((who, role)) = change {
                // The property, stated on what was accepted: a grant never exceeds the granter.
                if let (Op::Change { actor, .. }, Some(granted)) = (op, role) {
                    let granter = roles[*actor].unwrap();
                    prop_assert!(granted != "owner" && outranks(granter, granted), "{granter} granted {granted}");
                }
                roles[who] = role;
                if role.is_none() {
                    // Leaving the org leaves its teams.
                    teams[who] = None;
                }
                accepted_changes += 1;
            }
            let teams_in_db = self.team_roles_in_db(&org).await;
            let modelled: Vec<Option<String>> = teams.iter().map(|r| r.map(str::to_owned)).collect();
            prop_assert_eq!(&teams_in_db, &modelled, "step {}: team memberships after {:?}", step, op);

            let in_db = self.roles_in_db(&org).await;
            let modelled: Vec<Option<String>> = roles.iter().map(|r| r.map(str::to_owned)).collect();
            prop_assert_eq!(&in_db, &modelled, "step {}: memberships after {:?}", step, op);
            let owners: Vec<String> =
                sqlx::query_scalar("SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'owner'")
                    .bind(&org)
                    .fetch_all(&self.app.db)
                    .await
                    .unwrap();
            let owner_id: String = sqlx::query_scalar("SELECT owner_id FROM orgs WHERE id = $1")
                .bind(&org)
                .fetch_one(&self.app.db)
                .await
                .unwrap();
            prop_assert_eq!(&owners, &vec![owner_id.clone()], "step {}: exactly one owner", step);
            prop_assert_eq!(&owner_id, &owner.user_id);
            let audit = self.app.audit_after_setup(&org).await.len();
            prop_assert_eq!(audit, accepted_changes, "step {}: one audit row per accepted change", step);
        }

        // The cached hot path agrees with the database at the end, with and without the team.
        for ((person, role), team_role) in self.people.iter().zip(&roles).zip(&teams) {
            let body = json!({ "subject": { "user_id": person.user_id }, "org": org, "team": "core", "permission": "endpoints.create" });
            let r = self.app.post("/v1/authorize", Some(crate::common::SERVICE_TOKEN), body).await.expect(200);
            let in_team = role.is_some_and(|r| holds(r, "endpoints.create"))
                || (role.is_some() && team_role.is_some_and(|t| team_perms(t).contains("endpoints.create")));
            prop_assert_eq!(&r.body["data"]["allowed"], &json!(in_team), "{:?} / {:?} in core", role, team_role);
        }
        for (person, role) in self.people.iter().zip(&roles) {
            for permission in ["members.change_role", "endpoints.delete", "billing.view"] {
                let allowed = self.app.allowed(&person.user_id, &org, permission).await;
                prop_assert_eq!(allowed, role.is_some_and(|r| holds(r, permission)), "{:?} / {}", role, permission);
            }
        }
        Ok(())
    }
}

#[test]
fn random_role_and_team_changes_removals_and_leaves_keep_every_rule() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let world = runtime.block_on(World::new());
    let config = Config { cases: 96, max_shrink_iters: 200, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case(), |case| runtime.block_on(world.run(&case)));
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
