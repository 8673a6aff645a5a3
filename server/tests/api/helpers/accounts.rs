//! Who is there: owners with their tenants, members, staff. Every step is checked, and every
//! grant a tenant gets beyond what signing up gives it is an argument.

use domain::StaffRole;
use serde_json::Value;

use super::app::TestApp;

pub use domain::tenants::Plan;

/// The command line, as the tests' own actor for set-up the dashboard has no form for
/// (granting a plan, creating an API key): checked and audited like any change.
pub fn system() -> domain::Actor {
    domain::Actor::system("tests")
}

/// The password of every owner [`TestApp::owner`] signs up (and so of the owners of
/// [`tenant_with_key`] and [`tenant_with_owner_and_key`]).
pub const OWNER_PASSWORD: &str = "correct horse battery";

/// The password of every member [`TestApp::member`] adds.
const MEMBER_PASSWORD: &str = "member password 1";

/// The password of every staff account [`signed_in_staff`] creates.
const STAFF_PASSWORD: &str = "staff password 1";

/// Whether the operator lets a tenant's endpoints point at private addresses (loopback, 10/8,
/// …). A tenant starts with [`PrivateUrls::Refused`]; the test receiver ([`super::Sink`])
/// listens on 127.0.0.1, so a tenant that delivers to it needs [`PrivateUrls::Allowed`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PrivateUrls {
    Allowed,
    Refused,
}

/// A tenant called `name`, signed up by `owner@{name}.example` (in lower case; password
/// [`OWNER_PASSWORD`]), which the operator then puts on `plan` with `private_urls`, and an API
/// key of it (named "tests"). Returns (tenant id, API key).
pub async fn tenant_with_key(app: &TestApp, name: &str, plan: Plan, private_urls: PrivateUrls) -> (String, String) {
    let (tenant_id, key, _) = tenant_with_owner_and_key(app, name, plan, private_urls).await;
    (tenant_id, key)
}

/// [`tenant_with_key`], and its owner's signed-in browser. Returns (tenant id, API key, owner).
pub async fn tenant_with_owner_and_key(
    app: &TestApp,
    name: &str,
    plan: Plan,
    private_urls: PrivateUrls,
) -> (String, String, reqwest::Client) {
    let owner = app.owner(&format!("owner@{}.example", name.to_lowercase()), name).await;
    let tenant_id = app.me(&owner).await["tenant"]["id"].as_str().unwrap().to_string();
    let update = domain::tenants::TenantUpdate {
        plan: Some(plan),
        allow_private_urls: Some(private_urls == PrivateUrls::Allowed),
        ..Default::default()
    };
    app.herald.change_tenant(&system(), &tenant_id, update).await.unwrap_or_else(|e| panic!("set {name}'s plan and URL policy: {e:?}"));
    let (_, key) = app
        .herald
        .create_api_key(&system().in_tenant(&tenant_id), "tests")
        .await
        .unwrap_or_else(|e| panic!("an API key for {name}: {e:?}"));
    (tenant_id, key, owner)
}

/// A staff account with `role` (password [`STAFF_PASSWORD`]), signed in in a new browser.
pub async fn signed_in_staff(app: &TestApp, email: &str, role: StaffRole) -> reqwest::Client {
    app.herald.create_staff(email, STAFF_PASSWORD, role).await.unwrap_or_else(|e| panic!("create staff {email}: {e:?}"));
    let client = app.new_browser();
    let r = app.rpc(&client, "sign_in", &[("email", email), ("password", STAFF_PASSWORD)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    client
}

impl TestApp {
    /// Signs up `email` (password [`OWNER_PASSWORD`]) with a new tenant called `business`, on
    /// what sign-up gives (the Basic plan, private URLs refused, no API key), in a new browser,
    /// following the emailed link; returns the signed-in browser.
    pub async fn owner(&self, email: &str, business: &str) -> reqwest::Client {
        let client = self.new_browser();
        let r = self
            .rpc(&client, "sign_up", &[("name", "Owner"), ("email", email), ("password", OWNER_PASSWORD), ("tenant_name", business)])
            .await;
        assert_eq!(r.status, 200, "sign up failed: {}", r.text);
        let token = self.sign_up_token(email).unwrap_or_else(|| panic!("no sign-up link mailed to {email}"));
        let r = self.rpc(&client, "confirm_sign_up", &[("token", &token)]).await;
        assert_eq!(r.status, 200, "confirming the sign-up failed: {}", r.text);
        client
    }

    /// Invites `email` as a member of the owner's tenant and accepts in a new browser (password
    /// [`MEMBER_PASSWORD`]); returns the member's signed-in browser.
    pub async fn member(&self, owner: &reqwest::Client, email: &str) -> reqwest::Client {
        let r = self.rpc(owner, "invite", &[("email", email), ("role", "member")]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let link = r.json()["link"].as_str().unwrap().to_string();
        let member = self.new_browser();
        let token = link.rsplit('/').next().unwrap();
        let r = self.rpc(&member, "accept_invitation", &[("token", token), ("name", "Member"), ("password", MEMBER_PASSWORD)]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        member
    }

    /// `GET /api/v1/me` as `client`, which must be signed in.
    pub async fn me(&self, client: &reqwest::Client) -> Value {
        let r = self.get(client, "/api/v1/me").await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()
    }
}

/// A platform key (`hkp_…`) called `name`, made as the command line makes it.
pub async fn platform_key(app: &TestApp, name: &str) -> String {
    let (_, key) = app.herald.create_platform_key(&system(), name).await.unwrap_or_else(|e| panic!("a platform key: {e:?}"));
    key
}
