//! Recovery jobs: paced on the wire, followed, cancelled (nothing more is sent), one per
//! endpoint, resumed by another process, stopped when the endpoint is deactivated.

use domain::clock::{rfc3339, HOUR, MINUTE, SECOND};
use serde_json::json;

use crate::both_databases;
use crate::helpers::{add_endpoint, api_get as get, post, tenant_with_key, tenant_with_owner_and_key, Plan, PrivateUrls, Sink, TestApp};

both_databases!(
    a_recovery_job_is_paced_followed_and_cancelled,
    a_job_resumes_in_another_process_and_stops_when_the_endpoint_is_deactivated,
    recovery_requests_are_checked_and_jobs_are_the_tenants_own,
);

/// `n` deliveries to `ep` that ran out of retries, `step` ms apart from `at` on (seeded in two
/// statements).
async fn seed_failed(app: &TestApp, tenant_id: &str, ep: &str, n: i64, at: i64, step: i64) {
    let messages = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $3)
        INSERT INTO messages (id, tenant_id, event_type, payload, created_at)
        SELECT 'msg_seed' || i, $1, 'invoice.closed', '{\"n\":' || i || '}', $2 + i * $4 FROM n";
    let deliveries = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $4)
        INSERT INTO deliveries (id, tenant_id, endpoint_id, message_id, event_type, status, kind, attempts, created_at, completed_at)
        SELECT 'dlv_seed' || i, $1, $3, 'msg_seed' || i, 'invoice.closed', 'failed', 'event', 6, $2 + i * $5, $2 + i * $5 FROM n";
    let seeded = domain::execute_on!(&app.herald.store, sqlx::query(messages).bind(tenant_id).bind(at).bind(n).bind(step)).unwrap();
    assert_eq!(seeded, n as u64);
    let seeded =
        domain::execute_on!(&app.herald.store, sqlx::query(deliveries).bind(tenant_id).bind(at).bind(ep).bind(n).bind(step)).unwrap();
    assert_eq!(seeded, n as u64);
}

/// The replays a job queued: how many, and how many distinct originals they replay.
async fn replays_of(app: &TestApp, job: &str) -> (i64, i64) {
    domain::on_pool!(&app.herald.store, pool => sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT replay_of) FROM deliveries WHERE job_id = $1").bind(job).fetch_one(pool).await)
    .unwrap()
}

async fn a_recovery_job_is_paced_followed_and_cancelled(app: TestApp) {
    let sink = Sink::start().await;
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let ep = add_endpoint(&app, &key, json!({ "name": "E", "url": sink.url, "event_types": ["*"] })).await;
    let failed_at = app.clock_now() - HOUR;
    seed_failed(&app, &tenant_id, &ep, 2000, failed_at, 1).await;
    let path = format!("/endpoints/{ep}/recover");
    let since = rfc3339(failed_at - MINUTE);
    let preview = post(&app, &key, &path, json!({ "since": since, "dry_run": true })).await;
    assert_eq!((preview.status.as_u16(), preview.json()["count"].as_i64()), (200, Some(2000)), "{}", preview.text);
    assert_eq!(get(&app, &key, "/jobs").await.json()["data"], json!([]), "a dry run starts no job");

    let r = post(&app, &key, &path, json!({ "since": since, "rate_per_second": 500 })).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let job = r.json()["job"].clone();
    let id = job["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("job_"), "{job}");
    assert_eq!((job["status"].as_str(), job["total"].as_i64(), job["done"].as_i64()), (Some("running"), Some(2000), Some(0)));
    assert_eq!((job["rate_per_second"].as_i64(), job["created_by"].as_str()), (Some(500), Some("API key \"tests\"")), "{job}");
    let again = post(&app, &key, &path, json!({ "since": since })).await;
    assert_eq!((again.status.as_u16(), again.error()["code"].as_str()), (409, Some("job_running")), "{}", again.text);

    // One second's worth, spread over that second: only the first is due now.
    assert_eq!(app.run_jobs().await, 500);
    assert_eq!(app.run_jobs().await, 0, "the next batch waits for the next second");
    assert_eq!(app.deliver().await, 1);
    app.clock.advance(SECOND);
    assert_eq!(app.run_jobs().await, 500);
    assert_eq!(app.deliver().await, 500, "the rest of the first second, and the first of the second");
    assert_eq!(sink.received().len(), 501);
    let mut sent: Vec<i64> = sink.received().iter().map(|r| r.json()["data"]["n"].as_i64().unwrap()).collect();
    sent.sort();
    assert_eq!(sent, (1..=501).collect::<Vec<_>>(), "oldest first, each once");
    let followed = get(&app, &key, &format!("/jobs/{id}")).await.json()["job"].clone();
    assert_eq!((followed["done"].as_i64(), followed["delivered"].as_i64()), (Some(1000), Some(501)), "{followed}");

    let r = post(&app, &key, &format!("/jobs/{id}/cancel"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cancelled = r.json()["job"].clone();
    assert_eq!((cancelled["status"].as_str(), cancelled["done"].as_i64()), (Some("cancelled"), Some(501)), "{cancelled}");
    assert!(cancelled["finished_at"].is_string());
    assert_eq!(replays_of(&app, &id).await, (501, 501), "the replays not yet sent were withdrawn");
    app.clock.advance(10 * SECOND);
    assert_eq!(app.run_jobs().await, 0);
    assert_eq!(app.deliver().await, 0);
    assert_eq!(sink.received().len(), 501, "nothing more is sent after a cancel");
    let r = post(&app, &key, &format!("/jobs/{id}/cancel"), json!({})).await;
    assert_eq!((r.status.as_u16(), r.error()["code"].as_str()), (409, Some("job_finished")), "{}", r.text);

    let listed = get(&app, &key, "/jobs").await.json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["data"][0]["id"], id.as_str());
    let audit = get(&app, &key, "/audit").await.json();
    let actions: Vec<&str> =
        audit["data"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).filter(|a| a.starts_with("recovery.")).collect();
    assert_eq!(actions, ["recovery.cancelled", "recovery.started"]);
    // What was left can be recovered by a new job: the withdrawn ones were never replayed.
    let left = post(&app, &key, &path, json!({ "since": since, "dry_run": true })).await;
    assert_eq!(left.json()["count"], 2000 - 501);
}

async fn a_job_resumes_in_another_process_and_stops_when_the_endpoint_is_deactivated(app: TestApp) {
    let sink = Sink::start().await;
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let ep = add_endpoint(&app, &key, json!({ "name": "E", "url": sink.url, "event_types": ["*"] })).await;
    let failed_at = app.clock_now() - HOUR;
    seed_failed(&app, &tenant_id, &ep, 120, failed_at, 1).await;
    let r = post(&app, &key, &format!("/endpoints/{ep}/recover"), json!({ "since": rfc3339(failed_at) })).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.json()["job"]["id"].as_str().unwrap().to_string();
    assert_eq!(r.json()["job"]["rate_per_second"], 50, "the default pace");
    assert_eq!(app.run_jobs().await, 50);

    // Another process (a restart) takes over where the first stopped.
    let other = app.herald_with(|_| {}).await;
    app.clock.advance(SECOND);
    assert_eq!(other.advance_jobs().await.unwrap(), 50);
    assert_eq!(other.advance_jobs().await.unwrap(), 0);
    assert_eq!(replays_of(&app, &id).await, (100, 100), "no original twice");

    let r = post(&app, &key, &format!("/endpoints/{ep}/deactivate"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.clock.advance(SECOND);
    assert_eq!(app.run_jobs().await, 0);
    let job = get(&app, &key, &format!("/jobs/{id}")).await.json()["job"].clone();
    assert_eq!((job["status"].as_str(), job["error"].as_str()), (Some("failed"), Some("the endpoint was deactivated")), "{job}");
    assert_eq!(job["done"], 100);
    let audit = get(&app, &key, "/audit").await.json();
    let finished = audit["data"].as_array().unwrap().iter().find(|e| e["action"] == "recovery.finished").expect("the stop is audited");
    assert!(finished["summary"].as_str().unwrap().contains("stopped after 100 of 120"), "{finished}");
}

async fn recovery_requests_are_checked_and_jobs_are_the_tenants_own(app: TestApp) {
    let (tenant_id, key, owner) = tenant_with_owner_and_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let ep = add_endpoint(&app, &key, json!({ "name": "E", "url": "https://hooks.example.com/e", "event_types": ["*"] })).await;
    let failed_at = app.clock_now() - HOUR;
    seed_failed(&app, &tenant_id, &ep, 3, failed_at, 10 * SECOND).await;
    let path = format!("/endpoints/{ep}/recover");
    let since = rfc3339(failed_at);
    for (body, field) in [
        (json!({ "since": "yesterday" }), "since"),
        (json!({}), "since"),
        (json!({ "since": rfc3339(app.clock_now() + HOUR) }), "since"),
        (json!({ "since": since, "status": "lost" }), "status"),
        (json!({ "since": since, "until": rfc3339(failed_at - HOUR) }), "until"),
        (json!({ "since": since, "event_type": "booking.teleported" }), "event_type"),
        (json!({ "since": since, "rate_per_second": 0 }), "rate_per_second"),
        (json!({ "since": since, "rate_per_second": 1001 }), "rate_per_second"),
    ] {
        let r = post(&app, &key, &path, body.clone()).await;
        assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some(field)), "{body}: {}", r.text);
    }
    assert_eq!(get(&app, &key, "/jobs").await.json()["data"], json!([]), "no job was started by a bad request");
    let only = |event_type: &str| json!({ "since": since, "event_type": event_type, "dry_run": true });
    assert_eq!(post(&app, &key, &path, only("invoice.closed")).await.json()["count"], 3);
    assert_eq!(post(&app, &key, &path, only("customer.created")).await.json()["count"], 0);
    let window = json!({ "since": since, "until": rfc3339(failed_at + 25 * SECOND), "dry_run": true });
    assert_eq!(post(&app, &key, &path, window).await.json()["count"], 2, "until bounds the window");

    let r = post(&app, &key, &path, json!({ "since": since })).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.json()["job"]["id"].as_str().unwrap().to_string();
    // Members follow jobs in the dashboard; another tenant cannot see or cancel them.
    let member = app.member(&owner, "bruno@lotus.example").await;
    let seen = app.get(&member, "/api/v1/jobs").await;
    assert_eq!((seen.status.as_u16(), seen.json()["data"][0]["id"].as_str()), (200, Some(id.as_str())), "{}", seen.text);
    let (_, other) = tenant_with_key(&app, "Zen", Plan::Enterprise, PrivateUrls::Allowed).await;
    assert_eq!(get(&app, &other, &format!("/jobs/{id}")).await.status, 404);
    assert_eq!(post(&app, &other, &format!("/jobs/{id}/cancel"), json!({})).await.status, 404);
    assert_eq!(post(&app, &other, &path, json!({ "since": since })).await.status, 404);
    assert_eq!(get(&app, &other, "/jobs").await.json()["data"], json!([]));
    assert_eq!(get(&app, &key, &format!("/jobs/{id}")).await.json()["job"]["status"], "running", "nothing cancelled it");
}
