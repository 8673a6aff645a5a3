//! Where endpoints may point: private addresses in disguise, and what stays refused even where
//! the operator allowed private URLs.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::{add_endpoint, deliveries, post, send_event, tenant_with_key, Plan, PrivateUrls, Sink, TestApp};

both_databases!(
    private_urls_allowed_still_refuse_link_local_unspecified_and_metadata,
    private_addresses_in_ipv6_disguise_are_refused,
    delivery_refuses_metadata_addresses_even_where_private_urls_are_allowed,
);

fn endpoint(url: &str) -> Value {
    json!({ "name": "E", "url": url, "event_types": ["*"] })
}

async fn private_urls_allowed_still_refuse_link_local_unspecified_and_metadata(app: TestApp) {
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/hook",
        "http://0.0.0.0:8080/hook",
        "http://[::]:8080/hook",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://metadata/computeMetadata/v1/",
        "http://[::ffff:169.254.169.254]/latest",
        "http://[::ffff:a9fe:a9fe]/latest",
        "http://100.100.100.200/latest/meta-data/",
        "http://[fd00:ec2::254]/latest",
    ] {
        let r = post(&app, &key, "/endpoints", endpoint(url)).await;
        assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("url")), "{url}: {}", r.text);
    }
    add_endpoint(&app, &key, endpoint("http://127.0.0.1:9/hook")).await;
    add_endpoint(&app, &key, endpoint("http://10.0.0.8/hook")).await;
}

async fn private_addresses_in_ipv6_disguise_are_refused(app: TestApp) {
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Refused).await;
    for url in [
        "https://[::ffff:10.0.0.1]/hook",
        "https://[::10.0.0.1]/hook",
        "https://[::127.0.0.1]/hook",
        "https://[64:ff9b::10.0.0.1]/hook",
        "https://[64:ff9b:1::a00:1]/hook",
        "https://[2002:a00:1::1]/hook",
        "https://[2002:7f00:1::1]/hook",
        "https://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/hook",
        "https://[fec0::1]/hook",
    ] {
        let r = post(&app, &key, "/endpoints", endpoint(url)).await;
        assert_eq!((r.status.as_u16(), r.error()["field"].as_str()), (422, Some("url")), "{url}: {}", r.text);
    }
    add_endpoint(&app, &key, endpoint("https://[64:ff9b::93.184.216.34]/hook")).await;
    add_endpoint(&app, &key, endpoint("https://[2606:4700:4700::1111]/hook")).await;
}

async fn delivery_refuses_metadata_addresses_even_where_private_urls_are_allowed(app: TestApp) {
    let sink = Sink::start().await;
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let id = add_endpoint(&app, &key, endpoint(&sink.url)).await;
    // Saved before this release, when such URLs were accepted.
    for url in ["http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/latest"] {
        let n =
            domain::execute_on!(&app.herald.store, sqlx::query("UPDATE endpoints SET url = $1 WHERE id = $2").bind(url).bind(&id)).unwrap();
        assert_eq!(n, 1);
        send_event(&app, &key, "invoice.closed", json!({})).await;
        app.deliver().await;
        for d in deliveries(&app).await {
            assert!(d.last_error.as_deref().unwrap_or_default().starts_with("Refused"), "{url}: {d:?}");
        }
    }
}
