//! The audit log: every change by tenant admins, members and staff, with who, when, what and
//! from where; admins see their tenant's, staff see all; never a secret in it.

use domain::StaffRole;
use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::{api_get, herald_cli, session_call, signed_in_staff, system, Reply, TestApp};

both_databases!(
    changes_are_recorded_with_who_when_what_and_where,
    the_audit_log_is_for_admins_of_the_tenant_and_staff,
    command_line_changes_are_recorded_too,
);

async fn audit_api(app: &TestApp, key: &str, query: &str) -> Reply {
    api_get(app, key, &format!("/audit{query}")).await
}

fn actions(page: &Value) -> Vec<String> {
    page["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
}

async fn changes_are_recorded_with_who_when_what_and_where(app: TestApp) {
    let owner = app.owner("ana@lotus.example", "Lotus").await;
    let tenant_id = app.me(&owner).await["tenant"]["id"].as_str().unwrap().to_string();
    let op = signed_in_staff(&app, "olga@herald.example", StaffRole::Operator).await;
    let r = app.rpc(&op, "update_tenant_settings", &[("tenant_id", &tenant_id), ("plan", "professional"), ("retention_days", "90")]).await;
    assert_eq!(r.status, 200, "{}", r.text);

    let secret_value = "Bearer audit-secret-value-42";
    let created = session_call(
        &app,
        &owner,
        reqwest::Method::POST,
        "/endpoints",
        Some(json!({
            "name": "CRM", "url": "https://hooks.example.com/crm", "event_types": ["*"],
            "auth_header": { "name": "Authorization", "value": secret_value },
        })),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json()["id"].as_str().unwrap().to_string();
    let r = session_call(
        &app,
        &owner,
        reqwest::Method::PATCH,
        &format!("/endpoints/{id}"),
        Some(json!({ "name": "CRM 2", "url": "https://hooks.example.com/crm2" })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    session_call(
        &app,
        &owner,
        reqwest::Method::PATCH,
        &format!("/endpoints/{id}"),
        Some(json!({ "auth_header": { "name": "Authorization", "value": "Bearer another-secret-77" } })),
    )
    .await;
    session_call(&app, &owner, reqwest::Method::PATCH, &format!("/endpoints/{id}"), Some(json!({ "name": "CRM 2" }))).await; // no change, no entry
    let rotated = session_call(&app, &owner, reqwest::Method::POST, &format!("/endpoints/{id}/secret/rotate"), None).await.json()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    session_call(&app, &owner, reqwest::Method::POST, &format!("/endpoints/{id}/deactivate"), None).await;
    // No trusted proxy is configured: a client's X-Forwarded-For is ignored (throttle.rs has
    // the proxy case).
    let r = owner
        .post(format!("{}/api/v1/endpoints/{id}/activate", app.base))
        .header("x-forwarded-for", "198.51.100.7, 203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    session_call(&app, &owner, reqwest::Method::PATCH, "/settings", Some(json!({ "webhooks_enabled": false }))).await;
    let invite = app.rpc(&owner, "invite", &[("email", "mia@lotus.example"), ("role", "member")]).await.json();
    let token = invite["link"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let mia = app.new_browser();
    assert_eq!(
        app.rpc(&mia, "accept_invitation", &[("token", &token), ("name", "Mia"), ("password", "mia password 12")]).await.status,
        200
    );
    let mia_id = app.me(&mia).await["user"]["id"].as_str().unwrap().to_string();
    assert_eq!(app.rpc(&owner, "remove_member", &[("user_id", &mia_id)]).await.status, 200);
    let key = app.rpc(&owner, "create_api_key", &[("name", "Platform")]).await.json().as_str().unwrap().to_string();
    session_call(&app, &owner, reqwest::Method::DELETE, &format!("/endpoints/{id}"), None).await;
    let keys = app.rpc(&owner, "api_keys", &[]).await.json();
    let key_id = keys[0]["id"].as_str().unwrap().to_string();

    let page = audit_api(&app, &key, "").await;
    assert_eq!(page.status, 200, "{}", page.text);
    let page = page.json();
    let mut got = actions(&page);
    got.reverse();
    assert_eq!(
        got,
        [
            "tenant.plan_changed",
            "tenant.retention_changed",
            "endpoint.created",
            "endpoint.auth_header_set",
            "endpoint.updated",
            "endpoint.auth_header_set",
            "endpoint.secret_rotated",
            "endpoint.deactivated",
            "endpoint.activated",
            "tenant.webhooks_disabled",
            "member.invited",
            "member.joined",
            "member.removed",
            "api_key.created",
            "endpoint.deleted",
        ]
    );
    let entries = page["data"].as_array().unwrap();
    let find = |action: &str| entries.iter().find(|e| e["action"] == action).unwrap().clone();
    let plan = find("tenant.plan_changed");
    assert_eq!(plan["actor"]["label"], "olga@herald.example (operator)");
    assert_eq!(plan["actor"]["kind"], "staff");
    assert!(plan["summary"].as_str().unwrap().contains("Basic to Professional"), "{plan}");
    let updated = find("endpoint.updated");
    assert_eq!(updated["actor"]["label"], "ana@lotus.example");
    assert_eq!(updated["ip"], "127.0.0.1");
    assert_eq!(updated["at"], domain::clock::rfc3339(app.clock_now()));
    assert_eq!(updated["target"], id.as_str());
    assert_eq!(updated["details"]["changed"], json!(["name", "url"]));
    assert_eq!(find("endpoint.activated")["ip"], "127.0.0.1", "the TCP peer, not what the client claimed");
    assert!(find("member.invited")["summary"].as_str().unwrap().contains("mia@lotus.example"));
    assert_eq!(find("member.joined")["actor"]["label"], "mia@lotus.example");

    // The API key's own change is attributed to it.
    let r = crate::helpers::delete(&app, &key, "/endpoints/ep_nope").await;
    assert_eq!(r.status, 404, "a refused change records nothing");
    let r = app.rpc(&owner, "revoke_api_key", &[("id", &key_id)]).await;
    assert_eq!(r.status, 200);
    let (_, key2) = app.herald.create_api_key(&system().in_tenant(&tenant_id), "second").await.unwrap();
    let page = audit_api(&app, &key2, "?limit=3").await.json();
    assert_eq!(actions(&page), ["api_key.created", "api_key.revoked", "endpoint.deleted"], "the second key's own creation first");
    let next = page["next_cursor"].as_str().unwrap();
    let older = audit_api(&app, &key2, &format!("?limit=2&cursor={next}")).await.json();
    assert_eq!(actions(&older), ["api_key.created", "member.removed"]);
    let endpoints_only = audit_api(&app, &key2, "?action=endpoint.").await.json();
    assert!(actions(&endpoints_only).iter().all(|a| a.starts_with("endpoint.")));
    assert_eq!(actions(&endpoints_only).len(), 8);

    // Never a secret in the log.
    let all = audit_api(&app, &key2, "?limit=200").await.text;
    for secret in [secret_value, "another-secret-77", rotated.as_str(), key.as_str()] {
        assert!(!all.contains(secret), "{secret} leaked into the audit log");
    }
    for (query, field) in [("?limit=0", "limit"), ("?cursor=x", "cursor"), ("?since=monday", "since"), ("?colour=red", "query")] {
        let r = audit_api(&app, &key2, query).await;
        assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some(field)), "{query}: {}", r.text);
    }
}

async fn the_audit_log_is_for_admins_of_the_tenant_and_staff(app: TestApp) {
    let lotus = app.owner("ana@lotus.example", "Lotus").await;
    let zen = app.owner("zoe@zen.example", "Zen").await;
    let zen_id = app.me(&zen).await["tenant"]["id"].as_str().unwrap().to_string();
    session_call(
        &app,
        &lotus,
        reqwest::Method::POST,
        "/endpoints",
        Some(json!({ "name": "Lotus CRM", "url": "https://hooks.example.com/a", "event_types": ["*"] })),
    )
    .await;
    session_call(
        &app,
        &zen,
        reqwest::Method::POST,
        "/endpoints",
        Some(json!({ "name": "Zen CRM", "url": "https://hooks.example.com/b", "event_types": ["*"] })),
    )
    .await;

    let lotus_log = app.rpc(&lotus, "audit_entries", &[("all", "false")]).await.json();
    let rows = lotus_log["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0]["summary"].as_str().unwrap().contains("Lotus CRM"));
    let via_api = session_call(&app, &lotus, reqwest::Method::GET, &format!("/audit?tenant_id={zen_id}"), None).await;
    assert_eq!(via_api.status, 404, "another tenant's log does not exist for Lotus");
    assert_eq!(app.rpc(&lotus, "audit_entries", &[("all", "true")]).await.status, 404);

    // A member (not an admin) cannot read it.
    let invite = app.rpc(&lotus, "invite", &[("email", "mia@lotus.example"), ("role", "member")]).await.json();
    let token = invite["link"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let mia = app.new_browser();
    app.rpc(&mia, "accept_invitation", &[("token", &token), ("name", "Mia"), ("password", "mia password 12")]).await;
    let r = app.rpc(&mia, "audit_entries", &[("all", "false")]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(session_call(&app, &mia, reqwest::Method::GET, "/audit", None).await.status, 403);
    let html = mia.get(format!("{}/audit", app.base)).header("accept", "text/html").send().await.unwrap();
    assert_eq!(html.status(), 404);

    // Staff see every tenant's, and can narrow to one.
    let support = signed_in_staff(&app, "sam@herald.example", StaffRole::Support).await;
    let all = app.rpc(&support, "audit_entries", &[("all", "true")]).await.json();
    let tenants: Vec<&str> = all["rows"].as_array().unwrap().iter().filter_map(|r| r["tenant_name"].as_str()).collect();
    assert!(tenants.contains(&"Lotus") && tenants.contains(&"Zen"), "{all}");
    let zen_rows = app.rpc(&support, "audit_entries", &[("all", "true"), ("tenant_id", &zen_id)]).await.json();
    let zen_rows = zen_rows["rows"].as_array().unwrap();
    assert_eq!(zen_rows.len(), 1);
    assert_eq!(zen_rows[0]["tenant_name"], "Zen");
    let (status, html) = {
        let r = support.get(format!("{}/staff/tenants/{zen_id}", app.base)).header("accept", "text/html").send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    };
    assert_eq!(status, 200);
    assert!(html.contains("Recent changes") && html.contains("Created endpoint") && !html.contains("Lotus CRM"));
    let zen_only = session_call(&app, &support, reqwest::Method::GET, &format!("/audit?tenant_id={zen_id}"), None).await.json();
    assert!(zen_only["data"].as_array().unwrap().iter().all(|e| e["tenant_id"] == zen_id.as_str()));
    assert_eq!(zen_only["data"].as_array().unwrap().len(), 1);
    let html = support.get(format!("{}/staff/audit", app.base)).header("accept", "text/html").send().await.unwrap();
    assert_eq!(html.status(), 200);
    assert!(html.text().await.unwrap().contains("Zen CRM"));
}

async fn command_line_changes_are_recorded_too(app: TestApp) {
    let herald = |args: &[&str]| {
        let out = herald_cli(&app).args(args).env("HERALD_PASSWORD", "operator password 1").env("USER", "ops").output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let id = herald(&["tenant", "create", "--name", "Glow", "--plan", "basic", "--admin-email", "boss@glow.example"]);
    herald(&["tenant", "update", &id, "--retention-days", "30", "--suspended", "true"]);
    assert!(app.herald.tenant(&id).await.unwrap().suspended);
    let key = herald(&["api-key", "create", "--tenant", &id, "--name", "Platform"]);
    let page = audit_api(&app, &key, "").await.json();
    let mut got = actions(&page);
    got.reverse();
    assert_eq!(got, ["tenant.created", "tenant.retention_changed", "tenant.suspended", "api_key.created"]);
    assert!(page["data"].as_array().unwrap().iter().all(|e| e["actor"]["label"] == "command line (ops)" && e["actor"]["kind"] == "system"));
    assert!(!page.to_string().contains(&key));
    herald(&["support", "create", "--email", "sam@herald.example"]);
    let all = app.herald.audit_log(&system(), domain::audit::AuditFilter::default()).await.unwrap();
    assert_eq!(all.data[0].action.as_str(), "staff.granted");
    assert!(all.data[0].tenant_id.is_none() && all.data[0].summary.contains("sam@herald.example"));
}
