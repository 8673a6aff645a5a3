//! Per-endpoint throttle: at most `max_per_second` deliveries start in a second and at most
//! `max_in_flight` are sent at once, also with two worker processes; what does not fit waits
//! and does not fail. Only admins set it.

use domain::clock::SECOND;
use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::{
    add_endpoint, api_get as get, deliveries, eventually, patch, post, send_event, tenant_with_key, tenant_with_owner_and_key, Answer,
    Plan, PrivateUrls, Reply, RunningWorker, Sink, TestApp,
};

both_databases!(
    a_throttled_endpoint_gets_its_rate_and_the_rest_waits,
    the_in_flight_limit_holds_across_two_worker_processes,
    only_admins_set_a_throttle_within_its_bounds,
);

async fn a_throttled_endpoint_gets_its_rate_and_the_rest_waits(app: TestApp) {
    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let throttled = add_endpoint(
        &app,
        &key,
        json!({ "name": "Front desk", "url": format!("{}/slow-desk", sink.url), "event_types": ["*"], "max_per_second": 5 }),
    )
    .await;
    add_endpoint(&app, &key, json!({ "name": "CRM", "url": format!("{}/crm", sink.url), "event_types": ["*"] })).await;
    let shown = get(&app, &key, &format!("/endpoints/{throttled}")).await.json();
    assert_eq!((shown["max_per_second"].as_i64(), shown["max_in_flight"].as_i64()), (Some(5), None), "{shown}");
    for n in 0..12 {
        send_event(&app, &key, "invoice.closed", json!({ "n": n })).await;
    }
    let to = |path: &str| sink.received().iter().filter(|r| r.path == path).count();

    app.deliver().await;
    assert_eq!((to("/slow-desk"), to("/crm")), (5, 12), "five in the first second; the other endpoint is not held up");
    let waiting: Vec<_> = deliveries(&app).await.into_iter().filter(|d| d.endpoint_id == throttled && d.attempts == 0).collect();
    assert_eq!(waiting.len(), 7);
    assert!(waiting.iter().all(|d| d.status == "pending" && d.last_error.is_none()), "they wait, they do not fail: {waiting:?}");
    app.deliver().await;
    assert_eq!(to("/slow-desk"), 5, "still the same second");

    app.clock.advance(SECOND);
    app.deliver().await;
    assert_eq!(to("/slow-desk"), 10);
    app.clock.advance(SECOND);
    app.deliver().await;
    assert_eq!(to("/slow-desk"), 12);
    let sent: Vec<i64> =
        sink.received().iter().filter(|r| r.path == "/slow-desk").map(|r| r.json()["data"]["n"].as_i64().unwrap()).collect();
    let mut sorted = sent.clone();
    sorted.sort();
    assert_eq!(sorted, (0..12).collect::<Vec<_>>(), "each once");
    assert!(deliveries(&app).await.iter().all(|d| d.status == "succeeded" && d.attempts == 1));

    // Lifting the limit: the next burst goes at once.
    let r = patch(&app, &key, &format!("/endpoints/{throttled}"), json!({ "max_per_second": null })).await;
    assert_eq!((r.status.as_u16(), r.json()["max_per_second"].clone()), (200, Value::Null), "{}", r.text);
    for n in 0..8 {
        send_event(&app, &key, "invoice.closed", json!({ "n": n })).await;
    }
    app.deliver().await;
    assert_eq!(to("/slow-desk"), 20);
}

async fn the_in_flight_limit_holds_across_two_worker_processes(app: TestApp) {
    let sink = Sink::start().await;
    for _ in 0..12 {
        sink.then(Answer::Slow(150));
    }
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "POS", "url": format!("{}/pos", sink.url), "event_types": ["*"], "max_in_flight": 2 })).await;
    for n in 0..12 {
        send_event(&app, &key, "invoice.closed", json!({ "n": n })).await;
    }
    // Two processes, each of which would otherwise send 8 at once to one endpoint.
    let first = RunningWorker::start(app.herald_with(|_| {}).await);
    let second = RunningWorker::start(app.herald_with(|_| {}).await);
    eventually("all 12 were sent", || sink.received().len() == 12).await;
    first.stop().await;
    second.stop().await;
    assert_eq!(sink.most_at_once("/pos"), 2, "two at once, never more, across both processes");
    let rows = deliveries(&app).await;
    assert!(rows.iter().all(|d| d.status == "succeeded" && d.attempts == 1), "{rows:?}");
}

async fn only_admins_set_a_throttle_within_its_bounds(app: TestApp) {
    let (_, key, owner) = tenant_with_owner_and_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let ep = add_endpoint(&app, &key, json!({ "name": "E", "url": "https://hooks.example.com/e", "event_types": ["*"] })).await;
    let path = format!("/endpoints/{ep}");
    for (body, field) in [
        (json!({ "max_per_second": 0 }), "max_per_second"),
        (json!({ "max_per_second": 1001 }), "max_per_second"),
        (json!({ "max_in_flight": 0 }), "max_in_flight"),
        (json!({ "max_in_flight": 101 }), "max_in_flight"),
    ] {
        let r = patch(&app, &key, &path, body.clone()).await;
        assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some(field)), "{body}: {}", r.text);
    }
    let r = post(
        &app,
        &key,
        "/endpoints",
        json!({ "name": "F", "url": "https://hooks.example.com/f", "event_types": ["*"], "max_in_flight": 500 }),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("max_in_flight")), "{}", r.text);
    let r = patch(&app, &key, &path, json!({ "max_per_second": 1000, "max_in_flight": 100 })).await;
    assert_eq!((r.json()["max_per_second"].as_i64(), r.json()["max_in_flight"].as_i64()), (Some(1000), Some(100)), "{}", r.text);

    // A member may edit the endpoint but not its throttle.
    let member = app.member(&owner, "bruno@lotus.example").await;
    let form = |limit: Option<&str>| {
        json!({ "id": ep, "form": {
            "name": "Renamed", "description": "", "url": "https://hooks.example.com/e", "method": "POST", "channel": "http",
            "email": "", "payload_shape": "envelope", "event_types": ["*"], "auth_header_name": "", "auth_header_value": "",
            "max_per_second": limit,
        } })
    };
    let save = |body: Value| {
        let (member, url) = (&member, format!("{}/rpc/save_endpoint", app.base));
        async move {
            let r = member.post(url).json(&body).send().await.unwrap();
            Reply { status: r.status(), headers: r.headers().clone(), text: r.text().await.unwrap() }
        }
    };
    let r = save(form(Some("3"))).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = save(form(None)).await;
    assert_eq!(r.status, 200, "the member's form leaves the throttle alone: {}", r.text);
    let shown = get(&app, &key, &path).await.json();
    assert_eq!((shown["name"].as_str(), shown["max_per_second"].as_i64()), (Some("Renamed"), Some(1000)), "{shown}");
    let audit = get(&app, &key, "/audit").await.json();
    let throttled =
        audit["data"].as_array().unwrap().iter().any(|e| {
            e["action"] == "endpoint.updated" && e["summary"].as_str().unwrap().contains("Changed max_per_second, max_in_flight of")
        });
    assert!(throttled, "the throttle change is audited: {audit}");
}
