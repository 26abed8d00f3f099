//! The members page on several nodes: each change made through one node is on the other's next
//! page, though that node served the page from its caches just before (the scenarios of
//! `dashboard_members_page.rs`, read through the other node).

use crate::common::spawn_app;
use crate::dashboard_members_page as scenarios;

#[tokio::test]
async fn a_change_through_one_node_is_on_the_others_next_members_page() {
    let app = spawn_app().await;
    let other = app.another_node().await;
    scenarios::every_change_is_on_the_next_page(&app, &other).await;
}

#[tokio::test]
async fn each_viewer_gets_rows_of_their_own_on_another_node() {
    let app = spawn_app().await;
    let other = app.another_node().await;
    scenarios::each_viewer_gets_rows_of_their_own(&app, &other).await;
}

#[tokio::test]
async fn the_compressed_page_of_another_node_shows_each_change() {
    let app = spawn_app().await;
    let other = app.another_node().await;
    scenarios::the_page_is_sent_compressed_to_a_browser_that_accepts_gzip(&app, &other).await;
}
