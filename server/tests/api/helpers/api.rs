//! HTTP from the tests: browser-like clients for the dashboard, API-key calls to `/api/v1`,
//! and the answers as [`Reply`]. No client takes a proxy from the environment.

use reqwest::StatusCode;
use serde_json::Value;

use super::app::TestApp;

/// Far longer than any request of the suite takes (the receiver time-out tests wait 1.5 s).
const REQUEST_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// A client that behaves like a browser on the dashboard: keeps cookies, sends `origin` as its
/// Origin, follows no redirect.
pub fn browser(origin: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("origin", origin.parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        // The server is on this machine: never through a proxy named in the environment.
        .no_proxy()
        // A request the server never answers fails at its own line instead of hanging the run.
        .timeout(REQUEST_LIMIT)
        .build()
        .unwrap()
}

/// A plain client (no cookies, no Origin, no proxy) bounded by [`REQUEST_LIMIT`].
pub fn plain_client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(REQUEST_LIMIT).build().unwrap()
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    /// The session cookie this answer set, as a `Cookie` header value (`herald_session=…`).
    pub fn session_cookie(&self) -> String {
        let set = self.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find(|c| c.starts_with("herald_session="));
        set.expect("a session cookie").split(';').next().unwrap().to_string()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, self.text))
    }
    /// For server-function errors: `{code, message, field}`; for API errors: `{"error": {...}}`.
    pub fn error(&self) -> Value {
        let v = self.json();
        v.get("error").cloned().unwrap_or(v)
    }
}

async fn reply(response: reqwest::Response) -> Reply {
    Reply { status: response.status(), headers: response.headers().clone(), text: response.text().await.unwrap() }
}

impl TestApp {
    pub fn new_browser(&self) -> reqwest::Client {
        browser(&self.origin)
    }

    /// Calls a dashboard server function the way a form does.
    pub async fn rpc(&self, client: &reqwest::Client, name: &str, form: &[(&str, &str)]) -> Reply {
        reply(client.post(format!("{}/rpc/{name}", self.base)).form(form).send().await.unwrap()).await
    }

    /// A request carrying only `cookie`: no cookie jar, no Origin (like a copied cookie replayed).
    pub async fn get_with_cookie(&self, cookie: &str, path: &str) -> Reply {
        reply(plain_client().get(format!("{}{path}", self.base)).header("cookie", cookie).send().await.unwrap()).await
    }

    pub async fn get(&self, client: &reqwest::Client, path: &str) -> Reply {
        reply(client.get(format!("{}{path}", self.base)).send().await.unwrap()).await
    }
}

/// `GET /api/v1{path}` with the API key `key`.
pub async fn api_get(app: &TestApp, key: &str, path: &str) -> Reply {
    reply(plain_client().get(format!("{}/api/v1{path}", app.base)).bearer_auth(key).send().await.unwrap()).await
}

/// `POST /api/v1{path}` with the API key `key` and a JSON body; the answer is not checked.
pub async fn post(app: &TestApp, key: &str, path: &str, body: Value) -> Reply {
    send(app, key, reqwest::Method::POST, path, body).await
}

/// `PATCH /api/v1{path}` with the API key `key` and a JSON body; the answer is not checked.
pub async fn patch(app: &TestApp, key: &str, path: &str, body: Value) -> Reply {
    send(app, key, reqwest::Method::PATCH, path, body).await
}

/// `DELETE /api/v1{path}` with the API key `key`; the answer is not checked.
pub async fn delete(app: &TestApp, key: &str, path: &str) -> Reply {
    send(app, key, reqwest::Method::DELETE, path, Value::Null).await
}

async fn send(app: &TestApp, key: &str, method: reqwest::Method, path: &str, body: Value) -> Reply {
    let url = format!("{}/api/v1{path}", app.base);
    reply(plain_client().request(method, url).bearer_auth(key).json(&body).send().await.unwrap()).await
}

/// A JSON API call with the dashboard session of `client` (a [`browser`], which sends this
/// site's Origin); the answer is not checked.
pub async fn session_call(app: &TestApp, client: &reqwest::Client, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
    let mut request = client.request(method, format!("{}/api/v1{path}", app.base));
    if let Some(body) = body {
        request = request.json(&body);
    }
    reply(request.send().await.unwrap()).await
}
