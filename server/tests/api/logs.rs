//! The delivery log over the API: keyset pages, filters, detail with attempts, tenancy.

use std::collections::HashSet;

use domain::clock::SECOND;
use serde_json::{json, Value};

use crate::both_databases;
use crate::delivery::{add_endpoint, api_get as get, send_event, tenant};
use crate::helpers::TestApp;
use crate::sink::{Answer, Sink};

both_databases!(the_log_pages_by_keyset_and_filters, a_delivery_shows_its_attempts_and_stays_in_its_tenant);

async fn the_log_pages_by_keyset_and_filters(app: TestApp) {
    let ok = Sink::start().await;
    let bad = Sink::start().await;
    bad.answer(Answer::Status(500));
    let (_, key) = tenant(&app, "Lotus").await;
    let good_ep = add_endpoint(&app, &key, json!({ "name": "Good", "url": ok.url, "event_types": ["*"] })).await;
    let bad_ep = add_endpoint(&app, &key, json!({ "name": "Bad", "url": bad.url, "event_types": ["invoice.closed"] })).await;
    let start = app.clock_now();
    for i in 0..5 {
        send_event(&app, &key, if i % 2 == 0 { "invoice.closed" } else { "customer.created" }, json!({ "n": i })).await;
        if i == 2 {
            // Two deliveries share each timestamp: the order must still be stable.
            app.clock.advance(SECOND);
        }
    }
    app.deliver().await;

    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = get(&app, &key, &format!("/deliveries?limit=3&cursor={cursor}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let page = r.json();
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| (d["created_at"].as_str().unwrap().to_string(), d["id"].as_str().unwrap().to_string())),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 8, "5 events to Good, 3 invoices to Bad");
    assert_eq!(seen.iter().map(|(_, id)| id).collect::<HashSet<_>>().len(), 8, "no row twice across pages");
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first, ties broken by id");

    let failed = get(&app, &key, "/deliveries?status=retrying").await.json();
    let failed = failed["data"].as_array().unwrap();
    assert_eq!(failed.len(), 3);
    assert!(failed.iter().all(|d| d["endpoint_id"] == bad_ep.as_str() && d["http_code"] == 500));
    let good = get(&app, &key, &format!("/deliveries?endpoint_id={good_ep}&event_type=customer.created")).await.json();
    assert_eq!(good["data"].as_array().unwrap().len(), 2);
    let since = domain::clock::rfc3339(start + SECOND);
    let later = get(&app, &key, &format!("/deliveries?since={since}")).await.json();
    assert_eq!(later["data"].as_array().unwrap().len(), 3, "events 3 and 4 (one to Bad)");
    let until = get(&app, &key, &format!("/deliveries?until={since}")).await.json();
    assert_eq!(until["data"].as_array().unwrap().len(), 5);

    for (query, field) in [
        ("status=lost", "status"),
        ("since=yesterday", "since"),
        ("cursor=nonsense", "cursor"),
        ("limit=0", "limit"),
        ("colour=red", "query"),
    ] {
        let r = get(&app, &key, &format!("/deliveries?{query}")).await;
        assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some(field)), "{query}: {}", r.text);
    }
}

async fn a_delivery_shows_its_attempts_and_stays_in_its_tenant(app: TestApp) {
    let sink = Sink::start().await;
    sink.then(Answer::Status(503));
    let (_, key) = tenant(&app, "Lotus").await;
    add_endpoint(&app, &key, json!({ "name": "E", "url": sink.url, "event_types": ["*"] })).await;
    send_event(&app, &key, "invoice.closed", json!({})).await;
    app.deliver().await;
    app.clock.advance(60 * SECOND);
    app.deliver().await;
    let id = get(&app, &key, "/deliveries").await.json()["data"][0]["id"].as_str().unwrap().to_string();
    let d: Value = get(&app, &key, &format!("/deliveries/{id}")).await.json();
    assert_eq!(d["status"], "succeeded");
    assert_eq!(d["attempt_count"], 2);
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!((attempts[0]["status_code"].as_i64(), attempts[1]["status_code"].as_i64()), (Some(503), Some(200)));
    assert_eq!(attempts[0]["error"], "HTTP 503");
    let (_, other) = tenant(&app, "Zen").await;
    assert_eq!(get(&app, &other, &format!("/deliveries/{id}")).await.status, 404);
    assert!(get(&app, &other, "/deliveries").await.json()["data"].as_array().unwrap().is_empty());
}
