//! The delivery log over the API: keyset pages, filters, detail with attempts, tenancy.

use std::collections::HashSet;

use domain::clock::SECOND;
use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::{add_endpoint, api_get as get, post, send_event, tenant_with_key, Answer, Plan, PrivateUrls, Sink, TempDir, TestApp};

both_databases!(
    the_log_pages_by_keyset_and_filters,
    a_delivery_shows_its_attempts_and_stays_in_its_tenant,
    auth_header_names_are_plain_and_copy_as_curl_runs_nothing_else,
);

async fn the_log_pages_by_keyset_and_filters(app: TestApp) {
    let ok = Sink::start().await;
    let bad = Sink::start().await;
    bad.answer(Answer::Status(500));
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let good_ep = add_endpoint(&app, &key, json!({ "name": "Good", "url": ok.url, "event_types": ["*"] })).await;
    let bad_ep = add_endpoint(&app, &key, json!({ "name": "Bad", "url": bad.url, "event_types": ["invoice.closed"] })).await;
    let start = app.clock_now();
    for i in 0..5 {
        send_event(&app, &key, if i % 2 == 0 { "invoice.closed" } else { "customer.created" }, json!({ "n": i })).await;
        if i == 2 {
            // Two deliveries share each timestamp: the order must still be stable.
            app.clock.advance(SECOND);
        }
    }
    app.deliver().await;

    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = get(&app, &key, &format!("/deliveries?limit=3&cursor={cursor}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let page = r.json();
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| (d["created_at"].as_str().unwrap().to_string(), d["id"].as_str().unwrap().to_string())),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 8, "5 events to Good, 3 invoices to Bad");
    assert_eq!(seen.iter().map(|(_, id)| id).collect::<HashSet<_>>().len(), 8, "no row twice across pages");
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first, ties broken by id");

    let failed = get(&app, &key, "/deliveries?status=retrying").await.json();
    let failed = failed["data"].as_array().unwrap();
    assert_eq!(failed.len(), 3);
    assert!(failed.iter().all(|d| d["endpoint_id"] == bad_ep.as_str() && d["http_code"] == 500));
    let good = get(&app, &key, &format!("/deliveries?endpoint_id={good_ep}&event_type=customer.created")).await.json();
    assert_eq!(good["data"].as_array().unwrap().len(), 2);
    let since = domain::clock::rfc3339(start + SECOND);
    let later = get(&app, &key, &format!("/deliveries?since={since}")).await.json();
    assert_eq!(later["data"].as_array().unwrap().len(), 3, "events 3 and 4 (one to Bad)");
    let until = get(&app, &key, &format!("/deliveries?until={since}")).await.json();
    assert_eq!(until["data"].as_array().unwrap().len(), 5);

    for (query, field) in [
        ("status=lost", "status"),
        ("since=yesterday", "since"),
        ("cursor=nonsense", "cursor"),
        ("limit=0", "limit"),
        ("colour=red", "query"),
    ] {
        let r = get(&app, &key, &format!("/deliveries?{query}")).await;
        assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some(field)), "{query}: {}", r.text);
    }
}

async fn a_delivery_shows_its_attempts_and_stays_in_its_tenant(app: TestApp) {
    let sink = Sink::start().await;
    sink.then(Answer::Status(503));
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "E", "url": sink.url, "event_types": ["*"] })).await;
    send_event(&app, &key, "invoice.closed", json!({})).await;
    app.deliver().await;
    app.clock.advance(60 * SECOND);
    app.deliver().await;
    let id = get(&app, &key, "/deliveries").await.json()["data"][0]["id"].as_str().unwrap().to_string();
    let d: Value = get(&app, &key, &format!("/deliveries/{id}")).await.json();
    assert_eq!(d["status"], "succeeded");
    assert_eq!(d["attempt_count"], 2);
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!((attempts[0]["status_code"].as_i64(), attempts[1]["status_code"].as_i64()), (Some(503), Some(200)));
    assert_eq!(attempts[0]["error"], "HTTP 503");
    let (_, other) = tenant_with_key(&app, "Zen", Plan::Enterprise, PrivateUrls::Allowed).await;
    assert_eq!(get(&app, &other, &format!("/deliveries/{id}")).await.status, 404);
    assert!(get(&app, &other, "/deliveries").await.json()["data"].as_array().unwrap().is_empty());
}

/// Runs `script` with bash in an empty directory, `env` set; answers the directory's files
/// (name and content) after it ran, and what bash printed.
fn run_bash(script: &str, env: &[(&str, &str)]) -> (Vec<(String, Vec<u8>)>, String) {
    let dir = TempDir::new();
    // Nothing of the developer's environment (no BASH_ENV to source, no WEBHOOK_SIGNATURE set)
    // but PATH, which stays so that an injected `touch` would really run.
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(&dir.0)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "bash failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap_or_default())
        })
        .collect();
    files.sort();
    (files, format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

async fn auth_header_names_are_plain_and_copy_as_curl_runs_nothing_else(app: TestApp) {
    let sink = Sink::start().await;
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    // Backticks, `$` and quotes are legal in HTTP header names, and meaningful to a shell.
    for name in ["X-K`touch$IFS'x'`", "X-$(touch y)", "X.Key", "X-Key;", "Clé"] {
        let r = post(
            &app,
            &key,
            "/endpoints",
            json!({ "name": "E", "url": sink.url, "event_types": ["*"], "auth_header": { "name": name, "value": "v" } }),
        )
        .await;
        assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("auth_header.name")), "{name}: {}", r.text);
        assert!(r.error()["message"].as_str().unwrap().contains("letters, digits, - and _"), "{}", r.text);
    }
    assert_eq!(app.herald.endpoint_count(&tenant_id).await.unwrap(), 0, "nothing stored");

    // Shell syntax in the URL and the body; the auth header name as an older version could store it.
    let url = format!("{}/hooks/it's?q=$(touch${{IFS}}u)&r=`touch${{IFS}}v`&s=${{HOME}}", sink.url);
    let ep = add_endpoint(
        &app,
        &key,
        json!({ "name": "E", "url": url, "event_types": ["*"], "auth_header": { "name": "X-Api-Key", "value": "key-1234567" } }),
    )
    .await;
    let hostile = "X-K`touch$IFS'x'`";
    let changed = domain::execute_on!(
        &app.herald.store,
        sqlx::query("UPDATE endpoints SET auth_header_name = $1 WHERE id = $2").bind(hostile).bind(&ep)
    )
    .unwrap();
    assert_eq!(changed, 1);
    let data = json!({
        "note": "it's `touch b` and $(touch c); \"quoted\" 'single'\nsecond line \\ $HOME ${IFS} !! touch d",
        "$(touch e)": ["'; touch f; '", "\"; touch g; \""],
    });
    send_event(&app, &key, "customer.created", data).await;
    assert_eq!(app.deliver().await, 1);
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].header(&hostile.to_ascii_lowercase()), "key-1234567", "the stored name was sent as it is");
    let id = get(&app, &key, "/deliveries").await.json()["data"][0]["id"].as_str().unwrap().to_string();
    let detail = get(&app, &key, &format!("/deliveries/{id}")).await;
    assert_eq!(detail.status, 200, "{}", detail.text);
    let request = detail.json()["request"].clone();
    let curl = request["curl"].as_str().unwrap().to_string();
    let sent_url = request["url"].as_str().unwrap().to_string();
    assert!(sent_url.contains("$(touch${IFS}u)") && sent_url.contains('`'), "the URL kept its shell syntax: {sent_url}");

    // Pasted with a curl that does nothing, nothing else may run.
    let (files, printed) = run_bash(&format!("curl() {{ :; }}\n{curl}\n"), &[]);
    assert!(files.is_empty() && printed.is_empty(), "the command ran something besides curl: {files:?} {printed}\n{curl}");

    // And curl gets exactly the request: method, URL, each header line, the body bytes as sent.
    let secrets = [("WEBHOOK_SIGNATURE", "v1,sig-filled-in"), ("AUTH_HEADER_VALUE", "auth filled 'in' $(touch h)")];
    let (files, printed) = run_bash(&format!("curl() {{ printf '%s\\0' \"$@\" > args; }}\n{curl}\n"), &secrets);
    assert!(printed.is_empty(), "{printed}");
    assert_eq!(files.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>(), ["args"], "no other file was created");
    let args: Vec<String> = String::from_utf8(files[0].1.clone()).unwrap().split_terminator('\0').map(str::to_string).collect();
    let mut expected = vec!["-X".to_string(), "POST".into(), sent_url.clone()];
    let headers: Vec<(String, String)> = serde_json::from_value(request["headers"].clone()).unwrap();
    assert!(headers.iter().any(|(n, _)| n == hostile), "{headers:?}");
    for (name, value) in headers {
        let value = match value.as_str() {
            domain::logs::MASKED_SIGNATURE => secrets[0].1.to_string(),
            domain::logs::MASKED => secrets[1].1.to_string(),
            _ => value,
        };
        expected.extend(["-H".to_string(), format!("{name}: {value}")]);
    }
    expected.extend(["--data-raw".to_string(), received[0].body.clone()]);
    assert_eq!(args, expected, "{curl}");
    assert!(received[0].body.contains("$(touch c)") && received[0].body.contains("'; touch f; '"), "{}", received[0].body);
}
