//! A webhook receiver for tests: records every request and answers as told.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

#[derive(Clone, Debug)]
pub struct Received {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// How the sink answers the next requests.
#[derive(Clone, Debug)]
pub enum Answer {
    Status(u16),
    WithHeader(u16, &'static str, String),
    Body(u16, String),
    /// Never answers (until the client gives up).
    Hang,
    /// Waits this many milliseconds, then answers 200.
    Slow(u64),
}

#[derive(Clone, Default)]
pub struct Sink {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    /// Answers to use in order; when empty, `default` answers.
    script: Arc<Mutex<VecDeque<Answer>>>,
    default: Arc<Mutex<Option<Answer>>>,
    /// Per path: requests being answered now, and the most there ever were at once.
    in_flight: Arc<Mutex<HashMap<String, (usize, usize)>>>,
}

/// Counts a request as in flight until it is answered (or the client goes away).
struct InFlight(Arc<Mutex<HashMap<String, (usize, usize)>>>, String);

impl InFlight {
    fn new(map: &Arc<Mutex<HashMap<String, (usize, usize)>>>, path: &str) -> InFlight {
        let mut counts = map.lock().unwrap();
        let (now, most) = counts.entry(path.to_string()).or_default();
        *now += 1;
        *most = (*most).max(*now);
        InFlight(map.clone(), path.to_string())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some((now, _)) = self.0.lock().unwrap().get_mut(&self.1) {
            *now -= 1;
        }
    }
}

impl Sink {
    pub async fn start() -> Sink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = Sink { url: format!("http://{}", listener.local_addr().unwrap()), ..Sink::default() };
        let state = sink.clone();
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move { state.handle(method, uri, headers, body).await }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        sink
    }

    pub fn answer(&self, answer: Answer) {
        *self.default.lock().unwrap() = Some(answer);
    }

    pub fn then(&self, answer: Answer) {
        self.script.lock().unwrap().push_back(answer);
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The most requests to `path` that were being answered at the same time.
    pub fn most_at_once(&self, path: &str) -> usize {
        self.in_flight.lock().unwrap().get(path).map_or(0, |(_, most)| *most)
    }

    async fn handle(&self, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
        let _in_flight = InFlight::new(&self.in_flight, uri.path());
        self.received.lock().unwrap().push(Received {
            method,
            path: uri.path().to_string(),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        let next = self.script.lock().unwrap().pop_front();
        let answer = next.or_else(|| self.default.lock().unwrap().clone()).unwrap_or(Answer::Status(200));
        match answer {
            Answer::Status(code) => StatusCode::from_u16(code).unwrap().into_response(),
            Answer::WithHeader(code, name, value) => (StatusCode::from_u16(code).unwrap(), [(name, value)]).into_response(),
            Answer::Body(code, body) => (StatusCode::from_u16(code).unwrap(), [("x-sink", "yes")], body).into_response(),
            Answer::Hang => {
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                StatusCode::OK.into_response()
            }
            Answer::Slow(ms) => {
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                StatusCode::OK.into_response()
            }
        }
    }
}
