//! Endpoint health: the failure streak in the API and the pages, failure reasons in words, and
//! the admins warned before deactivation and told of the recovery.

use domain::clock::MINUTE;
use serde_json::json;

use crate::both_databases;
use crate::helpers::{
    add_endpoint, api_get, deliveries, post, run_one_event_through_every_attempt, send_event, tenant_with_owner_and_key, Answer, Plan,
    PrivateUrls, Sink, TestApp,
};

both_databases!(health_warns_before_deactivation_and_reports_the_recovery, failure_reasons_say_what_to_fix,);

async fn health(app: &TestApp, key: &str, ep: &str) -> serde_json::Value {
    api_get(app, key, &format!("/endpoints/{ep}")).await.json()["health"].clone()
}

fn mails_with(app: &TestApp, subject: &str) -> Vec<String> {
    app.outbox().into_iter().filter(|m| m.contains(subject)).collect()
}

async fn health_warns_before_deactivation_and_reports_the_recovery(app: TestApp) {
    let sink = Sink::start().await;
    sink.answer(Answer::Status(503));
    let (_, key, owner) = tenant_with_owner_and_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let ep = add_endpoint(&app, &key, json!({ "name": "Flaky CRM", "url": sink.url, "event_types": ["*"] })).await;
    assert_eq!(
        health(&app, &key, &ep).await,
        json!({ "state": "healthy", "consecutive_failures": 0, "failures_left": 20, "last_failure": null })
    );

    // One failed attempt: degraded, with the reason.
    send_event(&app, &key, "invoice.closed", json!({ "n": 0 })).await;
    assert_eq!(app.deliver().await, 1);
    let h = health(&app, &key, &ep).await;
    assert_eq!(
        (h["state"].as_str(), h["consecutive_failures"].as_i64(), h["failures_left"].as_i64()),
        (Some("degraded"), Some(1), Some(19))
    );
    assert_eq!((h["last_failure"]["reason"].as_str(), h["last_failure"]["code"].as_i64()), (Some("http_5xx"), Some(503)), "{h}");
    assert!(h["last_failure"]["at"].as_str().unwrap().ends_with('Z'), "{h}");
    assert!(mails_with(&app, "at risk").is_empty());

    // Run that event out (6 attempts), then two more: 18 in a row. At 15 the admins were warned, once.
    app.clock.advance(11 * MINUTE);
    for _ in 0..6 {
        app.deliver().await;
        app.clock.advance(11 * MINUTE);
    }
    for n in 1..3 {
        run_one_event_through_every_attempt(&app, &key, n).await;
    }
    assert_eq!(sink.received().len(), 18);
    let h = health(&app, &key, &ep).await;
    assert_eq!((h["state"].as_str(), h["failures_left"].as_i64()), (Some("at_risk"), Some(2)), "{h}");
    let warned = mails_with(&app, "is at risk of being deactivated");
    assert_eq!(warned.len(), 1, "one warning per episode: {warned:?}");
    assert!(warned[0].contains("To: owner@lotus.example") && warned[0].contains("Flaky CRM"), "{}", warned[0]);
    assert!(warned[0].contains("internal error (HTTP 5xx)") && warned[0].contains("Check the receiver's logs"), "{}", warned[0]);
    let page = owner.get(format!("{}/endpoints/{ep}", app.base)).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
    assert!(page.contains("badge-health-at_risk") && page.contains("Only 2 more and Herald deactivates this endpoint"), "{page}");

    // A 404 next, then a success: healthy again, and the admins hear of the recovery.
    sink.answer(Answer::Status(200));
    sink.then(Answer::Status(404));
    send_event(&app, &key, "invoice.closed", json!({ "n": 3 })).await;
    app.deliver().await;
    assert_eq!(health(&app, &key, &ep).await["last_failure"]["reason"], "http_404");
    app.clock.advance(11 * MINUTE);
    app.deliver().await;
    assert_eq!(deliveries(&app).await.last().unwrap().status, "succeeded");
    let h = health(&app, &key, &ep).await;
    assert_eq!((h["state"].as_str(), h["failures_left"].as_i64()), (Some("healthy"), Some(20)), "{h}");
    assert_eq!(mails_with(&app, "has recovered").len(), 1);
    let stats = api_get(&app, &key, &format!("/endpoints/{ep}/stats?window=24h")).await.json();
    let reasons: Vec<(String, i64)> = stats["failure_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["reason"].as_str().unwrap().to_string(), r["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(reasons, [("http_5xx".to_string(), 18), ("http_404".to_string(), 1)], "{stats}");
    let list = owner.get(format!("{}/endpoints", app.base)).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
    assert!(list.contains("badge-health-healthy"), "{list}");

    // Deactivated (410), reactivated by an admin: its next success is a recovery too.
    sink.then(Answer::Status(410));
    send_event(&app, &key, "invoice.closed", json!({ "n": 4 })).await;
    app.deliver().await;
    assert_eq!(health(&app, &key, &ep).await["state"], "inactive");
    let r = post(&app, &key, &format!("/endpoints/{ep}/activate"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["health"]["state"], "healthy");
    send_event(&app, &key, "invoice.closed", json!({ "n": 5 })).await;
    assert_eq!(app.deliver().await, 1);
    assert_eq!(mails_with(&app, "has recovered").len(), 2);
}

async fn failure_reasons_say_what_to_fix(app: TestApp) {
    let sink = Sink::start().await;
    sink.answer(Answer::Status(401));
    let (_, key, owner) = tenant_with_owner_and_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "Locked", "url": sink.url, "event_types": ["invoice.closed"] })).await;
    // Nothing listens on port 9 of loopback.
    add_endpoint(&app, &key, json!({ "name": "Gone", "url": "http://127.0.0.1:9/hook", "event_types": ["invoice.closed"] })).await;
    send_event(&app, &key, "invoice.closed", json!({})).await;
    assert_eq!(app.deliver().await, 2);
    let mut seen = Vec::new();
    for d in deliveries(&app).await {
        let detail = api_get(&app, &key, &format!("/deliveries/{}", d.id)).await.json();
        let failure = detail["attempts"][0]["failure"].clone();
        assert!(!failure["message"].as_str().unwrap().is_empty() && !failure["fix"].as_str().unwrap().is_empty(), "{failure}");
        seen.push(failure["reason"].as_str().unwrap().to_string());
        // The raw view shows the same words.
        let page =
            owner.get(format!("{}/logs/{}", app.base, d.id)).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
        assert!(page.contains(&format!("data-reason=\"{}\"", failure["reason"].as_str().unwrap())), "{page}");
    }
    seen.sort();
    assert_eq!(seen, ["connection_refused", "http_401_403"]);
}
