//! The event catalog the platform extends: operators define, change, deprecate and restore
//! their own types over `/api/v1/event-types` (every bad input a 4xx naming the field, every
//! change audited without a tenant); nobody else may; tenants subscribe to custom types like
//! built-in ones and receive them; a deprecated type keeps its subscribers and takes no new
//! ones; another Herald process on the same database sees a change.

use domain::StaffRole;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::{
    add_endpoint, api_get, patch, post, send_event, session_call, signed_in_staff, tenant_with_key, tenant_with_owner_and_key, Plan,
    PrivateUrls, Reply, Sink, TestApp,
};

both_databases!(
    operators_define_change_deprecate_and_restore_event_types,
    every_bad_input_names_its_field_and_writes_nothing,
    only_operators_and_the_platform_change_the_catalog,
    the_platform_key_defines_types_that_tenants_then_receive,
    tenants_subscribe_to_custom_types_and_receive_them,
    a_deprecated_type_keeps_its_subscribers_and_takes_no_new_ones,
    another_process_sees_a_change_at_once,
);

fn voucher() -> Value {
    json!({
        "type": "voucher.redeemed",
        "description": "A client redeemed a gift voucher.",
        "sample": { "id": "vch_5Jq2", "code": "SPRING-25", "amount": 2500, "currency": "EUR" },
        "schema": {
            "type": "object", "required": ["id", "amount"],
            "properties": { "id": { "type": "string" }, "amount": { "type": "integer", "minimum": 0 } },
        },
    })
}

/// An operator signed in to the dashboard, whose session calls the API.
async fn operator(app: &TestApp) -> reqwest::Client {
    signed_in_staff(app, "olga@herald.example", StaffRole::Operator).await
}

async fn call(app: &TestApp, client: &reqwest::Client, method: Method, path: &str, body: Option<Value>) -> Reply {
    session_call(app, client, method, path, body).await
}

fn find<'a>(list: &'a Value, name: &str) -> Option<&'a Value> {
    list["data"].as_array().unwrap().iter().find(|t| t["type"] == name)
}

async fn custom_rows(app: &TestApp) -> i64 {
    let (n,): (i64,) =
        domain::on_pool!(&app.herald.store, pool => sqlx::query_as("SELECT COUNT(*) FROM event_types").fetch_one(pool).await).unwrap();
    n
}

async fn operators_define_change_deprecate_and_restore_event_types(app: TestApp) {
    let op = operator(&app).await;
    let before = call(&app, &op, Method::GET, "/event-types", None).await;
    assert_eq!(before.status, 200, "{}", before.text);
    assert_eq!(before.json()["data"].as_array().unwrap().len(), 59);
    assert!(before.json()["data"].as_array().unwrap().iter().all(|t| t["custom"] == false && t["deprecated"] == false));

    // The session's CSRF token works as a script would send it (no Origin header).
    let csrf = app.me(&op).await["csrf_token"].as_str().unwrap().to_string();
    let r = op.post(format!("{}/api/v1/event-types", app.base)).header("x-csrf-token", &csrf).json(&voucher()).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["type"], "voucher.redeemed");
    assert_eq!(created["resource"], "voucher");
    assert_eq!(
        (created["custom"].as_bool(), created["deprecated"].as_bool(), created["schema_given"].as_bool()),
        (Some(true), Some(false), Some(true))
    );
    assert_eq!(created["sample"]["code"], "SPRING-25");
    assert_eq!(created["created_at"], "2026-01-01T10:00:00Z");

    let list = call(&app, &op, Method::GET, "/event-types", None).await.json();
    assert_eq!(list["data"].as_array().unwrap().len(), 60);
    assert_eq!(list["data"][59]["type"], "voucher.redeemed", "after the built-in types");
    let one = call(&app, &op, Method::GET, "/event-types/voucher.redeemed", None).await;
    assert_eq!((one.status.as_u16(), one.json()["description"].as_str()), (200, Some("A client redeemed a gift voucher.")));

    // Change the description and the sample; then drop the schema (derived from the sample).
    let r = call(
        &app,
        &op,
        Method::PATCH,
        "/event-types/voucher.redeemed",
        Some(json!({ "description": "A gift voucher was redeemed.", "sample": { "id": "vch_9", "amount": 100 } })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.json()["description"].as_str(), r.json()["sample"]["id"].as_str()),
        (Some("A gift voucher was redeemed."), Some("vch_9"))
    );
    let r = call(&app, &op, Method::PATCH, "/event-types/voucher.redeemed", Some(json!({ "schema": null }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["schema_given"], false);
    assert_eq!(r.json()["schema"]["required"], json!(["amount", "id"]), "derived from the sample, like the built-ins'");
    assert_eq!(r.json()["schema"]["title"], "voucher.redeemed");

    // Deprecate (DELETE), see it flagged, then offer it again (PATCH).
    let r = call(&app, &op, Method::DELETE, "/event-types/voucher.redeemed", None).await;
    assert_eq!((r.status.as_u16(), r.json()["deprecated"].as_bool()), (200, Some(true)), "{}", r.text);
    let list = call(&app, &op, Method::GET, "/event-types", None).await.json();
    assert_eq!(find(&list, "voucher.redeemed").unwrap()["deprecated"], true);
    let r = call(&app, &op, Method::DELETE, "/event-types/voucher.redeemed", None).await;
    assert_eq!(r.status, 200, "deprecating twice changes nothing: {}", r.text);
    let r = call(&app, &op, Method::PATCH, "/event-types/voucher.redeemed", Some(json!({ "deprecated": false }))).await;
    assert_eq!((r.status.as_u16(), r.json()["deprecated"].as_bool()), (200, Some(false)), "{}", r.text);

    // Built-in types cannot be changed or deprecated; unknown ones are not found.
    for (method, body) in [(Method::PATCH, Some(json!({ "description": "Mine now." }))), (Method::DELETE, None)] {
        let r = call(&app, &op, method.clone(), "/event-types/invoice.closed", body).await;
        assert_eq!(r.status, 409, "{method}: {}", r.text);
        assert_eq!(r.error()["code"], "built_in_event_type");
        assert!(r.error()["message"].as_str().unwrap().contains("built-in"), "{}", r.text);
    }
    let r = call(&app, &op, Method::PATCH, "/event-types/voucher.issued", Some(json!({ "description": "x" }))).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(call(&app, &op, Method::DELETE, "/event-types/voucher.issued", None).await.status, 404);

    // Every change is in the operator-level audit log, without a tenant.
    let audit = call(&app, &op, Method::GET, "/audit?action=event_type.", None).await;
    assert_eq!(audit.status, 200, "{}", audit.text);
    let entries = audit.json()["data"].as_array().unwrap().clone();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["event_type.restored", "event_type.deprecated", "event_type.updated", "event_type.updated", "event_type.created"],
        "newest first; deprecating twice recorded once"
    );
    for e in &entries {
        assert_eq!((e["tenant_id"].is_null(), e["target"].as_str()), (true, Some("voucher.redeemed")), "{e}");
        assert_eq!(e["actor"]["label"], "olga@herald.example (operator)");
    }
    assert!(entries[2]["summary"].as_str().unwrap().contains("Changed schema"), "{}", entries[2]);
}

async fn every_bad_input_names_its_field_and_writes_nothing(app: TestApp) {
    let op = operator(&app).await;
    let with = |changes: Value| {
        let mut body = voucher();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (with(json!({ "type": null })), 422, "type", "Enter the event type's name"),
        (with(json!({ "type": "Voucher.Redeemed" })), 422, "type", "dotted lower-case"),
        (with(json!({ "type": "voucher" })), 422, "type", "dotted lower-case"),
        (with(json!({ "type": "voucher..redeemed" })), 422, "type", "dotted lower-case"),
        (with(json!({ "type": format!("voucher.{}", "x".repeat(100)) })), 422, "type", "at most 100"),
        (with(json!({ "type": "invoice.closed" })), 409, "type", "already a built-in"),
        (with(json!({ "type": "bookings.create" })), 409, "type", "another name for the built-in type booking.created"),
        (with(json!({ "description": "  " })), 422, "description", "Describe when this event happens"),
        (with(json!({ "description": "x".repeat(501) })), 422, "description", "at most 500"),
        (with(json!({ "sample": null })), 422, "sample", "Give a sample"),
        (with(json!({ "sample": [1, 2] })), 422, "sample", "must be a JSON object"),
        (with(json!({ "schema": "object" })), 422, "schema", "must be a JSON object"),
        (with(json!({ "schema": { "type": "thing" } })), 422, "schema", "not a valid JSON Schema"),
        (with(json!({ "schema": { "$ref": "https://example.com/s.json" } })), 422, "schema", "does not evaluate \"$ref\""),
        (with(json!({ "schema": { "type": "object", "required": ["total"] } })), 422, "sample", "does not match the schema"),
        (with(json!({ "sample": { "id": "vch_1", "amount": -1 } })), 422, "sample", "less than the minimum"),
        (with(json!({ "colour": "red" })), 422, "colour", "unknown field"),
    ];
    for (body, status, field, says) in cases {
        let r = call(&app, &op, Method::POST, "/event-types", Some(body.clone())).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.text);
        assert_eq!(r.error()["field"], field, "{body}: {}", r.text);
        assert!(r.error()["message"].as_str().unwrap().contains(says), "{body}: {}", r.text);
    }
    let r = call(&app, &op, Method::POST, "/event-types", Some(json!("voucher"))).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(custom_rows(&app).await, 0, "nothing was written");

    assert_eq!(call(&app, &op, Method::POST, "/event-types", Some(voucher())).await.status, 201);
    let again = call(&app, &op, Method::POST, "/event-types", Some(voucher())).await;
    assert_eq!((again.status.as_u16(), again.error()["field"].as_str()), (409, Some("type")), "{}", again.text);
    assert_eq!(again.error()["code"], "event_type_exists");

    // Changes are checked the same way, against the schema in force.
    let patches: Vec<(Value, u16, &str, &str)> = vec![
        (json!({ "sample": { "id": "vch_1" } }), 422, "sample", "\"amount\" is required"),
        (json!({ "sample": "text" }), 422, "sample", "must be a JSON object"),
        (json!({ "schema": { "properties": { "id": { "type": "integer" } } } }), 422, "sample", "/id: expected integer"),
        (json!({ "schema": [] }), 422, "schema", "must be a JSON object"),
        (json!({ "description": "" }), 422, "description", "Describe"),
        (json!({ "type": "voucher.used" }), 422, "type", "cannot be renamed"),
        (json!({ "deprecated": "yes" }), 422, "deprecated", "invalid type"),
    ];
    for (body, status, field, says) in patches {
        let r = call(&app, &op, Method::PATCH, "/event-types/voucher.redeemed", Some(body.clone())).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.text);
        assert_eq!(r.error()["field"], field, "{body}: {}", r.text);
        assert!(r.error()["message"].as_str().unwrap().contains(says), "{body}: {}", r.text);
    }
    let now = call(&app, &op, Method::GET, "/event-types/voucher.redeemed", None).await.json();
    assert_eq!(
        (now["description"].as_str(), now["sample"]["amount"].as_i64()),
        (Some("A client redeemed a gift voucher."), Some(2500)),
        "unchanged"
    );
}

async fn only_operators_and_the_platform_change_the_catalog(app: TestApp) {
    let (_, key, owner) = tenant_with_owner_and_key(&app, "Lotus", Plan::Basic, PrivateUrls::Refused).await;
    let support = signed_in_staff(&app, "sam@herald.example", StaffRole::Support).await;
    let op = operator(&app).await;
    // Everyone signed in reads the catalog; nobody else does.
    assert_eq!(api_get(&app, &key, "/event-types").await.status, 200);
    for client in [&owner, &support] {
        assert_eq!(call(&app, client, Method::GET, "/event-types", None).await.status, 200);
    }
    let anonymous = crate::helpers::plain_client().get(format!("{}/api/v1/event-types", app.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);

    // A tenant's key, its owner (an admin) and support staff may not change it.
    assert_eq!(
        app.herald
            .create_event_type(
                &crate::helpers::system(),
                serde_json::from_value(json!({
        "type": "voucher.issued", "description": "A voucher was sold.", "sample": { "id": "vch_1" } }))
                .unwrap()
            )
            .await
            .unwrap()
            .name,
        "voucher.issued"
    );
    let writes = [
        (Method::POST, "/event-types", Some(voucher())),
        (Method::PATCH, "/event-types/voucher.issued", Some(json!({ "description": "Changed." }))),
        (Method::DELETE, "/event-types/voucher.issued", None),
    ];
    for (method, path, body) in &writes {
        let r = match method.as_str() {
            "POST" => post(&app, &key, path, body.clone().unwrap()).await,
            "PATCH" => patch(&app, &key, path, body.clone().unwrap()).await,
            _ => crate::helpers::delete(&app, &key, path).await,
        };
        assert_eq!(r.status, 403, "tenant key {method} {path}: {}", r.text);
        assert!(r.error()["message"].as_str().unwrap().contains("Only Herald operators"), "{}", r.text);
        for (who, client) in [("owner", &owner), ("support", &support)] {
            let r = call(&app, client, method.clone(), path, body.clone()).await;
            assert_eq!(r.status, 403, "{who} {method} {path}: {}", r.text);
        }
    }
    // The console's server functions refuse them too (support reads; tenants do not see it).
    let form = [("name", "voucher.sold"), ("description", "Sold."), ("sample", "{\"id\": 1}"), ("schema", "")];
    assert_eq!(app.rpc(&support, "create_event_type", &form).await.status, 403);
    assert_eq!(app.rpc(&owner, "create_event_type", &form).await.status, 403);
    assert_eq!(app.rpc(&support, "set_event_type_deprecated", &[("name", "voucher.issued"), ("deprecated", "true")]).await.status, 403);
    let read = app.rpc(&support, "staff_event_types", &[]).await;
    assert_eq!((read.status.as_u16(), read.json()["can_edit"].as_bool()), (200, Some(false)), "{}", read.text);
    assert_eq!(app.rpc(&owner, "staff_event_types", &[]).await.status, 404);
    let types = api_get(&app, &key, "/event-types").await.json();
    assert_eq!(find(&types, "voucher.issued").unwrap()["description"], "A voucher was sold.", "unchanged");
    assert!(find(&types, "voucher.redeemed").is_none() && find(&types, "voucher.sold").is_none());

    // The operator may, through the API and the console.
    assert_eq!(call(&app, &op, Method::POST, "/event-types", Some(voucher())).await.status, 201);
    let r = app.rpc(&op, "create_event_type", &form).await;
    assert_eq!((r.status.as_u16(), r.json()["name"].as_str()), (200, Some("voucher.sold")), "{}", r.text);
    let r =
        app.rpc(&op, "create_event_type", &[("name", "voucher.lost"), ("description", "Lost."), ("sample", "{oops"), ("schema", "")]).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("sample")), "{}", r.text);
    assert!(r.error()["message"].as_str().unwrap().contains("not valid JSON"), "{}", r.text);
    let r = app.rpc(&op, "set_event_type_deprecated", &[("name", "voucher.issued"), ("deprecated", "true")]).await;
    assert_eq!((r.status.as_u16(), r.json()["deprecated"].as_bool()), (200, Some(true)), "{}", r.text);
    let console = app.rpc(&op, "staff_event_types", &[]).await.json();
    assert_eq!(console["can_edit"], true);
    let names: Vec<&str> = console["custom"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["voucher.issued", "voucher.redeemed", "voucher.sold"]);
    assert_eq!(console["built_in"].as_array().unwrap().len(), 59);
}

async fn tenants_subscribe_to_custom_types_and_receive_them(app: TestApp) {
    let sink = Sink::start().await;
    let op = operator(&app).await;
    assert_eq!(call(&app, &op, Method::POST, "/event-types", Some(voucher())).await.status, 201);
    let (tenant_id, key, owner) = tenant_with_owner_and_key(&app, "Lotus", Plan::Professional, PrivateUrls::Allowed).await;
    let endpoint = add_endpoint(
        &app,
        &key,
        json!({ "name": "Vouchers", "url": format!("{}/vouchers", sink.url), "event_types": ["voucher.redeemed"],
                "filter": { "data.code": ["SPRING-25", "SUMMER-25"] } }),
    )
    .await;
    let everything = add_endpoint(&app, &key, json!({ "name": "All", "url": format!("{}/all", sink.url), "event_types": ["*"] })).await;

    let message = send_event(&app, &key, "voucher.redeemed", json!({ "id": "vch_7", "code": "SPRING-25", "amount": 500 })).await;
    send_event(&app, &key, "voucher.redeemed", json!({ "id": "vch_8", "code": "WINTER-25", "amount": 500 })).await;
    send_event(&app, &key, "invoice.closed", json!({ "id": "inv_1" })).await;
    assert_eq!(app.deliver().await, 4, "two vouchers and the invoice to \"All\", the matching voucher to \"Vouchers\"");
    let received = sink.received();
    let to_vouchers: Vec<_> = received.iter().filter(|r| r.path == "/vouchers").collect();
    assert_eq!(to_vouchers.len(), 1, "the filter left out WINTER-25");
    let envelope = to_vouchers[0].json();
    assert_eq!(envelope["id"], message.as_str());
    assert_eq!((envelope["event_type"].as_str(), envelope["event_resource"].as_str()), (Some("voucher.redeemed"), Some("voucher")));
    assert_eq!((envelope["tenant_id"].as_str(), envelope["data"]["code"].as_str()), (Some(tenant_id.as_str()), Some("SPRING-25")));
    assert_eq!(received.iter().filter(|r| r.path == "/all").count(), 3);

    // A test event sends the custom sample; the log filters by the custom type.
    let r = post(&app, &key, &format!("/endpoints/{endpoint}/test"), json!({ "event_type": "voucher.redeemed" })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let test = sink.received().into_iter().filter(|r| r.path == "/vouchers").last().unwrap().json();
    assert_eq!(test["data"], json!({ "id": "vch_5Jq2", "code": "SPRING-25", "amount": 2500, "currency": "EUR" }));
    let log = api_get(&app, &key, &format!("/deliveries?endpoint_id={everything}&event_type=voucher.redeemed")).await;
    assert_eq!(log.status, 200, "{}", log.text);
    assert_eq!(log.json()["data"].as_array().unwrap().len(), 2);

    // The dashboard offers it: the endpoint form's picker and the tenant's catalog page.
    let catalog = api_get(&app, &key, "/event-types").await.json();
    assert_eq!(find(&catalog, "voucher.redeemed").unwrap()["custom"], true);
    let form = app.get(&owner, "/endpoints/new").await;
    assert!(form.text.contains("value=\"voucher.redeemed\""), "the picker offers the custom type");
    let groups = app.rpc(&owner, "event_catalog", &[]).await.json();
    let voucher_group = groups.as_array().unwrap().iter().find(|g| g["resource"] == "voucher").expect("a group of its own");
    assert_eq!(voucher_group["label"], "Voucher");
    assert_eq!(voucher_group["types"][0]["custom"], true);
}

async fn a_deprecated_type_keeps_its_subscribers_and_takes_no_new_ones(app: TestApp) {
    let sink = Sink::start().await;
    let op = operator(&app).await;
    assert_eq!(call(&app, &op, Method::POST, "/event-types", Some(voucher())).await.status, 201);
    let (_, key, owner) = tenant_with_owner_and_key(&app, "Lotus", Plan::Professional, PrivateUrls::Allowed).await;
    let subscribed =
        add_endpoint(&app, &key, json!({ "name": "Vouchers", "url": sink.url, "event_types": ["voucher.redeemed", "invoice.closed"] }))
            .await;
    assert_eq!(call(&app, &op, Method::DELETE, "/event-types/voucher.redeemed", None).await.status, 200);

    // Events of it are still accepted and delivered to the endpoint that has it.
    send_event(&app, &key, "voucher.redeemed", json!({ "id": "vch_1", "amount": 5 })).await;
    assert_eq!(app.deliver().await, 1);
    assert_eq!(sink.received().last().unwrap().json()["event_type"], "voucher.redeemed");

    // The endpoint form offers it only where the endpoint has it.
    assert!(!app.get(&owner, "/endpoints/new").await.text.contains("value=\"voucher.redeemed\""), "not offered to a new endpoint");
    let edit = app.get(&owner, &format!("/endpoints/{subscribed}/edit")).await.text;
    assert!(edit.contains("value=\"voucher.redeemed\""), "kept where the endpoint has it");

    // A new subscription is refused, naming the field; the existing one survives edits.
    let r = post(&app, &key, "/endpoints", json!({ "name": "New", "url": sink.url, "event_types": ["voucher.redeemed"] })).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("event_types")), "{}", r.text);
    assert!(r.error()["message"].as_str().unwrap().contains("deprecated"), "{}", r.text);
    let path = format!("/endpoints/{subscribed}");
    let r = patch(&app, &key, &path, json!({ "name": "Vouchers (renamed)" })).await;
    assert_eq!((r.status.as_u16(), r.json()["event_types"].clone()), (200, json!(["voucher.redeemed", "invoice.closed"])), "{}", r.text);
    let r = patch(&app, &key, &path, json!({ "event_types": ["invoice.closed", "voucher.redeemed"] })).await;
    assert_eq!(r.status, 200, "kept on an edit that lists it again: {}", r.text);
    let r = patch(&app, &key, &path, json!({ "event_types": ["invoice.closed"] })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = patch(&app, &key, &path, json!({ "event_types": ["invoice.closed", "voucher.redeemed"] })).await;
    assert_eq!(
        (r.status.as_u16(), r.error()["field"].as_str()),
        (422, Some("event_types")),
        "once removed it cannot come back: {}",
        r.text
    );
    let other = add_endpoint(&app, &key, json!({ "name": "Other", "url": sink.url, "event_types": ["invoice.closed"] })).await;
    let r = patch(&app, &key, &format!("/endpoints/{other}"), json!({ "event_types": ["voucher.redeemed"] })).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(!app.get(&owner, &format!("/endpoints/{other}/edit")).await.text.contains("value=\"voucher.redeemed\""));

    // Offered again once restored.
    assert_eq!(call(&app, &op, Method::PATCH, "/event-types/voucher.redeemed", Some(json!({ "deprecated": false }))).await.status, 200);
    let r = patch(&app, &key, &format!("/endpoints/{other}"), json!({ "event_types": ["voucher.redeemed"] })).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn another_process_sees_a_change_at_once(app: TestApp) {
    let second = app.spawn_process(|_| {}).await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Professional, PrivateUrls::Allowed).await;
    assert!(second.herald.catalog().find("voucher.redeemed").is_none(), "loaded at start, before the type existed");
    let op = operator(&app).await;
    assert_eq!(call(&app, &op, Method::POST, "/event-types", Some(voucher())).await.status, 201);

    // The second process accepts its events, lists it and subscribes to it at once.
    let r = post(&second, &key, "/events", json!({ "event_type": "voucher.redeemed", "data": { "id": "vch_1" } })).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert!(find(&api_get(&second, &key, "/event-types").await.json(), "voucher.redeemed").is_some());
    let body = json!({ "name": "Vouchers", "url": "https://hooks.example.com/v", "event_types": ["voucher.redeemed"] });
    let r = post(&second, &key, "/endpoints", body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text);

    // Its snapshot catches up by itself too (checked at most every few seconds).
    let third = app.spawn_process(|_| {}).await;
    assert_eq!(call(&app, &op, Method::DELETE, "/event-types/voucher.redeemed", None).await.status, 200);
    third.herald.catalog();
    let herald = third.herald.clone();
    crate::helpers::eventually("the third process sees the deprecation", || {
        herald.catalog().find("voucher.redeemed").is_some_and(|t| t.deprecated)
    })
    .await;
    // A deprecation made elsewhere is in force for new subscriptions at once.
    let r = post(&second, &key, "/endpoints", body).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("event_types")), "{}", r.text);
}

/// The booking platform's own key (`hkp_…`, no tenant in the path) defines a type over the API,
/// the audit log names the key, and a tenant subscribes to the type and receives it.
async fn the_platform_key_defines_types_that_tenants_then_receive(app: TestApp) {
    let platform = crate::helpers::platform_key(&app, "Booking platform").await;
    let r = post(&app, &platform, "/event-types", voucher()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["type"], "voucher.redeemed", "{}", r.text);
    let r = patch(&app, &platform, "/event-types/voucher.redeemed", json!({ "description": "A gift voucher was redeemed." })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(api_get(&app, &platform, "/event-types/voucher.redeemed").await.json()["description"], "A gift voucher was redeemed.");
    let entries = app.herald.audit_log(&crate::helpers::system(), Default::default()).await.unwrap().data;
    let created = entries.iter().find(|e| e.action.as_str() == "event_type.created").expect("the creation is audited");
    assert_eq!((created.actor_kind.as_str(), created.actor_label.as_str()), ("platform_key", "Booking platform"), "{created:?}");

    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "Vouchers", "url": sink.url, "event_types": ["voucher.redeemed"] })).await;
    let r = post(&app, &key, "/events", json!({ "event_type": "voucher.redeemed", "data": { "id": "vch_9", "amount": 900 } })).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(app.deliver().await, 1);
    let received = sink.received();
    assert_eq!(received.len(), 1);
    let envelope = received[0].json();
    assert_eq!(
        (envelope["event_type"].as_str(), envelope["data"]["id"].as_str()),
        (Some("voucher.redeemed"), Some("vch_9")),
        "{}",
        received[0].body
    );
}
