//! Crash safety: the real `herald` binary is killed (SIGKILL) with deliveries in flight and
//! started again; every event it accepted still reaches the receiver.

use std::collections::HashSet;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::both_databases;
use crate::helpers::{add_endpoint, herald_cli, plain_client, tenant_with_key, Answer, Plan, PrivateUrls, Sink, TestApp};

both_databases!(accepted_events_survive_a_crash);

fn start_herald(app: &TestApp, port: u16) -> Child {
    herald_cli(app)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("HERALD_LEASE_SECS", "2") // a dead worker's claims come back after 2 s
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start herald")
}

async fn wait_healthy(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if plain_client().get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("herald did not become healthy at {base}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn accepted_events_survive_a_crash(app: TestApp) {
    let sink = Sink::start().await;
    // Slow enough that the 200 events cannot all be delivered (32 at a time) before the kill,
    // however fast ingest is: at least 7 rounds of 400 ms.
    sink.answer(Answer::Slow(400));
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "Sink", "url": sink.url, "event_types": ["*"] })).await;

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut first = start_herald(&app, port);
    wait_healthy(&base).await;
    let client = plain_client();
    let mut accepted = HashSet::new();
    for batch in 0..25 {
        let sends = (0..8).map(|i| {
            client
                .post(format!("{base}/api/v1/events"))
                .bearer_auth(&key)
                .json(&json!({ "event_type": "invoice.closed", "data": { "n": batch * 8 + i } }))
                .send()
        });
        for response in futures::future::join_all(sends).await {
            let response = response.unwrap();
            assert_eq!(response.status(), 202);
            accepted.insert(response.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_string());
        }
    }
    first.kill().unwrap(); // SIGKILL: no graceful drain
    first.wait().unwrap();
    let before = sink.received().len();
    assert!(before < accepted.len(), "the kill must leave deliveries unfinished ({before} of {} done)", accepted.len());

    let mut second = start_herald(&app, port);
    let deadline = Instant::now() + Duration::from_secs(60);
    let delivered = loop {
        let seen: HashSet<String> = sink.received().iter().map(|r| r.header("webhook-id")).collect();
        if accepted.is_subset(&seen) || Instant::now() > deadline {
            break seen;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    second.kill().unwrap();
    second.wait().unwrap();
    let missing: Vec<_> = accepted.difference(&delivered).collect();
    assert!(missing.is_empty(), "{} accepted events never delivered: {missing:?}", missing.len());
    assert_eq!(delivered.len(), accepted.len(), "the sink saw exactly the accepted events (each at least once)");
}
