//! Archival with the clock moved: past retention the bodies go, the metadata stays; inside it
//! nothing changes; a retention change counts on the next run; runs are idempotent.

use domain::archive::ArchiveSettings;
use domain::clock::DAY;
use serde_json::json;

use crate::both_databases;
use crate::helpers::{add_endpoint, send_event, tenant_with_key, Answer, Plan, PrivateUrls, Sink, TestApp};

both_databases!(
    deliveries_past_retention_lose_their_bodies_and_keep_their_metadata,
    a_retention_change_takes_effect_on_the_next_run,
    archival_goes_in_batches_and_leaves_deliveries_still_due,
    ingest_and_delivery_go_on_while_archival_runs,
);

#[derive(Debug, sqlx::FromRow)]
struct MessageState {
    id: String,
    payload: Option<String>,
    archived_at: Option<i64>,
}

async fn messages(app: &TestApp) -> Vec<MessageState> {
    let sql = "SELECT id, payload, archived_at FROM messages ORDER BY created_at, id";
    domain::on_pool!(&app.herald.store, pool => sqlx::query_as::<_, MessageState>(sql).fetch_all(pool).await).unwrap()
}

#[derive(Debug, sqlx::FromRow)]
struct DeliveryState {
    message_id: String,
    status: String,
    attempts: i64,
    last_status_code: Option<i64>,
    last_duration_ms: Option<i64>,
    archived_at: Option<i64>,
}

async fn deliveries(app: &TestApp) -> Vec<DeliveryState> {
    let sql =
        "SELECT message_id, status, attempts, last_status_code, last_duration_ms, archived_at FROM deliveries ORDER BY created_at, id";
    domain::on_pool!(&app.herald.store, pool => sqlx::query_as::<_, DeliveryState>(sql).fetch_all(pool).await).unwrap()
}

/// How many rows anywhere still hold `needle` in a body column.
async fn bodies_containing(app: &TestApp, needle: &str) -> i64 {
    let pattern = format!("%{needle}%");
    let sql = "SELECT (SELECT COUNT(*) FROM messages WHERE payload LIKE $1) + (SELECT COUNT(*) FROM attempts WHERE response_body LIKE $1)";
    let (n,): (i64,) = domain::on_pool!(&app.herald.store, pool => sqlx::query_as(sql).bind(&pattern).fetch_one(pool).await).unwrap();
    n
}

async fn deliveries_past_retention_lose_their_bodies_and_keep_their_metadata(app: TestApp) {
    let sink = Sink::start().await;
    sink.answer(Answer::Body(200, "receiver-said-OLD".into()));
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    assert_eq!(app.herald.tenant(&tenant_id).await.unwrap().retention_days, 60, "60 days by default");
    add_endpoint(&app, &key, json!({ "name": "CRM", "url": sink.url, "event_types": ["*"] })).await;
    let old = send_event(&app, &key, "invoice.closed", json!({ "note": "payload-OLD" })).await;
    app.deliver().await;

    app.advance_days(31);
    sink.answer(Answer::Body(200, "receiver-said-NEW".into()));
    let new = send_event(&app, &key, "invoice.closed", json!({ "note": "payload-NEW" })).await;
    app.deliver().await;

    // Day 59 for the old one: nothing to do yet.
    app.advance_days(28);
    assert_eq!(app.herald.archive_once().await.unwrap().messages, 0);
    assert!(messages(&app).await.iter().all(|m| m.archived_at.is_none()));

    // Day 61 for the old one, day 30 for the new one.
    app.advance_days(2);
    let report = app.herald.archive_once().await.unwrap();
    assert_eq!((report.messages, report.deliveries, report.attempts), (1, 1, 1), "{report:?}");

    let now = app.clock_now();
    let by_id = |list: &[MessageState], id: &str| list.iter().position(|m| m.id == id).unwrap();
    let ms = messages(&app).await;
    let (o, n) = (&ms[by_id(&ms, &old)], &ms[by_id(&ms, &new)]);
    assert_eq!((o.payload.as_deref(), o.archived_at), (None, Some(now)), "the old payload is gone");
    assert!(n.payload.as_deref().unwrap().contains("payload-NEW") && n.archived_at.is_none(), "the new one is untouched");

    let ds = deliveries(&app).await;
    let od = ds.iter().find(|d| d.message_id == old).unwrap();
    assert_eq!(od.archived_at, Some(now));
    assert_eq!((od.status.as_str(), od.attempts, od.last_status_code), ("succeeded", 1, Some(200)), "metadata stays");
    assert!(od.last_duration_ms.is_some());
    assert!(ds.iter().find(|d| d.message_id == new).unwrap().archived_at.is_none());

    assert_eq!(bodies_containing(&app, "payload-OLD").await, 0, "the archived payload is gone from the database");
    assert_eq!(bodies_containing(&app, "receiver-said-OLD").await, 0, "and so is the response body");
    assert_eq!(bodies_containing(&app, "payload-NEW").await, 1);
    assert_eq!(bodies_containing(&app, "receiver-said-NEW").await, 1);

    // The attempt keeps its status code and duration.
    let (code, kept_headers): (Option<i64>, Option<String>) = domain::on_pool!(&app.herald.store, pool => sqlx::query_as(
        "SELECT a.status_code, a.response_headers FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.message_id = $1")
        .bind(&old).fetch_one(pool).await)
    .unwrap();
    assert_eq!(code, Some(200));
    assert!(kept_headers.is_some());

    // The log still lists the archived delivery, with its outcome.
    let log = crate::helpers::plain_client().get(format!("{}/api/v1/deliveries", app.base)).bearer_auth(&key).send().await.unwrap();
    let log: serde_json::Value = log.json().await.unwrap();
    assert_eq!(log["data"].as_array().unwrap().len(), 2);

    // Idempotent: the next run finds nothing, and changes nothing.
    app.clock.advance(DAY / 2);
    assert_eq!(app.herald.archive_once().await.unwrap(), Default::default());
    assert_eq!(deliveries(&app).await.iter().find(|d| d.message_id == old).unwrap().archived_at, Some(now), "archived_at is not moved");
}

async fn a_retention_change_takes_effect_on_the_next_run(app: TestApp) {
    let sink = Sink::start().await;
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let (other_id, other_key) = tenant_with_key(&app, "Zen", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "CRM", "url": sink.url, "event_types": ["*"] })).await;
    add_endpoint(&app, &other_key, json!({ "name": "CRM", "url": sink.url, "event_types": ["*"] })).await;
    send_event(&app, &key, "invoice.closed", json!({ "note": "lotus" })).await;
    send_event(&app, &other_key, "invoice.closed", json!({ "note": "zen" })).await;
    app.deliver().await;
    app.advance_days(10);
    assert_eq!(app.herald.archive_once().await.unwrap().messages, 0, "10 days is inside 60");

    let operator = domain::Actor::system("test");
    let update = domain::tenants::TenantUpdate { retention_days: Some(7), ..Default::default() };
    app.herald.change_tenant(&operator, &tenant_id, update).await.unwrap();
    let report = app.herald.archive_once().await.unwrap();
    assert_eq!(report.messages, 1, "Lotus now keeps 7 days");
    assert_eq!(bodies_containing(&app, "lotus").await, 0);
    assert_eq!(bodies_containing(&app, "zen").await, 1, "Zen keeps its 60 days");
    assert_eq!(app.herald.tenant(&other_id).await.unwrap().retention_days, 60);

    // A longer retention does not bring anything back, and archives nothing new.
    let update = domain::tenants::TenantUpdate { retention_days: Some(365), ..Default::default() };
    app.herald.change_tenant(&operator, &tenant_id, update).await.unwrap();
    app.advance_days(100);
    let report = app.herald.archive_once().await.unwrap();
    assert_eq!(report.messages, 1, "only Zen's, now 110 days old");
    assert_eq!(bodies_containing(&app, "zen").await, 0);
}

async fn archival_goes_in_batches_and_leaves_deliveries_still_due(app: TestApp) {
    let ok = Sink::start().await;
    let down = Sink::start().await;
    down.answer(Answer::Status(503));
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "CRM", "url": ok.url, "event_types": ["invoice.closed"] })).await;
    add_endpoint(&app, &key, json!({ "name": "Down", "url": down.url, "event_types": ["customer.created"] })).await;
    let blob = "x".repeat(20 * 1024);
    for i in 0..25 {
        send_event(&app, &key, "invoice.closed", json!({ "n": i, "blob": blob })).await;
    }
    let retrying = send_event(&app, &key, "customer.created", json!({ "note": "still-due" })).await;
    app.deliver().await;
    app.advance_days(61);

    let settings = ArchiveSettings { batch: 10, pause: std::time::Duration::ZERO, vacuum_pages: 10_000 };
    let report = app.herald.archive_with(&settings).await.unwrap();
    assert_eq!((report.messages, report.batches), (25, 3), "{report:?}");
    let ms = messages(&app).await;
    let due = ms.iter().find(|m| m.id == retrying).unwrap();
    assert!(due.archived_at.is_none() && due.payload.is_some(), "a delivery still due keeps its payload to be sent");

    if let Some(mode) = app.herald.sqlite_auto_vacuum().await.unwrap() {
        assert_eq!(mode, 2, "new SQLite databases use incremental auto-vacuum");
        let domain::Store::Sqlite(pool) = &app.herald.store else { unreachable!() };
        let (free,): (i64,) = sqlx::query_as("PRAGMA freelist_count").fetch_one(pool).await.unwrap();
        assert_eq!(free, 0, "the space of the archived payloads was handed back");
    }

    // Once it is finished (given up after its retries), the next run archives it too.
    for _ in 0..6 {
        app.clock.advance(15 * domain::clock::MINUTE);
        app.deliver().await;
    }
    let report = app.herald.archive_with(&settings).await.unwrap();
    assert_eq!(report.messages, 1, "{report:?}");
}

async fn ingest_and_delivery_go_on_while_archival_runs(app: TestApp) {
    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "CRM", "url": sink.url, "event_types": ["*"] })).await;
    for i in 0..20 {
        send_event(&app, &key, "invoice.closed", json!({ "n": i })).await;
    }
    app.deliver().await;
    app.advance_days(61);

    // Small batches with long pauses: the run takes about 2 s.
    let settings = ArchiveSettings { batch: 2, pause: std::time::Duration::from_millis(200), vacuum_pages: 100 };
    let herald = app.herald.clone();
    let run = tokio::spawn(async move { herald.archive_with(&settings).await.unwrap() });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    send_event(&app, &key, "customer.created", json!({ "fresh": true })).await;
    app.deliver().await;
    let took = started.elapsed();
    assert!(!run.is_finished(), "archival is still going on");
    assert!(took < std::time::Duration::from_millis(1500), "ingest and delivery waited {took:?}");
    assert_eq!(sink.received().len(), 21, "the fresh event was delivered meanwhile");
    let report = run.await.unwrap();
    assert_eq!((report.messages, report.batches), (20, 10));
    assert_eq!(bodies_containing(&app, "fresh").await, 1, "the fresh one is inside retention");
}
