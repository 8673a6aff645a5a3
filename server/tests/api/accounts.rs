//! Sign-up, sign-in, sessions, invitations and tenants.

use crate::both_databases;
use crate::helpers::{herald_cli, Reply, TestApp, OWNER_PASSWORD};

both_databases!(
    sign_up_creates_an_owner_on_the_basic_plan_and_signs_in,
    bad_sign_up_input_is_explained_and_changes_nothing,
    sign_in_checks_the_password_and_throttles_guessing,
    sign_out_ends_the_session,
    signing_in_starts_a_new_session,
    an_invited_person_joins_as_a_member_who_cannot_manage_the_team,
    invitations_expire_and_work_only_once,
    a_user_of_several_tenants_switches_between_them,
    another_tenants_objects_answer_404,
    cli_creates_tenants_and_staff,
);

async fn sign_up_creates_an_owner_on_the_basic_plan_and_signs_in(app: TestApp) {
    let client = app.owner("Ana@Lotus.Example", "Lotus Day Spa").await;
    let me = app.me(&client).await;
    assert_eq!(me["user"]["email"], "ana@lotus.example", "email is stored lower-case");
    assert_eq!(me["tenant"]["name"], "Lotus Day Spa");
    assert_eq!(me["tenant"]["plan"], "basic");
    assert_eq!(me["tenant"]["role"], "owner");
    assert!(me["user"]["staff_role"].is_null());
    let text = me.to_string();
    assert!(!text.contains("argon2") && !text.contains("password"), "no password material in responses: {text}");
}

async fn bad_sign_up_input_is_explained_and_changes_nothing(app: TestApp) {
    let client = app.new_browser();
    // (form, status, field, message)
    type Case<'a> = (&'a [(&'a str, &'a str)], u16, &'a str, &'a str);
    let cases: &[Case] = &[
        (&[("name", ""), ("email", ""), ("password", "long enough pw"), ("tenant_name", "Spa")], 422, "email", "Enter your email address."),
        (
            &[("name", ""), ("email", "not-an-email"), ("password", "long enough pw"), ("tenant_name", "Spa")],
            422,
            "email",
            "not a valid email",
        ),
        (&[("name", ""), ("email", "a@spa.example"), ("password", "short"), ("tenant_name", "Spa")], 422, "password", "at least 10"),
        (
            &[("name", ""), ("email", "a@spa.example"), ("password", "long enough pw"), ("tenant_name", "  ")],
            422,
            "tenant_name",
            "name of your business",
        ),
    ];
    for (form, status, field, message) in cases {
        let r = app.rpc(&client, "sign_up", form).await;
        assert_eq!(r.status, *status, "{form:?}: {}", r.text);
        let e = r.error();
        assert_eq!(e["field"], *field, "{form:?}: {}", r.text);
        assert!(e["message"].as_str().unwrap().contains(message), "{form:?}: {}", r.text);
    }
    // A missing form field is a clear 4xx too, not a crash.
    let r = app.rpc(&client, "sign_up", &[("email", "a@spa.example")]).await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.text);
    assert_eq!(app.herald.user_count().await.unwrap(), 0, "nothing was created");

    // An address that has an account answers like a new one (see throttle.rs), creating nothing.
    app.owner("taken@spa.example", "First Spa").await;
    let r = app
        .rpc(
            &client,
            "sign_up",
            &[("name", ""), ("email", " TAKEN@spa.example"), ("password", "long enough pw"), ("tenant_name", "Second Spa")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.herald.user_count().await.unwrap(), 1);
    assert_eq!(app.herald.all_tenants().await.unwrap().len(), 1, "no second tenant for an address that has an account");
}

async fn sign_in_checks_the_password_and_throttles_guessing(app: TestApp) {
    app.owner("ana@lotus.example", "Lotus").await;
    let client = app.new_browser();
    let r = app.rpc(&client, "sign_in", &[("email", "ana@lotus.example"), ("password", "wrong password")]).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.error()["code"], "invalid_credentials");
    assert_eq!(app.get(&client, "/api/v1/me").await.status, 401, "a failed sign-in creates no session");

    let unknown = app.rpc(&client, "sign_in", &[("email", "nobody@lotus.example"), ("password", "whatever123")]).await;
    assert_eq!(unknown.error()["message"], r.error()["message"], "unknown and known accounts fail alike");

    let r = app.rpc(&client, "sign_in", &[("email", "ANA@lotus.example"), ("password", OWNER_PASSWORD)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.headers["location"], "/endpoints");
    assert_eq!(app.me(&client).await["user"]["email"], "ana@lotus.example");

    // Five failures lock the account for a while, even for the right password.
    let attacker = app.new_browser();
    for _ in 0..5 {
        let r = app.rpc(&attacker, "sign_in", &[("email", "ana@lotus.example"), ("password", "guess guess")]).await;
        assert_eq!(r.status, 422);
    }
    let r = app.rpc(&attacker, "sign_in", &[("email", "ana@lotus.example"), ("password", OWNER_PASSWORD)]).await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert!(r.error()["message"].as_str().unwrap().starts_with("Too many failed sign-in attempts. Try again in 15 minutes"));
    app.clock.advance(15 * domain::clock::MINUTE);
    let r = app.rpc(&attacker, "sign_in", &[("email", "ana@lotus.example"), ("password", OWNER_PASSWORD)]).await;
    assert_eq!(r.status, 200, "the lock lifts after the window: {}", r.text);
}

async fn sign_out_ends_the_session(app: TestApp) {
    app.owner("ana@lotus.example", "Lotus").await;
    let client = app.new_browser();
    let r = app.rpc(&client, "sign_in", &[("email", "ana@lotus.example"), ("password", OWNER_PASSWORD)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cookie = r.session_cookie();
    assert_eq!(app.get_with_cookie(&cookie, "/api/v1/me").await.status, 200, "the cookie alone is the session");
    let r = app.rpc(&client, "sign_out", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(app.get(&client, "/api/v1/me").await.status, 401);
    // The browser dropped its cookie; a copy kept from before is dead on the server too.
    let r = app.get_with_cookie(&cookie, "/api/v1/me").await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.error()["code"], "unauthenticated");
}

async fn signing_in_starts_a_new_session(app: TestApp) {
    app.owner("ana@lotus.example", "Lotus").await;
    app.owner("eve@evil.example", "Evil").await;
    // Eve signs in and plants her session cookie in Ana's browser.
    let r = app.rpc(&app.new_browser(), "sign_in", &[("email", "eve@evil.example"), ("password", OWNER_PASSWORD)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let planted = r.session_cookie();
    assert_eq!(app.get_with_cookie(&planted, "/api/v1/me").await.json()["user"]["email"], "eve@evil.example");
    let r = crate::helpers::plain_client()
        .post(format!("{}/rpc/sign_in", app.base))
        .header("cookie", &planted)
        .header("origin", &app.origin)
        .form(&[("email", "ana@lotus.example"), ("password", OWNER_PASSWORD)])
        .send()
        .await
        .unwrap();
    let r = Reply { status: r.status(), headers: r.headers().clone(), text: r.text().await.unwrap() };
    assert_eq!(r.status, 200, "{}", r.text);
    let fresh = r.session_cookie();
    assert_ne!(fresh, planted, "signing in issues a new session id");
    assert_eq!(app.get_with_cookie(&fresh, "/api/v1/me").await.json()["user"]["email"], "ana@lotus.example");
    // The planted id does not lead into Ana's account (it no longer exists at all).
    let r = app.get_with_cookie(&planted, "/api/v1/me").await;
    assert_eq!(r.status, 401, "{}", r.text);
}

async fn an_invited_person_joins_as_a_member_who_cannot_manage_the_team(app: TestApp) {
    let owner = app.owner("ana@lotus.example", "Lotus").await;
    let r = app.rpc(&owner, "invite", &[("email", "bruno@lotus.example"), ("role", "member")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let link = r.json()["link"].as_str().unwrap().to_string();
    assert!(link.starts_with(&format!("{}/invite/", app.base)));
    let token = link.rsplit('/').next().unwrap().to_string();

    let mails: Vec<String> = app.outbox().into_iter().filter(|m| m.contains("To: bruno@lotus.example")).collect();
    assert_eq!(mails.len(), 1, "the invitation is emailed");
    assert!(mails[0].contains("To: bruno@lotus.example") && mails[0].contains(&token), "{}", mails[0]);

    // Bad invitations are refused.
    let r = app.rpc(&owner, "invite", &[("email", "bruno@lotus"), ("role", "member")]).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("email")));
    let r = app.rpc(&owner, "invite", &[("email", "c@lotus.example"), ("role", "owner")]).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("role")));
    let r = app.rpc(&owner, "invite", &[("email", "ana@lotus.example"), ("role", "admin")]).await;
    assert_eq!(r.status, 409, "already on the team: {}", r.text);

    let bruno = app.new_browser();
    let r = app.rpc(&bruno, "invitation", &[("token", &token)]).await;
    assert_eq!(r.json()["tenant_name"], "Lotus");
    let r = app.rpc(&bruno, "accept_invitation", &[("token", &token), ("name", "Bruno"), ("password", "short")]).await;
    assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("password")));
    let r = app.rpc(&bruno, "accept_invitation", &[("token", &token), ("name", "Bruno"), ("password", "bruno's long password")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let me = app.me(&bruno).await;
    assert_eq!(me["user"]["email"], "bruno@lotus.example");
    assert_eq!(me["tenant"]["name"], "Lotus");
    assert_eq!(me["tenant"]["role"], "member");

    // A member sees the team but may not change it.
    let team = app.rpc(&bruno, "team", &[]).await.json();
    assert_eq!(team["members"].as_array().unwrap().len(), 2);
    assert_eq!(team["can_manage"], false);
    let r = app.rpc(&bruno, "invite", &[("email", "eve@lotus.example"), ("role", "admin")]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let owner_id =
        team["members"].as_array().unwrap().iter().find(|m| m["role"] == "owner").unwrap()["user_id"].as_str().unwrap().to_string();
    let r = app.rpc(&bruno, "remove_member", &[("user_id", &owner_id)]).await;
    assert_eq!(r.status, 403);

    // The owner cannot be removed; the member can.
    let r = app.rpc(&owner, "remove_member", &[("user_id", &owner_id)]).await;
    assert_eq!(r.status, 403);
    let bruno_id = me["user"]["id"].as_str().unwrap().to_string();
    let r = app.rpc(&owner, "remove_member", &[("user_id", &bruno_id)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.rpc(&owner, "team", &[]).await.json()["members"].as_array().unwrap().len(), 1);
}

async fn invitations_expire_and_work_only_once(app: TestApp) {
    let owner = app.owner("ana@lotus.example", "Lotus").await;
    let invite = |email: &'static str| {
        let owner = owner.clone();
        let app = &app;
        async move {
            let r = app.rpc(&owner, "invite", &[("email", email), ("role", "admin")]).await;
            r.json()["link"].as_str().unwrap().rsplit('/').next().unwrap().to_string()
        }
    };
    let late = invite("late@lotus.example").await;
    let token = invite("once@lotus.example").await;
    let first = app.rpc(&app.new_browser(), "accept_invitation", &[("token", &token), ("name", ""), ("password", "long enough pw")]).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let again = app.rpc(&app.new_browser(), "accept_invitation", &[("token", &token), ("name", ""), ("password", "long enough pw")]).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.error()["code"], "invitation_used");

    app.advance_days(8);
    let r = app.rpc(&app.new_browser(), "accept_invitation", &[("token", &late), ("name", ""), ("password", "long enough pw")]).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.error()["code"], "invitation_expired");

    let r = app.rpc(&app.new_browser(), "invitation", &[("token", "made-up-token")]).await;
    assert_eq!(r.status, 404);
}

async fn a_user_of_several_tenants_switches_between_them(app: TestApp) {
    let ana = app.owner("ana@lotus.example", "Lotus").await;
    let zoe = app.owner("zoe@zen.example", "Zen Studio").await;
    let link =
        app.rpc(&zoe, "invite", &[("email", "ana@lotus.example"), ("role", "admin")]).await.json()["link"].as_str().unwrap().to_string();
    let token = link.rsplit('/').next().unwrap();
    // Ana already has an account: she accepts while signed in.
    let r = app.rpc(&ana, "accept_invitation", &[("token", token)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let me = app.me(&ana).await;
    assert_eq!(me["tenants"].as_array().unwrap().len(), 2);
    assert_eq!(me["tenant"]["name"], "Zen Studio", "accepting switches to the new tenant");
    let lotus = me["tenants"].as_array().unwrap().iter().find(|t| t["name"] == "Lotus").unwrap()["id"].as_str().unwrap().to_string();
    let r = app.rpc(&ana, "switch_tenant", &[("tenant_id", &lotus)]).await;
    assert_eq!(r.status, 200);
    let me = app.me(&ana).await;
    assert_eq!(me["tenant"]["name"], "Lotus");
    assert_eq!(me["tenant"]["role"], "owner");
}

async fn another_tenants_objects_answer_404(app: TestApp) {
    let ana = app.owner("ana@lotus.example", "Lotus").await;
    let zoe = app.owner("zoe@zen.example", "Zen Studio").await;
    let zen = app.me(&zoe).await;
    let zen_id = zen["tenant"]["id"].as_str().unwrap().to_string();
    let zoe_id = zen["user"]["id"].as_str().unwrap().to_string();
    app.rpc(&zoe, "invite", &[("email", "x@zen.example"), ("role", "member")]).await;
    let invitation_id = app.rpc(&zoe, "team", &[]).await.json()["invitations"][0]["id"].as_str().unwrap().to_string();

    let r = app.rpc(&ana, "switch_tenant", &[("tenant_id", &zen_id)]).await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = app.rpc(&ana, "revoke_invitation", &[("id", &invitation_id)]).await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = app.rpc(&ana, "remove_member", &[("user_id", &zoe_id)]).await;
    assert_eq!(r.status, 404, "{}", r.text);
    // Ana's own team is untouched by any of that, and so is Zen's.
    assert_eq!(app.rpc(&zoe, "team", &[]).await.json()["invitations"].as_array().unwrap().len(), 1);
    // Staff pages do not exist for tenant users.
    assert_eq!(app.rpc(&ana, "staff_tenants", &[]).await.status, 404);
}

async fn cli_creates_tenants_and_staff(app: TestApp) {
    let herald = |args: &[&str]| herald_cli(&app).args(args).env("HERALD_PASSWORD", "operator password 1").output().unwrap();
    let out = herald(&["tenant", "create", "--name", "Glow Salon", "--plan", "professional", "--admin-email", "boss@glow.example"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = String::from_utf8(out.stdout).unwrap();
    let id = id.trim_end();
    assert!(id.starts_with("ten_") && !id.contains(char::is_whitespace), "prints the id alone: {id:?}");
    let tenant = app.herald.tenant(id).await.unwrap();
    assert_eq!((tenant.name.as_str(), tenant.plan.as_str()), ("Glow Salon", "professional"));

    let out = herald(&["tenant", "update", id, "--plan", "enterprise", "--retention-days", "90", "--allow-private-urls", "true"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tenant = app.herald.tenant(id).await.unwrap();
    assert_eq!((tenant.plan.as_str(), tenant.retention_days, tenant.allow_private_urls), ("enterprise", 90, true));

    let out = herald(&["tenant", "create", "--name", "X", "--plan", "gold", "--admin-email", "x@x.example"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected basic, professional, business or enterprise"));

    let out = herald(&["operator", "create", "--email", "op@herald.example"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let op = app.new_browser();
    let r = app.rpc(&op, "sign_in", &[("email", "op@herald.example"), ("password", "operator password 1")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.headers["location"], "/staff", "staff without a tenant land on the staff area");
    let tenants = app.rpc(&op, "staff_tenants", &[]).await.json();
    assert!(tenants.as_array().unwrap().iter().any(|t| t["name"] == "Glow Salon"));
    // The new tenant's admin can sign in with the password given to the CLI.
    let boss = app.new_browser();
    let r = app.rpc(&boss, "sign_in", &[("email", "boss@glow.example"), ("password", "operator password 1")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.me(&boss).await["tenant"]["role"], "owner");
}
