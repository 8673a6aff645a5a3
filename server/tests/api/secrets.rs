//! Secrets at rest: the key canary, and ciphertexts bound to their row and column.

use serde_json::json;

use crate::both_databases;
use crate::helpers::{
    add_endpoint, api_get as get, deliveries, herald_cli, post, send_event, tenant_with_key, Answer, Plan, PrivateUrls, Sink, TestApp,
};

both_databases!(
    a_different_secret_key_refuses_to_start,
    a_sealed_value_copied_to_another_row_or_column_does_not_open,
    values_sealed_before_row_binding_still_work_and_are_upgraded,
);

async fn a_different_secret_key_refuses_to_start(app: TestApp) {
    // Even before any endpoint exists: the first start left a canary sealed with its key.
    let herald = |command: &[&str], key: Option<&str>| {
        // Only the key given here: the environment's is cleared with the rest.
        let mut cmd = tokio::process::Command::from(herald_cli(&app));
        cmd.args(command).kill_on_drop(true);
        if let Some(key) = key {
            cmd.env("HERALD_SECRET_KEY", key);
        }
        async move { tokio::time::timeout(std::time::Duration::from_secs(60), cmd.output()).await.expect("herald exits").unwrap() }
    };
    let out = herald(&["serve", "--bind", "127.0.0.1:0"], Some("a different key altogether")).await;
    assert!(!out.status.success(), "serve must refuse to start");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("HERALD_SECRET_KEY") && stderr.contains("not the key"), "{stderr}");
    assert!(!stderr.contains("a different key altogether"), "the key is never printed: {stderr}");
    let out = herald(&["migrate"], None).await;
    assert!(out.status.success(), "the right key (kept in the data directory) works: {}", String::from_utf8_lossy(&out.stderr));

    // With endpoints, too; and a refused start changed nothing.
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let auth = json!({ "name": "Authorization", "value": "Bearer kept-secret-1234" });
    let id =
        add_endpoint(&app, &key, json!({ "name": "E", "url": "https://hooks.example.com/h", "event_types": ["*"], "auth_header": auth }))
            .await;
    let out = herald(&["migrate"], Some("a different key altogether")).await;
    assert!(!out.status.success());
    let endpoint = get(&app, &key, &format!("/endpoints/{id}")).await.json();
    assert_eq!(endpoint["auth_header"]["value_hint"], "••••••••1234");
}

async fn raw(app: &TestApp, id: &str, column: &str) -> Option<String> {
    let sql = format!("SELECT {column} FROM endpoints WHERE id = $1");
    let (value,): (Option<String>,) =
        domain::on_pool!(&app.herald.store, pool => sqlx::query_as(&sql).bind(id).fetch_one(pool).await).unwrap();
    value
}

async fn set_raw(app: &TestApp, id: &str, column: &str, value: Option<&str>) {
    let sql = format!("UPDATE endpoints SET {column} = $1 WHERE id = $2");
    let n = domain::execute_on!(&app.herald.store, sqlx::query(&sql).bind(value).bind(id)).unwrap();
    assert_eq!(n, 1);
}

async fn a_sealed_value_copied_to_another_row_or_column_does_not_open(app: TestApp) {
    let sink = Sink::start().await;
    sink.answer(Answer::Status(200));
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let endpoint = |name: &str, value: &str, event: &str| json!({ "name": name, "url": sink.url, "event_types": [event], "auth_header": { "name": "Authorization", "value": value } });
    let one = add_endpoint(&app, &key, endpoint("One", "Bearer first-endpoint-1111", "invoice.closed")).await;
    let two = add_endpoint(&app, &key, endpoint("Two", "Bearer second-endpoint-2222", "customer.created")).await;
    let one_secret = get(&app, &key, &format!("/endpoints/{one}/secret")).await.json()["secret"].as_str().unwrap().to_string();
    assert!(one_secret.starts_with("whsec_"));

    // Someone with write access to the database copies endpoint One's secret onto Two.
    let two_secret = raw(&app, &two, "secret").await;
    set_raw(&app, &two, "secret", raw(&app, &one, "secret").await.as_deref()).await;
    let r = get(&app, &key, &format!("/endpoints/{two}/secret")).await;
    assert_ne!(r.status, 200, "{}", r.text);
    assert!(!r.text.contains(&one_secret), "{}", r.text);
    set_raw(&app, &two, "secret", two_secret.as_deref()).await;
    // Or a current secret into the previous-secret column.
    set_raw(&app, &two, "previous_secret", two_secret.as_deref()).await;
    let sql = "UPDATE endpoints SET previous_secret_expires_at = $1 WHERE id = $2";
    let until = app.clock_now() + domain::clock::DAY;
    assert_eq!(domain::execute_on!(&app.herald.store, sqlx::query(sql).bind(until).bind(&two)).unwrap(), 1);
    send_event(&app, &key, "customer.created", json!({})).await;
    app.deliver().await;
    assert!(sink.received().is_empty(), "nothing is signed with a secret that does not open");
    let d = deliveries(&app).await.pop().unwrap();
    assert!(d.last_error.as_deref().unwrap_or_default().contains("Could not sign"), "{d:?}");
    set_raw(&app, &two, "previous_secret", None).await;

    // Or One's auth header value onto Two: Two's requests do not carry One's value.
    let two_auth = raw(&app, &two, "auth_header_value").await;
    set_raw(&app, &two, "auth_header_value", raw(&app, &one, "auth_header_value").await.as_deref()).await;
    send_event(&app, &key, "customer.created", json!({})).await;
    app.clock.advance(domain::clock::HOUR);
    app.deliver().await;
    assert!(sink.received().is_empty(), "One's value was not sent for Two: {:?}", sink.received());
    let d = deliveries(&app).await.pop().unwrap();
    assert!(d.last_error.as_deref().unwrap_or_default().contains("auth header"), "{d:?}");
    // Saving Two does not silently drop the header it cannot read: it asks for the value again.
    let r = crate::helpers::plain_client()
        .patch(format!("{}/api/v1/endpoints/{two}", app.base))
        .bearer_auth(&key)
        .json(&json!({ "name": "Two renamed" }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!((status.as_u16(), body["error"]["field"].as_str()), (409, Some("auth_header.value")), "{body}");
    assert_ne!(raw(&app, &two, "auth_header_value").await, None, "the header is still there");
    assert_eq!(get(&app, &key, &format!("/endpoints/{two}")).await.json()["name"], "Two");
    // Entering the value again repairs it.
    let r = crate::helpers::plain_client()
        .patch(format!("{}/api/v1/endpoints/{two}", app.base))
        .bearer_auth(&key)
        .json(&json!({ "auth_header": { "name": "Authorization", "value": "Bearer second-endpoint-2222" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_ne!(raw(&app, &two, "auth_header_value").await, two_auth, "sealed afresh");
    send_event(&app, &key, "customer.created", json!({})).await;
    app.clock.advance(domain::clock::HOUR);
    app.deliver().await;
    let sent = sink.received();
    assert!(!sent.is_empty());
    assert!(sent.iter().all(|r| r.header("authorization") == "Bearer second-endpoint-2222"));
}

/// Seals `plain` the way releases before row binding did: `v1:` + base64(nonce ‖ ciphertext).
fn seal_v1(key: &str, plain: &str) -> String {
    use base64::Engine;
    use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
    use sha2::Digest;
    let aead = chacha20poly1305::XChaCha20Poly1305::new(&sha2::Sha256::digest(key.as_bytes()));
    let nonce = chacha20poly1305::XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let mut out = nonce.to_vec();
    out.extend(aead.encrypt(&nonce, plain.as_bytes()).unwrap());
    format!("v1:{}", base64::engine::general_purpose::STANDARD.encode(out))
}

async fn values_sealed_before_row_binding_still_work_and_are_upgraded(app: TestApp) {
    let sink = Sink::start().await;
    sink.answer(Answer::Status(200));
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let id = add_endpoint(&app, &key, json!({ "name": "Old", "url": sink.url, "event_types": ["*"] })).await;
    let server_key = std::fs::read_to_string(app.data_dir.0.join("secret.key")).unwrap();
    let old_secret = "whsec_c2VjcmV0LXdyaXR0ZW4tYnktYW4tb2xkLXJlbGVhc2U=";
    set_raw(&app, &id, "secret", Some(&seal_v1(server_key.trim(), old_secret))).await;
    set_raw(&app, &id, "auth_header_name", Some("X-Api-Key")).await;
    set_raw(&app, &id, "auth_header_value", Some(&seal_v1(server_key.trim(), "legacy-value-5678"))).await;

    // The next start upgrades them in place.
    let restarted = app.spawn_process(|_| {}).await;
    for column in ["secret", "auth_header_value"] {
        assert!(raw(&app, &id, column).await.unwrap().starts_with("v2:"), "{column} re-sealed with its row binding");
    }
    assert_eq!(get(&restarted, &key, &format!("/endpoints/{id}/secret")).await.json()["secret"], old_secret);
    assert_eq!(get(&restarted, &key, &format!("/endpoints/{id}")).await.json()["auth_header"]["value_hint"], "••••••••5678");
    send_event(&restarted, &key, "invoice.closed", json!({})).await;
    restarted.deliver().await;
    let sent = sink.received();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("x-api-key"), "legacy-value-5678");
    let r = post(&restarted, &key, &format!("/endpoints/{id}/secret/rotate"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(raw(&app, &id, "previous_secret").await.unwrap().starts_with("v2:"));
}
