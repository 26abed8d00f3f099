//! `/v1/me` on several nodes: each change made through one node is in the other's next answer,
//! though that node answered from its cache just before (the scenarios of `me.rs`, read through
//! the other node).

use crate::common::spawn_app;
use crate::me;

#[tokio::test]
async fn an_orgs_changes_through_one_node_are_in_the_others_next_answer() {
    let app = spawn_app().await;
    let other = app.another_node().await;
    me::an_orgs_changes_are_shown_to_every_member_at_once(&app, &other).await;
}

#[tokio::test]
async fn a_members_changes_through_one_node_are_in_the_others_next_answer() {
    let app = spawn_app().await;
    let other = app.another_node().await;
    me::a_members_changes_are_shown_at_once(&app, &other).await;
}

#[tokio::test]
async fn an_ownership_transfer_through_one_node_is_in_the_others_next_answer() {
    let app = spawn_app().await;
    let other = app.another_node().await;
    me::an_ownership_transfer_is_shown_to_both_at_once(&app, &other).await;
}

#[tokio::test]
async fn an_email_verification_through_one_node_is_in_the_others_next_answer() {
    let app = spawn_app().await;
    let other = app.another_node().await;
    me::an_email_verification_is_shown_at_once(&app, &other).await;
}

#[tokio::test]
async fn an_org_deleted_through_one_node_leaves_the_others_next_answer() {
    let app = spawn_app().await;
    let other = app.another_node().await;
    me::a_deleted_org_leaves_every_members_answer_at_once(&app, &other).await;
}

#[tokio::test]
async fn a_custom_role_deleted_through_one_node_moves_its_holders_in_the_others_next_answer() {
    let app = spawn_app().await;
    let other = app.another_node().await;
    me::a_custom_roles_deletion_moves_its_holders_at_once(&app, &other).await;
}
