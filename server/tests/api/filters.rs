//! Payload filters: an endpoint receives only the events whose envelope matches its filter.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::{
    add_endpoint, api_get, deliveries, patch, post, send_event, tenant_with_key, tenant_with_owner_and_key, Plan, PrivateUrls, Reply, Sink,
    TestApp,
};

both_databases!(
    only_matching_events_create_deliveries,
    bad_filters_name_the_field_and_change_nothing,
    the_form_previews_the_filter_against_the_samples,
);

async fn only_matching_events_create_deliveries(app: TestApp) {
    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    // ReserveKit's per-service webhook: its service ids are numbers, the filter holds text.
    let r = post(
        &app,
        &key,
        "/endpoints",
        json!({ "name": "Sauna only", "url": format!("{}/sauna", sink.url), "event_types": ["booking.created", "booking.deleted"],
                "filter": { "data.service_id": ["123", "srv_9"] } }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["filter"], json!({ "data.service_id": ["123", "srv_9"] }));
    let sauna = r.json()["id"].as_str().unwrap().to_string();
    let everything =
        add_endpoint(&app, &key, json!({ "name": "All bookings", "url": format!("{}/all", sink.url), "event_types": ["booking.created"] }))
            .await;
    add_endpoint(
        &app,
        &key,
        json!({ "name": "Berlin", "url": format!("{}/berlin", sink.url), "event_types": ["*"],
                "filter": { "data.location.id": "loc_berlin", "event_type": ["booking.created"] } }),
    )
    .await;
    assert_eq!(api_get(&app, &key, &format!("/endpoints/{everything}")).await.json()["filter"], Value::Null, "no filter: null");

    send_event(&app, &key, "bookings.create", json!({ "id": 789, "service_id": 123, "location": { "id": "loc_munich" } })).await;
    send_event(&app, &key, "booking.created", json!({ "id": 790, "service_id": 456, "location": { "id": "loc_berlin" } })).await;
    send_event(&app, &key, "booking.deleted", json!({ "id": 791, "service_id": "srv_9", "location": { "id": "loc_berlin" } })).await;
    let rows = deliveries(&app).await;
    assert_eq!(rows.len(), 5, "filtered-out events create no delivery at all: {rows:?}");
    assert_eq!(app.deliver().await, 5);
    let mut got: Vec<(String, i64)> = sink.received().iter().map(|r| (r.path.clone(), r.json()["data"]["id"].as_i64().unwrap())).collect();
    got.sort();
    assert_eq!(
        got,
        [("/all".into(), 789), ("/all".into(), 790), ("/berlin".into(), 790), ("/sauna".into(), 789), ("/sauna".into(), 791)],
        "each endpoint got exactly the events its filter matches"
    );

    // Removing the filter delivers every event of the subscribed types again.
    let r = patch(&app, &key, &format!("/endpoints/{sauna}"), json!({ "filter": null })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["filter"], Value::Null);
    send_event(&app, &key, "booking.created", json!({ "id": 792, "service_id": 456 })).await;
    assert_eq!(app.deliver().await, 2);
    assert!(sink.received().iter().any(|r| r.path == "/sauna" && r.json()["data"]["id"] == 792));
}

async fn bad_filters_name_the_field_and_change_nothing(app: TestApp) {
    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let url = format!("{}/hook", sink.url);
    for (filter, says) in [
        (json!(["data.service_id"]), "JSON object"),
        (json!({ "service_id": 1 }), "must start at a field of the envelope"),
        (json!({ "data.service_id": [] }), "at least one allowed value"),
        (json!({ "data.service_id": { "in": [1] } }), "not an object"),
    ] {
        let r = post(&app, &key, "/endpoints", json!({ "name": "Bad", "url": url, "event_types": ["*"], "filter": filter })).await;
        assert_eq!(r.status, 422, "{filter}: {}", r.text);
        assert_eq!(r.error()["field"], "filter", "{}", r.text);
        assert!(r.error()["message"].as_str().unwrap().contains(says), "{filter}: {}", r.text);
    }
    assert_eq!(api_get(&app, &key, "/endpoints").await.json()["data"], json!([]), "no endpoint was half-created");

    let id =
        add_endpoint(&app, &key, json!({ "name": "Kept", "url": url, "event_types": ["*"], "filter": { "data.status": "confirmed" } }))
            .await;
    let r = patch(&app, &key, &format!("/endpoints/{id}"), json!({ "name": "Renamed", "filter": { "data..status": 1 } })).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("filter")), "{}", r.text);
    let kept = api_get(&app, &key, &format!("/endpoints/{id}")).await.json();
    assert_eq!((kept["name"].as_str(), &kept["filter"]), (Some("Kept"), &json!({ "data.status": "confirmed" })), "nothing changed");
    // A change that leaves the filter out keeps it; the audit log says when it changed.
    let r = patch(&app, &key, &format!("/endpoints/{id}"), json!({ "name": "Renamed" })).await;
    assert_eq!(r.json()["filter"], json!({ "data.status": "confirmed" }), "{}", r.text);
    let r = patch(&app, &key, &format!("/endpoints/{id}"), json!({ "filter": { "data.status": ["confirmed", "pending"] } })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let audit = api_get(&app, &key, "/audit").await.json();
    let changed = audit["data"].as_array().unwrap().iter().find(|e| e["action"] == "endpoint.updated").unwrap().clone();
    assert_eq!(changed["details"]["changed"], json!(["filter"]), "{changed}");
}

async fn the_form_previews_the_filter_against_the_samples(app: TestApp) {
    let (_, _, owner) = tenant_with_owner_and_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let preview = |form: Value| {
        let request = owner.post(format!("{}/rpc/preview_filter", app.base)).json(&json!({ "form": form }));
        async move {
            let r = request.send().await.unwrap();
            Reply { status: r.status(), headers: r.headers().clone(), text: r.text().await.unwrap() }
        }
    };
    let form = |services: &str, filter: &str| {
        json!({ "name": "", "description": "", "url": "", "method": "POST", "channel": "http", "email": "", "payload_shape": "envelope",
                "event_types": ["customer.created", "booking.created", "bookings.delete"], "auth_header_name": "", "auth_header_value": "",
                "filter": filter, "filter_services": services })
    };
    // The booking samples name service srv_5521; customers name none, so they are filtered out.
    let r = preview(form("srv_5521, srv_1", "")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json(),
        json!([
            { "event_type": "booking.created", "delivered": true },
            { "event_type": "booking.deleted", "delivered": true },
            { "event_type": "customer.created", "delivered": false },
        ])
    );
    let r = preview(form("srv_5521", r#"{"event_type": "booking.deleted"}"#)).await;
    let body = r.json();
    let delivered: Vec<&str> =
        body.as_array().unwrap().iter().filter(|p| p["delivered"] == true).map(|p| p["event_type"].as_str().unwrap()).collect();
    assert_eq!(delivered, ["booking.deleted"], "{}", r.text);
    let r = preview(form("", "{not json")).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("not valid JSON"), "{}", r.text);
}
