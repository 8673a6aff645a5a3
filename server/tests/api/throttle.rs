//! Sign-in and sign-up throttling, and who the client is behind a reverse proxy.

use domain::clock::{HOUR, MINUTE, SECOND};

use crate::both_databases;
use crate::helpers::{Reply, TestApp, OWNER_PASSWORD};

both_databases!(
    behind_a_trusted_proxy_each_client_is_throttled_on_its_own,
    the_audit_log_records_the_address_the_proxy_saw,
    failures_count_across_every_web_process,
    guessing_slows_an_account_down_but_never_locks_its_owner_out,
    sign_up_answers_alike_whether_or_not_the_email_has_an_account,
    sign_up_is_throttled_per_address,
);

/// The password [`TestApp::owner`] gives Ana.
const PASSWORD: &str = OWNER_PASSWORD;

/// The same process behind a reverse proxy on 127.0.0.1 (trusted).
async fn behind_proxy(app: &TestApp) -> TestApp {
    app.spawn_process(|c| c.trusted_proxies = domain::net::TrustedProxies::parse("127.0.0.1/32").unwrap()).await
}

/// A dashboard form post through the proxy, with the `X-Forwarded-For` lines it passes on.
async fn rpc_via(app: &TestApp, client: &reqwest::Client, name: &str, form: &[(&str, &str)], forwarded: &[&str]) -> Reply {
    let mut request = client.post(format!("{}/rpc/{name}", app.base)).form(form);
    for line in forwarded {
        request = request.header("x-forwarded-for", *line);
    }
    let r = request.send().await.unwrap();
    Reply { status: r.status(), headers: r.headers().clone(), text: r.text().await.unwrap() }
}

async fn sign_in_from(app: &TestApp, address: &str, email: &str, password: &str) -> Reply {
    rpc_via(app, &app.new_browser(), "sign_in", &[("email", email), ("password", password)], &[address]).await
}

/// The wait a 429 names ("Try again in 8 seconds."), in milliseconds.
fn wait_of(r: &Reply) -> i64 {
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(r.error()["code"], "rate_limited");
    let message = r.error()["message"].as_str().unwrap().to_string();
    let words: Vec<&str> = message.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "in").expect("a wait") + 1;
    let n: i64 = words[at].parse().unwrap();
    if words[at + 1].starts_with("second") {
        n * SECOND
    } else {
        assert!(words[at + 1].starts_with("minute"), "{message}");
        n * MINUTE
    }
}

async fn behind_a_trusted_proxy_each_client_is_throttled_on_its_own(app: TestApp) {
    app.owner("ana@lotus.example", "Lotus").await;
    let proxy = behind_proxy(&app).await;
    // One client tries 30 accounts and is stopped...
    for i in 0..30 {
        let r = sign_in_from(&proxy, "198.51.100.1", &format!("u{i}@guess.example"), "not the password").await;
        assert_eq!(r.status, 422, "attempt {i}: {}", r.text);
    }
    let r = sign_in_from(&proxy, "198.51.100.1", "someone@guess.example", "not the password").await;
    assert_eq!(wait_of(&r), 15 * MINUTE, "{}", r.text);
    assert!(r.error()["message"].as_str().unwrap().starts_with("Too many failed sign-in attempts. Try again in 15 minutes"));
    // ...also when it puts someone else's address first, in the same line or a line of its own.
    let browser = proxy.new_browser();
    let form = [("email", "ana@lotus.example"), ("password", PASSWORD)];
    let r = rpc_via(&proxy, &browser, "sign_in", &form, &["198.51.100.2, 198.51.100.1"]).await;
    assert_eq!(r.status, 429, "the right-most entry is the proxy's: {}", r.text);
    let r = rpc_via(&proxy, &browser, "sign_in", &form, &["198.51.100.2", "198.51.100.1"]).await;
    assert_eq!(r.status, 429, "a forged first header line is not believed: {}", r.text);
    // Everyone else behind the same proxy still signs in.
    let r = rpc_via(&proxy, &browser, "sign_in", &form, &["198.51.100.2"]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(proxy.me(&browser).await["user"]["email"], "ana@lotus.example");

    // Without a trusted proxy the header is ignored: the TCP peer is the client.
    for i in 0..30 {
        let r = rpc_via(
            &app,
            &app.new_browser(),
            "sign_in",
            &[("email", &format!("v{i}@guess.example")), ("password", "nope nope")],
            &[&format!("203.0.113.{i}")],
        )
        .await;
        assert_eq!(r.status, 422, "attempt {i}: {}", r.text);
    }
    let r = rpc_via(&app, &app.new_browser(), "sign_in", &form, &["203.0.113.200"]).await;
    assert_eq!(r.status, 429, "a client cannot escape the limit by claiming another address: {}", r.text);
}

async fn the_audit_log_records_the_address_the_proxy_saw(app: TestApp) {
    app.owner("ana@lotus.example", "Lotus").await;
    let proxy = behind_proxy(&app).await;
    let browser = proxy.new_browser();
    let r = rpc_via(&proxy, &browser, "sign_in", &[("email", "ana@lotus.example"), ("password", PASSWORD)], &["198.51.100.7"]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Through the API (session) and through a dashboard form, with a forged first line each time.
    let r = browser
        .patch(format!("{}/api/v1/settings", proxy.base))
        .header("x-forwarded-for", "6.6.6.6")
        .header("x-forwarded-for", "198.51.100.7")
        .json(&serde_json::json!({ "webhooks_enabled": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = rpc_via(&proxy, &browser, "invite", &[("email", "mia@lotus.example"), ("role", "member")], &["6.6.6.6", "198.51.100.7"]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = browser.get(format!("{}/api/v1/audit", proxy.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page: serde_json::Value = r.json().await.unwrap();
    let entries = page["data"].as_array().expect("audit entries").clone();
    let ip_of = |action: &str| entries.iter().find(|e| e["action"] == action).unwrap_or_else(|| panic!("{action} in {page}"))["ip"].clone();
    assert_eq!(ip_of("tenant.webhooks_disabled"), "198.51.100.7");
    assert_eq!(ip_of("member.invited"), "198.51.100.7");
}

async fn failures_count_across_every_web_process(app: TestApp) {
    app.owner("ana@lotus.example", "Lotus").await;
    let second = app.spawn_process(|_| {}).await;
    let form = [("email", "ana@lotus.example"), ("password", "wrong password")];
    for (i, process) in [&app, &second, &app, &second, &app].into_iter().enumerate() {
        let r = process.rpc(&process.new_browser(), "sign_in", &form).await;
        assert_eq!(r.status, 422, "attempt {i}: {}", r.text);
    }
    // Five failures from this address, spread over two processes: both refuse the sixth.
    for process in [&app, &second] {
        let r = process.rpc(&process.new_browser(), "sign_in", &[("email", "ana@lotus.example"), ("password", PASSWORD)]).await;
        assert_eq!(wait_of(&r), 15 * MINUTE, "{}", r.text);
    }
    app.clock.advance(15 * MINUTE);
    let r = second.rpc(&second.new_browser(), "sign_in", &[("email", "ana@lotus.example"), ("password", PASSWORD)]).await;
    assert_eq!(r.status, 200, "the window passed: {}", r.text);
}

async fn guessing_slows_an_account_down_but_never_locks_its_owner_out(app: TestApp) {
    app.owner("ana@lotus.example", "Lotus").await;
    let proxy = behind_proxy(&app).await;
    // Guesses from many addresses: the first five pass, then each must wait longer, up to a minute.
    let mut waits = Vec::new();
    for i in 1..=12 {
        let address = format!("198.51.100.{i}");
        let mut r = sign_in_from(&proxy, &address, "ana@lotus.example", "a wrong guess").await;
        if r.status == 429 {
            let wait = wait_of(&r);
            waits.push(wait / SECOND);
            app.clock.advance(wait);
            r = sign_in_from(&proxy, &address, "ana@lotus.example", "a wrong guess").await;
        }
        assert_eq!(r.status, 422, "guess {i} is checked once its wait is over: {}", r.text);
    }
    assert_eq!(waits, [2, 4, 8, 16, 32, 60, 60], "a growing delay, capped at a minute");

    // The owner, from an address of their own, is told to wait at most the cap...
    let owner_address = "203.0.113.50";
    let r = sign_in_from(&proxy, owner_address, "ana@lotus.example", PASSWORD).await;
    let wait = wait_of(&r);
    assert!(wait <= 60 * SECOND, "{wait}");
    // ...and gets in after it, even though the attacker spent that turn on another guess.
    let attacker = "198.51.100.99";
    assert_eq!(sign_in_from(&proxy, attacker, "ana@lotus.example", "a wrong guess").await.status, 429);
    app.clock.advance(wait);
    assert_eq!(sign_in_from(&proxy, attacker, "ana@lotus.example", "a wrong guess").await.status, 422, "the attacker's turn came too");
    let browser = proxy.new_browser();
    let r = rpc_via(&proxy, &browser, "sign_in", &[("email", "ana@lotus.example"), ("password", PASSWORD)], &[owner_address]).await;
    assert_eq!(r.status, 200, "the owner is never locked out: {}", r.text);
    assert_eq!(proxy.me(&browser).await["user"]["email"], "ana@lotus.example");

    // One address guessing one account is stopped after five failures, for 15 minutes.
    for i in 0..5 {
        let mut r = sign_in_from(&proxy, "192.0.2.33", "ana@lotus.example", "a wrong guess").await;
        if r.status == 429 {
            app.clock.advance(wait_of(&r));
            r = sign_in_from(&proxy, "192.0.2.33", "ana@lotus.example", "a wrong guess").await;
        }
        assert_eq!(r.status, 422, "guess {i}: {}", r.text);
    }
    // (The five took a few minutes of waiting: the oldest leaves the 15-minute window first.)
    let r = sign_in_from(&proxy, "192.0.2.33", "ana@lotus.example", PASSWORD).await;
    assert!((10 * MINUTE..=15 * MINUTE).contains(&wait_of(&r)), "{}", r.text);
    assert!(r.error()["message"].as_str().unwrap().starts_with("Too many failed sign-in attempts. Try again in 1"), "{}", r.text);
}

async fn sign_up_answers_alike_whether_or_not_the_email_has_an_account(app: TestApp) {
    app.owner("ana@lotus.example", "Lotus").await;
    assert_eq!(app.herald.user_count().await.unwrap(), 1);
    let mails_before = app.outbox().len();
    let form = |email: &'static str| [("name", "Someone"), ("email", email), ("password", "a long password"), ("tenant_name", "Copy Spa")];
    let taken = app.rpc(&app.new_browser(), "sign_up", &form(" ANA@lotus.example")).await;
    let fresh = app.rpc(&app.new_browser(), "sign_up", &form("zoe@zen.example")).await;
    assert_eq!(taken.status, 200, "{}", taken.text);
    assert_eq!((taken.status, &taken.text), (fresh.status, &fresh.text), "same status and body");
    assert_eq!(taken.headers.get("location"), fresh.headers.get("location"), "same next page");
    assert_eq!(taken.headers.get("location").unwrap(), "/signup/sent");
    assert!(taken.headers.get("set-cookie").is_none() && fresh.headers.get("set-cookie").is_none(), "nobody is signed in yet");
    assert_eq!(app.herald.user_count().await.unwrap(), 1, "no account before the email is confirmed");
    assert_eq!(app.herald.all_tenants().await.unwrap().len(), 1);

    // The owner is told someone tried; the newcomer gets a link to finish.
    let mails = app.outbox();
    assert_eq!(mails.len(), mails_before + 2);
    let notice = mails.iter().find(|m| m.contains("To: ana@lotus.example") && m.contains("Subject: Someone tried")).expect("a notice");
    assert!(notice.contains("already has a Herald account") && notice.contains(&format!("{}/signin", app.base)), "{notice}");
    assert!(!notice.contains("/signup/confirm/"), "no way to create a second account: {notice}");
    let token = app.sign_up_token("zoe@zen.example").expect("a confirmation link");

    let zoe = app.new_browser();
    let r = app.rpc(&zoe, "confirm_sign_up", &[("token", "not-a-token")]).await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = app.rpc(&zoe, "confirm_sign_up", &[("token", &token)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.headers["location"], "/endpoints");
    let me = app.me(&zoe).await;
    assert_eq!((me["user"]["email"].as_str(), me["user"]["name"].as_str()), (Some("zoe@zen.example"), Some("Someone")));
    assert_eq!((me["tenant"]["name"].as_str(), me["tenant"]["role"].as_str()), (Some("Copy Spa"), Some("owner")));
    let r = app.rpc(&app.new_browser(), "confirm_sign_up", &[("token", &token)]).await;
    assert_eq!(r.status, 404, "a link works once: {}", r.text);
    let r = app.rpc(&app.new_browser(), "sign_in", &[("email", "zoe@zen.example"), ("password", "a long password")]).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Links expire after a day.
    let r = app.rpc(&app.new_browser(), "sign_up", &form("late@zen.example")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = app.sign_up_token("late@zen.example").unwrap();
    app.clock.advance(25 * HOUR);
    let r = app.rpc(&app.new_browser(), "confirm_sign_up", &[("token", &token)]).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(app.herald.user_count().await.unwrap(), 2);
}

async fn sign_up_is_throttled_per_address(app: TestApp) {
    let proxy = behind_proxy(&app).await;
    let sign_up = |n: usize, address: &'static str| {
        let proxy = &proxy;
        async move {
            let email = format!("new{n}@spa.example");
            let form = [("name", ""), ("email", email.as_str()), ("password", "a long password"), ("tenant_name", "Spa")];
            rpc_via(proxy, &proxy.new_browser(), "sign_up", &form, &[address]).await
        }
    };
    for n in 0..10 {
        assert_eq!(sign_up(n, "198.51.100.1").await.status, 200);
    }
    let r = sign_up(10, "198.51.100.1").await;
    assert!(wait_of(&r) <= HOUR, "{}", r.text);
    assert!(r.error()["message"].as_str().unwrap().starts_with("Too many sign-ups from your address."), "{}", r.text);
    assert!(proxy.sign_up_token("new10@spa.example").is_none(), "no mail for a refused sign-up");
    assert_eq!(sign_up(11, "198.51.100.2").await.status, 200, "other addresses still sign up");
    app.clock.advance(HOUR);
    assert_eq!(sign_up(12, "198.51.100.1").await.status, 200, "the hour passed");
}
