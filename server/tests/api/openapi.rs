//! The OpenAPI document: every route the router registers is in it (so a route added without
//! docs fails here), it is served without a key, and what the API really answers has the
//! documented fields.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::{add_endpoint, api_get, plain_client, tenant_with_key, Plan, PrivateUrls, Sink, TestApp};

both_databases!(openapi_json_is_served_without_a_key_and_matches_real_answers);

fn document() -> Value {
    server::api::openapi()
}

/// An axum route path as OpenAPI writes it: `{id}` stays, `{*rest}` and `:id` become `{rest}`, `{id}`.
fn openapi_path(axum_path: &str) -> String {
    let path = axum_path
        .split('/')
        .map(|segment| match segment.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => segment.replace("{*", "{"),
        })
        .collect::<Vec<_>>()
        .join("/");
    format!("/api/v1{path}")
}

/// Follows a local `$ref` (`#/components/...`).
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(pointer) => doc.pointer(pointer.trim_start_matches('#')).unwrap_or_else(|| panic!("{pointer} does not resolve")),
        None => value,
    }
}

fn every_ref(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                found.push(r.clone());
            }
            map.values().for_each(|v| every_ref(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| every_ref(v, found)),
        _ => {}
    }
}

#[test]
fn every_route_is_documented() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let tags: Vec<&str> = doc["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    let routes = server::api::route_list();
    assert!(routes.len() >= 26, "{routes:?}");
    let mut documented = 0;
    for (method, path) in &routes {
        let key = openapi_path(path);
        let op = &doc["paths"][&key][method.as_str().to_lowercase()];
        assert!(
            op.is_object(),
            "{method} {path} is routed but not in the OpenAPI document: put #[utoipa::path] on its handler and register it \
             with api.routes(routes!(handler)) (see server/src/api/docs.rs)"
        );
        let summary = op["summary"].as_str().unwrap_or_default();
        assert!(!summary.is_empty(), "{method} {path}: no summary");
        assert!(!op["description"].as_str().unwrap_or_default().is_empty(), "{method} {path}: no description");
        let tag = op["tags"][0].as_str().unwrap_or_default();
        assert!(tags.contains(&tag), "{method} {path}: tag {tag:?} is not one of {tags:?}");
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path}: no success answer");
        let public = op["security"].as_array().is_some_and(|s| s.is_empty());
        let needs_no_key = key == "/api/v1/openapi.json" && *method == Method::GET;
        assert_eq!(public, needs_no_key, "{method} {path}: only the document needs no key");
        if path.starts_with("/tenants/") {
            // The platform's routes, and every tenant route's copy for the platform key.
            assert_eq!(op["security"], json!([{ "platform_key": [] }]), "{method} {path}: platform key only");
            let forbidden = resolve(&doc, &responses["403"]);
            assert!(forbidden["description"].as_str().unwrap().contains("platform_key_required"), "{method} {path}: 403 {forbidden}");
        }
        if let Some(unscoped) = path.strip_prefix("/tenants/{tenant_id}").filter(|rest| !rest.is_empty() && *rest != "/dashboard-links") {
            assert!(routes.iter().any(|(m, p)| m == method && *p == unscoped), "{method} {path}: a copy of a tenant route");
            let original = &doc["paths"][openapi_path(unscoped)][method.as_str().to_lowercase()];
            assert_eq!(tag, "Platform: acting for a tenant", "{method} {path}");
            assert_eq!(op["operationId"].as_str().unwrap(), format!("{}_for_tenant", original["operationId"].as_str().unwrap()));
            assert_eq!(op["requestBody"], original["requestBody"], "{method} {path}: the same body");
            let tenant_id = op["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "tenant_id" && p["in"] == "path");
            assert!(tenant_id.is_some_and(|p| p["required"] == true), "{method} {path}: tenant_id parameter");
        }
        if !public {
            assert!(responses.contains_key("401"), "{method} {path}: no 401");
        }
        if path.contains('{') {
            assert!(responses.contains_key("404"), "{method} {path}: no 404");
            for param in op["parameters"].as_array().unwrap().iter().map(|p| resolve(&doc, p)).filter(|p| p["in"] == "path") {
                assert!(key.contains(&format!("{{{}}}", param["name"].as_str().unwrap())), "{method} {path}: {param}");
            }
        }
        for (status, response) in responses {
            let response = resolve(&doc, response);
            assert!(!response["description"].as_str().unwrap_or_default().is_empty(), "{method} {path} {status}: no description");
            if status.starts_with('4') {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/ErrorBody", "{method} {path} {status}: errors have the error body");
            }
        }
        documented += 1;
    }
    // And nothing is documented that is not routed.
    let mut in_doc = 0;
    for (key, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            assert!(routes.iter().any(|(m, p)| *m == method && openapi_path(p) == *key), "{method} {key} is documented but not routed");
            in_doc += 1;
        }
    }
    assert_eq!(in_doc, documented);
    // Links (followed by the contract test's stateful phase) name real operations.
    let ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|i| i.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.iter().collect::<std::collections::BTreeSet<_>>().len(), ids.len(), "operation ids are unique: {ids:?}");
    let mut links = 0;
    for op in doc["paths"].as_object().unwrap().values().flat_map(|i| i.as_object().unwrap().values()) {
        for response in op["responses"].as_object().unwrap().values() {
            for link in response["links"].as_object().into_iter().flat_map(|l| l.values()) {
                assert!(ids.contains(&link["operationId"].as_str().unwrap()), "{link}");
                links += 1;
            }
        }
    }
    assert!(links >= 9, "{links} links");
    let mut refs = Vec::new();
    every_ref(&doc, &mut refs);
    for r in refs {
        assert!(doc.pointer(r.trim_start_matches('#')).is_some(), "{r} does not resolve");
    }
    // The bearer scheme, as the README and the dashboard describe it.
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"],
        json!({
            "type": "http", "scheme": "bearer", "bearerFormat": "hk_…",
            "description": "A tenant API key: `Authorization: Bearer hk_…`. It acts as an admin of its tenant."
        })
    );
}

#[test]
fn a_route_registered_without_docs_would_be_caught() {
    // The conversion the coverage test relies on, for the route syntaxes axum has had.
    assert_eq!(openapi_path("/endpoints/{id}"), "/api/v1/endpoints/{id}");
    assert_eq!(openapi_path("/files/{*rest}"), "/api/v1/files/{rest}");
    assert_eq!(openapi_path("/tenants/:tenant_id/endpoints"), "/api/v1/tenants/{tenant_id}/endpoints");
    let doc = document();
    assert!(doc["paths"]["/api/v1/not-a-route"].is_null());
}

/// The documented properties of a schema, by name.
fn properties(doc: &Value, schema: &str) -> Vec<String> {
    let mut names: Vec<String> = doc["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no schema {schema}"))
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

fn keys(value: &Value) -> Vec<String> {
    let mut names: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    names.sort();
    names
}

async fn openapi_json_is_served_without_a_key_and_matches_real_answers(app: TestApp) {
    let r = plain_client().get(format!("{}/api/v1/openapi.json", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let served: Value = r.json().await.unwrap();
    assert_eq!(served, document());
    assert_eq!(served["info"]["title"], "Herald API");
    let ingest = &served["paths"]["/api/v1/events"]["post"];
    assert_eq!(ingest["requestBody"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/EventIn");
    assert_eq!(
        served["components"]["schemas"]["EventIn"]["required"],
        json!(["event_type", "data"]),
        "event_id is optional, the others are required"
    );
    assert_eq!(served["components"]["schemas"]["EndpointInput"]["properties"]["max_in_flight"]["maximum"], 100);

    // Real answers carry exactly the documented fields.
    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let ep = add_endpoint(&app, &key, json!({ "name": "CRM", "url": sink.url, "event_types": ["*"] })).await;
    let endpoint = api_get(&app, &key, &format!("/endpoints/{ep}")).await.json();
    assert_eq!(keys(&endpoint), properties(&served, "Endpoint"));
    assert_eq!(keys(&endpoint["health"]), properties(&served, "Health"));
    let list = api_get(&app, &key, "/endpoints").await.json();
    assert_eq!(keys(&list), properties(&served, "EndpointList"));
    let settings = api_get(&app, &key, "/settings").await.json();
    assert_eq!(keys(&settings), properties(&served, "Settings"));
    let me = api_get(&app, &key, "/me").await.json();
    assert_eq!(keys(&me), properties(&served, "Me"));
    assert_eq!(
        (me["user"].is_null(), me["api_key"]["label"].as_str(), me["tenant"]["role"].as_str()),
        (true, Some("API key \"tests\""), Some("admin"))
    );
    let r = crate::helpers::post(&app, &key, &format!("/endpoints/{ep}/test"), json!({ "event_type": "invoice.closed" })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let detail = r.json();
    assert_eq!(keys(&detail), properties(&served, "DeliveryDetailOut"));
    assert_eq!(keys(&detail["attempts"][0]), properties(&served, "AttemptOut"));
    let page = api_get(&app, &key, "/deliveries").await.json();
    assert_eq!(keys(&page["data"][0]), properties(&served, "DeliveryOut"));
    let audit = api_get(&app, &key, "/audit").await.json();
    assert_eq!(keys(&audit["data"][0]), properties(&served, "AuditEntryOut"));
    let stats = api_get(&app, &key, &format!("/endpoints/{ep}/stats")).await.json();
    assert_eq!(keys(&stats), properties(&served, "EndpointStats"));
    let types = api_get(&app, &key, "/event-types").await.json();
    let custom_only = ["created_at", "schema_given", "updated_at"];
    let built_in: Vec<String> = properties(&served, "EventTypeOut").into_iter().filter(|p| !custom_only.contains(&p.as_str())).collect();
    assert_eq!(keys(&types["data"][0]), built_in);
    let r = plain_client().get(format!("{}/api/v1/event-types", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 401, "the catalog needs a key");
    let platform = crate::helpers::platform_key(&app, "ReserveKit").await;
    let r = crate::helpers::post(&app, &platform, "/tenants", json!({ "name": "Lotus Spa", "plan": "basic" })).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mut created = properties(&served, "TenantOut");
    created.push("admin_invitation_url".to_string());
    created.sort();
    assert_eq!(keys(&r.json()), created);
    let tenant = r.json()["id"].as_str().unwrap().to_string();
    let scoped = api_get(&app, &platform, &format!("/tenants/{tenant}/endpoints")).await;
    assert_eq!(scoped.status, 200, "{}", scoped.text);
    assert_eq!(keys(&scoped.json()), properties(&served, "EndpointList"));
    let r = api_get(&app, &key, &format!("/tenants/{tenant}/endpoints")).await;
    assert_eq!((r.status.as_u16(), r.error()["code"].as_str()), (403, Some("platform_key_required")), "as documented");
    let r = api_get(&app, &key, "/jobs?nonsense=1").await;
    assert_eq!((r.status.as_u16(), r.error()["code"].as_str()), (422, Some("invalid_input")), "{}", r.text);
}
