//! Sending again and looking closer: replay, recovery (see also jobs.rs), test events, the raw view, payload
//! download and per-endpoint stats, over the real API.

use domain::clock::{rfc3339, HOUR, MINUTE, SECOND};
use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::{
    add_endpoint, api_get as get, eventually, post, send_event, tenant_with_key, tenant_with_owner_and_key, Answer, Plan, PrivateUrls,
    RunningWorker, Sink, TestApp,
};

both_databases!(
    a_replay_is_a_new_linked_delivery_and_only_admins_may_replay,
    bulk_recover_shows_a_count_then_replays_what_failed_since,
    skipped_deliveries_are_recovered_after_reactivation,
    a_test_event_is_sent_once_and_answered_inline,
    the_raw_view_masks_secrets_and_the_payload_downloads,
    stats_count_attempts_per_window,
    archived_deliveries_refuse_raw_download_and_replay,
);

/// Runs the worker through every retry until nothing is left to send.
async fn exhaust_retries(app: &TestApp) {
    for _ in 0..7 {
        app.deliver().await;
        app.clock.advance(11 * MINUTE);
    }
}

async fn a_replay_is_a_new_linked_delivery_and_only_admins_may_replay(app: TestApp) {
    let sink = Sink::start().await;
    sink.answer(Answer::Status(500));
    let (_, key, owner) = tenant_with_owner_and_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "E", "url": sink.url, "event_types": ["*"] })).await;
    let message_id = send_event(&app, &key, "invoice.closed", json!({ "total": 12 })).await;
    exhaust_retries(&app).await;
    let original = get(&app, &key, "/deliveries").await.json()["data"][0].clone();
    let id = original["id"].as_str().unwrap();
    assert_eq!((original["status"].as_str(), original["replays"].as_i64()), (Some("failed"), Some(0)));

    // Members read logs but may not replay, whatever the dashboard shows them.
    let member = app.member(&owner, "bruno@lotus.example").await;
    let r = member.post(format!("{}/api/v1/deliveries/{id}/replay", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(member.get(format!("{}/api/v1/deliveries/{id}", app.base)).send().await.unwrap().status(), 200);
    let (_, other) = tenant_with_key(&app, "Zen", Plan::Enterprise, PrivateUrls::Allowed).await;
    assert_eq!(post(&app, &other, &format!("/deliveries/{id}/replay"), json!({})).await.status, 404);
    assert_eq!(post(&app, &key, "/deliveries/dlv_nope/replay", json!({})).await.status, 404);

    sink.answer(Answer::Status(200));
    let before = sink.received().len();
    let r = post(&app, &key, &format!("/deliveries/{id}/replay"), json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let replay = r.json();
    assert_eq!((replay["kind"].as_str(), replay["replay_of"].as_str()), (Some("replay"), Some(id)));
    assert_eq!(replay["labels"], json!(["Replay"]));
    app.deliver().await;
    let sent = sink.received();
    assert_eq!(sent.len(), before + 1);
    assert_eq!(sent.last().unwrap().header("webhook-id"), message_id, "same message, so receivers can deduplicate");
    assert_eq!(sent.last().unwrap().json()["data"]["total"], 12);

    let original = get(&app, &key, &format!("/deliveries/{id}")).await.json();
    assert_eq!(original["replays"], 1);
    assert_eq!(original["replay_ids"], json!([replay["id"]]));
    assert_eq!(original["status"], "failed", "the original keeps its own outcome");
    let replayed = get(&app, &key, &format!("/deliveries/{}", replay["id"].as_str().unwrap())).await.json();
    assert_eq!(replayed["status"], "succeeded");
    let audit = get(&app, &key, "/audit").await.json();
    let entry = audit["data"].as_array().unwrap().iter().find(|e| e["action"] == "delivery.replayed").expect("the replay is audited");
    assert_eq!(entry["target"], id);
}

async fn bulk_recover_shows_a_count_then_replays_what_failed_since(app: TestApp) {
    let sink = Sink::start().await;
    sink.answer(Answer::Status(503));
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let ep = add_endpoint(&app, &key, json!({ "name": "E", "url": sink.url, "event_types": ["*"] })).await;
    let start = app.clock_now();
    for n in 0..3 {
        send_event(&app, &key, "invoice.closed", json!({ "n": n })).await;
        app.clock.advance(HOUR);
    }
    exhaust_retries(&app).await;
    sink.answer(Answer::Status(200));
    let since = rfc3339(start + 30 * MINUTE);
    let path = format!("/endpoints/{ep}/recover");

    let preview = post(&app, &key, &path, json!({ "since": since, "dry_run": true })).await;
    assert_eq!((preview.status.as_u16(), preview.json()["count"].as_i64()), (200, Some(2)), "{}", preview.text);
    assert_eq!(sink.received().len(), 18, "a preview sends nothing (3 × 6 attempts before)");
    let r = post(&app, &key, &path, json!({ "since": since })).await;
    assert_eq!((r.status.as_u16(), r.json()["job"]["total"].as_i64()), (202, Some(2)), "{}", r.text);
    assert_eq!(r.json()["job"]["status"], "running");
    // The job queues them a pace apart (50 a second); a second later all are due.
    assert_eq!(app.run_jobs().await, 2);
    app.clock.advance(SECOND);
    // A worker allowed one request at a time to the endpoint sends them in queue order.
    let worker = RunningWorker::start(app.herald_with(|engine| engine.per_endpoint = 1).await);
    eventually("the recovered deliveries were sent", || sink.received().len() == 20).await;
    worker.stop().await;
    let sent: Vec<i64> = sink.received()[18..].iter().map(|r| r.json()["data"]["n"].as_i64().unwrap()).collect();
    assert_eq!(sent, vec![1, 2], "only those since the chosen time, oldest first");
    let again = post(&app, &key, &path, json!({ "since": since, "dry_run": true })).await;
    assert_eq!(again.json()["count"], 0, "what was recovered is not counted twice");
    let audit = get(&app, &key, "/audit").await.json();
    let actions: Vec<&str> =
        audit["data"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).filter(|a| a.starts_with("recovery.")).collect();
    assert_eq!(actions, ["recovery.finished", "recovery.started"], "the start and the end, none for the previews");

    for (body, field) in [
        (json!({ "since": "yesterday" }), "since"),
        (json!({ "since": since, "status": "lost" }), "status"),
        (json!({ "since": rfc3339(app.clock_now() + HOUR) }), "since"),
        (json!({}), "since"),
    ] {
        let r = post(&app, &key, &path, body.clone()).await;
        assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some(field)), "{body}: {}", r.text);
    }
    let (_, other) = tenant_with_key(&app, "Zen", Plan::Enterprise, PrivateUrls::Allowed).await;
    assert_eq!(post(&app, &other, &path, json!({ "since": since })).await.status, 404);
}

async fn skipped_deliveries_are_recovered_after_reactivation(app: TestApp) {
    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let ep = add_endpoint(&app, &key, json!({ "name": "E", "url": sink.url, "event_types": ["*"] })).await;
    assert_eq!(post(&app, &key, &format!("/endpoints/{ep}/deactivate"), json!({})).await.status, 200);
    let since = rfc3339(app.clock_now());
    send_event(&app, &key, "invoice.closed", json!({})).await;
    send_event(&app, &key, "customer.created", json!({})).await;
    app.deliver().await;
    assert!(sink.received().is_empty());
    let r = post(&app, &key, &format!("/endpoints/{ep}/recover"), json!({ "since": since, "status": "skipped" })).await;
    assert_eq!((r.status.as_u16(), r.error()["code"].as_str()), (409, Some("endpoint_inactive")), "{}", r.text);

    assert_eq!(post(&app, &key, &format!("/endpoints/{ep}/activate"), json!({})).await.status, 200);
    let preview =
        post(&app, &key, &format!("/endpoints/{ep}/recover"), json!({ "since": since, "status": "skipped", "dry_run": true })).await;
    assert_eq!(preview.json()["count"], 2);
    let r = post(&app, &key, &format!("/endpoints/{ep}/recover"), json!({ "since": since, "status": "skipped" })).await;
    assert_eq!(r.json()["job"]["total"], 2);
    assert_eq!(app.run_jobs().await, 2);
    app.clock.advance(SECOND);
    app.deliver().await;
    assert_eq!(sink.received().len(), 2);
}

async fn a_test_event_is_sent_once_and_answered_inline(app: TestApp) {
    let sink = Sink::start().await;
    sink.answer(Answer::Body(500, "boom".into()));
    let (_, key, owner) = tenant_with_owner_and_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let ep = add_endpoint(&app, &key, json!({ "name": "E", "url": sink.url, "event_types": ["appointment.booking.created"] })).await;
    let path = format!("/endpoints/{ep}/test");

    let r = post(&app, &key, &path, json!({ "event_type": "appointment.booking.created" })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let test = r.json();
    assert_eq!((test["status"].as_str(), test["labels"].clone()), (Some("failed"), json!(["Test"])), "no retries for a test");
    assert_eq!((test["attempts"][0]["status_code"].as_i64(), test["attempts"][0]["response_body"].as_str()), (Some(500), Some("boom")));
    let received = sink.received();
    assert_eq!(received.len(), 1);
    let sample = &domain::catalog::builtin().iter().find(|t| t.name == "appointment.booking.created").unwrap().sample;
    assert_eq!(&received[0].json()["data"], sample, "the catalog's sample payload");
    exhaust_retries(&app).await;
    assert_eq!(sink.received().len(), 1, "a failed test is not retried");

    // Tests never count towards deactivation, and members may send them, even to an inactive endpoint.
    for _ in 0..21 {
        let r = post(&app, &key, &path, json!({ "event_type": "appointment.booking.created" })).await;
        assert_eq!((r.status.as_u16(), r.json()["status"].as_str()), (200, Some("failed")), "{}", r.text);
    }
    assert_eq!(sink.received().len(), 22, "22 failed tests in a row");
    assert_eq!(get(&app, &key, &format!("/endpoints/{ep}")).await.json()["status"], "active");
    sink.answer(Answer::Status(204));
    let r = post(&app, &key, &format!("/endpoints/{ep}/deactivate"), json!({})).await;
    assert_eq!((r.status.as_u16(), r.json()["status"].as_str()), (200, Some("inactive")), "{}", r.text);
    let member = app.member(&owner, "bruno@lotus.example").await;
    let r = member.post(format!("{}/api/v1{path}", app.base)).json(&json!({ "event_type": "invoice.closed" })).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let ok: Value = r.json().await.unwrap();
    assert_eq!((ok["status"].as_str(), ok["http_code"].as_i64()), (Some("succeeded"), Some(204)));
    let log = get(&app, &key, "/deliveries?status=succeeded").await.json();
    assert_eq!(log["data"][0]["labels"], json!(["Test"]));

    let r = post(&app, &key, &path, json!({ "event_type": "booking.exploded" })).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("event_type")));
    let r = post(&app, &key, &path, json!({})).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("event_type")));
    let (_, other) = tenant_with_key(&app, "Zen", Plan::Enterprise, PrivateUrls::Allowed).await;
    assert_eq!(post(&app, &other, &path, json!({ "event_type": "invoice.closed" })).await.status, 404);
}

async fn the_raw_view_masks_secrets_and_the_payload_downloads(app: TestApp) {
    let sink = Sink::start().await;
    sink.answer(Answer::WithHeader(202, "x-receiver", "spa-sync".into()));
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let secret_value = "Bearer super-secret-token-9876";
    let ep = add_endpoint(
        &app,
        &key,
        json!({
            "name": "E", "url": format!("{}/hooks", sink.url), "method": "PUT", "event_types": ["*"],
            "auth_header": { "name": "Authorization", "value": secret_value },
        }),
    )
    .await;
    let message_id = send_event(&app, &key, "customer.created", json!({ "name": "O'Brien" })).await;
    app.deliver().await;
    let id = get(&app, &key, "/deliveries").await.json()["data"][0]["id"].as_str().unwrap().to_string();
    let r = get(&app, &key, &format!("/deliveries/{id}")).await;
    assert!(!r.text.contains("super-secret"), "the auth value never leaves the server");
    let signing = get(&app, &key, &format!("/endpoints/{ep}/secret")).await.json()["secret"].as_str().unwrap().to_string();
    assert!(!r.text.contains(&signing[6..]));
    let sent = &sink.received()[0];
    assert!(!r.text.contains(&sent.header("webhook-signature")[3..]), "the signature is masked");

    let detail = r.json();
    let request = &detail["request"];
    assert_eq!((request["method"].as_str(), request["url"].as_str()), (Some("PUT"), Some(format!("{}/hooks", sink.url).as_str())));
    let headers: Vec<(String, String)> = serde_json::from_value(request["headers"].clone()).unwrap();
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(header("webhook-id"), message_id);
    assert_eq!(header("webhook-timestamp"), sent.header("webhook-timestamp"));
    assert_eq!(header("Authorization"), "••••••••");
    let body: Value = serde_json::from_str(request["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, sent.json());
    assert!(request["body"].as_str().unwrap().contains("\n  "), "pretty-printed");
    let curl = request["curl"].as_str().unwrap();
    assert!(curl.starts_with(&format!("curl -X 'PUT' '{}/hooks'", sink.url)), "{curl}");
    assert!(curl.contains("-H 'Authorization: '\"${AUTH_HEADER_VALUE}\""), "{curl}");
    assert!(curl.contains("-H 'webhook-signature: '\"${WEBHOOK_SIGNATURE}\""), "{curl}");
    assert!(curl.contains(&format!("--data-raw '{}'", sent.body.replace('\'', "'\\''"))), "the exact bytes that were signed");
    let attempt = &detail["attempts"][0];
    assert_eq!((attempt["status_code"].as_i64(), attempt["response_headers"]["x-receiver"].as_str()), (Some(202), Some("spa-sync")));

    let r = get(&app, &key, &format!("/deliveries/{id}/payload")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.headers["content-disposition"], format!("attachment; filename=\"{message_id}.json\"").as_str());
    assert_eq!(r.text, sent.body);
    let (_, other) = tenant_with_key(&app, "Zen", Plan::Enterprise, PrivateUrls::Allowed).await;
    assert_eq!(get(&app, &other, &format!("/deliveries/{id}/payload")).await.status, 404);
}

async fn stats_count_attempts_per_window(app: TestApp) {
    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let ep = add_endpoint(&app, &key, json!({ "name": "E", "url": sink.url, "event_types": ["*"] })).await;
    let empty = get(&app, &key, &format!("/endpoints/{ep}/stats")).await.json();
    assert_eq!(
        (empty["sent"].as_i64(), empty["success_rate"].clone(), empty["last_delivery"].clone()),
        (Some(0), Value::Null, Value::Null)
    );
    for _ in 0..3 {
        send_event(&app, &key, "invoice.closed", json!({})).await;
    }
    app.deliver().await;
    sink.answer(Answer::Status(500));
    app.clock.advance(HOUR);
    send_event(&app, &key, "invoice.closed", json!({})).await;
    app.deliver().await;

    let day = get(&app, &key, &format!("/endpoints/{ep}/stats?window=24h")).await.json();
    assert_eq!((day["sent"].as_i64(), day["succeeded"].as_i64(), day["failed"].as_i64()), (Some(4), Some(3), Some(1)));
    assert_eq!(day["success_rate"].as_f64(), Some(0.75));
    assert!(day["latency_p50_ms"].as_i64().is_some() && day["latency_p95_ms"].as_i64() >= day["latency_p50_ms"].as_i64());
    assert_eq!((day["last_delivery"]["status"].as_str(), day["last_delivery"]["status_code"].as_i64()), (Some("retrying"), Some(500)));
    let bars = day["bars"].as_array().unwrap();
    assert_eq!(bars.len(), 24);
    assert_eq!((bars[23]["succeeded"].as_i64(), bars[23]["failed"].as_i64()), (Some(0), Some(1)), "this hour");
    assert_eq!((bars[22]["succeeded"].as_i64(), bars[22]["failed"].as_i64()), (Some(3), Some(0)), "the hour before");
    assert_eq!(bars.iter().map(|b| b["succeeded"].as_i64().unwrap() + b["failed"].as_i64().unwrap()).sum::<i64>(), 4);

    app.advance_days(2);
    let day = get(&app, &key, &format!("/endpoints/{ep}/stats?window=24h")).await.json();
    let week = get(&app, &key, &format!("/endpoints/{ep}/stats?window=7d")).await.json();
    let month = get(&app, &key, &format!("/endpoints/{ep}/stats?window=30d")).await.json();
    assert_eq!((day["sent"].as_i64(), week["sent"].as_i64(), month["sent"].as_i64()), (Some(0), Some(4), Some(4)));
    assert_eq!((week["bars"].as_array().unwrap().len(), month["bars"].as_array().unwrap().len()), (28, 30));
    let r = get(&app, &key, &format!("/endpoints/{ep}/stats?window=1y")).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("window")));
    let (_, other) = tenant_with_key(&app, "Zen", Plan::Enterprise, PrivateUrls::Allowed).await;
    assert_eq!(get(&app, &other, &format!("/endpoints/{ep}/stats")).await.status, 404);
}

async fn archived_deliveries_refuse_raw_download_and_replay(app: TestApp) {
    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "E", "url": sink.url, "event_types": ["*"] })).await;
    send_event(&app, &key, "invoice.closed", json!({})).await;
    app.deliver().await;
    let id = get(&app, &key, "/deliveries").await.json()["data"][0]["id"].as_str().unwrap().to_string();
    // What the archival job leaves behind.
    let now = app.clock_now();
    domain::on_pool!(&app.herald.store, pool => async {
        sqlx::query("UPDATE deliveries SET archived_at = $1").bind(now).execute(pool).await?;
        sqlx::query("UPDATE messages SET payload = NULL, archived_at = $1").bind(now).execute(pool).await?;
        sqlx::query("UPDATE attempts SET response_body = NULL").execute(pool).await.map(|r| r.rows_affected())
    }.await)
    .unwrap();
    let detail = get(&app, &key, &format!("/deliveries/{id}")).await.json();
    assert_eq!(detail["labels"], json!(["Archived"]));
    assert_eq!((detail["request"]["body"].clone(), detail["request"]["curl"].clone()), (Value::Null, Value::Null));
    assert_eq!(detail["attempts"][0]["status_code"], 200, "metadata stays");
    for r in [
        get(&app, &key, &format!("/deliveries/{id}/payload")).await,
        post(&app, &key, &format!("/deliveries/{id}/replay"), json!({})).await,
    ] {
        assert_eq!((r.status.as_u16(), r.error()["code"].as_str()), (410, Some("archived")), "{}", r.text);
        assert!(r.error()["message"].as_str().unwrap().contains("retention"));
    }
}
