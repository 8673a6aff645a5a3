//! How an endpoint receives: its channel, HTTP verb, payload shape and whether it is active.

use crate::text_enum;

/// The most deliveries a second, and requests at once, an endpoint's throttle may allow.
pub const MAX_PER_SECOND: i64 = 1000;
pub const MAX_IN_FLIGHT: i64 = 100;

text_enum! {
    /// Where deliveries go: an HTTP URL, or an email address.
    Channel { Http = "http", Email = "email" }
}

text_enum! {
    /// The HTTP verb of a webhook request.
    HttpMethod { Post = "POST", Put = "PUT", Patch = "PATCH" }
}

impl HttpMethod {
    /// What a person typed: any case, spaces around.
    pub fn from_input(text: &str) -> Option<HttpMethod> {
        HttpMethod::parse(&text.trim().to_uppercase())
    }
}

text_enum! {
    /// What the body of a delivery holds.
    PayloadShape {
        /// The full event: id, type, timestamp and data.
        Envelope = "envelope",
        /// The data object alone.
        Data = "data",
    }
}

text_enum! {
    /// Inactive endpoints receive nothing; their events are recorded as skipped.
    EndpointStatus { Active = "active", Inactive = "inactive" }
}
