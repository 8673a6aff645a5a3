//! One-time dashboard links: a platform key asks for one, the browser that opens it is signed
//! in to that tenant only (creating the person if needed), once, before it expires.

use domain::clock::MINUTE;
use domain::StaffRole;
use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::{api_get, platform_key, post, tenant_with_owner_and_key, Plan, PrivateUrls, Reply, TestApp, OWNER_PASSWORD};

both_databases!(
    a_link_creates_the_person_and_signs_them_in_once,
    a_link_session_stays_in_its_tenant,
    links_expire_and_bad_requests_name_the_field,
    a_link_carries_no_staff_role,
);

/// Opens `url` in `browser` as a person clicking it would (no redirects followed).
async fn open(browser: &reqwest::Client, url: &str) -> Reply {
    let r = browser.get(url).header("accept", "text/html").send().await.unwrap();
    Reply { status: r.status(), headers: r.headers().clone(), text: r.text().await.unwrap() }
}

/// Asks for a link with `key`; checks it was made (201) and returns the reply's body.
async fn link(app: &TestApp, key: &str, tenant_id: &str, body: Value) -> Value {
    let r = post(app, key, &format!("/tenants/{tenant_id}/dashboard-links"), body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

async fn new_tenant(app: &TestApp, key: &str, name: &str) -> String {
    let r = post(app, key, "/tenants", json!({ "name": name, "plan": "basic" })).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_string()
}

async fn a_link_creates_the_person_and_signs_them_in_once(app: TestApp) {
    let key = platform_key(&app, "Booking platform").await;
    let lotus = new_tenant(&app, &key, "Lotus").await;
    let made = link(&app, &key, &lotus, json!({ "email": "Mia@Lotus.example", "role": "member" })).await;
    let url = made["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/dashboard-link/", app.base)), "{url}");
    assert_eq!(made["expires_at"], domain::clock::rfc3339(app.clock_now() + 10 * MINUTE), "10 minutes by default");
    assert_eq!(made.as_object().unwrap().len(), 2, "url and expires_at: {made}");
    // Nothing is created until the link is opened; only the token's digest is stored.
    assert!(app.herald.user_by_email("mia@lotus.example").await.unwrap().is_none());
    let token = url.rsplit('/').next().unwrap();
    let (hash,): (String,) =
        domain::on_pool!(&app.herald.store, pool => sqlx::query_as("SELECT token_hash FROM dashboard_links").fetch_one(pool).await)
            .unwrap();
    assert_eq!(hash, domain::crypto::sha256_hex(token));

    // A link checker's HEAD does not use it up.
    let head = app.new_browser().head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    let browser = app.new_browser();
    let r = open(&browser, &url).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.headers["location"], "/endpoints");
    assert_eq!(r.headers["referrer-policy"], "no-referrer");
    let me = app.me(&browser).await;
    assert_eq!(
        (me["user"]["email"].as_str(), me["tenant"]["id"].as_str(), me["tenant"]["role"].as_str()),
        (Some("mia@lotus.example"), Some(lotus.as_str()), Some("member"))
    );
    // The dashboard opens for them (a member: no admin-only changes).
    let page = browser.get(format!("{}/endpoints", app.base)).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Lotus"));
    // No password was set: the account cannot sign in with one.
    let r = app.rpc(&app.new_browser(), "sign_in", &[("email", "mia@lotus.example"), ("password", "")]).await;
    assert_eq!(r.status, 422);
    let r = app.rpc(&app.new_browser(), "sign_in", &[("email", "mia@lotus.example"), ("password", "any password at all")]).await;
    assert_eq!(r.status, 422, "{}", r.text);

    // A second use is refused with a page a person can read, and signs nobody in.
    let other = app.new_browser();
    let r = open(&other, &url).await;
    assert_eq!(r.status, 410);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(r.text.contains("This link has already been used") && r.text.contains("herald.css"), "{}", r.text);
    assert!(!r.text.contains(token));
    assert_eq!(app.get(&other, "/api/v1/me").await.status, 401);
    let r = open(&other, &format!("{}/dashboard-link/not-a-token", app.base)).await;
    assert_eq!(r.status, 404);
    assert!(r.text.contains("This link does not work"));
    assert_eq!(app.herald.members(&lotus).await.unwrap().len(), 1);

    // The link's making and its use are in the tenant's audit log.
    let log = api_get(&app, &key, &format!("/tenants/{lotus}/audit")).await.json();
    let entries = log["data"].as_array().unwrap();
    let find = |action: &str| entries.iter().find(|e| e["action"] == action).unwrap_or_else(|| panic!("no {action} in {log}")).clone();
    let created = find("dashboard_link.created");
    assert_eq!((created["actor"]["kind"].as_str(), created["actor"]["label"].as_str()), (Some("platform_key"), Some("Booking platform")));
    assert_eq!(created["target"], "mia@lotus.example");
    let used = find("dashboard_link.used");
    assert_eq!((used["actor"]["kind"].as_str(), used["actor"]["label"].as_str()), (Some("user"), Some("mia@lotus.example")));
    assert!(used["summary"].as_str().unwrap().contains("Booking platform"), "{used}");
    assert_eq!(used["ip"], "127.0.0.1");
    assert_eq!(find("member.joined")["target"], "mia@lotus.example");
    assert!(!log.to_string().contains(token), "the token is not in the log");
}

async fn a_link_session_stays_in_its_tenant(app: TestApp) {
    // Ana owns Lotus (signed up) and is then given an admin link to Zen.
    let (lotus, _, ana) = tenant_with_owner_and_key(&app, "Lotus", Plan::Basic, PrivateUrls::Refused).await;
    let key = platform_key(&app, "Booking platform").await;
    let zen = new_tenant(&app, &key, "Zen").await;
    let made = link(&app, &key, &zen, json!({ "email": "owner@lotus.example", "role": "admin", "ttl_seconds": 3600 })).await;
    assert_eq!(made["expires_at"], domain::clock::rfc3339(app.clock_now() + 60 * MINUTE));
    let framed = app.new_browser();
    assert_eq!(open(&framed, made["url"].as_str().unwrap()).await.status, 303);
    let me = app.me(&framed).await;
    assert_eq!((me["tenant"]["id"].as_str(), me["tenant"]["role"].as_str()), (Some(zen.as_str()), Some("admin")));
    assert_eq!(me["tenants"].as_array().unwrap().len(), 1, "the link's session offers its tenant only: {me}");
    let session = app.rpc(&framed, "session", &[]).await.json();
    assert_eq!(session["tenants"].as_array().unwrap().len(), 1);
    // The switcher cannot leave it, though Ana belongs to Lotus too.
    let r = app.rpc(&framed, "switch_tenant", &[("tenant_id", &lotus)]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.error()["message"].as_str().unwrap().contains("one workspace only"));
    assert_eq!(app.me(&framed).await["tenant"]["id"], zen.as_str());
    // As an admin of Zen it can change Zen.
    let r =
        crate::helpers::session_call(&app, &framed, reqwest::Method::PATCH, "/settings", Some(json!({ "webhooks_enabled": false }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!app.herald.tenant(&zen).await.unwrap().webhooks_enabled);
    // Her own sign-in is untouched and still offers both.
    assert_eq!(app.me(&ana).await["tenants"].as_array().unwrap().len(), 2);
    // Signing in with a password in the same browser ends the pin.
    let r = app.rpc(&framed, "sign_in", &[("email", "owner@lotus.example"), ("password", OWNER_PASSWORD)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.rpc(&framed, "switch_tenant", &[("tenant_id", &lotus)]).await.status, 200);

    // Removed from Zen's team, a link session ends.
    let again = link(&app, &key, &zen, json!({ "email": "owner@lotus.example", "role": "member" })).await;
    let browser = app.new_browser();
    assert_eq!(open(&browser, again["url"].as_str().unwrap()).await.status, 303);
    assert_eq!(app.me(&browser).await["tenant"]["role"], "admin", "an existing member keeps their role");
    let user = app.herald.user_by_email("owner@lotus.example").await.unwrap().unwrap();
    let zen_admin = domain::Actor::system("tests").in_tenant(&zen);
    app.herald.remove_member(&zen_admin, &user.id).await.unwrap();
    assert_eq!(app.get(&browser, "/api/v1/me").await.status, 401);
}

async fn links_expire_and_bad_requests_name_the_field(app: TestApp) {
    let key = platform_key(&app, "Booking platform").await;
    let lotus = new_tenant(&app, &key, "Lotus").await;
    let made = link(&app, &key, &lotus, json!({ "email": "mia@lotus.example", "role": "member", "ttl_seconds": 60 })).await;
    app.clock.advance(61 * 1000);
    let r = open(&app.new_browser(), made["url"].as_str().unwrap()).await;
    assert_eq!(r.status, 410);
    assert!(r.text.contains("This link has expired"), "{}", r.text);
    assert!(app.herald.user_by_email("mia@lotus.example").await.unwrap().is_none(), "nobody was created");
    // Just before expiry it works.
    let made = link(&app, &key, &lotus, json!({ "email": "mia@lotus.example", "role": "member", "ttl_seconds": 60 })).await;
    app.clock.advance(59 * 1000);
    assert_eq!(open(&app.new_browser(), made["url"].as_str().unwrap()).await.status, 303);

    let path = format!("/tenants/{lotus}/dashboard-links");
    for (body, field) in [
        (json!({ "email": "a@lotus.example", "role": "member", "ttl_seconds": 0 }), "ttl_seconds"),
        (json!({ "email": "a@lotus.example", "role": "member", "ttl_seconds": 3601 }), "ttl_seconds"),
        (json!({ "email": "a@lotus.example", "role": "member", "ttl_seconds": -1 }), "ttl_seconds"),
        (json!({ "email": "a@lotus.example", "role": "owner" }), "role"),
        (json!({ "email": "a@lotus.example" }), "role"),
        (json!({ "email": "nope", "role": "member" }), "email"),
        (json!({ "email": "a@lotus.example", "role": "member", "minutes": 5 }), "minutes"),
    ] {
        let r = post(&app, &key, &path, body.clone()).await;
        assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some(field)), "{body}: {}", r.text);
    }
    let r = post(&app, &key, "/tenants/ten_nope/dashboard-links", json!({ "email": "a@lotus.example", "role": "member" })).await;
    assert_eq!(r.status, 404);
    let (links,): (i64,) =
        domain::on_pool!(&app.herald.store, pool => sqlx::query_as("SELECT COUNT(*) FROM dashboard_links").fetch_one(pool).await).unwrap();
    assert_eq!(links, 2, "no link from a refused request");

    // A suspended tenant takes nobody new through a link.
    let r = crate::helpers::patch(&app, &key, &format!("/tenants/{lotus}"), json!({ "suspended": true })).await;
    assert_eq!(r.status, 200);
    let r = post(&app, &key, &path, json!({ "email": "new@lotus.example", "role": "member" })).await;
    assert_eq!(r.status, 403, "{}", r.text);
    // Mia, a member already, still gets in (read-only).
    let made = link(&app, &key, &lotus, json!({ "email": "mia@lotus.example", "role": "member" })).await;
    let browser = app.new_browser();
    assert_eq!(open(&browser, made["url"].as_str().unwrap()).await.status, 303);
    let session = app.rpc(&browser, "session", &[]).await.json();
    assert_eq!(session["tenant"]["suspended"], true);
}

async fn a_link_carries_no_staff_role(app: TestApp) {
    let key = platform_key(&app, "Booking platform").await;
    let lotus = new_tenant(&app, &key, "Lotus").await;
    crate::helpers::signed_in_staff(&app, "olga@herald.example", StaffRole::Operator).await;
    let made = link(&app, &key, &lotus, json!({ "email": "olga@herald.example", "role": "member" })).await;
    let browser = app.new_browser();
    assert_eq!(open(&browser, made["url"].as_str().unwrap()).await.status, 303);
    let me = app.me(&browser).await;
    assert_eq!((me["user"]["staff_role"].clone(), me["tenant"]["role"].as_str()), (Value::Null, Some("member")));
    for name in ["staff_tenants", "platform_keys"] {
        assert_eq!(app.rpc(&browser, name, &[]).await.status, 404, "{name}");
    }
    let r = app.rpc(&browser, "view_tenant", &[("tenant_id", &lotus)]).await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = app.rpc(&browser, "stop_viewing", &[]).await;
    assert_eq!(r.status, 404, "{}", r.text);
    // Accepting an invitation would sign in afresh (unpinned, staff again): not from here.
    let zen = app.owner("ana@zen.example", "Zen").await;
    let r = app.rpc(&zen, "invite", &[("email", "olga@herald.example"), ("role", "member")]).await;
    let token = r.json()["link"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let r = app.rpc(&browser, "accept_invitation", &[("token", &token)]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let me = app.me(&browser).await;
    assert_eq!((me["user"]["staff_role"].clone(), me["tenant"]["id"].as_str()), (Value::Null, Some(lotus.as_str())));
    assert_eq!(app.rpc(&browser, "staff_tenants", &[]).await.status, 404);
}
