//! Concurrent role changes and removals: whatever the interleaving, the org ends in a state the
//! rules allow, every accepted change has exactly one audit row, and `/v1/authorize` never
//! answers from a state older than the last change that returned.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use tokio::task::JoinSet;

use crate::common::{spawn_app, Account, TestApp};

const ROUNDS: usize = 8;

/// A fresh org owned by `owner`, on `team`, with `members` added at the given roles.
async fn fresh_org(app: &TestApp, owner: &Account, round: usize, members: &[(&Account, &str)]) -> String {
    let org = app.create_org(owner, &format!("Race {round}")).await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    for (account, role) in members {
        app.add_member(&org, account, role).await;
    }
    org
}

/// Sends both requests at the same moment; returns their statuses in the order given.
async fn at_once(
    app: &Arc<TestApp>,
    a: (&str, &Account, Option<&str>),
    b: (&str, &Account, Option<&str>),
) -> [StatusCode; 2] {
    let mut set = JoinSet::new();
    for (i, (path, who, role)) in [a, b].into_iter().enumerate() {
        let app = app.clone();
        let (path, token, role) = (path.to_owned(), who.access.clone(), role.map(str::to_owned));
        set.spawn(async move {
            let r = match role {
                Some(role) => app.patch(&path, Some(&token), json!({ "role": role })).await,
                None => app.delete(&path, Some(&token)).await,
            };
            (i, r.status)
        });
    }
    let mut out = [StatusCode::OK; 2];
    while let Some(done) = set.join_next().await {
        let (i, status) = done.unwrap();
        out[i] = status;
    }
    out
}

/// Checks what holds after any sequence of changes: one owner who is `owner_id`, a seat count
/// equal to the memberships, and one audit row per accepted change after the org's setup.
async fn assert_consistent(app: &TestApp, org: &str, accepted_changes: usize) {
    let owners: Vec<String> =
        sqlx::query_scalar("SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'owner'")
            .bind(org)
            .fetch_all(&app.db)
            .await
            .unwrap();
    let owner_id: String =
        sqlx::query_scalar("SELECT owner_id FROM orgs WHERE id = $1").bind(org).fetch_one(&app.db).await.unwrap();
    assert_eq!(owners, [owner_id]);
    let (seats, members): (i64, i64) = sqlx::query_as(
        "SELECT seat_count, (SELECT COUNT(*) FROM memberships WHERE org_id = orgs.id) FROM orgs WHERE id = $1",
    )
    .bind(org)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(seats, members);
    assert_eq!(app.audit_after_setup(org).await.len(), accepted_changes, "one row per change");
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_exactly_one_admin() {
    let app = Arc::new(spawn_app().await);
    let owner = app.signup("owner@example.com", "Owner").await;
    let ann = app.signup("ann@example.com", "Ann").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    for round in 0..ROUNDS {
        let org = fresh_org(&app, &owner, round, &[(&ann, "admin"), (&bob, "admin")]).await;
        let ann_path = format!("/v1/orgs/{org}/members/{}", ann.user_id);
        let bob_path = format!("/v1/orgs/{org}/members/{}", bob.user_id);
        let [by_ann, by_bob] =
            at_once(&app, (&bob_path, &ann, Some("developer")), (&ann_path, &bob, Some("developer"))).await;
        let mut statuses = [by_ann.as_u16(), by_bob.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 403], "round {round}: exactly one demotion wins");
        let (winner, loser) = if by_ann == 200 { (&ann, &bob) } else { (&bob, &ann) };
        assert_eq!(app.role_in_db(&org, &winner.user_id).await.as_deref(), Some("admin"));
        assert_eq!(app.role_in_db(&org, &loser.user_id).await.as_deref(), Some("developer"));
        assert!(app.allowed(&winner.user_id, &org, "members.change_role").await);
        assert!(!app.allowed(&loser.user_id, &org, "members.change_role").await);
        assert_consistent(&app, &org, 1).await;
    }
}

#[tokio::test]
async fn a_removal_racing_a_role_change_ends_with_the_member_removed() {
    let app = Arc::new(spawn_app().await);
    let owner = app.signup("owner@example.com", "Owner").await;
    let ann = app.signup("ann@example.com", "Ann").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let carl = app.signup("carl@example.com", "Carl").await;
    for round in 0..ROUNDS {
        let org = fresh_org(&app, &owner, round, &[(&ann, "admin"), (&bob, "admin"), (&carl, "developer")]).await;
        let carl_path = format!("/v1/orgs/{org}/members/{}", carl.user_id);
        let [removal, change] = at_once(&app, (&carl_path, &ann, None), (&carl_path, &bob, Some("viewer"))).await;
        assert_eq!(removal, 204, "round {round}");
        // The change either went first or found nobody to change.
        assert!(change == 200 || change == 404, "round {round}: {change}");
        assert_eq!(app.role_in_db(&org, &carl.user_id).await, None);
        assert!(!app.allowed(&carl.user_id, &org, "endpoints.view").await);
        let actions: Vec<String> = app.audit_after_setup(&org).await.into_iter().map(|(a, ..)| a).collect();
        let expected: &[&str] =
            if change == 200 { &["member.role_changed", "member.removed"] } else { &["member.removed"] };
        assert_eq!(actions, expected, "round {round}");
        assert_consistent(&app, &org, expected.len()).await;
    }
}

#[tokio::test]
async fn an_admin_removing_another_who_demotes_them_at_once_leaves_one_outcome() {
    let app = Arc::new(spawn_app().await);
    let owner = app.signup("owner@example.com", "Owner").await;
    let ann = app.signup("ann@example.com", "Ann").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    for round in 0..ROUNDS {
        let org = fresh_org(&app, &owner, round, &[(&ann, "admin"), (&bob, "admin")]).await;
        let ann_path = format!("/v1/orgs/{org}/members/{}", ann.user_id);
        let bob_path = format!("/v1/orgs/{org}/members/{}", bob.user_id);
        let [removal, demotion] = at_once(&app, (&bob_path, &ann, None), (&ann_path, &bob, Some("viewer"))).await;
        match (removal.as_u16(), demotion.as_u16()) {
            // Bob was gone before his request was handled: the org is not found for him.
            (204, 404) => {
                assert_eq!(app.role_in_db(&org, &bob.user_id).await, None);
                assert_eq!(app.role_in_db(&org, &ann.user_id).await.as_deref(), Some("admin"));
            }
            // Ann was a viewer before hers was: she lacks `members.remove`.
            (403, 200) => {
                assert_eq!(app.role_in_db(&org, &bob.user_id).await.as_deref(), Some("admin"));
                assert_eq!(app.role_in_db(&org, &ann.user_id).await.as_deref(), Some("viewer"));
            }
            other => panic!("round {round}: {other:?} is not an outcome the rules allow"),
        }
        assert_consistent(&app, &org, 1).await;
    }
}

#[tokio::test]
async fn authorize_under_load_never_outlives_a_removal_or_role_change() {
    let app = Arc::new(spawn_app().await);
    let owner = app.signup("owner@example.com", "Owner").await;
    let org = app.create_org(&owner, "Busy").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    for round in 0..ROUNDS {
        let victim = app.insert_user(&format!("Victim {round}")).await;
        let demoted = app.insert_user(&format!("Demoted {round}")).await;
        app.add_user(&org, &victim, "developer").await;
        app.add_user(&org, &demoted, "admin").await;
        // Readers keep filling the cache while the changes commit.
        let stop = Arc::new(AtomicBool::new(false));
        let mut readers = JoinSet::new();
        for _ in 0..6 {
            let (app, org, victim, demoted, stop) =
                (app.clone(), org.clone(), victim.clone(), demoted.clone(), stop.clone());
            readers.spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    app.allowed(&victim, &org, "endpoints.create").await;
                    app.allowed(&demoted, &org, "members.remove").await;
                }
            });
        }
        assert!(app.allowed(&victim, &org, "endpoints.create").await);
        app.delete(&format!("/v1/orgs/{org}/members/{victim}"), Some(&owner.access)).await.expect(204);
        assert!(!app.allowed(&victim, &org, "endpoints.create").await, "round {round}: removal not seen");
        app.patch(&format!("/v1/orgs/{org}/members/{demoted}"), Some(&owner.access), json!({ "role": "viewer" }))
            .await
            .expect(200);
        assert!(!app.allowed(&demoted, &org, "members.remove").await, "round {round}: demotion not seen");
        // And it stays that way while the readers go on.
        for _ in 0..5 {
            assert!(!app.allowed(&victim, &org, "endpoints.create").await);
            assert!(!app.allowed(&demoted, &org, "members.remove").await);
        }
        stop.store(true, Ordering::Relaxed);
        while readers.join_next().await.is_some() {}
    }
}

#[tokio::test]
async fn a_burst_of_concurrent_changes_writes_one_audit_row_per_accepted_change() {
    let app = Arc::new(spawn_app().await);
    let owner = app.signup("owner@example.com", "Owner").await;
    let ann = app.signup("ann@example.com", "Ann").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let org = fresh_org(&app, &owner, 0, &[(&ann, "admin"), (&bob, "admin")]).await;
    let mut targets = Vec::new();
    for i in 0..12 {
        let user = app.insert_user(&format!("Target {i}")).await;
        app.add_user(&org, &user, "developer").await;
        targets.push(user);
    }
    let actors = [owner.access.clone(), ann.access.clone(), bob.access.clone()];
    let roles = ["viewer", "finance", "admin", "developer"];
    let mut set = JoinSet::new();
    for i in 0..48 {
        let app = app.clone();
        let token = actors[i % actors.len()].clone();
        let path = format!("/v1/orgs/{org}/members/{}", targets[(i * 5) % targets.len()]);
        let role = roles[i % roles.len()];
        set.spawn(async move {
            if i % 7 == 3 {
                app.delete(&path, Some(&token)).await.status
            } else {
                app.patch(&path, Some(&token), json!({ "role": role })).await.status
            }
        });
    }
    let mut statuses = Vec::new();
    while let Some(done) = set.join_next().await {
        statuses.push(done.unwrap().as_u16());
    }
    assert!(statuses.iter().all(|s| [200, 204, 404].contains(s)), "{statuses:?}");
    // The audit rows retell exactly what happened to each target: a chain of role changes from
    // `developer` to the role it holds now, or ending in its removal.
    let rows = app.audit_after_setup(&org).await;
    let changes = rows.len();
    let removed = rows.iter().filter(|(a, ..)| a == "member.removed").count();
    assert_eq!(removed, statuses.iter().filter(|s| **s == 204).count(), "one row per removal");
    let role_changes = rows.iter().filter(|(a, ..)| a == "member.role_changed").count();
    assert!(role_changes <= statuses.iter().filter(|s| **s == 200).count());
    assert_eq!(changes, removed + role_changes);
    for user in &targets {
        let mut held = Some("developer".to_owned());
        for (action, _, _, metadata) in rows.iter().filter(|(_, _, target, _)| target == user) {
            let current = held.clone().unwrap_or_else(|| panic!("{action} after {user} was removed"));
            match action.as_str() {
                "member.role_changed" => {
                    assert_eq!(metadata["from"], current.as_str());
                    assert_ne!(metadata["to"], metadata["from"]);
                    held = Some(metadata["to"].as_str().unwrap().to_owned());
                }
                "member.removed" => held = None,
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(app.role_in_db(&org, user).await, held);
    }
    for user in &targets {
        let role = app.role_in_db(&org, user).await;
        let answer = app.authorize(user, &org, "endpoints.view").await;
        assert_eq!(answer["allowed"], matches!(role.as_deref(), Some("viewer" | "admin" | "developer")), "{answer}");
    }
}

#[tokio::test]
async fn the_same_custom_role_created_at_once_exists_once() {
    let app = Arc::new(spawn_app().await);
    let owner = app.signup("owner@example.com", "Owner").await;
    let org = app.create_org(&owner, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan_in_db(&org, "team").await;
    let mut set = JoinSet::new();
    for i in 0..8 {
        let (app, org, token) = (app.clone(), org.clone(), owner.access.clone());
        set.spawn(async move {
            let body = json!({ "key": "support", "name": format!("Support {i}"), "permissions": ["endpoints.view"] });
            let r = app.post(&format!("/v1/orgs/{org}/roles"), Some(&token), body).await;
            (r.status.as_u16(), r.code().to_owned())
        });
    }
    let mut outcomes = Vec::new();
    while let Some(done) = set.join_next().await {
        outcomes.push(done.unwrap());
    }
    outcomes.sort();
    assert_eq!(outcomes[0].0, 201, "{outcomes:?}");
    assert!(outcomes[1..].iter().all(|(s, c)| *s == 409 && c == "role_exists"), "{outcomes:?}");
    assert_consistent(&app, &org, 1).await;
}

#[tokio::test]
async fn a_role_deleted_while_being_granted_never_leaves_a_member_holding_it() {
    let app = Arc::new(spawn_app().await);
    let owner = app.signup("owner@example.com", "Owner").await;
    let ann = app.signup("ann@example.com", "Ann").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    for round in 0..ROUNDS {
        let org = fresh_org(&app, &owner, round, &[(&ann, "admin"), (&bob, "admin")]).await;
        let member = app.insert_user(&format!("Member {round}")).await;
        app.add_user(&org, &member, "developer").await;
        let body = json!({ "key": "support", "name": "Support", "permissions": ["endpoints.view"] });
        app.post(&format!("/v1/orgs/{org}/roles"), Some(&owner.access), body).await.expect(201);

        let (deleting, granting) = {
            let (a, b, org2, member2) = (app.clone(), app.clone(), org.clone(), member.clone());
            let (ann_token, bob_token) = (ann.access.clone(), bob.access.clone());
            let delete = tokio::spawn(async move {
                a.delete(&format!("/v1/orgs/{org2}/roles/support?reassign_to=viewer"), Some(&ann_token)).await.status
            });
            let org3 = org.clone();
            let grant = tokio::spawn(async move {
                b.patch(&format!("/v1/orgs/{org3}/members/{member2}"), Some(&bob_token), json!({ "role": "support" }))
                    .await
                    .status
            });
            (delete.await.unwrap(), grant.await.unwrap())
        };
        assert_eq!(deleting, 204, "round {round}");
        let role = app.role_in_db(&org, &member).await;
        let rows = app.audit_of(&org).await;
        let deleted = rows.iter().find(|(a, ..)| a == "role.deleted").unwrap();
        match granting.as_u16() {
            // Granted first, then moved on with the deletion.
            200 => {
                assert_eq!(role.as_deref(), Some("viewer"), "round {round}");
                assert_eq!(deleted.3["members_moved"], 1);
            }
            // The role was gone by the time of the grant.
            400 => {
                assert_eq!(role.as_deref(), Some("developer"), "round {round}");
                assert_eq!(deleted.3["members_moved"], 0);
            }
            other => panic!("round {round}: grant answered {other}"),
        }
        let changes = if granting == 200 { 3 } else { 2 };
        assert_consistent(&app, &org, changes).await;
        assert_eq!(app.allowed(&member, &org, "endpoints.create").await, role.as_deref() == Some("developer"));
    }
}
