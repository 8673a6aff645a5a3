//! Staff viewing a tenant and suspended tenants are read-only everywhere: every mutating
//! `/api/v1` route and every server function is walked, from the lists the real router and
//! the server-function registry hold, so a route added later is checked too (or fails here
//! until it is classified).

use domain::StaffRole;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::{
    add_endpoint, api_get, post, session_call, signed_in_staff, system, tenant_with_owner_and_key, Plan, PrivateUrls, Reply, Sink, TestApp,
};

both_databases!(every_write_refuses_staff_views_and_suspended_tenants, a_suspended_tenants_invitation_waits_for_the_suspension_to_end);

/// Server functions that only read.
const READS: &[&str] = &[
    "session",
    "team",
    "invitation",
    "endpoints",
    "endpoint",
    "reveal_secret",
    "event_catalog",
    "preview_filter",
    "endpoint_jobs",
    "api_keys",
    "delivery_log",
    "delivery_detail",
    "endpoint_stats",
    "staff_tenants",
    "staff_tenant",
    "search_deliveries",
    "audit_entries",
    "api_reference",
    "platform_keys",
    "staff_event_types",
];

/// Server functions about the caller's own session or account, not the tenant's data: signing
/// up (a new tenant of one's own), in and out, choosing which tenant to work in (staff: which
/// to view), and accepting an invitation addressed to oneself (refused for a suspended tenant:
/// see the test below).
const OWN_SESSION: &[&str] =
    &["sign_up", "confirm_sign_up", "sign_in", "sign_out", "switch_tenant", "view_tenant", "stop_viewing", "accept_invitation"];

/// The operator's console acts on tenants from outside them (lifting a suspension among other
/// things); for everyone else, support included, it does not exist: 404.
const OPERATOR: &[&str] =
    &["create_tenant", "update_tenant_settings", "set_tenant_suspended", "set_tenant_plan", "create_platform_key", "revoke_platform_key"];

/// The event catalog is the platform's, not a tenant's: only operators and the platform key
/// change it, so everyone here is refused with 403 whatever the tenant's state (see
/// `event_types.rs` for who may).
const CATALOG: &[&str] = &["create_event_type", "update_event_type", "set_event_type_deprecated"];

fn is_catalog_route(path: &str) -> bool {
    path.starts_with("/event-types")
}

/// What the walk needs to call each route on real objects of the tenant.
struct Targets {
    tenant: String,
    endpoint: String,
    delivery: String,
    invitation: String,
    member: String,
    api_key: String,
    /// A running recovery job.
    job: String,
    platform_key: String,
}

enum Args {
    Form(Vec<(&'static str, String)>),
    Json(Value),
}

/// Arguments that would succeed for a writer (or the operator), so that a refusal can only
/// mean "not allowed".
fn rpc_calls(name: &str, t: &Targets) -> Vec<Args> {
    let form = |pairs: &[(&'static str, &str)]| Args::Form(pairs.iter().map(|(k, v)| (*k, v.to_string())).collect());
    let endpoint_form = json!({
        "name": "Changed", "description": "", "url": "https://hooks.example.com/x", "method": "POST", "channel": "http",
        "email": "", "payload_shape": "envelope", "event_types": ["*"], "auth_header_name": "", "auth_header_value": "",
    });
    let ep = t.endpoint.as_str();
    let tenant = t.tenant.as_str();
    match name {
        "create_tenant" => vec![form(&[("name", "Mine"), ("plan", "basic"), ("admin_email", "me@mine.example")])],
        "update_tenant_settings" => vec![form(&[("tenant_id", tenant), ("plan", "business"), ("retention_days", "1")])],
        "set_tenant_suspended" => {
            vec![form(&[("tenant_id", tenant), ("suspended", "true")]), form(&[("tenant_id", tenant), ("suspended", "false")])]
        }
        "set_tenant_plan" => vec![form(&[("tenant_id", tenant), ("plan", "basic")])],
        "create_platform_key" => vec![form(&[("name", "Mine")])],
        "revoke_platform_key" => vec![form(&[("id", &t.platform_key)])],
        "invite" => vec![form(&[("email", "newcomer@lotus.example"), ("role", "member")])],
        "revoke_invitation" => vec![form(&[("id", &t.invitation)])],
        "remove_member" => vec![form(&[("user_id", &t.member)])],
        "save_endpoint" => {
            vec![Args::Json(json!({ "id": null, "form": endpoint_form })), Args::Json(json!({ "id": ep, "form": endpoint_form }))]
        }
        "delete_endpoint" => vec![form(&[("id", ep)])],
        "set_endpoint_active" => vec![form(&[("id", ep), ("active", "false")]), form(&[("id", ep), ("active", "true")])],
        "rotate_secret" => vec![form(&[("id", ep)])],
        "set_webhooks_enabled" => vec![form(&[("enabled", "false")])],
        "create_api_key" => vec![form(&[("name", "mine")])],
        "revoke_api_key" => vec![form(&[("id", &t.api_key)])],
        "replay_delivery" => vec![form(&[("id", &t.delivery)])],
        "send_test_event" => vec![form(&[("endpoint_id", ep), ("event_type", "invoice.closed")])],
        "count_recoverable" => vec![form(&[("endpoint_id", ep), ("status", "failed"), ("since", "2025-12-31T00:00")])],
        "start_recovery" => vec![form(&[("endpoint_id", ep), ("status", "failed"), ("since", "2025-12-31T00:00")])],
        "reactivate_and_recover" => vec![form(&[("id", ep)])],
        "cancel_job" => vec![form(&[("id", &t.job)])],
        "create_event_type" => vec![form(&[("name", "voucher.sold"), ("description", "Sold."), ("sample", "{}"), ("schema", "")])],
        "update_event_type" => vec![form(&[("name", "voucher.issued"), ("description", "Changed."), ("sample", "{}"), ("schema", "")])],
        "set_event_type_deprecated" => vec![form(&[("name", "voucher.issued"), ("deprecated", "true")])],
        _ => panic!(
            "/rpc/{name} is a new server function: list it above as a read, an own-session or an operator function, \
             or give it arguments here so this test checks that staff views and suspended tenants cannot call it"
        ),
    }
}

/// A mutating API route with real ids and a body that would succeed for a writer.
fn api_call(method: &Method, path: &str, t: &Targets) -> Vec<(String, Option<Value>)> {
    let concrete = if path.starts_with("/endpoints/{id}") {
        path.replace("{id}", &t.endpoint)
    } else if path.starts_with("/deliveries/{id}") {
        path.replace("{id}", &t.delivery)
    } else if path.starts_with("/jobs/{id}") {
        path.replace("{id}", &t.job)
    } else if path.starts_with("/event-types/{type}") {
        path.replace("{type}", "voucher.issued")
    } else {
        assert!(!path.contains('{'), "{method} {path}: which object should the walk use for it?");
        path.to_string()
    };
    let bodies = match (method.as_str(), path) {
        ("POST", "/endpoints") => vec![Some(json!({ "name": "X", "url": "https://hooks.example.com/x", "event_types": ["*"] }))],
        ("PATCH", "/endpoints/{id}") => vec![Some(json!({ "name": "Renamed" })), Some(json!({ "auth_header": null }))],
        ("POST", "/endpoints/{id}/test") => vec![Some(json!({ "event_type": "invoice.closed" }))],
        ("POST", "/endpoints/{id}/recover") => vec![Some(json!({ "since": "2025-12-31T00:00:00Z" }))],
        ("PATCH", "/settings") => vec![Some(json!({ "webhooks_enabled": false }))],
        // A new event, and one whose event_id was seen before (no shortcut around the check).
        ("POST", "/events") => vec![
            Some(json!({ "event_type": "invoice.closed", "data": { "total": 1 } })),
            Some(json!({ "event_type": "invoice.closed", "data": {}, "event_id": "seen-1" })),
        ],
        ("DELETE", _) | ("POST", "/endpoints/{id}/activate" | "/endpoints/{id}/deactivate" | "/endpoints/{id}/secret/rotate") => {
            vec![None]
        }
        ("POST", "/deliveries/{id}/replay" | "/jobs/{id}/cancel") => vec![None],
        ("POST", "/event-types") => {
            vec![Some(json!({ "type": "voucher.sold", "description": "A voucher was sold.", "sample": { "id": "vch_1" } }))]
        }
        ("PATCH", "/event-types/{type}") => vec![Some(json!({ "description": "Changed." })), Some(json!({ "deprecated": true }))],
        _ => panic!("{method} {path} is a new API route: give it a body here so this test checks that it refuses read-only callers"),
    };
    bodies.into_iter().map(|b| (concrete.clone(), b)).collect()
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let (n,): (i64,) = domain::on_pool!(&app.herald.store, pool => sqlx::query_as(&sql).fetch_one(pool).await).unwrap();
    n
}

/// Everything a write could change, as one value to compare.
async fn state(app: &TestApp, tenant_id: &str) -> Value {
    let h = &app.herald;
    let mut secrets = Vec::new();
    for e in h.endpoint_rows(tenant_id).await.unwrap() {
        secrets.push(h.signing_secrets(&e).unwrap());
    }
    let keys: Vec<(String, Option<i64>)> = domain::on_pool!(&h.store, pool => sqlx::query_as(
        "SELECT id, revoked_at FROM api_keys WHERE tenant_id = $1 ORDER BY id").bind(tenant_id).fetch_all(pool).await)
    .unwrap();
    let mut counts = serde_json::Map::new();
    for table in [
        "tenants",
        "users",
        "memberships",
        "invitations",
        "endpoints",
        "api_keys",
        "messages",
        "deliveries",
        "attempts",
        "audit_log",
        "platform_keys",
        "dashboard_links",
        "event_types",
    ] {
        counts.insert(table.into(), json!(count(app, table).await));
    }
    json!({
        "tenant": h.tenant(tenant_id).await.unwrap(),
        "endpoints": h.endpoints(tenant_id).await.unwrap(),
        "secrets": secrets,
        "members": h.members(tenant_id).await.unwrap(),
        "invitations": h.pending_invitations(tenant_id).await.unwrap(),
        "api_keys": keys,
        "counts": counts,
        "catalog": h.fresh_catalog().await.unwrap().custom().iter().map(|t| json!([t.name, t.description, t.deprecated])).collect::<Vec<_>>(),
    })
}

/// The platform's own routes (platform keys only: see platform.rs): they act on tenants from
/// outside them, lifting a suspension among other things, so the walk leaves them out.
const PLATFORM_ROUTES: &[&str] = &["/tenants", "/tenants/{tenant_id}", "/tenants/{tenant_id}/dashboard-links"];

/// Who is walking: a browser session, a tenant's API key, or a platform key (which walks the
/// tenant routes under `/tenants/{tenant_id}`, the others walk them as they are).
enum Caller<'a> {
    Session(&'a reqwest::Client),
    Key(&'a str),
    Platform(&'a str),
}

async fn api_walk(app: &TestApp, caller: &Caller<'_>, t: &Targets, why: &str) -> usize {
    let mut walked = 0;
    for (method, path) in server::api::route_list() {
        if method == Method::GET || PLATFORM_ROUTES.contains(&path) {
            continue; // reads, and the platform's own routes
        }
        let (route, prefix) = match path.strip_prefix(server::api::TENANT_SCOPE) {
            Some(inner) => (inner, format!("/tenants/{}", t.tenant)),
            None => (path, String::new()),
        };
        let platform = matches!(caller, Caller::Platform(_));
        if platform == prefix.is_empty() {
            continue;
        }
        for (concrete, body) in api_call(&method, route, t) {
            let concrete = format!("{prefix}{concrete}");
            let r = match caller {
                Caller::Session(client) => session_call(app, client, method.clone(), &concrete, body).await,
                Caller::Key(key) | Caller::Platform(key) => {
                    let mut request =
                        crate::helpers::plain_client().request(method.clone(), format!("{}/api/v1{concrete}", app.base)).bearer_auth(key);
                    if let Some(body) = body {
                        request = request.json(&body);
                    }
                    let r = request.send().await.unwrap();
                    Reply { status: r.status(), headers: r.headers().clone(), text: r.text().await.unwrap() }
                }
            };
            assert_eq!(r.status, 403, "{method} {concrete}: {}", r.text);
            let why = if is_catalog_route(path) { "Only Herald operators" } else { why };
            assert!(r.error()["message"].as_str().unwrap().contains(why), "{method} {concrete}: {}", r.text);
            // Counted: the tenant's writes (the catalog is no tenant's, and not under the prefix).
            walked += usize::from(!is_catalog_route(path));
        }
    }
    walked
}

/// The registered server functions, by name.
fn server_functions() -> Vec<String> {
    let mut names: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.strip_prefix("/rpc/").unwrap_or_else(|| panic!("{path}: not under /rpc")).to_string())
        .collect();
    names.sort();
    names
}

async fn rpc_walk(app: &TestApp, client: &reqwest::Client, t: &Targets, why: &str) -> usize {
    let mut walked = 0;
    for name in server_functions() {
        let expected = if READS.contains(&name.as_str()) || OWN_SESSION.contains(&name.as_str()) {
            continue;
        } else if OPERATOR.contains(&name.as_str()) {
            404
        } else {
            403
        };
        for args in rpc_calls(&name, t) {
            let url = format!("{}/rpc/{name}", app.base);
            let response = match &args {
                Args::Form(form) => client.post(&url).form(form).send().await.unwrap(),
                Args::Json(body) => client.post(&url).json(body).send().await.unwrap(),
            };
            let r = Reply { status: response.status(), headers: response.headers().clone(), text: response.text().await.unwrap() };
            assert_eq!(r.status, expected, "/rpc/{name}: {}", r.text);
            if expected == 403 {
                let why = if CATALOG.contains(&name.as_str()) { "Only Herald operators" } else { why };
                assert!(r.error()["message"].as_str().unwrap().contains(why), "/rpc/{name}: {}", r.text);
            }
            walked += 1;
        }
    }
    walked
}

async fn every_write_refuses_staff_views_and_suspended_tenants(app: TestApp) {
    let sink = Sink::start().await;
    let (tenant_id, key, owner) = tenant_with_owner_and_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let endpoint = add_endpoint(
        &app,
        &key,
        json!({ "name": "CRM", "url": sink.url, "event_types": ["*"], "auth_header": { "name": "X-Api-Key", "value": "crm-key-1234" } }),
    )
    .await;
    let r = post(&app, &key, "/events", json!({ "event_type": "invoice.closed", "data": {}, "event_id": "seen-1" })).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(app.deliver().await, 1);
    let delivery = api_get(&app, &key, "/deliveries").await.json()["data"][0]["id"].as_str().unwrap().to_string();
    // A running recovery job, of an event skipped while the endpoint was off.
    assert_eq!(post(&app, &key, &format!("/endpoints/{endpoint}/deactivate"), json!({})).await.status, 200);
    assert_eq!(post(&app, &key, "/events", json!({ "event_type": "invoice.closed", "data": {} })).await.status, 202);
    assert_eq!(post(&app, &key, &format!("/endpoints/{endpoint}/activate"), json!({})).await.status, 200);
    let r =
        post(&app, &key, &format!("/endpoints/{endpoint}/recover"), json!({ "since": "2020-01-01T00:00:00Z", "status": "skipped" })).await;
    assert_eq!((r.status.as_u16(), r.json()["job"]["status"].as_str()), (202, Some("running")), "{}", r.text);
    let job = r.json()["job"]["id"].as_str().unwrap().to_string();
    let member = app.member(&owner, "bruno@lotus.example").await;
    let member = app.me(&member).await["user"]["id"].as_str().unwrap().to_string();
    let r = app.rpc(&owner, "invite", &[("email", "pending@lotus.example"), ("role", "member")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let team = app.rpc(&owner, "team", &[]).await.json();
    let invitation = team["invitations"][0]["id"].as_str().unwrap().to_string();
    let (spare, _) = app.herald.create_api_key(&system().in_tenant(&tenant_id), "spare").await.unwrap();
    let (platform_key_row, platform) = app.herald.create_platform_key(&system(), "Booking platform").await.unwrap();
    let t = Targets {
        tenant: tenant_id.clone(),
        endpoint,
        delivery,
        invitation,
        member,
        api_key: spare.id,
        job,
        platform_key: platform_key_row.id,
    };
    let issued = json!({ "type": "voucher.issued", "description": "A voucher was sold.", "sample": { "id": "vch_1" } });
    app.herald.create_event_type(&system(), serde_json::from_value(issued).unwrap()).await.unwrap();

    // Every name this test classifies is a real server function (a stale list hides nothing).
    let registered = server_functions();
    for name in READS.iter().chain(OWN_SESSION).chain(OPERATOR).chain(CATALOG) {
        assert!(registered.iter().any(|r| r == name), "{name} is not a server function any more");
    }
    assert!(registered.iter().any(|r| r == "save_endpoint"), "{registered:?}");
    assert!(server::api::route_list().contains(&(Method::POST, "/events")));

    let support = signed_in_staff(&app, "sam@herald.example", StaffRole::Support).await;
    let op = signed_in_staff(&app, "olga@herald.example", StaffRole::Operator).await;
    let received = sink.received().len();
    let before = state(&app, &tenant_id).await;

    // Support opens the tenant's dashboard, read-only: every write is refused, ingest included.
    let r = app.rpc(&support, "view_tenant", &[("tenant_id", &tenant_id)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.rpc(&support, "session", &[]).await.json()["staff_view"], true);
    api_walk(&app, &Caller::Session(&support), &t, "read-only").await;
    rpc_walk(&app, &support, &t, "read-only").await;
    assert_eq!(state(&app, &tenant_id).await, before, "support changed nothing");

    // The tenant is suspended: its owner's session and its API key are read-only too.
    let r = app.rpc(&op, "set_tenant_suspended", &[("tenant_id", &tenant_id), ("suspended", "true")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let before = state(&app, &tenant_id).await;
    assert_eq!(before["tenant"]["suspended"], true);
    api_walk(&app, &Caller::Session(&owner), &t, "suspended").await;
    let walked = api_walk(&app, &Caller::Key(&key), &t, "suspended").await;
    // The platform's key, acting in the tenant through its prefix, is held to the same rule.
    assert_eq!(api_walk(&app, &Caller::Platform(&platform), &t, "suspended").await, walked, "every write, under the prefix too");
    rpc_walk(&app, &owner, &t, "suspended").await;
    assert_eq!(state(&app, &tenant_id).await, before, "the suspended tenant's owner and API key changed nothing");

    assert_eq!(app.deliver().await, 0, "nothing was queued");
    assert_eq!(sink.received().len(), received, "no receiver got anything");
    let (status,): (String,) = domain::on_pool!(&app.herald.store, pool => sqlx::query_as(
        "SELECT status FROM recovery_jobs WHERE id = $1").bind(&t.job).fetch_one(pool).await)
    .unwrap();
    assert_eq!(status, "running", "nobody cancelled the job");
}

async fn a_suspended_tenants_invitation_waits_for_the_suspension_to_end(app: TestApp) {
    let (tenant_id, _, owner) = tenant_with_owner_and_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let r = app.rpc(&owner, "invite", &[("email", "bruno@lotus.example"), ("role", "member")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let link = r.json()["link"].as_str().unwrap().to_string();
    let token = link.rsplit('/').next().unwrap();
    let suspend = |on: bool| {
        let (app, tenant_id) = (&app, &tenant_id);
        async move {
            let update = domain::tenants::TenantUpdate { suspended: Some(on), ..Default::default() };
            app.herald.change_tenant(&domain::Actor::system("test"), tenant_id, update).await.unwrap();
        }
    };
    suspend(true).await;
    let bruno = app.new_browser();
    let accept = [("token", token), ("name", "Bruno"), ("password", "bruno password 1")];
    let r = app.rpc(&bruno, "accept_invitation", &accept).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.error()["message"].as_str().unwrap().contains("suspended"), "{}", r.text);
    assert_eq!(app.herald.members(&tenant_id).await.unwrap().len(), 1, "nobody joined");
    assert_eq!(app.get(&bruno, "/api/v1/me").await.status, 401, "no account and no session were made");
    assert!(app.herald.user_by_email("bruno@lotus.example").await.unwrap().is_none());
    // The invitation itself still opens, and works once the suspension is lifted.
    assert_eq!(app.rpc(&bruno, "invitation", &[("token", token)]).await.status, 200);
    suspend(false).await;
    let r = app.rpc(&bruno, "accept_invitation", &accept).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.herald.members(&tenant_id).await.unwrap().len(), 2);
}
