//! The event log never lets a reader skip an event that commits late. Sequence values are taken
//! before commit, so a transaction can commit after a later-numbered one; a reader continuing from
//! the last id it saw would then never see it. The log shows an event only once no older
//! transaction is still running, and orders by transaction, so this cannot happen.

use serde_json::json;
use tenantry_core::domain::host_event::HostEvent;
use tenantry_core::domain::ids::EventId;
use tenantry_core::store::Store;

use crate::common::{spawn_app, ADMIN_TOKEN};

fn event(kind: &str) -> HostEvent {
    HostEvent {
        id: EventId::new(),
        event_type: kind.to_owned(),
        org_id: None,
        occurred_at: chrono::Utc::now(),
        data: json!({}),
    }
}

#[tokio::test]
async fn an_event_committed_after_a_later_numbered_one_is_not_skipped() {
    let app = spawn_app().await;
    app.signup("ada@example.com", "Ada").await;
    let first = app.events_once(1).await;
    let mut after = first[0]["id"].as_str().unwrap().to_owned();

    // A takes its number first and commits last.
    let early = event("test.committed_last");
    let late = event("test.committed_first");
    let mut a = Some(app.store.write().await.unwrap());
    a.as_mut().unwrap().insert_event(&early).await.unwrap();
    let mut b = app.store.write().await.unwrap();
    b.insert_event(&late).await.unwrap();
    b.commit().await.unwrap();

    // A reader polls while A is still open, and again after it commits, each time from the
    // last event it read.
    let mut read = Vec::new();
    for a_committed in [false, true] {
        if a_committed {
            a.take().unwrap().commit().await.unwrap();
        }
        for _ in 0..100 {
            let page = app.get(&format!("/v1/events?after={after}"), Some(ADMIN_TOKEN)).await.expect(200);
            let ids: Vec<String> =
                page.body["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
            if let Some(last) = ids.last() {
                after = last.clone();
            }
            read.extend(ids);
            if !a_committed || read.len() == 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    assert_eq!(read, [early.id.to_string(), late.id.to_string()], "the reader skipped or reordered an event");
}
