//! How an endpoint receives: its channel, HTTP verb, payload shape and whether it is active.

use crate::text_enum;

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
