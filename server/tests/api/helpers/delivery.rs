//! Endpoints, events and what became of them, over the API and straight from the database.

use domain::clock::MINUTE;
use serde_json::{json, Value};

use super::api::post;
use super::app::TestApp;

/// Creates an endpoint from `body` with the API key `key`; checks that it was created (201)
/// and returns its id.
pub async fn add_endpoint(app: &TestApp, key: &str, body: Value) -> String {
    let r = post(app, key, "/endpoints", body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_string()
}

/// Sends an event with the API key `key`; checks that it was accepted (202) and returns the
/// message id.
pub async fn send_event(app: &TestApp, key: &str, event_type: &str, data: Value) -> String {
    let r = post(app, key, "/events", json!({ "event_type": event_type, "data": data })).await;
    assert_eq!(r.status, 202, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_string()
}

/// Sends one `invoice.closed` event (`{"n": n}`) and runs the worker through its attempts, one
/// at a time, moving the clock on 11 minutes after each (77 minutes in all), until its delivery
/// has ended; checks that it did.
pub async fn run_one_event_through_every_attempt(app: &TestApp, key: &str, n: i64) {
    send_event(app, key, "invoice.closed", json!({ "n": n })).await;
    for _ in 0..7 {
        app.deliver().await;
        app.clock.advance(11 * MINUTE);
    }
    let last = deliveries(app).await.pop().unwrap();
    assert!(["succeeded", "failed", "skipped"].contains(&last.status.as_str()), "event {n} ended: {last:?}");
}

#[derive(Debug, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub message_id: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
pub struct AttemptRow {
    pub attempted_at: i64,
    pub status_code: Option<i64>,
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
    pub error: Option<String>,
}

/// Every delivery in the database, oldest first.
pub async fn deliveries(app: &TestApp) -> Vec<DeliveryRow> {
    let sql = "SELECT id, endpoint_id, message_id, status, attempts, next_attempt_at, last_status_code, last_error FROM deliveries ORDER BY created_at, id";
    domain::on_pool!(&app.herald.store, pool => sqlx::query_as::<_, DeliveryRow>(sql).fetch_all(pool).await).unwrap()
}

/// The attempts of `delivery_id`, oldest first.
pub async fn attempts(app: &TestApp, delivery_id: &str) -> Vec<AttemptRow> {
    let sql = "SELECT attempted_at, status_code, response_headers, response_body, error FROM attempts WHERE delivery_id = $1 ORDER BY attempted_at, id";
    domain::on_pool!(&app.herald.store, pool => sqlx::query_as::<_, AttemptRow>(sql).bind(delivery_id).fetch_all(pool).await).unwrap()
}
