//! CSRF, body size, health and not-found behaviour.

use crate::both_databases;
use crate::helpers::{TestApp, OWNER_PASSWORD};

both_databases!(
    state_changes_without_csrf_proof_are_refused,
    session_api_writes_without_csrf_proof_are_refused,
    oversize_bodies_get_413_with_a_json_error,
    health_and_unknown_routes,
    session_cookies_are_httponly_and_lax,
    no_site_may_frame_herald_by_default,
    configured_sites_may_frame_herald_with_cross_site_session_cookies,
);

async fn state_changes_without_csrf_proof_are_refused(app: TestApp) {
    let bare = reqwest::Client::builder().cookie_store(true).no_proxy().build().unwrap();
    let sign_up = [("name", ""), ("email", "a@spa.example"), ("password", "long enough pw"), ("tenant_name", "Spa")];
    let url = format!("{}/rpc/sign_up", app.base);

    let r = bare.post(&url).form(&sign_up).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "csrf_failed");
    assert!(body["error"]["message"].as_str().unwrap().contains("CSRF token"));

    let r = bare.post(&url).header("origin", "https://evil.example").form(&sign_up).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = bare.post(&url).header("sec-fetch-site", "cross-site").header("origin", &app.origin).form(&sign_up).send().await.unwrap();
    assert_eq!(r.status(), 403, "the browser's cross-site verdict wins");
    assert_eq!(app.herald.user_count().await.unwrap(), 0, "nothing was created");
    assert!(app.sign_up_token("a@spa.example").is_none(), "no sign-up link was sent");

    let r = bare.post(&url).header("sec-fetch-site", "same-origin").form(&sign_up).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let token = app.sign_up_token("a@spa.example").expect("a sign-up link");
    let confirm = format!("{}/rpc/confirm_sign_up", app.base);
    let r = bare.post(&confirm).form(&[("token", &token)]).send().await.unwrap();
    assert_eq!(r.status(), 403, "following the link needs the same proof");
    let r = bare.post(&confirm).header("sec-fetch-site", "same-origin").form(&[("token", &token)]).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // A script holding the session cookie can use the session's token instead of Origin.
    let token = bare.get(format!("{}/api/v1/me", app.base)).send().await.unwrap().json::<serde_json::Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let invite = [("email", "b@spa.example"), ("role", "member")];
    let r = bare.post(format!("{}/rpc/invite", app.base)).header("x-csrf-token", "wrong").form(&invite).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = bare.post(format!("{}/rpc/invite", app.base)).header("x-csrf-token", token).form(&invite).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

/// `/api/v1` with the dashboard's session cookie (not an API key) needs the same proof as the
/// dashboard: the browser's Origin or `Sec-Fetch-Site`, or the session's `x-csrf-token`.
async fn session_api_writes_without_csrf_proof_are_refused(app: TestApp) {
    let owner = app.owner("ana@lotus.example", "Lotus").await;
    let r = app.rpc(&app.new_browser(), "sign_in", &[("email", "ana@lotus.example"), ("password", OWNER_PASSWORD)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cookie = r.session_cookie();
    let tenant_id = app.me(&owner).await["tenant"]["id"].as_str().unwrap().to_string();
    let endpoint = serde_json::json!({ "name": "E", "url": "https://hooks.example.com/x", "event_types": ["*"] });
    let write = |method: reqwest::Method, path: &str, body: serde_json::Value, extra: Option<(&'static str, String)>| {
        let mut request =
            crate::helpers::plain_client().request(method, format!("{}/api/v1{path}", app.base)).header("cookie", &cookie).json(&body);
        if let Some((name, value)) = extra {
            request = request.header(name, value);
        }
        request.send()
    };
    let writes = [
        (reqwest::Method::POST, "/endpoints", endpoint.clone()),
        (reqwest::Method::PATCH, "/settings", serde_json::json!({ "webhooks_enabled": false })),
        (reqwest::Method::POST, "/events", serde_json::json!({ "event_type": "invoice.closed", "data": {} })),
    ];
    for (method, path, body) in &writes {
        for extra in [
            None,
            Some(("origin", "https://evil.example".to_string())),
            Some(("sec-fetch-site", "cross-site".to_string())),
            Some(("x-csrf-token", "wrong".to_string())),
        ] {
            let r = write(method.clone(), path, body.clone(), extra.clone()).await.unwrap();
            assert_eq!(r.status(), 403, "{method} {path} with {extra:?}");
            assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"]["code"], "csrf_failed");
        }
    }
    assert_eq!(app.herald.endpoint_count(&tenant_id).await.unwrap(), 0);
    assert!(app.herald.tenant(&tenant_id).await.unwrap().webhooks_enabled);
    let (messages,): (i64,) =
        domain::on_pool!(&app.herald.store, pool => sqlx::query_as("SELECT COUNT(*) FROM messages").fetch_one(pool).await).unwrap();
    assert_eq!(messages, 0, "nothing was ingested");

    // With the session's token (or the site's own Origin) the same write goes through.
    let token = app.get_with_cookie(&cookie, "/api/v1/me").await.json()["csrf_token"].as_str().unwrap().to_string();
    let r = write(reqwest::Method::POST, "/endpoints", endpoint.clone(), Some(("x-csrf-token", token))).await.unwrap();
    assert_eq!(r.status(), 201);
    let r = write(reqwest::Method::POST, "/endpoints", endpoint, Some(("origin", app.origin.clone()))).await.unwrap();
    assert_eq!(r.status(), 409, "past the guard, the Basic plan's limit answers");
}

async fn oversize_bodies_get_413_with_a_json_error(app: TestApp) {
    let big = "x".repeat(70 * 1024);
    let r = app
        .rpc(
            &app.new_browser(),
            "sign_up",
            &[("name", &big), ("email", "a@spa.example"), ("password", "long enough pw"), ("tenant_name", "Spa")],
        )
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(r.error()["code"], "payload_too_large");
    assert_eq!(app.herald.user_count().await.unwrap(), 0);
    // Long but acceptable values get a field error instead.
    let long = "x".repeat(300);
    let r = app
        .rpc(
            &app.new_browser(),
            "sign_up",
            &[("name", &long), ("email", "a@spa.example"), ("password", "long enough pw"), ("tenant_name", "Spa")],
        )
        .await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("name")));
}

async fn health_and_unknown_routes(app: TestApp) {
    let client = app.new_browser();
    let r = app.get(&client, "/healthz").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
    let r = app.get(&client, "/api/v1/nope").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.error()["code"], "not_found");
    let r = client.get(format!("{}/no-such-page", app.base)).header("accept", "text/html").send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("Page not found"));
}

async fn session_cookies_are_httponly_and_lax(app: TestApp) {
    app.owner("a@spa.example", "Spa").await;
    let client = app.new_browser();
    let r = client
        .post(format!("{}/rpc/sign_in", app.base))
        .form(&[("email", "a@spa.example"), ("password", OWNER_PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("herald_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http in tests: no Secure flag");
    let session_id = cookie.split(';').next().unwrap().trim_start_matches("herald_session=").to_string();
    let body = r.text().await.unwrap();
    assert!(!body.contains(&session_id));
    let me = app.get(&client, "/api/v1/me").await.text;
    assert!(!me.contains(&session_id), "the session id never appears in a response body");
}

async fn no_site_may_frame_herald_by_default(app: TestApp) {
    let client = app.new_browser();
    for path in ["/signin", "/endpoints", "/api/v1/me", "/api/v1/nope", "/healthz", "/pkg/none.css"] {
        let r = app.get(&client, path).await;
        assert_eq!(r.headers["content-security-policy"], "frame-ancestors 'none'", "{path}");
        assert_eq!(r.headers["x-frame-options"], "DENY", "{path}");
    }
}

/// `HERALD_FRAME_ANCESTORS` lets the platform's admin frame the dashboard: the policy names
/// it, and the session cookie is sent in a cross-site frame (SameSite=None; Secure; Partitioned)
/// while state changes still need same-origin proof.
async fn configured_sites_may_frame_herald_with_cross_site_session_cookies(app: TestApp) {
    app.owner("a@spa.example", "Spa").await;
    let framed = app
        .spawn_process(|c| c.frame_ancestors = Some(server::config::parse_frame_ancestors("https://admin.platform.example").unwrap()))
        .await;
    let r = framed.get(&framed.new_browser(), "/signin").await;
    assert_eq!(r.headers["content-security-policy"], "frame-ancestors https://admin.platform.example");
    assert!(r.headers.get("x-frame-options").is_none(), "X-Frame-Options cannot name a site: left out");

    let r = framed.rpc(&framed.new_browser(), "sign_in", &[("email", "a@spa.example"), ("password", OWNER_PASSWORD)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let set =
        r.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).find(|c| c.starts_with("herald_session=")).unwrap();
    for attribute in ["HttpOnly", "SameSite=None", "Secure", "Partitioned"] {
        assert!(set.split(';').any(|a| a.trim() == attribute), "{attribute} missing: {set}");
    }
    let cookie = r.session_cookie();
    assert_eq!(framed.get_with_cookie(&cookie, "/api/v1/me").await.status, 200);
    // CSRF protection is unchanged: another site's request carrying the cookie is refused.
    let invite = [("email", "b@spa.example"), ("role", "member")];
    let r = crate::helpers::plain_client()
        .post(format!("{}/rpc/invite", framed.base))
        .header("cookie", &cookie)
        .header("origin", "https://admin.platform.example")
        .header("sec-fetch-site", "cross-site")
        .form(&invite)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = crate::helpers::plain_client()
        .post(format!("{}/rpc/invite", framed.base))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .form(&invite)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the framed dashboard's own request (same-origin) goes through");
    // The default process on the same database keeps Lax cookies and refuses frames.
    let r = app.rpc(&app.new_browser(), "sign_in", &[("email", "a@spa.example"), ("password", OWNER_PASSWORD)]).await;
    let set = r.headers["set-cookie"].to_str().unwrap().to_string();
    assert!(set.contains("SameSite=Lax") && !set.contains("Partitioned"), "{set}");
}
