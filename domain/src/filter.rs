//! Payload filters: an endpoint receives only the events whose envelope matches, e.g.
//! `{"data.service_id": ["svc_1", "svc_2"], "data.location.id": "loc_9"}`. Each key is a dotted
//! path into the envelope, each value a scalar or a list of allowed scalars, and every key must
//! match. ReserveKit's per-service webhooks are this filter on `data.service_id`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::catalog::{sample_envelope, Catalog};
use crate::error::{Error, Result};

/// Where a source platform's events name their service (ReserveKit's per-service webhooks).
pub const SERVICE_PATH: &str = "data.service_id";
const MAX_KEYS: usize = 10;
const MAX_VALUES: usize = 100;
const MAX_PATH: usize = 200;
const MAX_SCALAR: usize = 200;
/// The envelope's top-level fields; a path starts at one of them.
const ENVELOPE_FIELDS: [&str; 7] = ["id", "event_id", "event_schema", "event_resource", "event_type", "tenant_id", "data"];

/// A validated filter: path → allowed values (one or more).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter(BTreeMap<String, Vec<Value>>);

impl Filter {
    /// Checks a filter as a client sent it. Errors name the `filter` field and say what is wrong.
    pub fn parse(value: &Value) -> Result<Filter> {
        let invalid = |message: String| Error::invalid("filter", message);
        let Some(object) = value.as_object() else {
            return Err(invalid("The filter is a JSON object such as {\"data.service_id\": [\"svc_1\"]}.".into()));
        };
        if object.len() > MAX_KEYS {
            return Err(invalid(format!("A filter can have at most {MAX_KEYS} keys.")));
        }
        let mut paths = BTreeMap::new();
        for (path, allowed) in object {
            check_path(path).map_err(invalid)?;
            let values = match allowed {
                Value::Array(list) if list.is_empty() => {
                    return Err(invalid(format!("\"{path}\" needs at least one allowed value.")));
                }
                Value::Array(list) if list.len() > MAX_VALUES => {
                    return Err(invalid(format!("\"{path}\" can list at most {MAX_VALUES} values.")));
                }
                Value::Array(list) => list.clone(),
                scalar => vec![scalar.clone()],
            };
            for v in &values {
                check_scalar(path, v).map_err(invalid)?;
            }
            paths.insert(path.clone(), values);
        }
        Ok(Filter(paths))
    }

    /// Reads a filter stored by Herald (validated when it was saved).
    pub fn from_stored(json: Option<&str>) -> Option<Filter> {
        let value: Value = serde_json::from_str(json?).ok()?;
        Filter::parse(&value).ok().filter(|f| !f.is_empty())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether an event with this envelope passes: every path resolves to one of its values.
    pub fn matches(&self, envelope: &Value) -> bool {
        self.0.iter().all(|(path, allowed)| lookup(envelope, path).is_some_and(|found| allowed.iter().any(|a| same(a, found))))
    }

    /// How the catalog sample of each subscribed type fares (`*`: every type): the preview
    /// in the endpoint form, as (event type, delivered).
    pub fn preview(&self, catalog: &Catalog, event_types: &[String], tenant_id: &str) -> Vec<(String, bool)> {
        let every = event_types.iter().any(|t| t.trim() == "*");
        let chosen: Vec<&str> = event_types.iter().filter_map(|t| catalog.resolve(t.trim())).map(|t| t.name.as_str()).collect();
        catalog
            .iter()
            .filter(|t| every || chosen.contains(&t.name.as_str()))
            .map(|t| (t.name.clone(), self.matches(&sample_envelope(t, tenant_id))))
            .collect()
    }

    /// The values allowed at `path`, if the filter names it.
    pub fn values(&self, path: &str) -> Option<&[Value]> {
        self.0.get(path).map(Vec::as_slice)
    }

    /// Adds, replaces or (with no values) removes the condition on `path`.
    pub fn set(&mut self, path: &str, values: Vec<Value>) {
        if values.is_empty() {
            self.0.remove(path);
        } else {
            self.0.insert(path.to_string(), values);
        }
    }

    /// The JSON form, a single value written as a scalar.
    pub fn to_json(&self) -> Value {
        let object = self.0.iter().map(|(path, values)| {
            let value = if values.len() == 1 { values[0].clone() } else { Value::Array(values.clone()) };
            (path.clone(), value)
        });
        Value::Object(object.collect())
    }
}

fn check_path(path: &str) -> std::result::Result<(), String> {
    let segment_ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if path.len() > MAX_PATH || !path.split('.').all(segment_ok) {
        return Err(format!(
            "\"{path}\" is not a path: use field names joined by dots, e.g. data.service_id (letters, digits, _ and - only)."
        ));
    }
    let first = path.split('.').next().unwrap_or_default();
    if !ENVELOPE_FIELDS.contains(&first) {
        return Err(format!("\"{path}\" must start at a field of the envelope ({}), e.g. data.service_id.", ENVELOPE_FIELDS.join(", ")));
    }
    Ok(())
}

fn check_scalar(path: &str, value: &Value) -> std::result::Result<(), String> {
    match value {
        Value::String(s) if s.chars().count() > MAX_SCALAR => {
            Err(format!("A value for \"{path}\" can be at most {MAX_SCALAR} characters."))
        }
        Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => Ok(()),
        _ => Err(format!("\"{path}\" takes a string, number, true/false or null, or a list of them; not an object or a nested list.")),
    }
}

/// Follows a dotted path through objects; a digit segment also indexes an array.
fn lookup<'a>(envelope: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(envelope, |value, segment| match value {
        Value::Object(map) => map.get(segment),
        Value::Array(list) => segment.parse::<usize>().ok().and_then(|i| list.get(i)),
        _ => None,
    })
}

/// Equal as JSON, except that numbers compare by value (`123` matches `123.0`), and an id
/// sent as a number matches the same id written as a string in the filter (and back):
/// platforms are not consistent about that, ReserveKit's `service_id: 123` included.
fn same(allowed: &Value, found: &Value) -> bool {
    match (allowed, found) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => s.trim() == n.to_string(),
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope(data: Value) -> Value {
        json!({ "id": "msg_1", "event_type": "booking.created", "tenant_id": "ten_1", "data": data })
    }

    #[test]
    fn every_key_must_match_one_of_its_values() {
        let filter = Filter::parse(&json!({ "data.service_id": ["svc_1", "svc_2"], "data.location.id": "loc_9" })).unwrap();
        assert!(filter.matches(&envelope(json!({ "service_id": "svc_2", "location": { "id": "loc_9" } }))));
        assert!(!filter.matches(&envelope(json!({ "service_id": "svc_3", "location": { "id": "loc_9" } }))), "value not listed");
        assert!(!filter.matches(&envelope(json!({ "service_id": "svc_1", "location": { "id": "loc_1" } }))), "second key fails");
        assert!(!filter.matches(&envelope(json!({ "location": { "id": "loc_9" } }))), "a missing field does not match");
        assert!(Filter::default().matches(&envelope(json!({}))), "no filter passes everything");
    }

    #[test]
    fn numbers_and_ids_written_as_strings_match_each_other() {
        let filter = Filter::parse(&json!({ "data.service_id": "123" })).unwrap();
        assert!(filter.matches(&envelope(json!({ "service_id": 123 }))));
        assert!(!filter.matches(&envelope(json!({ "service_id": 1234 }))));
        let filter = Filter::parse(&json!({ "data.party_size": 4, "event_type": "booking.created", "data.paid": true })).unwrap();
        assert!(filter.matches(&envelope(json!({ "party_size": 4.0, "paid": true }))));
        assert!(!filter.matches(&envelope(json!({ "party_size": 4, "paid": "true" }))), "true is not the string \"true\"");
    }

    #[test]
    fn paths_index_into_arrays() {
        let filter = Filter::parse(&json!({ "data.bookings.0.service_id": 123 })).unwrap();
        assert!(filter.matches(&envelope(json!({ "bookings": [{ "service_id": 123 }] }))));
        assert!(!filter.matches(&envelope(json!({ "bookings": [] }))));
    }

    #[test]
    fn bad_filters_are_refused_with_a_reason() {
        for (bad, says) in [
            (json!(["data.x"]), "JSON object"),
            (json!({ "data..x": 1 }), "not a path"),
            (json!({ "data.x y": 1 }), "not a path"),
            (json!({ "service_id": 1 }), "must start at a field of the envelope"),
            (json!({ "data.x": [] }), "at least one"),
            (json!({ "data.x": { "a": 1 } }), "not an object"),
            (json!({ "data.x": [[1]] }), "nested list"),
            (json!({ "data.x": "y".repeat(201) }), "at most 200"),
        ] {
            let err = Filter::parse(&bad).unwrap_err();
            assert!(matches!(&err, Error::Invalid { field: Some("filter"), .. }), "{bad}: {err:?}");
            assert!(err.to_string().contains(says), "{bad}: {err}");
        }
        let many: serde_json::Map<String, Value> = (0..11).map(|i| (format!("data.f{i}"), json!(1))).collect();
        assert!(Filter::parse(&Value::Object(many)).unwrap_err().to_string().contains("at most 10 keys"));
    }

    #[test]
    fn the_preview_runs_each_subscribed_sample_through_the_filter() {
        let filter = Filter::parse(&json!({ "data.service_id": "srv_5521" })).unwrap();
        let types = vec!["booking.created".to_string(), "bookings.delete".to_string(), "customer.created".to_string()];
        let catalog = Catalog::default();
        let preview = filter.preview(&catalog, &types, "ten_1");
        let preview: Vec<(&str, bool)> = preview.iter().map(|(t, d)| (t.as_str(), *d)).collect();
        assert_eq!(preview, [("customer.created", false), ("booking.created", true), ("booking.deleted", true)]);
        let elsewhere = Filter::parse(&json!({ "data.service_id": "srv_1" })).unwrap();
        assert!(elsewhere.preview(&catalog, &["*".to_string()], "ten_1").iter().all(|(_, delivered)| !delivered));
        assert_eq!(Filter::default().preview(&catalog, &["*".to_string()], "ten_1").len(), catalog.len());
    }

    #[test]
    fn round_trips_through_its_json_form() {
        let mut filter = Filter::parse(&json!({ "data.service_id": ["a"], "data.location.id": ["x", "y"] })).unwrap();
        assert_eq!(filter.to_json(), json!({ "data.service_id": "a", "data.location.id": ["x", "y"] }));
        filter.set("data.service_id", vec![]);
        assert_eq!(filter.values("data.service_id"), None);
        assert_eq!(Filter::from_stored(Some(&filter.to_json().to_string())), Some(filter));
        assert_eq!(Filter::from_stored(Some("{}")), None, "an empty filter is no filter");
    }
}
