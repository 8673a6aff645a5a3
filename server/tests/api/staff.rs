//! The staff consoles: support finds any tenant's deliveries and reads without ever changing
//! anything or seeing secrets; operators create tenants, set plans, retention and suspension;
//! tenant users never reach staff pages.

use domain::StaffRole;
use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::{
    add_endpoint, post, send_event, session_call, signed_in_staff, system, tenant_with_key, Plan, PrivateUrls, Sink, TestApp,
    OWNER_PASSWORD,
};

both_databases!(
    tenant_users_never_reach_staff_pages,
    support_finds_deliveries_of_any_tenant_archived_ones_too,
    support_views_a_tenant_read_only_and_never_sees_secrets,
    operators_create_tenants_and_set_plan_and_retention,
    a_suspended_tenant_accepts_nothing_and_its_dashboard_is_read_only,
);

async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = client.get(format!("{}{path}", app.base)).header("accept", "text/html").send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn tenant_users_never_reach_staff_pages(app: TestApp) {
    let owner = app.owner("ana@lotus.example", "Lotus").await;
    let tenant_id = app.me(&owner).await["tenant"]["id"].as_str().unwrap().to_string();
    for path in ["/staff", "/staff/search", "/staff/audit", &format!("/staff/tenants/{tenant_id}")] {
        let (status, body) = page(&owner, &app, path).await;
        assert_eq!(status, 404, "{path}");
        assert!(body.contains("Page not found") && !body.contains("All tenants") && !body.contains("Find deliveries"), "{path}");
    }
    let calls: &[(&str, &[(&str, &str)])] = &[
        ("staff_tenants", &[]),
        ("staff_tenant", &[("tenant_id", &tenant_id)]),
        (
            "search_deliveries",
            &[
                ("tenant", ""),
                ("endpoint_url", ""),
                ("message_id", ""),
                ("event_id", ""),
                ("event_type", ""),
                ("since", ""),
                ("until", ""),
                ("cursor", ""),
            ],
        ),
        ("view_tenant", &[("tenant_id", &tenant_id)]),
        ("stop_viewing", &[]),
        ("create_tenant", &[("name", "Mine"), ("plan", "enterprise"), ("admin_email", "ana@lotus.example")]),
        ("update_tenant_settings", &[("tenant_id", &tenant_id), ("plan", "enterprise"), ("retention_days", "999")]),
        ("set_tenant_suspended", &[("tenant_id", &tenant_id), ("suspended", "false")]),
        ("set_tenant_plan", &[("tenant_id", &tenant_id), ("plan", "enterprise")]),
        ("audit_entries", &[("all", "true")]),
    ];
    for (name, form) in calls {
        let r = app.rpc(&owner, name, form).await;
        assert_eq!(r.status, 404, "{name}: {}", r.text);
    }
    let t = app.herald.tenant(&tenant_id).await.unwrap();
    assert_eq!((t.plan.as_str(), t.retention_days), ("basic", 60), "nothing changed");
    // The owner's own audit page exists; a staff page never does, even after a staff account exists.
    assert_eq!(page(&owner, &app, "/audit").await.0, 200);
}

fn search<'a>(fields: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form: Vec<(&str, &str)> =
        ["tenant", "endpoint_url", "message_id", "event_id", "event_type", "since", "until", "cursor"].iter().map(|f| (*f, "")).collect();
    for (k, v) in fields {
        form.retain(|(f, _)| f != k);
        form.push((k, v));
    }
    form
}

async fn support_finds_deliveries_of_any_tenant_archived_ones_too(app: TestApp) {
    let sink = Sink::start().await;
    let (_, lotus) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let (zen_id, zen) = tenant_with_key(&app, "ZenStudio", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &lotus, json!({ "name": "Lotus CRM", "url": format!("{}/lotus-crm", sink.url), "event_types": ["*"] })).await;
    add_endpoint(&app, &zen, json!({ "name": "Zen CRM", "url": format!("{}/zen-crm", sink.url), "event_types": ["*"] })).await;
    let old = post(&app, &zen, "/events", json!({ "event_type": "invoice.closed", "data": {}, "event_id": "inv-7" })).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.deliver().await;
    app.advance_days(61);
    app.herald.archive_once().await.unwrap();
    let lotus_msg = send_event(&app, &lotus, "customer.created", json!({})).await;
    send_event(&app, &zen, "customer.created", json!({})).await;
    app.deliver().await;

    let support = signed_in_staff(&app, "sam@herald.example", StaffRole::Support).await;
    let find = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        let support = &support;
        async move {
            let owned: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = app.rpc(support, "search_deliveries", &search(&owned)).await;
            assert_eq!(r.status, 200, "{}", r.text);
            r.json()["rows"].as_array().unwrap().clone()
        }
    };
    let rows = find(vec![("message_id", old.clone())]).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["tenant_name"], "ZenStudio");
    assert_eq!(rows[0]["archived"], true, "archived deliveries are found too");
    assert_eq!(rows[0]["status"], "succeeded");
    assert_eq!(find(vec![("event_id", "inv-7".into())]).await.len(), 1);
    assert_eq!(find(vec![("tenant", "NSTUD".into())]).await.len(), 2, "part of the name, any case");
    assert_eq!(find(vec![("tenant", zen_id.clone())]).await.len(), 2, "or the id");
    let by_url = find(vec![("endpoint_url", "LOTUS-crm".into())]).await;
    assert_eq!(by_url.len(), 1);
    assert_eq!(by_url[0]["message_id"], lotus_msg.as_str());
    assert_eq!(find(vec![("event_type", "customer.created".into())]).await.len(), 2);
    let now = domain::clock::rfc3339(app.clock_now() - domain::clock::DAY);
    assert_eq!(find(vec![("since", now.clone())]).await.len(), 2, "the last day only");
    assert_eq!(find(vec![("until", now)]).await.len(), 1, "before that: the archived one");
    assert_eq!(find(vec![("tenant", "50%_off".into())]).await.len(), 0, "wildcards are taken literally");
    assert_eq!(find(vec![]).await.len(), 3);

    let r = app.rpc(&support, "search_deliveries", &search(&[("since", "last tuesday")])).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("since")), "{}", r.text);
    let long = "x".repeat(400);
    let r = app.rpc(&support, "search_deliveries", &search(&[("endpoint_url", &long)])).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("endpoint_url")), "{}", r.text);
    let r = app.rpc(&support, "search_deliveries", &search(&[("cursor", "nonsense")])).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("cursor")), "{}", r.text);

    // The staff pages render for support.
    let (status, body) = page(&support, &app, &format!("/staff/search?message_id={old}")).await;
    assert_eq!(status, 200);
    assert!(body.contains("ZenStudio") && body.contains("Archived"), "{body}");
}

async fn support_views_a_tenant_read_only_and_never_sees_secrets(app: TestApp) {
    let sink = Sink::start().await;
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let auth_value = "Bearer very-secret-token-9876";
    let endpoint = add_endpoint(
        &app,
        &key,
        json!({
            "name": "CRM", "url": sink.url, "event_types": ["*"], "auth_header": { "name": "Authorization", "value": auth_value },
        }),
    )
    .await;
    let secret =
        post(&app, &key, &format!("/endpoints/{endpoint}/secret/rotate"), json!({})).await.json()["secret"].as_str().unwrap().to_string();
    send_event(&app, &key, "invoice.closed", json!({})).await;
    app.deliver().await;

    let support = signed_in_staff(&app, "sam@herald.example", StaffRole::Support).await;
    assert_eq!(session_call(&app, &support, reqwest::Method::GET, "/endpoints", None).await.status, 404, "no tenant chosen yet");
    let r = app.rpc(&support, "view_tenant", &[("tenant_id", &tenant_id)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.rpc(&support, "view_tenant", &[("tenant_id", "ten_nope")]).await;
    assert_eq!(r.status, 404);

    // Reading works: endpoints, one endpoint, the log, a delivery, the team, the tenant's audit log.
    let list = session_call(&app, &support, reqwest::Method::GET, "/endpoints", None).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.json()["data"][0]["id"], endpoint.as_str());
    assert_eq!(list.json()["data"][0]["auth_header"]["value_hint"], "••••••••", "not even the last characters");
    let log = session_call(&app, &support, reqwest::Method::GET, "/deliveries", None).await;
    assert_eq!(log.json()["data"].as_array().unwrap().len(), 1);
    assert_eq!(app.rpc(&support, "team", &[]).await.status, 200);
    assert_eq!(app.rpc(&support, "audit_entries", &[("all", "false")]).await.status, 200);
    let session = app.rpc(&support, "session", &[]).await.json();
    assert_eq!(session["staff_view"], true);
    assert_eq!(session["tenant"]["name"], "Lotus");

    // Secrets never.
    let r = session_call(&app, &support, reqwest::Method::GET, &format!("/endpoints/{endpoint}/secret"), None).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(!r.text.contains("whsec_"));
    let r = app.rpc(&support, "reveal_secret", &[("id", &endpoint)]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(app.rpc(&support, "api_keys", &[]).await.status, 403);

    // Changes never: every write answers 403 and changes nothing.
    let writes: Vec<(reqwest::Method, String, Option<Value>)> = vec![
        (
            reqwest::Method::POST,
            "/endpoints".into(),
            Some(json!({ "name": "X", "url": "https://hooks.example.com/x", "event_types": ["*"] })),
        ),
        (reqwest::Method::PATCH, format!("/endpoints/{endpoint}"), Some(json!({ "name": "Renamed" }))),
        (reqwest::Method::PATCH, format!("/endpoints/{endpoint}"), Some(json!({ "auth_header": null }))),
        (reqwest::Method::DELETE, format!("/endpoints/{endpoint}"), None),
        (reqwest::Method::POST, format!("/endpoints/{endpoint}/deactivate"), None),
        (reqwest::Method::POST, format!("/endpoints/{endpoint}/activate"), None),
        (reqwest::Method::POST, format!("/endpoints/{endpoint}/secret/rotate"), None),
        (reqwest::Method::PATCH, "/settings".into(), Some(json!({ "webhooks_enabled": false }))),
    ];
    for (method, path, body) in writes {
        let r = session_call(&app, &support, method.clone(), &path, body).await;
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text);
        assert!(r.error()["message"].as_str().unwrap().contains("read-only"), "{}", r.text);
    }
    for (name, form) in [
        ("invite", vec![("email", "x@lotus.example"), ("role", "admin")]),
        ("create_api_key", vec![("name", "mine")]),
        ("set_webhooks_enabled", vec![("enabled", "false")]),
        ("set_endpoint_active", vec![("id", endpoint.as_str()), ("active", "false")]),
        ("rotate_secret", vec![("id", endpoint.as_str())]),
        ("delete_endpoint", vec![("id", endpoint.as_str())]),
    ] {
        let r = app.rpc(&support, name, &form).await;
        assert_eq!(r.status, 403, "{name}: {}", r.text);
    }
    // Operator-only changes do not exist for support.
    assert_eq!(
        app.rpc(&support, "update_tenant_settings", &[("tenant_id", &tenant_id), ("plan", "basic"), ("retention_days", "1")]).await.status,
        404
    );
    assert_eq!(app.rpc(&support, "set_tenant_suspended", &[("tenant_id", &tenant_id), ("suspended", "true")]).await.status, 404);

    let e = app.herald.endpoint_row(&tenant_id, &endpoint).await.unwrap();
    assert_eq!((e.name.as_str(), e.status.as_str(), e.auth_header_name.as_deref()), ("CRM", "active", Some("Authorization")));
    assert_eq!(app.herald.endpoints(&tenant_id).await.unwrap().len(), 1);
    let t = app.herald.tenant(&tenant_id).await.unwrap();
    assert!(t.webhooks_enabled && !t.suspended && t.retention_days == 60);
    assert_eq!(app.herald.signing_secrets(&e).unwrap()[0], secret, "the secret was not rotated");

    // Nothing support can read contains a secret.
    for path in ["/endpoints", &format!("/endpoints/{endpoint}"), "/deliveries", "/audit", "/settings"] {
        let r = session_call(&app, &support, reqwest::Method::GET, path, None).await;
        assert!(!r.text.contains("very-secret-token") && !r.text.contains(&secret), "{path}: {}", r.text);
    }
    // (The endpoint page's status is not checked: its admin-only "skipped deliveries" count
    // answers 403 for anyone but admins, which sets the page's status.)
    for path in ["/endpoints".to_string(), format!("/endpoints/{endpoint}"), "/logs".to_string()] {
        let (_, html) = page(&support, &app, &path).await;
        assert!(html.contains("as support (read-only)"), "{path}: the banner says so");
        assert!(!html.contains("very-secret-token") && !html.contains(&secret), "{path}");
        assert!(
            !html.contains(">Add endpoint<") && !html.contains(">Edit<") && !html.contains(">Send test event<"),
            "{path}: no write buttons"
        );
    }

    // Back to the console: the tenant is no longer in view.
    assert_eq!(app.rpc(&support, "stop_viewing", &[]).await.status, 200);
    assert_eq!(session_call(&app, &support, reqwest::Method::GET, "/endpoints", None).await.status, 404);
}

async fn operators_create_tenants_and_set_plan_and_retention(app: TestApp) {
    let op = signed_in_staff(&app, "olga@herald.example", StaffRole::Operator).await;
    let r = app.rpc(&op, "create_tenant", &[("name", "Glow Salon"), ("plan", "basic"), ("admin_email", "Boss@Glow.example")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let created = r.json();
    let tenant_id = created["tenant_id"].as_str().unwrap().to_string();
    let link = created["invitation_link"].as_str().expect("a new admin gets an invitation link").to_string();
    assert!(app.outbox().iter().any(|m| m.contains(&link)), "and it is emailed");

    // The admin sets a password through the link and owns the tenant.
    let boss = app.new_browser();
    let token = link.rsplit('/').next().unwrap();
    let r = app.rpc(&boss, "accept_invitation", &[("token", token), ("name", "Bo"), ("password", "boss password 1")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let me = app.me(&boss).await;
    assert_eq!((me["tenant"]["id"].as_str(), me["tenant"]["role"].as_str()), (Some(tenant_id.as_str()), Some("owner")));

    // An existing account becomes owner at once.
    let r = app
        .rpc(
            &op,
            "create_tenant",
            &[("name", "Glow Two"), ("plan", "business"), ("admin_email", "boss@glow.example"), ("allow_private_urls", "true")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json()["invitation_link"].is_null());
    let second = app.herald.tenant(r.json()["tenant_id"].as_str().unwrap()).await.unwrap();
    assert_eq!((second.plan.as_str(), second.allow_private_urls), ("business", true));

    for (form, field) in [
        (vec![("name", " "), ("plan", "basic"), ("admin_email", "a@b.example")], "tenant_name"),
        (vec![("name", "X"), ("plan", "gold"), ("admin_email", "a@b.example")], "plan"),
        (vec![("name", "X"), ("plan", "basic"), ("admin_email", "nope")], "admin_email"),
    ] {
        let r = app.rpc(&op, "create_tenant", &form).await;
        assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some(field)), "{form:?}: {}", r.text);
    }

    // Plan, retention and URL policy; the tenant's limit follows the plan.
    let limit = |c: reqwest::Client| {
        let app = &app;
        async move { session_call(app, &c, reqwest::Method::GET, "/endpoints", None).await.json()["limit"].as_i64().unwrap() }
    };
    let owner_view = app.new_browser();
    app.rpc(&owner_view, "sign_in", &[("email", "boss@glow.example"), ("password", "boss password 1")]).await;
    app.rpc(&owner_view, "switch_tenant", &[("tenant_id", &tenant_id)]).await;
    assert_eq!(limit(owner_view.clone()).await, 1);
    let r = app
        .rpc(
            &op,
            "update_tenant_settings",
            &[("tenant_id", &tenant_id), ("plan", "professional"), ("retention_days", "30"), ("allow_private_urls", "true")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((r.json()["endpoint_limit"].as_i64(), r.json()["retention_days"].as_i64()), (Some(3), Some(30)));
    assert_eq!(limit(owner_view.clone()).await, 3, "the tenant's limit changed");
    let t = app.herald.tenant(&tenant_id).await.unwrap();
    assert_eq!((t.plan.as_str(), t.retention_days, t.allow_private_urls), ("professional", 30, true));
    // Unchecking the box turns it off again.
    app.rpc(&op, "update_tenant_settings", &[("tenant_id", &tenant_id), ("plan", "professional"), ("retention_days", "30")]).await;
    assert!(!app.herald.tenant(&tenant_id).await.unwrap().allow_private_urls);

    for (retention, why) in [("0", "between 1 and 3650"), ("abc", "whole number"), ("99999", "between 1 and 3650")] {
        let r = app
            .rpc(&op, "update_tenant_settings", &[("tenant_id", &tenant_id), ("plan", "professional"), ("retention_days", retention)])
            .await;
        assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("retention_days")), "{retention}: {}", r.text);
        assert!(r.error()["message"].as_str().unwrap().contains(why), "{}", r.text);
    }
    let r = app.rpc(&op, "update_tenant_settings", &[("tenant_id", "ten_nope"), ("plan", "basic"), ("retention_days", "5")]).await;
    assert_eq!(r.status, 404);

    // A downgrade below usage is refused with how many endpoints must go.
    for n in 0..2 {
        let r = session_call(
            &app,
            &owner_view,
            reqwest::Method::POST,
            "/endpoints",
            Some(json!({ "name": format!("E{n}"), "url": "https://hooks.example.com/x", "event_types": ["*"] })),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = app.rpc(&op, "update_tenant_settings", &[("tenant_id", &tenant_id), ("plan", "basic"), ("retention_days", "30")]).await;
    assert_eq!((r.status.as_u16(), r.error()["code"].as_str()), (409, Some("plan_below_usage")));
    assert!(r.error()["message"].as_str().unwrap().contains("Remove 1 endpoint"), "{}", r.text);

    // Usage: endpoints of the limit, messages today and over 7 days; search by name.
    let (_, key) = app.herald.create_api_key(&system().in_tenant(&tenant_id), "k").await.unwrap();
    send_event(&app, &key, "invoice.closed", json!({})).await;
    app.advance_days(3);
    send_event(&app, &key, "invoice.closed", json!({})).await;
    send_event(&app, &key, "invoice.closed", json!({})).await;
    let r = app.rpc(&op, "staff_tenants", &[("search", "glow sal")]).await;
    let list = r.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let row = &list[0];
    assert_eq!((row["endpoints"].as_i64(), row["endpoint_limit"].as_i64()), (Some(2), Some(3)));
    assert_eq!((row["messages_today"].as_i64(), row["messages_7d"].as_i64()), (Some(2), Some(3)));
    let detail = app.rpc(&op, "staff_tenant", &[("tenant_id", &tenant_id)]).await.json();
    let per_day: Vec<i64> = detail["per_day"].as_array().unwrap().iter().map(|d| d[1].as_i64().unwrap()).collect();
    assert_eq!(per_day, [0, 0, 0, 1, 0, 0, 2]);
    assert_eq!(app.rpc(&op, "staff_tenants", &[("search", "nothing like it")]).await.json().as_array().unwrap().len(), 0);
}

async fn a_suspended_tenant_accepts_nothing_and_its_dashboard_is_read_only(app: TestApp) {
    let sink = Sink::start().await;
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let owner = app.new_browser();
    app.rpc(&owner, "sign_in", &[("email", "owner@lotus.example"), ("password", OWNER_PASSWORD)]).await;
    let endpoint = add_endpoint(&app, &key, json!({ "name": "CRM", "url": sink.url, "event_types": ["*"] })).await;
    send_event(&app, &key, "invoice.closed", json!({})).await;

    let op = signed_in_staff(&app, "olga@herald.example", StaffRole::Operator).await;
    let r = app.rpc(&op, "set_tenant_suspended", &[("tenant_id", &tenant_id), ("suspended", "true")]).await;
    assert_eq!((r.status.as_u16(), r.json()), (200, json!(true)), "{}", r.text);

    // No ingest, no delivery.
    let r = post(&app, &key, "/events", json!({ "event_type": "invoice.closed", "data": {} })).await;
    assert_eq!(r.status, 403);
    assert!(r.error()["message"].as_str().unwrap().contains("suspended"));
    app.deliver().await;
    assert!(sink.received().is_empty(), "nothing is delivered while suspended");

    // The dashboard reads, but every change is refused with a clear message.
    let session = app.rpc(&owner, "session", &[]).await.json();
    assert_eq!(session["tenant"]["suspended"], true);
    assert_eq!(session_call(&app, &owner, reqwest::Method::GET, "/endpoints", None).await.status, 200);
    assert_eq!(
        session_call(&app, &owner, reqwest::Method::GET, &format!("/endpoints/{endpoint}/secret"), None).await.status,
        200,
        "their own secret stays readable"
    );
    for (method, path, body) in [
        (reqwest::Method::PATCH, format!("/endpoints/{endpoint}"), Some(json!({ "name": "Renamed" }))),
        (
            reqwest::Method::POST,
            "/endpoints".to_string(),
            Some(json!({ "name": "X", "url": "https://hooks.example.com/x", "event_types": ["*"] })),
        ),
        (reqwest::Method::DELETE, format!("/endpoints/{endpoint}"), None),
    ] {
        let r = session_call(&app, &owner, method, &path, body).await;
        assert_eq!(r.status, 403, "{path}: {}", r.text);
        assert!(r.error()["message"].as_str().unwrap().contains("suspended"), "{}", r.text);
    }
    let r = post(&app, &key, &format!("/endpoints/{endpoint}/deactivate"), json!({})).await;
    assert_eq!(r.status, 403, "API keys are refused too: {}", r.text);
    let r = app.rpc(&owner, "invite", &[("email", "x@lotus.example"), ("role", "member")]).await;
    assert_eq!(r.status, 403);
    let (_, html) = page(&owner, &app, "/endpoints").await;
    assert!(html.contains("This workspace is suspended"), "a banner says so");

    // Lifted: everything works again.
    app.rpc(&op, "set_tenant_suspended", &[("tenant_id", &tenant_id), ("suspended", "false")]).await;
    let r = session_call(&app, &owner, reqwest::Method::PATCH, &format!("/endpoints/{endpoint}"), Some(json!({ "name": "Renamed" }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    send_event(&app, &key, "invoice.closed", json!({})).await;
    app.deliver().await;
    assert_eq!(sink.received().len(), 1);
}
