//! The booking platform's API: platform keys (`hkp_…`) from the command line and the operator
//! console, tenants created, listed, read and changed with one, every tenant route under
//! `/api/v1/tenants/{tenant_id}/…`, and who is refused where.

use domain::StaffRole;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::{
    api_get, herald_cli, patch, platform_key, post, session_call, signed_in_staff, tenant_with_owner_and_key, Plan, PrivateUrls, Sink,
    TestApp,
};

both_databases!(
    a_platform_key_from_the_command_line_works_until_revoked,
    operators_create_list_and_revoke_platform_keys,
    the_platform_creates_lists_reads_and_changes_tenants,
    bad_tenant_input_is_refused_naming_the_field,
    tenant_routes_work_under_the_platform_prefix,
    who_may_use_which_routes,
);

async fn count(app: &TestApp, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let (n,): (i64,) = domain::on_pool!(&app.herald.store, pool => sqlx::query_as(&sql).fetch_one(pool).await).unwrap();
    n
}

/// The staff audit log's entries of `action`, newest first.
async fn audit_entries(app: &TestApp, operator: &reqwest::Client, action: &str) -> Vec<Value> {
    let r = app.rpc(operator, "audit_entries", &[("all", "true"), ("action", action)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["rows"].as_array().unwrap().clone()
}

async fn a_platform_key_from_the_command_line_works_until_revoked(app: TestApp) {
    let out = herald_cli(&app).args(["api-key", "create", "--platform", "--name", "ReserveKit"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let key = stdout.trim().to_string();
    assert_eq!(stdout, format!("{key}\n"), "the key alone, on one line");
    assert!(key.starts_with("hkp_") && key.len() == 44, "{key}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&key));

    // Only the digest is kept.
    let (hash, prefix): (String, String) = domain::on_pool!(&app.herald.store, pool => sqlx::query_as(
        "SELECT key_hash, prefix FROM platform_keys").fetch_one(pool).await)
    .unwrap();
    assert_eq!(hash, domain::crypto::sha256_hex(&key));
    assert!(key.starts_with(&prefix) && prefix.len() < key.len());

    let r = api_get(&app, &key, "/tenants").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json(), json!({ "data": [], "next_cursor": null }));
    for bad in ["hkp_not-a-key", "hkp_", &format!("{key}x")] {
        let r = api_get(&app, bad, "/tenants").await;
        assert_eq!((r.status.as_u16(), r.error()["code"].as_str()), (401, Some("invalid_api_key")), "{bad}: {}", r.text);
    }
    let r = crate::helpers::plain_client().get(format!("{}/api/v1/tenants", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // Neither --tenant nor --platform: refused, nothing made.
    let out = herald_cli(&app).args(["api-key", "create"]).output().unwrap();
    assert!(!out.status.success());
    let out = herald_cli(&app).args(["api-key", "create", "--platform", "--tenant", "ten_x"]).output().unwrap();
    assert!(!out.status.success());
    assert_eq!(count(&app, "platform_keys").await, 1);
    // A tenant key still comes from --tenant.
    let tenant = app.herald.create_tenant_by(&crate::helpers::system(), tenant_request("Lotus", None)).await.unwrap().tenant_id;
    let out = herald_cli(&app).args(["api-key", "create", "--tenant", &tenant]).output().unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().starts_with("hk_"));

    // The command line revokes nothing, but an operator does, and the key stops at once.
    let op = signed_in_staff(&app, "olga@herald.example", StaffRole::Operator).await;
    let id = app.rpc(&op, "platform_keys", &[]).await.json()[0]["id"].as_str().unwrap().to_string();
    let r = app.rpc(&op, "revoke_platform_key", &[("id", &id)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = api_get(&app, &key, "/tenants").await;
    assert_eq!((r.status.as_u16(), r.error()["code"].as_str()), (401, Some("invalid_api_key")), "{}", r.text);
    let r = api_get(&app, &key, &format!("/tenants/{tenant}/endpoints")).await;
    assert_eq!(r.status, 401, "a revoked key reaches no tenant either: {}", r.text);

    let created = audit_entries(&app, &op, "platform_key.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["actor_kind"], "system");
    assert!(created[0]["summary"].as_str().unwrap().contains("ReserveKit"));
    assert!(!created[0].to_string().contains(&key), "the key is not in the log");
    let revoked = audit_entries(&app, &op, "platform_key.revoked").await;
    assert_eq!((revoked[0]["actor_kind"].as_str(), revoked[0]["target"].as_str()), (Some("staff"), Some(id.as_str())));
}

fn tenant_request(name: &str, admin_email: Option<&str>) -> domain::staff::TenantRequest {
    domain::staff::TenantRequest {
        name: name.into(),
        plan: Plan::Basic,
        admin_email: admin_email.map(str::to_string),
        retention_days: None,
        allow_private_urls: false,
    }
}

async fn operators_create_list_and_revoke_platform_keys(app: TestApp) {
    let op = signed_in_staff(&app, "olga@herald.example", StaffRole::Operator).await;
    let r = app.rpc(&op, "platform_keys", &[]).await;
    assert_eq!((r.status.as_u16(), r.json()), (200, json!([])));
    let r = app.rpc(&op, "create_platform_key", &[("name", "  Booking platform  ")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let key = r.json()["key"].as_str().unwrap().to_string();
    assert_eq!(r.json()["name"], "Booking platform");
    assert!(key.starts_with("hkp_"));
    let r = app.rpc(&op, "create_platform_key", &[("name", &"x".repeat(101))]).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("name")));

    // Listed with its last use (noted on use), never the key itself.
    let listed = app.rpc(&op, "platform_keys", &[]).await;
    assert!(!listed.text.contains(&key));
    assert_eq!(listed.json()[0]["last_used_at"], Value::Null);
    assert_eq!(api_get(&app, &key, "/tenants").await.status, 200);
    let listed = app.rpc(&op, "platform_keys", &[]).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["last_used_at"].as_i64(), Some(app.clock_now()));
    assert_eq!(listed[0]["revoked_at"], Value::Null);
    let id = listed[0]["id"].as_str().unwrap().to_string();

    // Support and tenant people do not see the section at all.
    let support = signed_in_staff(&app, "sam@herald.example", StaffRole::Support).await;
    let owner = app.owner("ana@lotus.example", "Lotus").await;
    for client in [&support, &owner] {
        for (name, form) in
            [("platform_keys", vec![]), ("create_platform_key", vec![("name", "mine")]), ("revoke_platform_key", vec![("id", id.as_str())])]
        {
            let r = app.rpc(client, name, &form).await;
            assert_eq!(r.status, 404, "{name}: {}", r.text);
        }
    }
    assert_eq!(count(&app, "platform_keys").await, 1);

    let r = app.rpc(&op, "revoke_platform_key", &[("id", &id)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(api_get(&app, &key, "/tenants").await.status, 401, "revoked keys stop at once");
    let listed = app.rpc(&op, "platform_keys", &[]).await.json();
    assert_eq!(listed[0]["revoked_at"].as_i64(), Some(app.clock_now()));
    let r = app.rpc(&op, "revoke_platform_key", &[("id", &id)]).await;
    assert_eq!(r.status, 404, "already revoked: {}", r.text);

    let created = audit_entries(&app, &op, "platform_key.created").await;
    assert_eq!(created[0]["actor_label"], "olga@herald.example (operator)");
    assert_eq!(created[0]["tenant_id"], Value::Null);
    assert_eq!(audit_entries(&app, &op, "platform_key.revoked").await.len(), 1);
}

async fn the_platform_creates_lists_reads_and_changes_tenants(app: TestApp) {
    let key = platform_key(&app, "Booking platform").await;
    // A new admin address is invited (the link also goes out by email).
    let r = post(
        &app,
        &key,
        "/tenants",
        json!({ "name": "Lotus Spa", "plan": "professional", "admin_email": "Ana@Lotus.example", "retention_days": 30 }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let lotus = r.json();
    let lotus_id = lotus["id"].as_str().unwrap().to_string();
    assert!(lotus_id.starts_with("ten_"), "{lotus}");
    assert_eq!(
        (lotus["name"].as_str(), lotus["plan"].as_str(), lotus["endpoint_limit"].as_i64(), lotus["retention_days"].as_i64()),
        (Some("Lotus Spa"), Some("professional"), Some(3), Some(30))
    );
    assert_eq!(
        (lotus["suspended"].as_bool(), lotus["allow_private_urls"].as_bool(), lotus["members"].as_i64()),
        (Some(false), Some(false), Some(0))
    );
    let invitation = lotus["admin_invitation_url"].as_str().unwrap().to_string();
    assert!(invitation.starts_with(&format!("{}/invite/", app.base)), "{invitation}");
    assert!(app.outbox().iter().any(|m| m.contains("ana@lotus.example") && m.contains(&invitation)));
    // The invited admin joins as owner by following it.
    let token = invitation.rsplit('/').next().unwrap();
    let ana = app.new_browser();
    let r = app.rpc(&ana, "accept_invitation", &[("token", token), ("name", "Ana"), ("password", "ana password 12")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.me(&ana).await["tenant"]["role"], "owner");

    // An existing account becomes the owner at once; no admin at all is fine too.
    app.owner("bo@zen.example", "Zen Garden").await;
    let r = post(
        &app,
        &key,
        "/tenants",
        json!({ "name": "Zen Studio", "plan": "basic", "admin_email": "bo@zen.example", "allow_private_urls": true }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!((r.json()["members"].as_i64(), r.json()["admin_invitation_url"].clone()), (Some(1), Value::Null));
    assert_eq!(r.json()["allow_private_urls"], true);
    let r = post(&app, &key, "/tenants", json!({ "name": "Quiet Yoga", "plan": "enterprise" })).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!((r.json()["members"].as_i64(), r.json()["retention_days"].as_i64()), (Some(0), Some(60)));
    let yoga_id = r.json()["id"].as_str().unwrap().to_string();

    // Listed newest first, a page at a time, and searchable by name or id.
    app.clock.advance(1);
    let all = api_get(&app, &key, "/tenants").await.json();
    let names: Vec<&str> = all["data"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 4, "{all}");
    let first = api_get(&app, &key, "/tenants?limit=2").await.json();
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let second = api_get(&app, &key, &format!("/tenants?limit=2&cursor={cursor}")).await.json();
    assert_eq!(second["data"].as_array().unwrap().len(), 2);
    assert_eq!(second["next_cursor"], Value::Null);
    let paged: Vec<Value> = first["data"].as_array().unwrap().iter().chain(second["data"].as_array().unwrap()).cloned().collect();
    assert_eq!(paged, *all["data"].as_array().unwrap(), "the pages are the whole list, in order");
    let found = api_get(&app, &key, "/tenants?search=LOTUS").await.json();
    assert_eq!(found["data"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect::<Vec<_>>(), [lotus_id.as_str()]);
    let found = api_get(&app, &key, &format!("/tenants?search={yoga_id}")).await.json();
    assert_eq!(found["data"][0]["name"], "Quiet Yoga");
    assert_eq!(api_get(&app, &key, "/tenants?search=50%25_off").await.json()["data"], json!([]));
    let r = api_get(&app, &key, "/tenants?cursor=nonsense").await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("cursor")));

    // Read one; change it, with the downgrade rule.
    let r = api_get(&app, &key, &format!("/tenants/{lotus_id}")).await;
    assert_eq!((r.status.as_u16(), r.json()["members"].as_i64()), (200, Some(1)));
    assert_eq!(api_get(&app, &key, "/tenants/ten_nope").await.status, 404);
    for name in ["A", "B"] {
        let body = json!({ "name": name, "url": "https://hooks.example.com/x", "event_types": ["*"] });
        assert_eq!(post(&app, &key, &format!("/tenants/{lotus_id}/endpoints"), body).await.status, 201);
    }
    let r = patch(&app, &key, &format!("/tenants/{lotus_id}"), json!({ "plan": "basic" })).await;
    assert_eq!((r.status.as_u16(), r.error()["code"].as_str(), r.error()["field"].as_str()), (409, Some("plan_below_usage"), Some("plan")));
    assert!(r.error()["message"].as_str().unwrap().contains("Remove 1 endpoint first"), "{}", r.text);
    let r =
        patch(&app, &key, &format!("/tenants/{lotus_id}"), json!({ "plan": "business", "retention_days": 90, "allow_private_urls": true }))
            .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let changed = r.json();
    assert_eq!(
        (
            changed["plan"].as_str(),
            changed["endpoint_limit"].as_i64(),
            changed["retention_days"].as_i64(),
            changed["allow_private_urls"].as_bool(),
            changed["endpoints"].as_i64()
        ),
        (Some("business"), Some(5), Some(90), Some(true), Some(2))
    );

    // Suspension: ingest through the platform prefix is refused, and comes back when lifted.
    let r = patch(&app, &key, &format!("/tenants/{lotus_id}"), json!({ "suspended": true })).await;
    assert_eq!((r.status.as_u16(), r.json()["suspended"].as_bool()), (200, Some(true)));
    let event = json!({ "event_type": "invoice.closed", "data": {} });
    let r = post(&app, &key, &format!("/tenants/{lotus_id}/events"), event.clone()).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.error()["message"].as_str().unwrap().contains("suspended"));
    assert_eq!(count(&app, "messages").await, 0);
    assert_eq!(api_get(&app, &key, &format!("/tenants/{lotus_id}/endpoints")).await.status, 200, "reads still work");
    let r = patch(&app, &key, &format!("/tenants/{lotus_id}"), json!({ "suspended": false })).await;
    assert_eq!(r.json()["suspended"], false);
    assert_eq!(post(&app, &key, &format!("/tenants/{lotus_id}/events"), event).await.status, 202);

    // Each change is in the tenant's audit log under the platform key's name.
    let log = api_get(&app, &key, &format!("/tenants/{lotus_id}/audit?action=tenant.")).await.json();
    let entries = log["data"].as_array().unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "tenant.unsuspended",
            "tenant.suspended",
            "tenant.private_urls_changed",
            "tenant.retention_changed",
            "tenant.plan_changed",
            "tenant.created"
        ]
    );
    for e in entries {
        assert_eq!((e["actor"]["kind"].as_str(), e["actor"]["label"].as_str()), (Some("platform_key"), Some("Booking platform")), "{e}");
    }
}

async fn bad_tenant_input_is_refused_naming_the_field(app: TestApp) {
    let key = platform_key(&app, "Booking platform").await;
    let audited = count(&app, "audit_log").await;
    let cases = [
        (json!({ "name": "Spa", "plan": "gold" }), "plan"),
        (json!({ "name": "  ", "plan": "basic" }), "name"),
        (json!({ "name": "x".repeat(101), "plan": "basic" }), "name"),
        (json!({ "name": "Spa", "plan": "basic", "retention_days": 0 }), "retention_days"),
        (json!({ "name": "Spa", "plan": "basic", "retention_days": 3651 }), "retention_days"),
        (json!({ "name": "Spa", "plan": "basic", "admin_email": "not an email" }), "admin_email"),
        (json!({ "name": "Spa", "plan": "basic", "admin_email": "" }), "admin_email"),
        (json!({ "name": "Spa" }), "plan"),
        (json!({ "name": "Spa", "plan": "basic", "colour": "red" }), "colour"),
        (json!({ "name": "Spa", "plan": "basic", "retention_days": "long" }), "retention_days"),
    ];
    for (body, field) in cases {
        let r = post(&app, &key, "/tenants", body.clone()).await;
        assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some(field)), "{body}: {}", r.text);
    }
    let r = crate::helpers::plain_client()
        .post(format!("{}/api/v1/tenants", app.base))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!((count(&app, "tenants").await, count(&app, "invitations").await, count(&app, "audit_log").await), (0, 0, audited));

    let r = post(&app, &key, "/tenants", json!({ "name": "Spa", "plan": "basic" })).await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    for (body, field) in [
        (json!({ "plan": "gold" }), "plan"),
        (json!({ "retention_days": -1 }), "retention_days"),
        (json!({ "suspended": "yes" }), "suspended"),
        (json!({ "name": "Renamed" }), "name"),
    ] {
        let r = patch(&app, &key, &format!("/tenants/{id}"), body.clone()).await;
        assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some(field)), "{body}: {}", r.text);
    }
    assert_eq!(patch(&app, &key, "/tenants/ten_nope", json!({ "plan": "basic" })).await.status, 404);
    let tenant = app.herald.tenant(&id).await.unwrap();
    assert_eq!((tenant.plan, tenant.retention_days, tenant.suspended), (Plan::Basic, 60, false));
}

async fn tenant_routes_work_under_the_platform_prefix(app: TestApp) {
    let sink = Sink::start().await;
    let key = platform_key(&app, "Booking platform").await;
    let r = post(&app, &key, "/tenants", json!({ "name": "Lotus", "plan": "business", "allow_private_urls": true })).await;
    let lotus = r.json()["id"].as_str().unwrap().to_string();
    let r = post(&app, &key, "/tenants", json!({ "name": "Zen", "plan": "business", "allow_private_urls": true })).await;
    let zen = r.json()["id"].as_str().unwrap().to_string();
    let at = |tenant: &str, path: &str| format!("/tenants/{tenant}{path}");

    let r = post(&app, &key, &at(&lotus, "/endpoints"), json!({ "name": "CRM", "url": sink.url, "event_types": ["*"] })).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let endpoint = r.json()["id"].as_str().unwrap().to_string();
    let r =
        post(&app, &key, &at(&lotus, "/events"), json!({ "event_type": "invoice.closed", "event_id": "inv-1", "data": { "total": 12 } }))
            .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let message = r.json()["id"].as_str().unwrap().to_string();
    let r = post(&app, &key, &at(&lotus, "/events"), json!({ "event_type": "invoice.closed", "event_id": "inv-1", "data": {} })).await;
    assert_eq!((r.status.as_u16(), r.json()["id"].as_str()), (200, Some(message.as_str())), "idempotent there too");
    // Ingest keeps its larger body limit under the prefix (the dashboard's is 64 KiB).
    let big = json!({ "event_type": "invoice.closed", "data": { "notes": "x".repeat(100 * 1024) } });
    assert_eq!(post(&app, &key, &at(&lotus, "/events"), big).await.status, 202);
    assert_eq!(app.deliver().await, 2);
    let received = sink.received();
    assert_eq!(received.len(), 2);
    assert!(received.iter().all(|r| r.json()["tenant_id"] == lotus.as_str()));
    assert!(received.iter().any(|r| r.header("webhook-id") == message), "the event sent through the prefix was delivered");

    // Reads: the log, one delivery, its payload, the endpoint, its stats and secret, jobs.
    let log = api_get(&app, &key, &at(&lotus, "/deliveries")).await.json();
    assert_eq!(log["data"].as_array().unwrap().len(), 2);
    let delivery = log["data"][1]["id"].as_str().unwrap().to_string();
    assert_eq!(api_get(&app, &key, &at(&lotus, &format!("/deliveries/{delivery}"))).await.json()["status"], "succeeded");
    assert_eq!(api_get(&app, &key, &at(&lotus, &format!("/deliveries/{delivery}/payload"))).await.status, 200);
    assert_eq!(api_get(&app, &key, &at(&lotus, &format!("/endpoints/{endpoint}/stats?window=24h"))).await.json()["succeeded"], 2);
    assert!(api_get(&app, &key, &at(&lotus, &format!("/endpoints/{endpoint}/secret"))).await.json()["secret"]
        .as_str()
        .unwrap()
        .starts_with("whsec_"));
    assert_eq!(api_get(&app, &key, &at(&lotus, "/jobs")).await.json()["data"], json!([]));
    assert_eq!(api_get(&app, &key, &at(&lotus, "/settings")).await.json()["tenant_id"], lotus.as_str());
    // The catalog is the platform's own, not a tenant's: read with the key as it is.
    assert!(api_get(&app, &key, "/event-types").await.json()["data"].as_array().unwrap().len() > 10);
    // Admin writes: replay, patch, deactivate.
    assert_eq!(post(&app, &key, &at(&lotus, &format!("/deliveries/{delivery}/replay")), json!({})).await.status, 202);
    assert_eq!(patch(&app, &key, &at(&lotus, &format!("/endpoints/{endpoint}")), json!({ "name": "CRM 2" })).await.json()["name"], "CRM 2");

    // Another tenant's objects are not found through this tenant's prefix, nor is an unknown tenant.
    assert_eq!(api_get(&app, &key, &at(&zen, &format!("/endpoints/{endpoint}"))).await.status, 404);
    assert_eq!(api_get(&app, &key, &at(&zen, &format!("/deliveries/{delivery}"))).await.status, 404);
    assert_eq!(api_get(&app, &key, &at(&zen, "/deliveries")).await.json()["data"], json!([]));
    let r = post(&app, &key, &at("ten_nope", "/events"), json!({ "event_type": "invoice.closed", "data": {} })).await;
    assert_eq!((r.status.as_u16(), r.error()["code"].as_str()), (404, Some("not_found")), "{}", r.text);
    assert_eq!(api_get(&app, &key, &at("ten_nope", "/endpoints")).await.status, 404);
    assert_eq!(api_get(&app, &key, &at(&lotus, "/nothing-here")).await.status, 404);

    // The audit log: the platform key is the actor, by its name.
    let log = api_get(&app, &key, &at(&lotus, "/audit")).await.json();
    let entries = log["data"].as_array().unwrap();
    let replayed = entries.iter().find(|e| e["action"] == "delivery.replayed").expect("a replay entry");
    assert_eq!(replayed["actor"], json!({ "id": replayed["actor"]["id"], "label": "Booking platform", "kind": "platform_key" }));
    assert!(replayed["actor"]["id"].as_str().unwrap().starts_with("pkey_"));
    assert!(entries.iter().any(|e| e["action"] == "endpoint.created" && e["actor"]["kind"] == "platform_key"));
    assert!(entries.iter().all(|e| e["tenant_id"] == lotus.as_str()), "only this tenant's entries");
    // Through Zen's prefix, Lotus's entries are not there.
    assert!(api_get(&app, &key, &at(&zen, "/audit")).await.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["tenant_id"] == zen.as_str()));
    assert_eq!(api_get(&app, &key, &at(&zen, &format!("/audit?tenant_id={lotus}"))).await.status, 404);

    // Every tenant route is listed under the prefix too (/me, the platform's own routes, its
    // event catalog and the OpenAPI document are not).
    let routes = server::api::route_list();
    for (method, path) in &routes {
        let scoped = path.starts_with("/tenants/{tenant_id}/");
        let platform = matches!(*path, "/tenants" | "/tenants/{tenant_id}" | "/tenants/{tenant_id}/dashboard-links");
        if !scoped && !platform && !["/me", "/openapi.json"].contains(path) && !path.starts_with("/event-types") {
            let under = format!("/tenants/{{tenant_id}}{path}");
            assert!(routes.iter().any(|(m, p)| m == method && *p == under), "{method} {path} has no {under}");
        }
    }
    assert!(!routes.iter().any(|(_, p)| {
        ["/tenants/{tenant_id}/me", "/tenants/{tenant_id}/openapi.json"].contains(p) || p.starts_with("/tenants/{tenant_id}/event-types")
    }));
}

async fn who_may_use_which_routes(app: TestApp) {
    let (tenant_id, tenant_key, owner) = tenant_with_owner_and_key(&app, "Lotus", Plan::Business, PrivateUrls::Refused).await;
    let key = platform_key(&app, "Booking platform").await;
    let event = json!({ "event_type": "invoice.closed", "data": {} });

    // A tenant key is refused on every /tenants route, its own tenant's included.
    let platform_routes = [
        (Method::GET, "/tenants".to_string(), None),
        (Method::POST, "/tenants".to_string(), Some(json!({ "name": "Mine", "plan": "basic" }))),
        (Method::GET, format!("/tenants/{tenant_id}"), None),
        (Method::PATCH, format!("/tenants/{tenant_id}"), Some(json!({ "plan": "enterprise" }))),
        (Method::POST, format!("/tenants/{tenant_id}/dashboard-links"), Some(json!({ "email": "x@lotus.example", "role": "admin" }))),
        (Method::POST, format!("/tenants/{tenant_id}/events"), Some(event.clone())),
        (Method::GET, format!("/tenants/{tenant_id}/endpoints"), None),
        (Method::GET, format!("/tenants/{tenant_id}/audit"), None),
    ];
    for (method, path, body) in &platform_routes {
        let mut request =
            crate::helpers::plain_client().request(method.clone(), format!("{}/api/v1{path}", app.base)).bearer_auth(&tenant_key);
        if let Some(body) = body {
            request = request.json(body);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 403, "tenant key: {method} {path}");
        let error = r.json::<Value>().await.unwrap()["error"].clone();
        assert_eq!(error["code"], "platform_key_required", "{method} {path}");
        assert!(error["message"].as_str().unwrap().contains("platform key"), "{error}");
        // A dashboard session (the owner's, with its Origin) is refused the same way.
        let r = session_call(&app, &owner, method.clone(), path, body.clone()).await;
        assert_eq!((r.status.as_u16(), r.error()["code"].as_str()), (403, Some("platform_key_required")), "session: {method} {path}");
        // No credentials: 401.
        let r = crate::helpers::plain_client().request(method.clone(), format!("{}/api/v1{path}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), 401, "nobody: {method} {path}");
        // A bad tenant key: 401 before anything else.
        let r = crate::helpers::plain_client()
            .request(method.clone(), format!("{}/api/v1{path}", app.base))
            .bearer_auth("hk_nope")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "bad key: {method} {path}");
    }
    // Staff sessions, operators included, are not platform keys either.
    let op = signed_in_staff(&app, "olga@herald.example", StaffRole::Operator).await;
    let r = session_call(&app, &op, Method::GET, "/tenants", None).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!((count(&app, "tenants").await, count(&app, "messages").await), (1, 0), "nothing was created");
    assert_eq!(app.herald.tenant(&tenant_id).await.unwrap().plan, Plan::Business);

    // A platform key on a plain tenant route is told to name the tenant.
    for (method, path) in [
        (Method::POST, "/events"),
        (Method::GET, "/endpoints"),
        (Method::GET, "/deliveries"),
        (Method::GET, "/me"),
        (Method::GET, "/audit"),
    ] {
        let mut request = crate::helpers::plain_client().request(method.clone(), format!("{}/api/v1{path}", app.base)).bearer_auth(&key);
        if method == Method::POST {
            request = request.json(&event);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 403, "{method} {path}");
        let error = r.json::<Value>().await.unwrap()["error"].clone();
        assert_eq!(error["code"], "tenant_path_required", "{method} {path}");
        assert!(error["message"].as_str().unwrap().contains("/api/v1/tenants/{tenant_id}/"), "{error}");
    }
    assert_eq!(count(&app, "messages").await, 0);
    // The same platform key through the prefix: accepted.
    assert_eq!(post(&app, &key, &format!("/tenants/{tenant_id}/events"), event).await.status, 202);
}
