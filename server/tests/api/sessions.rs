//! How long a dashboard session lasts, and how its cookie is sent.

use domain::clock::{DAY, MINUTE};

use crate::both_databases;
use crate::helpers::{TestApp, OWNER_PASSWORD};

both_databases!(a_session_ends_seven_days_after_sign_in_however_active, cookies_are_secure_unless_served_on_plain_localhost,);

async fn a_session_ends_seven_days_after_sign_in_however_active(app: TestApp) {
    let browser = app.owner("ana@lotus.example", "Lotus").await;
    for day in 1..7 {
        app.clock.advance(DAY);
        assert_eq!(app.get(&browser, "/api/v1/me").await.status, 200, "day {day}: still signed in");
    }
    app.clock.advance(DAY - MINUTE);
    assert_eq!(app.get(&browser, "/api/v1/me").await.status, 200);
    app.clock.advance(MINUTE);
    let r = app.get(&browser, "/api/v1/me").await;
    assert_eq!(r.status, 401, "seven days after signing in, however active: {}", r.text);
    let r = app.rpc(&browser, "session", &[]).await;
    assert_eq!((r.status.as_u16(), r.text.as_str()), (200, "null"), "the dashboard sees a signed-out visitor");
    let r = app.rpc(&browser, "sign_in", &[("email", "ana@lotus.example"), ("password", OWNER_PASSWORD)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.get(&browser, "/api/v1/me").await.status, 200, "signing in again starts a new week");
}

async fn cookies_are_secure_unless_served_on_plain_localhost(app: TestApp) {
    app.owner("ana@lotus.example", "Lotus").await;
    assert!(!secure_cookie(&app).await, "plain http on 127.0.0.1 (development) is the exception");
    for public_url in ["http://herald.example.com", "https://herald.example.com", "http://10.0.0.5:3000"] {
        let process = app.spawn_process(|c| c.public_url = public_url.to_string()).await;
        assert!(secure_cookie(&process).await, "{public_url}: Secure");
    }
    let process = app.spawn_process(|c| c.public_url = "http://localhost:3000".to_string()).await;
    assert!(!secure_cookie(&process).await, "http://localhost is development too");
}

/// Signs in on `app`; whether the session cookie it sets is `Secure`.
async fn secure_cookie(app: &TestApp) -> bool {
    let r = app.rpc(&app.new_browser(), "sign_in", &[("email", "ana@lotus.example"), ("password", OWNER_PASSWORD)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cookie = r.headers.get("set-cookie").expect("a session cookie").to_str().unwrap().to_string();
    assert!(cookie.starts_with("herald_session=") && cookie.contains("HttpOnly"), "{cookie}");
    cookie.split(';').any(|part| part.trim().eq_ignore_ascii_case("secure"))
}
