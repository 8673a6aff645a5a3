//! Endpoints over the JSON API: plans, validation, secrets, tenancy and roles.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::{add_endpoint, send_event, system, tenant_with_key, Plan, PrivateUrls, Reply, Sink, TestApp};

both_databases!(
    endpoints_are_created_listed_changed_and_deleted,
    twenty_concurrent_creates_on_basic_leave_exactly_one,
    the_limit_counts_inactive_endpoints_and_downgrades_below_usage_are_refused,
    bad_endpoint_input_names_the_field_and_stores_nothing,
    auth_header_values_are_write_only_and_encrypted_at_rest,
    signing_secrets_rotate_with_a_24_hour_overlap,
    another_tenants_endpoints_answer_404,
    members_manage_endpoints_but_not_admin_switches,
    private_urls_only_where_the_operator_allows_them,
    the_event_catalog_is_published,
    api_keys_are_checked,
);

async fn call(app: &TestApp, method: reqwest::Method, path: &str, key: &str, body: Option<Value>) -> Reply {
    let mut request = crate::helpers::plain_client().request(method, format!("{}/api/v1{path}", app.base)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    Reply { status: response.status(), headers: response.headers().clone(), text: response.text().await.unwrap() }
}

fn endpoint(name: &str) -> Value {
    json!({ "name": name, "url": "https://hooks.example.com/herald", "event_types": ["appointment.booking.created"] })
}

async fn endpoints_are_created_listed_changed_and_deleted(app: TestApp) {
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Professional, PrivateUrls::Refused).await;
    let created = call(
        &app,
        reqwest::Method::POST,
        "/endpoints",
        &key,
        Some(json!({
            "name": "Booking sync", "description": "CRM", "url": "https://hooks.example.com/herald", "method": "PUT",
            "event_types": ["appointment.booking.created", "invoice.closed"], "payload_shape": "data",
        })),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let e = created.json();
    let id = e["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("ep_"));
    assert_eq!(e["method"], "PUT");
    assert_eq!(e["payload_shape"], "data");
    assert_eq!(e["channel"], "http");
    assert_eq!(e["status"], "active");
    assert_eq!(e["event_types"], json!(["appointment.booking.created", "invoice.closed"]));
    assert!(e["auth_header"].is_null());

    let list = call(&app, reqwest::Method::GET, "/endpoints", &key, None).await.json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["limit"], 3);

    let patched =
        call(&app, reqwest::Method::PATCH, &format!("/endpoints/{id}"), &key, Some(json!({ "name": "Renamed", "event_types": ["*"] })))
            .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.json()["name"], "Renamed");
    assert_eq!(patched.json()["event_types"], json!(["*"]));
    assert_eq!(patched.json()["method"], "PUT", "fields not named stay as they were");

    let email = call(
        &app,
        reqwest::Method::POST,
        "/endpoints",
        &key,
        Some(json!({
            "name": "Front desk", "channel": "email", "email": "Desk@Lotus.Example", "event_types": ["*"],
        })),
    )
    .await;
    assert_eq!(email.status, 201, "{}", email.text);
    assert_eq!(email.json()["email"], "desk@lotus.example");

    let off = call(&app, reqwest::Method::POST, &format!("/endpoints/{id}/deactivate"), &key, None).await.json();
    assert_eq!((off["status"].as_str(), off["inactive_reason"].as_str()), (Some("inactive"), Some("manual")));
    let on = call(&app, reqwest::Method::POST, &format!("/endpoints/{id}/activate"), &key, None).await.json();
    assert_eq!(on["status"], "active");
    assert!(on["inactive_reason"].is_null());

    assert_eq!(call(&app, reqwest::Method::DELETE, &format!("/endpoints/{id}"), &key, None).await.status, 204);
    let gone = call(&app, reqwest::Method::GET, &format!("/endpoints/{id}"), &key, None).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.error()["code"], "not_found");
}

async fn twenty_concurrent_creates_on_basic_leave_exactly_one(app: TestApp) {
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Basic, PrivateUrls::Refused).await;
    let attempts = (0..20).map(|i| {
        let (app, key) = (&app, key.clone());
        async move { call(app, reqwest::Method::POST, "/endpoints", &key, Some(endpoint(&format!("Endpoint {i}")))).await }
    });
    let replies = futures::future::join_all(attempts).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    let refused: Vec<&Reply> = replies.iter().filter(|r| r.status == 409).collect();
    assert_eq!(created, 1, "{:?}", replies.iter().map(|r| (r.status, r.text.clone())).collect::<Vec<_>>());
    assert_eq!(refused.len(), 19);
    for r in refused {
        assert_eq!(r.error()["code"], "plan_limit_reached");
        assert!(r.error()["message"].as_str().unwrap().contains("Upgrade to Professional for up to 3"), "{}", r.text);
    }
    assert_eq!(app.herald.endpoint_count(&tenant_id).await.unwrap(), 1);
}

async fn the_limit_counts_inactive_endpoints_and_downgrades_below_usage_are_refused(app: TestApp) {
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Professional, PrivateUrls::Refused).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let r = call(&app, reqwest::Method::POST, "/endpoints", &key, Some(endpoint(&format!("E{i}")))).await;
        assert_eq!(r.status, 201, "{}", r.text);
        ids.push(r.json()["id"].as_str().unwrap().to_string());
    }
    let off = call(&app, reqwest::Method::POST, &format!("/endpoints/{}/deactivate", ids[0]), &key, None).await;
    assert_eq!((off.status.as_u16(), off.json()["status"].as_str()), (200, Some("inactive")), "{}", off.text);
    let r = call(&app, reqwest::Method::POST, "/endpoints", &key, Some(endpoint("E3"))).await;
    assert_eq!(r.status, 409, "inactive endpoints count too: {}", r.text);
    assert!(r.error()["message"].as_str().unwrap().contains("Professional plan allows 3 endpoints"));

    let err = app
        .herald
        .change_tenant(
            &system(),
            &tenant_id,
            domain::tenants::TenantUpdate { plan: Some(domain::tenants::Plan::Basic), ..Default::default() },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "plan_below_usage");
    assert!(err.to_string().contains("Lotus has 3 endpoints, and the Basic plan allows 1. Remove 2 endpoints first."), "{err}");
    assert_eq!(app.herald.tenant(&tenant_id).await.unwrap().plan.as_str(), "professional", "the plan did not change");

    // The operator sees the same refusal in the console; an upgrade goes through.
    let operator = app.herald.create_staff("op@herald.example", "operator password", domain::StaffRole::Operator).await.unwrap();
    let op = app.new_browser();
    app.rpc(&op, "sign_in", &[("email", &operator.email), ("password", "operator password")]).await;
    let r = app.rpc(&op, "set_tenant_plan", &[("tenant_id", &tenant_id), ("plan", "basic")]).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.error()["message"].as_str().unwrap().contains("Remove 2 endpoints first"));
    let r = app.rpc(&op, "set_tenant_plan", &[("tenant_id", &tenant_id), ("plan", "business")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call(&app, reqwest::Method::POST, "/endpoints", &key, Some(endpoint("E3"))).await;
    assert_eq!(r.status, 201, "the new plan's limit applies at once: {}", r.text);
}

async fn bad_endpoint_input_names_the_field_and_stores_nothing(app: TestApp) {
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Refused).await;
    let base = endpoint("ok");
    let with = |patch: Value| {
        let mut body = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases = [
        (with(json!({ "name": "  " })), "name", "Give the endpoint a name"),
        (with(json!({ "url": "http://hooks.example.com/x" })), "url", "https://"),
        (with(json!({ "url": "https://10.0.0.8/hook" })), "url", "private"),
        (with(json!({ "url": "hooks" })), "url", "full URL"),
        (with(json!({ "method": "GET" })), "method", "POST, PUT or PATCH"),
        (with(json!({ "event_types": ["booking.exploded"] })), "event_types", "not an event type"),
        (with(json!({ "event_types": [] })), "event_types", "at least one"),
        (with(json!({ "payload_shape": "xml" })), "payload_shape", "envelope"),
        (with(json!({ "channel": "email" })), "email", "email address"),
        (with(json!({ "channel": "sms" })), "channel", "http or email"),
        (with(json!({ "auth_header": { "name": "Authorization", "value": "Bearer a\r\nX-Evil: 1" } })), "auth_header.value", "line breaks"),
        (with(json!({ "auth_header": { "name": "Transfer-Encoding", "value": "chunked" } })), "auth_header.name", "set by Herald"),
        (with(json!({ "auth_header": { "name": "Bad Name", "value": "x" } })), "auth_header.name", "letters, digits"),
        (with(json!({ "auth_header": { "name": "X-API-Key" } })), "auth_header.value", "Enter the header value"),
        (with(json!({ "colour": "blue" })), "colour", "unknown field"),
        (with(json!({ "name": 42 })), "name", "invalid type"),
    ];
    for (body, field, message) in cases {
        let r = call(&app, reqwest::Method::POST, "/endpoints", &key, Some(body.clone())).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert_eq!(r.error()["field"], field, "{body}: {}", r.text);
        assert!(r.error()["message"].as_str().unwrap().contains(message), "{body}: {}", r.text);
    }
    let r = crate::helpers::plain_client()
        .post(format!("{}/api/v1/endpoints", app.base))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "invalid_json");
    assert_eq!(app.herald.endpoint_count(&tenant_id).await.unwrap(), 0, "nothing half-written");
}

async fn auth_header_values_are_write_only_and_encrypted_at_rest(app: TestApp) {
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Basic, PrivateUrls::Refused).await;
    let secret_value = "Bearer sk_live_very-secret-9876";
    let mut body = endpoint("Secure");
    body["auth_header"] = json!({ "name": "Authorization", "value": secret_value });
    let r = call(&app, reqwest::Method::POST, "/endpoints", &key, Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(!r.text.contains("very-secret"), "{}", r.text);
    assert_eq!(r.json()["auth_header"], json!({ "name": "Authorization", "value_hint": "••••••••9876" }));
    let id = r.json()["id"].as_str().unwrap().to_string();

    for path in ["/endpoints".to_string(), format!("/endpoints/{id}")] {
        let r = call(&app, reqwest::Method::GET, &path, &key, None).await;
        assert!(!r.text.contains("very-secret") && !r.text.contains("whsec_"), "{path}: {}", r.text);
    }
    let signing = call(&app, reqwest::Method::GET, &format!("/endpoints/{id}/secret"), &key, None).await.json()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(signing.starts_with("whsec_"));

    // The raw row holds neither value in plain text.
    let (header, secret): (Option<String>, String) = match &app.herald.store {
        domain::Store::Sqlite(pool) => {
            sqlx::query_as("SELECT auth_header_value, secret FROM endpoints WHERE id = $1").bind(&id).fetch_one(pool).await.unwrap()
        }
        domain::Store::Postgres(pool) => {
            sqlx::query_as("SELECT auth_header_value, secret FROM endpoints WHERE id = $1").bind(&id).fetch_one(pool).await.unwrap()
        }
    };
    let header = header.unwrap();
    assert!(header.starts_with("v2:") && !header.contains("very-secret") && !header.contains("9876"), "{header}");
    assert!(!secret.contains(&signing[6..]) && !secret.contains("whsec_"), "{secret}");

    // Renaming keeps the value; null removes the header.
    let r = call(&app, reqwest::Method::PATCH, &format!("/endpoints/{id}"), &key, Some(json!({ "auth_header": { "name": "X-API-Key" } })))
        .await;
    assert_eq!(r.json()["auth_header"], json!({ "name": "X-API-Key", "value_hint": "••••••••9876" }));
    let r = call(&app, reqwest::Method::PATCH, &format!("/endpoints/{id}"), &key, Some(json!({ "auth_header": null }))).await;
    assert!(r.json()["auth_header"].is_null(), "{}", r.text);
    let _ = tenant_id;
}

async fn signing_secrets_rotate_with_a_24_hour_overlap(app: TestApp) {
    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let id = add_endpoint(&app, &key, json!({ "name": "E", "url": sink.url, "event_types": ["*"] })).await;
    let secret = || async {
        let r = call(&app, reqwest::Method::GET, &format!("/endpoints/{id}/secret"), &key, None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["secret"].as_str().unwrap().to_string()
    };
    let old = secret().await;
    let r = call(&app, reqwest::Method::POST, &format!("/endpoints/{id}/secret/rotate"), &key, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let new = r.json()["secret"].as_str().unwrap().to_string();
    assert_ne!(old, new);
    assert_eq!(secret().await, new);

    // What a receiver sees: `webhook-signature` holds one `v1,` signature per valid secret.
    let signatures = |n: usize| {
        let got = sink.received()[n].clone();
        let timestamp: i64 = got.header("webhook-timestamp").parse().unwrap();
        let sign = |secret: &str| domain::delivery::sign::sign(secret, &got.header("webhook-id"), timestamp, &got.body).unwrap();
        let header: Vec<String> = got.header("webhook-signature").split(' ').map(str::to_string).collect();
        (header, sign(&new), sign(&old))
    };
    send_event(&app, &key, "invoice.closed", json!({})).await;
    assert_eq!(app.deliver().await, 1);
    let (mut header, by_new, by_old) = signatures(0);
    assert!(header.iter().all(|s| s.starts_with("v1,")), "{header:?}");
    header.sort();
    let mut both = vec![by_new, by_old];
    both.sort();
    assert_eq!(header, both, "both secrets sign during the overlap");

    app.clock.advance(24 * domain::clock::HOUR);
    send_event(&app, &key, "invoice.closed", json!({})).await;
    assert_eq!(app.deliver().await, 1);
    let (header, by_new, _) = signatures(1);
    assert_eq!(header, [by_new], "after 24 h only the new secret signs");
}

async fn another_tenants_endpoints_answer_404(app: TestApp) {
    let (_, lotus) = tenant_with_key(&app, "Lotus", Plan::Basic, PrivateUrls::Refused).await;
    let (_, zen) = tenant_with_key(&app, "Zen", Plan::Basic, PrivateUrls::Refused).await;
    let id = call(&app, reqwest::Method::POST, "/endpoints", &lotus, Some(endpoint("Lotus hook"))).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (method, path, body) in [
        (reqwest::Method::GET, format!("/endpoints/{id}"), None),
        (reqwest::Method::PATCH, format!("/endpoints/{id}"), Some(json!({ "name": "mine now" }))),
        (reqwest::Method::DELETE, format!("/endpoints/{id}"), None),
        (reqwest::Method::POST, format!("/endpoints/{id}/deactivate"), None),
        (reqwest::Method::POST, format!("/endpoints/{id}/activate"), None),
        (reqwest::Method::GET, format!("/endpoints/{id}/secret"), None),
        (reqwest::Method::POST, format!("/endpoints/{id}/secret/rotate"), None),
    ] {
        let r = call(&app, method.clone(), &path, &zen, body).await;
        assert_eq!(r.status, 404, "{method} {path}: {}", r.text);
    }
    assert!(call(&app, reqwest::Method::GET, "/endpoints", &zen, None).await.json()["data"].as_array().unwrap().is_empty());
    let still = call(&app, reqwest::Method::GET, &format!("/endpoints/{id}"), &lotus, None).await.json();
    assert_eq!((still["name"].as_str(), still["status"].as_str()), (Some("Lotus hook"), Some("active")));
}

async fn members_manage_endpoints_but_not_admin_switches(app: TestApp) {
    let owner = app.owner("ana@lotus.example", "Lotus").await;
    let member = app.member(&owner, "bruno@lotus.example").await;
    let api = |client: &reqwest::Client, method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut request = client.request(method, format!("{}/api/v1{path}", app.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send()
    };
    let r = api(&member, reqwest::Method::POST, "/endpoints", Some(endpoint("Member's"))).await.unwrap();
    assert_eq!(r.status(), 201, "members manage endpoints");
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    assert_eq!(api(&member, reqwest::Method::POST, &format!("/endpoints/{id}/deactivate"), None).await.unwrap().status(), 200);
    let r = api(&member, reqwest::Method::POST, &format!("/endpoints/{id}/activate"), None).await.unwrap();
    assert_eq!(r.status(), 403, "reactivation is for admins");
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "forbidden");
    // The member is told whom to ask; the owner, who can do it, is not.
    let seen = app.rpc(&member, "endpoint", &[("id", &id)]).await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert_eq!(seen.json()["reactivated_by"], json!(["Owner <ana@lotus.example>"]));
    assert_eq!(app.rpc(&owner, "endpoint", &[("id", &id)]).await.json()["reactivated_by"], json!([]));
    let page = member.get(format!("{}/endpoints/{id}", app.base)).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Only an admin can reactivate it: ask Owner &lt;ana@lotus.example&gt;."), "{page}");
    let r = api(&member, reqwest::Method::PATCH, "/settings", Some(json!({ "webhooks_enabled": false }))).await.unwrap();
    assert_eq!(r.status(), 403);
    let r = api(&owner, reqwest::Method::PATCH, "/settings", Some(json!({ "webhooks_enabled": false }))).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["webhooks_enabled"], false);
    assert_eq!(api(&owner, reqwest::Method::POST, &format!("/endpoints/{id}/activate"), None).await.unwrap().status(), 200);
}

async fn private_urls_only_where_the_operator_allows_them(app: TestApp) {
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Basic, PrivateUrls::Refused).await;
    let mut body = endpoint("Local");
    body["url"] = json!("http://127.0.0.1:9999/hook");
    let r = call(&app, reqwest::Method::POST, "/endpoints", &key, Some(body.clone())).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("url")));
    app.herald
        .change_tenant(&system(), &tenant_id, domain::tenants::TenantUpdate { allow_private_urls: Some(true), ..Default::default() })
        .await
        .unwrap();
    let r = call(&app, reqwest::Method::POST, "/endpoints", &key, Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["url"], "http://127.0.0.1:9999/hook");
}

async fn the_event_catalog_is_published(app: TestApp) {
    // For any caller who signed in or holds a key.
    let r = crate::helpers::plain_client().get(format!("{}/api/v1/event-types", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Basic, PrivateUrls::Refused).await;
    let r = call(&app, reqwest::Method::GET, "/event-types", &key, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body: Value = r.json();
    let types = body["data"].as_array().unwrap();
    assert_eq!(types.len(), 59);
    let booking = types.iter().find(|t| t["type"] == "appointment.booking.created").unwrap();
    assert_eq!(booking["resource"], "appointment");
    assert_eq!(booking["schema"]["type"], "object");
    assert!(booking["sample"].is_object() && !booking["description"].as_str().unwrap().is_empty());
    for t in types {
        let name = t["type"].as_str().unwrap();
        assert_eq!(name, name.to_lowercase());
        assert!(name.starts_with(&format!("{}.", t["resource"].as_str().unwrap())));
    }
}

async fn api_keys_are_checked(app: TestApp) {
    let r = crate::helpers::plain_client().get(format!("{}/api/v1/endpoints", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = call(&app, reqwest::Method::GET, "/endpoints", "hk_not-a-real-key", None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error()["code"], "invalid_api_key");
    assert!(!r.text.contains("hk_not-a-real-key"), "keys are never echoed");
}
