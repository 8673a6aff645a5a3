//! The request snapshot: the request as the raw view shows it, with secrets masked. The engine
//! stores it with each attempt; the delivery log reads it back, or builds it for a delivery not
//! sent yet. It lives here, below both, so neither imports the other for it.

use serde_json::Value;

use super::USER_AGENT;
use crate::endpoints::EndpointRow;

/// What the raw view shows instead of a secret header value.
pub const MASKED: &str = "••••••••";
pub const MASKED_SIGNATURE: &str = "v1,••••••••";

/// The request as the raw view shows it: what was sent, with the signature and the auth header
/// value masked (the body is rebuilt from the message).
pub(crate) fn request_snapshot(endpoint: &EndpointRow, message_id: &str, timestamp: &str) -> Value {
    let mut headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("user-agent".to_string(), USER_AGENT.to_string()),
        ("webhook-id".to_string(), message_id.to_string()),
        ("webhook-timestamp".to_string(), timestamp.to_string()),
        ("webhook-signature".to_string(), MASKED_SIGNATURE.to_string()),
    ];
    if let Some(name) = &endpoint.auth_header_name {
        headers.push((name.clone(), MASKED.to_string()));
    }
    serde_json::json!({ "method": endpoint.method, "url": endpoint.url, "payload_shape": endpoint.payload_shape, "headers": headers })
}
