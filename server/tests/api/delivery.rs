//! Ingest and delivery: fan-out, the request on the wire, retries, deactivation, email.

use domain::clock::{MINUTE, SECOND};
use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::{
    add_endpoint, api_get, attempts, delete, deliveries, eventually, post, run_one_event_through_every_attempt, send_event, system,
    tenant_with_key, tenant_with_owner_and_key, Answer, Plan, PrivateUrls, RunningWorker, Sink, TestApp,
};

both_databases!(
    events_fan_out_to_subscribed_endpoints_only,
    the_request_carries_verb_signature_and_auth_header,
    a_repeated_event_id_returns_the_first_message,
    concurrent_events_are_each_stored_once_with_their_deliveries,
    concurrent_requests_with_different_keys_each_act_for_their_own_tenant,
    bad_events_are_refused_and_store_nothing,
    failures_retry_five_times_with_backoff,
    retry_after_is_honoured_and_410_deactivates_at_once,
    twenty_consecutive_failures_deactivate_and_email_the_admins,
    a_receiver_that_never_answers_times_out,
    responses_are_recorded_and_capped,
    the_email_channel_delivers_json_by_mail,
    private_addresses_are_refused_again_at_delivery,
    webhooks_switched_off_record_skipped_deliveries_to_recover_later,
    concurrent_workers_never_send_a_delivery_twice,
    redirects_are_not_followed,
    the_worker_loop_holds_each_endpoint_to_its_limit_and_serves_the_others_meanwhile,
    calenso_and_reservekit_names_are_accepted_and_sent_under_the_catalog_name,
    a_backlog_at_a_slow_endpoint_does_not_hold_up_another_tenant,
    a_worker_in_another_process_wakes_when_events_are_queued,
    a_change_made_in_another_process_applies_to_the_next_event,
    a_delivery_that_waited_out_half_its_lease_is_claimed_afresh_and_sent_once,
    an_endpoint_deleted_mid_send_leaves_the_other_deliveries_recorded_once,
);

async fn count(app: &TestApp, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let (n,): (i64,) = domain::on_pool!(&app.herald.store, pool => sqlx::query_as(&sql).fetch_one(pool).await).unwrap();
    n
}

async fn events_fan_out_to_subscribed_endpoints_only(app: TestApp) {
    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let bookings = add_endpoint(
        &app,
        &key,
        json!({ "name": "Bookings", "url": format!("{}/bookings", sink.url), "event_types": ["appointment.booking.created"] }),
    )
    .await;
    add_endpoint(&app, &key, json!({ "name": "Invoices", "url": format!("{}/invoices", sink.url), "event_types": ["invoice.closed"] }))
        .await;
    let paused = add_endpoint(&app, &key, json!({ "name": "Everything", "url": format!("{}/all", sink.url), "event_types": ["*"] })).await;
    post(&app, &key, &format!("/endpoints/{paused}/deactivate"), json!({})).await;

    let msg = send_event(&app, &key, "appointment.booking.created", json!({ "id": "apt_1" })).await;
    assert!(msg.starts_with("msg_"));
    let rows = deliveries(&app).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    let by = |id: &str| rows.iter().find(|r| r.endpoint_id == id).unwrap();
    assert_eq!(by(&bookings).status, "pending");
    assert_eq!(by(&paused).status, "skipped", "inactive endpoints get a skipped delivery, to replay later");

    assert_eq!(app.deliver().await, 1);
    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/bookings");
    assert_eq!(deliveries(&app).await.iter().find(|r| r.endpoint_id == bookings).unwrap().status, "succeeded");
}

async fn the_request_carries_verb_signature_and_auth_header(app: TestApp) {
    let sink = Sink::start().await;
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let envelope_ep = add_endpoint(
        &app,
        &key,
        json!({
            "name": "Envelope", "url": format!("{}/env", sink.url), "method": "PUT", "event_types": ["*"],
            "auth_header": { "name": "Ocp-Apim-Subscription-Key", "value": "subscription-key-123456" },
        }),
    )
    .await;
    add_endpoint(
        &app,
        &key,
        json!({ "name": "Data", "url": format!("{}/data", sink.url), "method": "PATCH", "event_types": ["*"], "payload_shape": "data" }),
    )
    .await;
    let data = json!({ "id": "apt_1", "customer": { "name": "Sophie" } });
    let r = post(&app, &key, "/events", json!({ "event_type": "appointment.booking.created", "data": data, "event_id": "evt-77" })).await;
    let msg = r.json()["id"].as_str().unwrap().to_string();
    app.deliver().await;

    let got = sink.received();
    let env = got.iter().find(|r| r.path == "/env").unwrap();
    assert_eq!(env.method, "PUT");
    assert_eq!(env.header("content-type"), "application/json");
    assert_eq!(env.header("user-agent"), format!("Herald-Webhooks/{}", env!("CARGO_PKG_VERSION")));
    assert_eq!(env.header("ocp-apim-subscription-key"), "subscription-key-123456");
    assert_eq!(env.header("webhook-id"), msg);
    let timestamp: i64 = env.header("webhook-timestamp").parse().unwrap();
    assert_eq!(timestamp, app.clock_now() / 1000);
    let body = env.json();
    assert_eq!(body["id"], msg.as_str(), "the envelope id equals webhook-id");
    assert_eq!(body["event_id"], "evt-77");
    assert_eq!(body["event_type"], "appointment.booking.created");
    assert_eq!(body["event_resource"], "appointment");
    assert_eq!(body["event_schema"], "v1");
    assert_eq!(body["event_timestamp"], "2026-01-01T10:00:00Z");
    assert_eq!(body["tenant_id"], tenant_id.as_str());
    assert_eq!(body["data"], data);
    // The signature verifies with the endpoint's secret (Standard Webhooks).
    let row = app.herald.endpoint_row(&tenant_id, &envelope_ep).await.unwrap();
    let secret = app.herald.signing_secrets(&row).unwrap().remove(0);
    let expected = domain::delivery::sign::sign(&secret, &msg, timestamp, &env.body).unwrap();
    assert_eq!(env.header("webhook-signature"), expected);

    let data_req = got.iter().find(|r| r.path == "/data").unwrap();
    assert_eq!(data_req.method, "PATCH");
    assert_eq!(data_req.json(), data, "the data shape sends the data object alone");
    assert!(data_req.header("ocp-apim-subscription-key").is_empty());
}

async fn a_repeated_event_id_returns_the_first_message(app: TestApp) {
    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "E", "url": sink.url, "event_types": ["*"] })).await;
    let body = json!({ "event_type": "invoice.closed", "data": { "total": 1 }, "event_id": "inv-1" });
    let first = post(&app, &key, "/events", body.clone()).await;
    assert_eq!(first.status, 202);
    let again = post(&app, &key, "/events", body).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!((count(&app, "messages").await, count(&app, "deliveries").await), (1, 1));
    // Another tenant may use the same key for its own event.
    let (_, other) = tenant_with_key(&app, "Zen", Plan::Enterprise, PrivateUrls::Allowed).await;
    let r = post(&app, &other, "/events", json!({ "event_type": "invoice.closed", "data": {}, "event_id": "inv-1" })).await;
    assert_eq!(r.status, 202);
    assert_ne!(r.json()["id"], first.json()["id"]);
}

/// Events arriving together are committed together (one transaction for many requests): each
/// request still gets its own answer, a repeated event_id among them is stored once, and every
/// stored message has its deliveries.
async fn concurrent_events_are_each_stored_once_with_their_deliveries(app: TestApp) {
    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    for name in ["A", "B"] {
        add_endpoint(&app, &key, json!({ "name": name, "url": sink.url, "event_types": ["invoice.closed"] })).await;
    }
    let requests = (0..60).map(|n| {
        // Every third request repeats one event_id; the others are distinct events.
        let event_id = if n % 3 == 0 { "same-1".to_string() } else { format!("evt-{n}") };
        let (app, key) = (&app, &key);
        async move { post(app, key, "/events", json!({ "event_type": "invoice.closed", "data": { "n": n }, "event_id": event_id })).await }
    });
    let replies = futures::future::join_all(requests).await;
    let created: Vec<&crate::helpers::Reply> = replies.iter().filter(|r| r.status == 202).collect();
    let repeats: Vec<&crate::helpers::Reply> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!((created.len(), repeats.len()), (41, 19), "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    let first_of_repeat = replies.iter().step_by(3).map(|r| r.json()["id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert!(first_of_repeat.iter().all(|id| *id == first_of_repeat[0]), "every copy of same-1 answers one id: {first_of_repeat:?}");
    let ids: std::collections::HashSet<String> = created.iter().map(|r| r.json()["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 41);
    assert_eq!((count(&app, "messages").await, count(&app, "deliveries").await), (41, 82));
}

/// API keys are looked up together when requests arrive together: each request must still act
/// for its own key's tenant, and an unknown key among them is refused.
async fn concurrent_requests_with_different_keys_each_act_for_their_own_tenant(app: TestApp) {
    let (lotus, lotus_key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let (zen, zen_key) = tenant_with_key(&app, "Zen", Plan::Enterprise, PrivateUrls::Allowed).await;
    let keys = [(lotus.as_str(), lotus_key.as_str()), (zen.as_str(), zen_key.as_str()), ("nobody", "hk_not-a-real-key")];
    let requests =
        (0..90).map(|n| {
            let (tenant_id, key) = keys[n % 3];
            let app = &app;
            async move {
                (tenant_id, post(app, key, "/events", json!({ "event_type": "invoice.closed", "data": { "sent_for": tenant_id } })).await)
            }
        });
    let replies = futures::future::join_all(requests).await;
    for (tenant_id, reply) in &replies {
        let expected = if *tenant_id == "nobody" { 401 } else { 202 };
        assert_eq!(reply.status, expected, "a request for {tenant_id}: {}", reply.text);
    }
    let stored: Vec<(String, String)> = domain::on_pool!(&app.herald.store, pool => sqlx::query_as(
        "SELECT tenant_id, payload FROM messages").fetch_all(pool).await)
    .unwrap();
    assert_eq!(stored.len(), 60, "30 events for each of the two tenants");
    for (tenant_id, payload) in &stored {
        let sent_for: Value = serde_json::from_str(payload).unwrap();
        assert_eq!(sent_for["sent_for"], tenant_id.as_str(), "an event is stored under the tenant whose key sent it");
    }
    assert_eq!(stored.iter().filter(|(t, _)| *t == lotus).count(), 30);
}

async fn bad_events_are_refused_and_store_nothing(app: TestApp) {
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let r = post(&app, &key, "/events", json!({ "event_type": "booking.exploded", "data": {} })).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("event_type")));
    assert!(r.error()["message"].as_str().unwrap().contains("is not an event type"));
    let r = post(&app, &key, "/events", json!({ "event_type": "invoice.closed", "data": [1, 2] })).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("data")));
    let r = post(&app, &key, "/events", json!({ "data": {} })).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("event_type")), "{}", r.text);
    let client = crate::helpers::plain_client();
    let raw = |body: String| {
        client.post(format!("{}/api/v1/events", app.base)).bearer_auth(&key).header("content-type", "application/json").body(body).send()
    };
    let r = raw("{not json".into()).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "invalid_json");
    let big = format!(r#"{{"event_type":"invoice.closed","data":{{"blob":"{}"}}}}"#, "x".repeat(257 * 1024));
    let r = raw(big).await.unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "payload_too_large");
    let fits = format!(r#"{{"event_type":"invoice.closed","data":{{"blob":"{}"}}}}"#, "x".repeat(200 * 1024));
    assert_eq!(raw(fits).await.unwrap().status(), 202, "up to 256 KiB is accepted");

    let r = crate::helpers::plain_client()
        .post(format!("{}/api/v1/events", app.base))
        .json(&json!({ "event_type": "invoice.closed", "data": {} }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let actor = domain::Actor { tenant: Some((tenant_id.clone(), domain::Role::Owner)), ..domain::Actor::user("u", "e") };
    let keys = app.herald.api_keys(&actor).await.unwrap();
    app.herald.revoke_api_key(&actor, &keys[0].id).await.unwrap();
    let r = post(&app, &key, "/events", json!({ "event_type": "invoice.closed", "data": {} })).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error()["code"], "invalid_api_key");
    assert_eq!(count(&app, "messages").await, 1, "only the one good event was stored");
}

async fn failures_retry_five_times_with_backoff(app: TestApp) {
    let sink = Sink::start().await;
    sink.answer(Answer::Status(500));
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "E", "url": sink.url, "event_types": ["*"] })).await;
    send_event(&app, &key, "invoice.closed", json!({})).await;
    let expected = [30, 60, 120, 240, 480];
    for (i, base) in expected.iter().enumerate() {
        app.deliver().await;
        let d = &deliveries(&app).await[0];
        assert_eq!((d.status.as_str(), d.attempts), ("retrying", i as i64 + 1));
        let delay = d.next_attempt_at.unwrap() - app.clock_now();
        let base = base * SECOND;
        assert!(delay >= base * 8 / 10 && delay <= base * 12 / 10, "retry {}: {delay} ms not within 20% of {base}", i + 1);
        assert!((30 * SECOND..=10 * MINUTE).contains(&delay), "retry {}: {delay} ms outside [30 s, 10 min]", i + 1);
        assert_eq!(app.deliver().await, 0, "nothing is due before the delay");
        app.clock.advance(delay);
    }
    app.deliver().await;
    let d = &deliveries(&app).await[0];
    assert_eq!((d.status.as_str(), d.attempts, d.next_attempt_at), ("failed", 6, None), "{d:?}");
    assert_eq!(d.last_status_code, Some(500));
    assert_eq!(sink.received().len(), 6, "one attempt and five retries");
    assert_eq!(attempts(&app, &d.id).await.len(), 6, "every attempt is recorded");
}

async fn retry_after_is_honoured_and_410_deactivates_at_once(app: TestApp) {
    let sink = Sink::start().await;
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let ep = add_endpoint(&app, &key, json!({ "name": "Picky", "url": sink.url, "event_types": ["*"] })).await;
    sink.then(Answer::WithHeader(429, "retry-after", "120".into()));
    sink.then(Answer::WithHeader(503, "retry-after", "0".into()));
    sink.then(Answer::WithHeader(503, "retry-after", "99999".into()));
    sink.then(Answer::Status(410));
    send_event(&app, &key, "invoice.closed", json!({})).await;
    app.deliver().await;
    assert_eq!(deliveries(&app).await[0].next_attempt_at.unwrap() - app.clock_now(), 120 * SECOND);
    app.clock.advance(120 * SECOND);
    app.deliver().await;
    assert_eq!(deliveries(&app).await[0].next_attempt_at.unwrap() - app.clock_now(), 30 * SECOND, "\"retry now\" waits the 30 s minimum");
    assert_eq!(app.deliver().await, 0, "nothing is sent before the minimum");
    app.clock.advance(30 * SECOND);
    app.deliver().await;
    assert_eq!(deliveries(&app).await[0].next_attempt_at.unwrap() - app.clock_now(), 10 * MINUTE, "Retry-After is capped at 10 min");
    app.clock.advance(10 * MINUTE);
    app.deliver().await;
    let d = &deliveries(&app).await[0];
    assert_eq!((d.status.as_str(), d.last_status_code), ("failed", Some(410)), "410 ends the delivery");
    let endpoint = app.herald.endpoint(&tenant_id, &ep).await.unwrap();
    assert_eq!(endpoint.status.as_str(), "inactive");
    assert!(endpoint.inactive_reason.unwrap().contains("410 Gone"));
    assert!(app.outbox().iter().any(|m| m.contains("Endpoint \"Picky\" was deactivated")));
}

async fn twenty_consecutive_failures_deactivate_and_email_the_admins(app: TestApp) {
    let sink = Sink::start().await;
    sink.answer(Answer::Status(500));
    let (tenant_id, key, owner) = tenant_with_owner_and_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    app.member(&owner, "bruno@lotus.example").await;
    let r = app.rpc(&owner, "invite", &[("email", "ada@lotus.example"), ("role", "admin")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.json()["link"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let r = app.rpc(&app.new_browser(), "accept_invitation", &[("token", &token), ("name", "Ada"), ("password", "ada password 12")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let roles: Vec<(String, String)> =
        app.herald.members(&tenant_id).await.unwrap().into_iter().map(|m| (m.email, m.role.as_str().to_string())).collect();
    assert_eq!(roles.len(), 3, "{roles:?}");
    assert!(
        roles.contains(&("bruno@lotus.example".into(), "member".into())) && roles.contains(&("ada@lotus.example".into(), "admin".into()))
    );
    let ep = add_endpoint(&app, &key, json!({ "name": "Flaky CRM", "url": sink.url, "event_types": ["*"] })).await;

    // 19 failures, then a success: the streak starts over.
    for _ in 0..19 {
        sink.then(Answer::Status(500));
    }
    sink.then(Answer::Status(200));
    for n in 0..4 {
        run_one_event_through_every_attempt(&app, &key, n).await;
    }
    assert_eq!(sink.received().len(), 20, "3 events × 6 failed attempts, then the 4th event failed once and succeeded");
    assert_eq!(deliveries(&app).await.last().unwrap().status, "succeeded");
    // 18 more failures (38 in all, but only 18 in a row) leave the endpoint active.
    for n in 4..7 {
        run_one_event_through_every_attempt(&app, &key, n).await;
    }
    assert_eq!(sink.received().len(), 38);
    assert_eq!(app.herald.endpoint(&tenant_id, &ep).await.unwrap().status.as_str(), "active", "only 18 in a row since the success");
    assert!(app.outbox().iter().all(|m| !m.contains("was deactivated")));
    // The 20th failure in a row stops deliveries.
    run_one_event_through_every_attempt(&app, &key, 7).await;
    assert_eq!(sink.received().len(), 40, "the 20th consecutive failure was the last request");
    let endpoint = app.herald.endpoint(&tenant_id, &ep).await.unwrap();
    assert_eq!(endpoint.status.as_str(), "inactive");
    assert_eq!(endpoint.inactive_reason.as_deref(), Some("20 consecutive failed attempts"));
    assert!(endpoint.inactive_since.is_some());

    // Each admin is emailed; the member is not.
    let mails: Vec<String> = app.outbox().into_iter().filter(|m| m.contains("was deactivated")).collect();
    let to = |address: &str| mails.iter().filter(|m| m.contains(&format!("To: {address}"))).count();
    assert_eq!((to("owner@lotus.example"), to("ada@lotus.example"), to("bruno@lotus.example")), (1, 1, 0), "{mails:?}");
    assert_eq!(mails.len(), 2);
    let mail = &mails[0];
    assert!(mail.contains("Flaky CRM") && mail.contains("20 consecutive failed attempts"), "{mail}");
    let link = format!("{}/logs?endpoint_id={ep}&status=undelivered", app.base);
    assert!(mail.contains(&link), "{mail}");
    // The link shows every delivery that was tried and not delivered: the 6 that gave up and the
    // one still retrying when the endpoint was deactivated (now skipped), not the success.
    let shown = api_get(&app, &key, &format!("/deliveries?endpoint_id={ep}&status=undelivered&limit=100")).await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    let statuses: Vec<String> =
        shown.json()["data"].as_array().unwrap().iter().map(|d| d["status"].as_str().unwrap().to_string()).collect();
    assert_eq!(statuses.len(), 7, "{statuses:?}");
    assert_eq!((statuses.iter().filter(|s| *s == "failed").count(), statuses[0].as_str()), (6, "skipped"), "{statuses:?}");
    let page = owner.get(&link).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert_eq!(html.matches("badge-status-failed").count() + html.matches("badge-status-skipped").count(), 7, "the page lists them too");
    // New events are recorded as skipped, and nothing more is sent.
    send_event(&app, &key, "invoice.closed", json!({})).await;
    assert_eq!(deliveries(&app).await.last().unwrap().status, "skipped");
    assert_eq!(app.deliver().await, 0);
    assert_eq!(sink.received().len(), 40);
}

async fn a_receiver_that_never_answers_times_out(app: TestApp) {
    let sink = Sink::start().await;
    sink.answer(Answer::Hang);
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "Slow", "url": sink.url, "event_types": ["*"] })).await;
    send_event(&app, &key, "invoice.closed", json!({})).await;
    app.deliver().await;
    let d = &deliveries(&app).await[0];
    assert_eq!(d.status, "retrying");
    assert!(d.last_error.as_deref().unwrap().starts_with("Timed out: no response within 1.5 s"), "{d:?}");
    assert_eq!(d.last_status_code, None);
    let detail = api_get(&app, &key, &format!("/deliveries/{}", d.id)).await.json();
    assert_eq!(detail["attempts"][0]["failure"]["reason"], "timeout", "{detail}");
}

async fn responses_are_recorded_and_capped(app: TestApp) {
    let sink = Sink::start().await;
    sink.answer(Answer::Body(200, "y".repeat(100 * 1024)));
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "E", "url": sink.url, "event_types": ["*"] })).await;
    send_event(&app, &key, "invoice.closed", json!({})).await;
    app.deliver().await;
    let d = &deliveries(&app).await[0];
    assert_eq!(d.status, "succeeded");
    let a = &attempts(&app, &d.id).await[0];
    assert_eq!(a.status_code, Some(200));
    assert_eq!(a.response_body.as_ref().unwrap().len(), 64 * 1024, "bodies are kept up to 64 KiB");
    let headers: Value = serde_json::from_str(a.response_headers.as_ref().unwrap()).unwrap();
    assert_eq!(headers["x-sink"], "yes");
    assert!(a.error.is_none());
    assert_eq!(a.attempted_at, app.clock_now());
}

async fn the_email_channel_delivers_json_by_mail(app: TestApp) {
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(
        &app,
        &key,
        json!({ "name": "Desk", "channel": "email", "email": "desk@lotus.example", "event_types": ["customer.created"] }),
    )
    .await;
    let msg = send_event(&app, &key, "customer.created", json!({ "name": "Sophie Martin" })).await;
    app.deliver().await;
    assert_eq!(deliveries(&app).await[0].status, "succeeded");
    let mail = app.outbox().into_iter().find(|m| m.contains("To: desk@lotus.example")).expect("an email");
    assert!(mail.contains(&format!("Subject: [Herald] customer.created ({msg})")), "{mail}");
    assert!(mail.contains("\"name\": \"Sophie Martin\""), "{mail}");
}

async fn private_addresses_are_refused_again_at_delivery(app: TestApp) {
    let sink = Sink::start().await;
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let port = sink.url.rsplit(':').next().unwrap();
    // A literal loopback address, and a host name that resolves to one.
    add_endpoint(&app, &key, json!({ "name": "Literal", "url": format!("{}/literal", sink.url), "event_types": ["*"] })).await;
    add_endpoint(&app, &key, json!({ "name": "Named", "url": format!("http://localhost:{port}/named"), "event_types": ["*"] })).await;
    // While the operator allows private addresses, both reach the receiver.
    send_event(&app, &key, "invoice.closed", json!({})).await;
    assert_eq!(app.deliver().await, 2);
    let mut paths: Vec<String> = sink.received().iter().map(|r| r.path.clone()).collect();
    paths.sort();
    assert_eq!(paths, ["/literal", "/named"], "localhost is this machine");

    let update = domain::tenants::TenantUpdate { allow_private_urls: Some(false), ..Default::default() };
    app.herald.change_tenant(&system(), &tenant_id, update).await.unwrap();
    app.clock.advance(SECOND);
    send_event(&app, &key, "invoice.closed", json!({})).await;
    assert_eq!(app.deliver().await, 2);
    let rows = deliveries(&app).await;
    assert_eq!(rows.len(), 4);
    for d in &rows[2..] {
        assert_eq!(d.status, "retrying", "{d:?}");
        assert!(d.last_error.as_deref().unwrap().contains("private"), "{d:?}");
        assert_eq!(d.last_status_code, None);
    }
    assert_eq!(sink.received().len(), 2, "no request left Herald");
}

async fn webhooks_switched_off_record_skipped_deliveries_to_recover_later(app: TestApp) {
    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "E", "url": sink.url, "event_types": ["*"] })).await;
    let r = crate::helpers::plain_client()
        .patch(format!("{}/api/v1/settings", app.base))
        .bearer_auth(&key)
        .json(&json!({ "webhooks_enabled": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let since = domain::clock::rfc3339(app.clock_now());
    send_event(&app, &key, "invoice.closed", json!({})).await;
    app.deliver().await;
    assert!(sink.received().is_empty(), "nothing is sent while webhooks are off");
    let rows = deliveries(&app).await;
    assert_eq!(rows.len(), 1, "the event is recorded for the endpoint, not lost");
    assert_eq!(
        (rows[0].status.as_str(), rows[0].last_error.as_deref()),
        ("skipped", Some("Webhooks were turned off when the event arrived"))
    );
    let ep = rows[0].endpoint_id.clone();
    let r = post(&app, &key, &format!("/endpoints/{ep}/recover"), json!({ "since": since, "status": "skipped" })).await;
    assert_eq!((r.status.as_u16(), r.error()["code"].as_str()), (409, Some("webhooks_off")), "{}", r.text);

    // Turned on again, recover sends what was skipped.
    let on = crate::helpers::plain_client()
        .patch(format!("{}/api/v1/settings", app.base))
        .bearer_auth(&key)
        .json(&json!({ "webhooks_enabled": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(on.status(), 200);
    let r = post(&app, &key, &format!("/endpoints/{ep}/recover"), json!({ "since": since, "status": "skipped" })).await;
    assert_eq!((r.status.as_u16(), r.json()["job"]["total"].as_i64()), (202, Some(1)), "{}", r.text);
    assert_eq!(app.run_jobs().await, 1);
    app.deliver().await; // the first of a job is due at once
    assert_eq!(sink.received().len(), 1);
    assert_eq!(sink.received()[0].json()["event_type"], "invoice.closed");
}

async fn concurrent_workers_never_send_a_delivery_twice(app: TestApp) {
    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    for i in 0..4 {
        add_endpoint(&app, &key, json!({ "name": format!("E{i}"), "url": format!("{}/{i}", sink.url), "event_types": ["*"] })).await;
    }
    for i in 0..50 {
        send_event(&app, &key, "invoice.closed", json!({ "n": i })).await;
    }
    // Three workers claim from the same queue at once, as separate processes would.
    let workers: Vec<_> = (0..3).map(|_| domain::delivery::worker::Worker::new(app.herald.clone())).collect();
    let counts = futures::future::join_all(workers.iter().map(|w| w.run_until_idle())).await;
    assert_eq!(counts.iter().sum::<usize>(), 200, "each delivery claimed by exactly one worker: {counts:?}");
    let received = sink.received();
    let distinct: std::collections::HashSet<(String, String)> = received.iter().map(|r| (r.path.clone(), r.header("webhook-id"))).collect();
    assert_eq!((received.len(), distinct.len()), (200, 200));
    assert!(deliveries(&app).await.iter().all(|d| d.status == "succeeded"));
}

async fn redirects_are_not_followed(app: TestApp) {
    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "Moved", "url": format!("{}/old", sink.url), "event_types": ["*"] })).await;
    for code in [301, 302, 307, 308] {
        sink.then(Answer::WithHeader(code, "location", format!("{}/new", sink.url)));
    }
    send_event(&app, &key, "invoice.closed", json!({})).await;
    for _ in 0..4 {
        assert_eq!(app.deliver().await, 1);
        app.clock.advance(11 * MINUTE);
    }
    let paths: Vec<String> = sink.received().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/old"; 4], "the Location was never requested");
    let d = &deliveries(&app).await[0];
    assert_eq!((d.status.as_str(), d.attempts, d.last_status_code), ("retrying", 4, Some(308)), "a redirect is a failed attempt");
    let errors: Vec<Option<String>> = attempts(&app, &d.id).await.into_iter().map(|a| a.error).collect();
    for (error, code) in errors.iter().zip([301, 302, 307, 308]) {
        assert_eq!(
            error.as_deref(),
            Some(format!("HTTP {code}: redirects are not followed; point the endpoint at the final URL").as_str())
        );
    }
}

async fn the_worker_loop_holds_each_endpoint_to_its_limit_and_serves_the_others_meanwhile(app: TestApp) {
    // Answers that take uneven times, so a slot often frees while the other is still busy.
    let slow = Sink::start().await;
    for ms in [100, 400, 100, 400, 100, 400, 100, 400] {
        slow.then(Answer::Slow(ms));
    }
    let fast = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "Slow", "url": format!("{}/slow", slow.url), "event_types": ["*"] })).await;
    add_endpoint(&app, &key, json!({ "name": "Fast", "url": format!("{}/fast", fast.url), "event_types": ["*"] })).await;
    for n in 0..8 {
        send_event(&app, &key, "invoice.closed", json!({ "n": n })).await;
    }
    // The loop `herald serve` runs, with room for 16 at once but 2 per endpoint.
    let herald = app
        .herald_with(|engine| {
            engine.concurrency = 16;
            engine.per_endpoint = 2;
        })
        .await;
    let worker = crate::helpers::RunningWorker::start(herald);
    crate::helpers::eventually("the fast endpoint got its 8", || fast.received().len() == 8).await;
    assert!(
        slow.received().len() < 8,
        "the slow endpoint did not hold the fast one up: {} of 8 slow ones were sent",
        slow.received().len()
    );
    crate::helpers::eventually("the slow endpoint got its 8", || slow.received().len() == 8).await;
    worker.stop().await;
    assert_eq!(slow.most_at_once("/slow"), 2, "two at a time, never more");
    assert!(fast.most_at_once("/fast") <= 2);
    let rows = deliveries(&app).await;
    assert!(rows.len() == 16 && rows.iter().all(|d| d.status == "succeeded" && d.attempts == 1), "{rows:?}");
}

async fn calenso_and_reservekit_names_are_accepted_and_sent_under_the_catalog_name(app: TestApp) {
    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    // Subscribing by an old name stores Calenso's name.
    let r = post(
        &app,
        &key,
        "/endpoints",
        json!({ "name": "Classes", "url": format!("{}/classes", sink.url), "event_types": ["class.booking.created", "appointment.rebooked"] }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["event_types"], json!(["event.booking.created", "appointment.booking.rebooked"]));
    let classes = r.json()["id"].as_str().unwrap().to_string();
    let deletions = add_endpoint(
        &app,
        &key,
        json!({ "name": "Deletions", "url": format!("{}/deleted", sink.url), "event_types": ["booking.deleted"] }),
    )
    .await;
    add_endpoint(
        &app,
        &key,
        json!({ "name": "Cancellations", "url": format!("{}/cancelled", sink.url), "event_types": ["booking.cancelled"] }),
    )
    .await;

    // ReserveKit's own name for a deletion reaches the deletion endpoint only, as booking.deleted.
    send_event(&app, &key, "bookings.delete", json!({ "id": "bkg_1" })).await;
    send_event(&app, &key, "class.booking.created", json!({ "id": "cbk_1" })).await;
    assert_eq!(app.deliver().await, 2);
    let got = sink.received();
    let sent: Vec<(String, String)> = got.iter().map(|r| (r.path.clone(), r.json()["event_type"].as_str().unwrap().to_string())).collect();
    assert!(sent.contains(&("/deleted".into(), "booking.deleted".into())), "{sent:?}");
    assert!(sent.contains(&("/classes".into(), "event.booking.created".into())), "{sent:?}");
    assert_eq!(sent.len(), 2, "booking.cancelled subscribers get no deletion: {sent:?}");
    let log = api_get(&app, &key, &format!("/deliveries?endpoint_id={deletions}")).await;
    assert_eq!(log.status, 200, "{}", log.text);
    assert_eq!(log.json()["data"][0]["event_type"], "booking.deleted");

    // The catalog names the aliases; unknown names are still refused.
    let types = api_get(&app, &key, "/event-types").await.json();
    let deleted = types["data"].as_array().unwrap().iter().find(|t| t["type"] == "booking.deleted").unwrap().clone();
    assert_eq!(deleted["aliases"], json!(["bookings.delete"]));
    let r = post(&app, &key, "/events", json!({ "event_type": "bookings.remove", "data": {} })).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("event_type")), "{}", r.text);

    // Migration 0011 rewrites subscriptions stored under the old names.
    let old = r#"["class.booking.cancelled","appointment.manual_booking.created","invoice.closed"]"#;
    let migration = match app.herald.store {
        domain::store::Store::Sqlite(_) => include_str!("../../../migrations/sqlite/0011_calenso_event_names.sql"),
        domain::store::Store::Postgres(_) => include_str!("../../../migrations/postgres/0011_calenso_event_names.sql"),
    };
    domain::on_pool!(&app.herald.store, pool => {
        sqlx::query("UPDATE endpoints SET event_types = $1 WHERE id = $2").bind(old).bind(&classes).execute(pool).await.unwrap();
        sqlx::raw_sql(migration).execute(pool).await.unwrap();
    });
    let after = api_get(&app, &key, &format!("/endpoints/{classes}")).await.json();
    assert_eq!(after["event_types"], json!(["event.booking.cancelled", "appointment.manual.booking.created", "invoice.closed"]));
}

/// Fairness: 10,000 due deliveries to one tenant's endpoint that never answers must not stand
/// in front of another tenant's first event. (How fast it goes is for `herald bench`; this
/// checks that it is not queued behind the backlog.)
async fn a_backlog_at_a_slow_endpoint_does_not_hold_up_another_tenant(app: TestApp) {
    let stuck = Sink::start().await;
    stuck.answer(Answer::Hang);
    let (_, busy_key) = tenant_with_key(&app, "Busy", Plan::Enterprise, PrivateUrls::Allowed).await;
    let slow = add_endpoint(&app, &busy_key, json!({ "name": "Slow", "url": format!("{}/slow", stuck.url), "event_types": ["*"] })).await;
    let first = send_event(&app, &busy_key, "invoice.closed", json!({ "n": 0 })).await;
    // 9,999 more due deliveries of the same message, written at once (10,000 ingests would
    // take most of the test's time); all due before the other tenant's event.
    let backlog = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9999)
        INSERT INTO deliveries (id, tenant_id, endpoint_id, message_id, event_type, status, kind, next_attempt_at, created_at)
        SELECT 'dlv_backlog_' || i, d.tenant_id, d.endpoint_id, d.message_id, d.event_type, 'pending', 'event', d.next_attempt_at - 1, d.created_at
        FROM n, deliveries d WHERE d.message_id = $1";
    assert_eq!(domain::execute_on!(&app.herald.store, sqlx::query(backlog).bind(&first)).unwrap(), 9999);
    let due = |app: &TestApp| {
        let store = app.herald.store.clone();
        let slow = slow.clone();
        async move {
            let (n,): (i64,) = domain::on_pool!(&store, pool => sqlx::query_as("SELECT COUNT(*) FROM deliveries WHERE endpoint_id = $1 AND status = 'pending'")
                .bind(&slow).fetch_one(pool).await).unwrap();
            n
        }
    };
    assert_eq!(due(&app).await, 10_000);

    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Calm", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "Calm", "url": format!("{}/calm", sink.url), "event_types": ["*"] })).await;

    // The loop `herald serve` runs, with the default engine settings (32 in flight per endpoint).
    let limit = domain::delivery::EngineSettings::default().per_endpoint;
    assert_eq!(limit, 32);
    let worker = crate::helpers::RunningWorker::start(app.herald_with(|_| {}).await);
    crate::helpers::eventually("the slow endpoint has its 32 in flight", || stuck.received().len() >= limit).await;
    send_event(&app, &key, "invoice.closed", json!({})).await;
    crate::helpers::eventually("the other tenant's event is delivered", || sink.received().len() == 1).await;
    assert!(due(&app).await >= 9_900, "the backlog is still waiting: the event went ahead of it");
    worker.stop().await;
    assert_eq!(stuck.most_at_once("/slow"), limit, "the slow endpoint never had more than its 32 in flight");
}

/// `--role web` and `--role worker` in two processes: the worker is woken by the commit that
/// queued the delivery (a PostgreSQL notification, SQLite's change counter), not by its poll.
/// Its poll is an hour here, so only a wake-up can deliver the events.
async fn a_worker_in_another_process_wakes_when_events_are_queued(app: TestApp) {
    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Split", Plan::Basic, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "CRM", "url": format!("{}/hook", sink.url), "event_types": ["*"] })).await;
    let worker = RunningWorker::start(app.herald_with(|engine| engine.idle_poll = std::time::Duration::from_secs(3600)).await);
    // Let it look once (nothing is due) and start listening; from then on it sleeps.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(sink.received().is_empty());
    for n in 1..=2 {
        // Ingest goes through this process (the web role); the worker shares only the database.
        send_event(&app, &key, "invoice.closed", json!({ "n": n })).await;
        eventually("the worker in the other process delivered the event", || sink.received().len() == n).await;
    }
    worker.stop().await;
    let sent: Vec<i64> = sink.received().iter().map(|r| r.json()["data"]["n"].as_i64().unwrap()).collect();
    assert_eq!(sent, vec![1, 2]);
}

/// Ingest keeps what it knows of a tenant in memory; a change made through another process (a
/// paused endpoint, a new one, a suspension, a revoked key) still applies to the very next event.
async fn a_change_made_in_another_process_applies_to_the_next_event(app: TestApp) {
    let second = app.spawn_process(|_| {}).await;
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Professional, PrivateUrls::Allowed).await;
    let first_endpoint =
        add_endpoint(&app, &key, json!({ "name": "First", "url": "https://hooks.example.com/1", "event_types": ["*"] })).await;
    let ingest = |id: &'static str| {
        let (second, key) = (&second, key.clone());
        async move { post(second, &key, "/events", json!({ "event_type": "invoice.closed", "event_id": id, "data": { "id": id } })).await }
    };
    let r = ingest("c1").await;
    assert_eq!(r.status, 202, "{}", r.text);
    let queued: Vec<_> = deliveries(&app).await.into_iter().filter(|d| d.status == "pending").collect();
    assert_eq!(queued.len(), 1, "one endpoint, one delivery: {queued:?}");

    // Through the first process: pause the first endpoint, add a second.
    let r = post(&app, &key, &format!("/endpoints/{first_endpoint}/deactivate"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let second_endpoint =
        add_endpoint(&app, &key, json!({ "name": "Second", "url": "https://hooks.example.com/2", "event_types": ["*"] })).await;
    let r = ingest("c2").await;
    assert_eq!(r.status, 202, "{}", r.text);
    let message = r.json()["id"].as_str().unwrap().to_string();
    let of_c2: Vec<_> = deliveries(&app).await.into_iter().filter(|d| d.message_id == message).collect();
    let status_of = |endpoint: &str| of_c2.iter().find(|d| d.endpoint_id == endpoint).map(|d| d.status.clone());
    assert_eq!(status_of(&first_endpoint).as_deref(), Some("skipped"), "paused elsewhere: recorded as skipped: {of_c2:?}");
    assert_eq!(status_of(&second_endpoint).as_deref(), Some("pending"), "added elsewhere: queued: {of_c2:?}");

    // Suspended through the command line: the second process refuses the next event.
    let out = crate::helpers::herald_cli(&app).args(["tenant", "update", &tenant_id, "--suspended", "true"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r = ingest("c3").await;
    assert_eq!(r.status, 403, "{}", r.text);
    let out = crate::helpers::herald_cli(&app).args(["tenant", "update", &tenant_id, "--suspended", "false"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(ingest("c4").await.status, 202, "accepted again once the suspension is lifted");

    // Revoked through the first process: refused by the second at once.
    let admin = system().in_tenant(&tenant_id);
    let keys = app.herald.api_keys(&admin).await.unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    app.herald.revoke_api_key(&admin, &keys[0].id).await.expect("revoke the key");
    assert_eq!(ingest("c5").await.status, 401);
}

async fn a_delivery_that_waited_out_half_its_lease_is_claimed_afresh_and_sent_once(app: TestApp) {
    let sink = Sink::start().await;
    // Slow answers (under the tests' 1.5 s timeout), so the clock can move while each is open.
    sink.then(Answer::Slow(800));
    sink.then(Answer::Slow(1400));
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "Hook", "url": format!("{}/hook", sink.url), "event_types": ["*"] })).await;
    for n in 0..2 {
        send_event(&app, &key, "invoice.closed", json!({ "n": n })).await;
        app.clock.advance(1); // so the first is the older, sent first
    }
    let one_at_a_time = |engine: &mut domain::delivery::EngineSettings| engine.per_endpoint = 1;
    let lease = app.herald.engine.lease.as_millis() as i64;
    // Worker A claims both (it claims ahead of its limit) and sends the first; the second
    // waits in A's lane while the first is answered, and meanwhile 60 % of its lease goes by.
    let worker_a = RunningWorker::start(app.herald_with(one_at_a_time).await);
    eventually("worker A sends the first", || sink.received().len() == 1).await;
    app.clock.advance(lease * 6 / 10);
    eventually("the second is sent after the first", || sink.received().len() == 2).await;
    // While the second is being answered, the clock passes the end of the lease it was first
    // claimed with. Sent on that old lease, worker B would now take it over and send it again.
    let herald_b = app.herald_with(one_at_a_time).await;
    app.clock.advance(lease / 2);
    let worker_b = RunningWorker::start(herald_b);
    for _ in 0..200 {
        if deliveries(&app).await.iter().all(|d| d.status == "succeeded") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    worker_a.stop().await;
    worker_b.stop().await;
    let sent: Vec<i64> = sink.received().iter().map(|r| r.json()["data"]["n"].as_i64().unwrap()).collect();
    assert_eq!(sent, [0, 1], "each event sent once, in order");
    let rows = deliveries(&app).await;
    assert!(rows.len() == 2 && rows.iter().all(|d| d.status == "succeeded" && d.attempts == 1), "{rows:?}");
}

/// Attempts finishing together are recorded together: one whose endpoint (and with it the
/// delivery) was deleted while the request was out must not take the others down with it, or
/// they would be sent again when their leases ran out.
async fn an_endpoint_deleted_mid_send_leaves_the_other_deliveries_recorded_once(app: TestApp) {
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let gone = add_endpoint(&app, &key, json!({ "name": "Gone", "url": "http://127.0.0.1:9/gone", "event_types": ["*"] })).await;
    let kept = add_endpoint(&app, &key, json!({ "name": "Kept", "url": "http://127.0.0.1:9/kept", "event_types": ["*"] })).await;
    for n in 0..10 {
        send_event(&app, &key, "invoice.closed", json!({ "n": n })).await;
    }
    // One claim takes both endpoints' (each is given only the room it can use).
    let claimed = app.herald.claim_due(100, 100, &[]).await.unwrap();
    assert_eq!(claimed.len(), 20);
    let rows = [app.herald.endpoint_row(&tenant_id, &gone).await.unwrap(), app.herald.endpoint_row(&tenant_id, &kept).await.unwrap()];
    // The requests are out; the endpoint is deleted before their answers are recorded.
    let r = delete(&app, &key, &format!("/endpoints/{gone}")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let answered = |code| domain::delivery::AttemptRecord {
        request: None,
        status_code: Some(code),
        response_headers: None,
        response_body: None,
        error: None,
        duration_ms: 5,
    };
    // All at once, as the worker's requests finishing together would: recorded in groups that
    // mix both endpoints. The deleted one's fail, so its health would be tracked too.
    let recorded = futures::future::join_all(claimed.iter().map(|c| {
        let endpoint = rows.iter().find(|e| e.id == c.endpoint_id).unwrap();
        let (code, verdict) = if c.endpoint_id == gone {
            (500, domain::delivery::retry::Verdict::Failed { retry_after: None })
        } else {
            (200, domain::delivery::retry::Verdict::Succeeded)
        };
        app.herald.record_attempt(c, endpoint, answered(code), verdict)
    }))
    .await;
    assert!(recorded.iter().all(Result::is_ok), "{recorded:?}");

    let rows = deliveries(&app).await;
    assert!(rows.iter().all(|d| d.endpoint_id == kept), "the deleted endpoint's deliveries went with it");
    assert_eq!(rows.len(), 10);
    for row in &rows {
        assert_eq!((row.status.as_str(), row.attempts), ("succeeded", 1), "{row:?}");
        assert_eq!(attempts(&app, &row.id).await.len(), 1);
    }
    // Nothing is left leased, to be sent again once the lease runs out.
    app.clock.advance(10 * MINUTE);
    assert!(app.herald.claim_due(100, 100, &[]).await.unwrap().is_empty());
    let stats = api_get(&app, &key, &format!("/endpoints/{kept}/stats?window=24h")).await.json();
    assert_eq!((stats["sent"].as_i64(), stats["succeeded"].as_i64()), (Some(10), Some(10)), "{stats}");
}
