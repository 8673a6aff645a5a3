//! JSON Schema (draft 2020-12) for custom event types: checking that a schema is well formed
//! and that a sample satisfies it.
//!
//! Why not the `jsonschema` crate: it turns on serde_json's `float_roundtrip`, which rebuilds
//! every crate of the workspace that uses serde_json, and pulls in some twenty more. Event
//! schemas describe payloads, so this covers the keywords that do that — `type`, `enum`,
//! `const`, `properties`, `required`, `additionalProperties`, `minProperties`,
//! `maxProperties`, `items`, `minItems`, `maxItems`, `uniqueItems`, `minLength`, `maxLength`,
//! `pattern`, `format` (`date-time` is checked), `minimum`, `maximum`, `exclusiveMinimum`,
//! `exclusiveMaximum`, `multipleOf`, `allOf`, `anyOf`, `oneOf`, `not` — and ignores
//! annotations (`title`, `description`, `examples`, …) as the specification says. Keywords it
//! cannot evaluate (`$ref`, `if`, `patternProperties`, …) are refused with a message instead
//! of being silently skipped, so a schema Herald accepts is one it really checks.

use serde_json::{Map, Value};

use crate::catalog::is_timestamp;

/// Assertion keywords this module does not evaluate: a schema using one is refused.
const UNSUPPORTED: &[&str] = &[
    "$ref",
    "$dynamicRef",
    "$recursiveRef",
    "if",
    "then",
    "else",
    "patternProperties",
    "propertyNames",
    "dependentRequired",
    "dependentSchemas",
    "dependencies",
    "prefixItems",
    "contains",
    "minContains",
    "maxContains",
    "unevaluatedProperties",
    "unevaluatedItems",
];

const TYPES: &[&str] = &["null", "boolean", "object", "array", "number", "integer", "string"];

/// How deep schemas may nest: far beyond any payload's, short of a stack overflow.
const MAX_DEPTH: usize = 64;

/// Checks that `schema` is a well-formed schema of the supported keywords; the error says
/// where (a JSON pointer into the schema) and what is wrong.
pub fn check_schema(schema: &Value) -> Result<(), String> {
    check_at(schema, "", 0)
}

fn check_at(schema: &Value, at: &str, depth: usize) -> Result<(), String> {
    let here = if at.is_empty() { "the schema".to_string() } else { at.to_string() };
    if depth > MAX_DEPTH {
        return Err(format!("{here} nests deeper than {MAX_DEPTH} levels."));
    }
    let map = match schema {
        Value::Bool(_) => return Ok(()),
        Value::Object(map) => map,
        _ => return Err(format!("{here} must be a schema (a JSON object, or true or false).")),
    };
    for (key, value) in map {
        let path = format!("{at}/{key}");
        let bad = |what: &str| Err(format!("{path} must be {what}."));
        if UNSUPPORTED.contains(&key.as_str()) {
            return Err(format!("{path}: Herald does not evaluate \"{key}\" in event schemas; describe the payload inline."));
        }
        match key.as_str() {
            "$schema" => {
                let Some(uri) = value.as_str() else { return bad("a string") };
                if !uri.contains("json-schema.org") {
                    return Err(format!("{path}: only JSON Schema's own drafts are supported (e.g. {}).", crate::catalog::DRAFT));
                }
            }
            "type" => {
                let names: Vec<&Value> = match value {
                    Value::Array(items) if !items.is_empty() => items.iter().collect(),
                    Value::String(_) => vec![value],
                    _ => return bad("a type name or a list of them"),
                };
                for name in names {
                    if !name.as_str().is_some_and(|n| TYPES.contains(&n)) {
                        return Err(format!("{path}: {name} is not a JSON Schema type ({}).", TYPES.join(", ")));
                    }
                }
            }
            "enum" if !value.is_array() => return bad("a list of values"),
            "properties" | "$defs" | "definitions" => {
                let Some(properties) = value.as_object() else { return bad("an object of schemas") };
                for (name, sub) in properties {
                    check_at(sub, &format!("{path}/{name}"), depth + 1)?;
                }
            }
            "required" => {
                let Some(names) = value.as_array() else { return bad("a list of property names") };
                if !names.iter().all(Value::is_string) {
                    return bad("a list of property names");
                }
            }
            "additionalProperties" | "items" | "not" => check_at(value, &path, depth + 1)?,
            "allOf" | "anyOf" | "oneOf" => {
                let Some(subs) = value.as_array().filter(|s| !s.is_empty()) else { return bad("a non-empty list of schemas") };
                for (i, sub) in subs.iter().enumerate() {
                    check_at(sub, &format!("{path}/{i}"), depth + 1)?;
                }
            }
            "minProperties" | "maxProperties" | "minItems" | "maxItems" | "minLength" | "maxLength" if value.as_u64().is_none() => {
                return bad("a whole number, 0 or more");
            }
            "uniqueItems" if !value.is_boolean() => return bad("true or false"),
            "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" if !value.is_number() => return bad("a number"),
            "multipleOf" if !value.as_f64().is_some_and(|n| n > 0.0) => return bad("a number greater than 0"),
            "pattern" => {
                let Some(pattern) = value.as_str() else { return bad("a regular expression") };
                if let Err(e) = regex::Regex::new(pattern) {
                    return Err(format!("{path} is not a regular expression Herald can use: {e}"));
                }
            }
            "format" if !value.is_string() => return bad("a string"),
            // Annotations and keywords unknown to the draft: no effect on validation.
            _ => {}
        }
    }
    Ok(())
}

/// The first way `instance` fails `schema` (checked with [`check_schema`] first), as "where:
/// what", e.g. `/customer/email: expected string, got integer` (no "where" at the top level).
pub fn validate(schema: &Value, instance: &Value) -> Result<(), String> {
    validate_at(schema, instance, "")
}

fn located(at: &str, what: String) -> String {
    if at.is_empty() {
        what
    } else {
        format!("{at}: {what}")
    }
}

fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
    }
}

fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "integer" => value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0),
        "number" => value.is_number(),
        other => type_of(value) == other,
    }
}

/// JSON equality where 1 and 1.0 are the same number, as the specification wants.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w))),
        _ => a == b,
    }
}

fn validate_at(schema: &Value, instance: &Value, at: &str) -> Result<(), String> {
    let map: &Map<String, Value> = match schema {
        Value::Bool(true) => return Ok(()),
        Value::Bool(false) => return Err(located(at, "no value is allowed here".into())),
        Value::Object(map) => map,
        _ => return Ok(()),
    };
    let fail = |what: String| Err(located(at, what));
    if let Some(types) = map.get("type") {
        let names: Vec<&str> = match types {
            Value::String(s) => vec![s.as_str()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !names.is_empty() && !names.iter().any(|n| has_type(instance, n)) {
            return fail(format!("expected {}, got {}", names.join(" or "), type_of(instance)));
        }
    }
    if let Some(allowed) = map.get("enum").and_then(Value::as_array) {
        if !allowed.iter().any(|a| same(a, instance)) {
            return fail(format!("{instance} is not one of the allowed values"));
        }
    }
    if let Some(expected) = map.get("const") {
        if !same(expected, instance) {
            return fail(format!("expected {expected}, got {instance}"));
        }
    }
    let limit = |key: &str| map.get(key).and_then(Value::as_u64);
    match instance {
        Value::Object(object) => {
            if let Some(required) = map.get("required").and_then(Value::as_array) {
                for name in required.iter().filter_map(Value::as_str) {
                    if !object.contains_key(name) {
                        return fail(format!("the property \"{name}\" is required"));
                    }
                }
            }
            let properties = map.get("properties").and_then(Value::as_object);
            for (name, value) in object {
                let path = format!("{at}/{name}");
                match properties.and_then(|p| p.get(name)) {
                    Some(sub) => validate_at(sub, value, &path)?,
                    None => {
                        if let Some(extra) = map.get("additionalProperties") {
                            if extra == &Value::Bool(false) {
                                return fail(format!("the property \"{name}\" is not allowed"));
                            }
                            validate_at(extra, value, &path)?;
                        }
                    }
                }
            }
            if limit("minProperties").is_some_and(|n| (object.len() as u64) < n) {
                return fail(format!("needs at least {} properties", limit("minProperties").unwrap_or_default()));
            }
            if limit("maxProperties").is_some_and(|n| (object.len() as u64) > n) {
                return fail(format!("allows at most {} properties", limit("maxProperties").unwrap_or_default()));
            }
        }
        Value::Array(items) => {
            if let Some(sub) = map.get("items") {
                for (i, item) in items.iter().enumerate() {
                    validate_at(sub, item, &format!("{at}/{i}"))?;
                }
            }
            if limit("minItems").is_some_and(|n| (items.len() as u64) < n) {
                return fail(format!("needs at least {} items", limit("minItems").unwrap_or_default()));
            }
            if limit("maxItems").is_some_and(|n| (items.len() as u64) > n) {
                return fail(format!("allows at most {} items", limit("maxItems").unwrap_or_default()));
            }
            if map.get("uniqueItems") == Some(&Value::Bool(true)) {
                for (i, item) in items.iter().enumerate() {
                    if items[..i].iter().any(|earlier| same(earlier, item)) {
                        return fail(format!("items must be unique, but {item} repeats"));
                    }
                }
            }
        }
        Value::String(text) => {
            let length = text.chars().count() as u64;
            if limit("minLength").is_some_and(|n| length < n) {
                return fail(format!("must be at least {} characters", limit("minLength").unwrap_or_default()));
            }
            if limit("maxLength").is_some_and(|n| length > n) {
                return fail(format!("must be at most {} characters", limit("maxLength").unwrap_or_default()));
            }
            if let Some(pattern) = map.get("pattern").and_then(Value::as_str) {
                if regex::Regex::new(pattern).is_ok_and(|re| !re.is_match(text)) {
                    return fail(format!("\"{text}\" does not match the pattern {pattern}"));
                }
            }
            if map.get("format").and_then(Value::as_str) == Some("date-time") && !is_timestamp(text) {
                return fail(format!("\"{text}\" is not an RFC 3339 date-time such as 2026-03-14T09:30:00Z"));
            }
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or_default();
            let bound = |key: &str| map.get(key).and_then(Value::as_f64);
            if bound("minimum").is_some_and(|m| x < m) {
                return fail(format!("{n} is less than the minimum {}", map["minimum"]));
            }
            if bound("maximum").is_some_and(|m| x > m) {
                return fail(format!("{n} is more than the maximum {}", map["maximum"]));
            }
            if bound("exclusiveMinimum").is_some_and(|m| x <= m) {
                return fail(format!("{n} must be more than {}", map["exclusiveMinimum"]));
            }
            if bound("exclusiveMaximum").is_some_and(|m| x >= m) {
                return fail(format!("{n} must be less than {}", map["exclusiveMaximum"]));
            }
            if let Some(step) = bound("multipleOf") {
                let ratio = x / step;
                if (ratio - ratio.round()).abs() > 1e-9 {
                    return fail(format!("{n} is not a multiple of {}", map["multipleOf"]));
                }
            }
        }
        _ => {}
    }
    let subs = |key: &str| map.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    for sub in subs("allOf") {
        validate_at(sub, instance, at)?;
    }
    if !subs("anyOf").is_empty() && !subs("anyOf").iter().any(|sub| validate_at(sub, instance, at).is_ok()) {
        return fail("matches none of the anyOf schemas".into());
    }
    if !subs("oneOf").is_empty() {
        let matching = subs("oneOf").iter().filter(|sub| validate_at(sub, instance, at).is_ok()).count();
        if matching != 1 {
            return fail(format!("must match exactly one of the oneOf schemas, matches {matching}"));
        }
    }
    if let Some(not) = map.get("not") {
        if validate_at(not, instance, at).is_ok() {
            return fail("matches the schema under \"not\"".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn well_formed_schemas_pass_and_malformed_ones_say_where() {
        let good = json!({
            "$schema": crate::catalog::DRAFT, "title": "voucher.redeemed", "type": "object",
            "properties": { "id": { "type": "string", "pattern": "^vch_" }, "amount": { "type": ["integer", "null"], "minimum": 0 },
                "tags": { "type": "array", "items": { "enum": ["a", "b"] }, "uniqueItems": true } },
            "required": ["id"], "additionalProperties": false, "x-vendor": { "anything": 1 },
        });
        check_schema(&good).unwrap();
        for (bad, says) in [
            (json!({ "type": "text" }), "/type"),
            (json!({ "properties": { "id": { "type": 5 } } }), "/properties/id/type"),
            (json!({ "required": "id" }), "/required must be a list"),
            (json!({ "items": 3 }), "/items must be a schema"),
            (json!({ "minLength": -1 }), "/minLength must be a whole number"),
            (json!({ "pattern": "(" }), "/pattern is not a regular expression"),
            (json!({ "$ref": "#/$defs/x" }), "does not evaluate \"$ref\""),
            (json!({ "anyOf": [] }), "/anyOf must be a non-empty list"),
            (json!({ "$schema": "https://evil.example/schema" }), "only JSON Schema's own drafts"),
        ] {
            let err = check_schema(&bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn samples_are_checked_against_the_schema() {
        let schema = json!({
            "type": "object", "required": ["id", "amount"],
            "properties": {
                "id": { "type": "string", "minLength": 3 }, "amount": { "type": "integer", "minimum": 0, "multipleOf": 5 },
                "at": { "type": "string", "format": "date-time" }, "kind": { "enum": ["gift", "promo"] },
                "lines": { "type": "array", "items": { "type": "object", "required": ["sku"] }, "maxItems": 2 },
            },
            "additionalProperties": false,
        });
        validate(&schema, &json!({ "id": "vch_1", "amount": 10, "at": "2026-03-14T09:30:00Z", "lines": [{ "sku": "x" }] })).unwrap();
        for (bad, says) in [
            (json!({ "id": "vch_1" }), "the property \"amount\" is required"),
            (json!({ "id": 7, "amount": 5 }), "/id: expected string, got integer"),
            (json!({ "id": "v", "amount": 5 }), "/id: must be at least 3"),
            (json!({ "id": "vch", "amount": -5 }), "/amount: -5 is less than the minimum 0"),
            (json!({ "id": "vch", "amount": 7 }), "not a multiple of 5"),
            (json!({ "id": "vch", "amount": 5, "at": "yesterday" }), "/at: \"yesterday\" is not an RFC 3339"),
            (json!({ "id": "vch", "amount": 5, "kind": "other" }), "/kind: \"other\" is not one of"),
            (json!({ "id": "vch", "amount": 5, "lines": [{}] }), "/lines/0: the property \"sku\" is required"),
            (json!({ "id": "vch", "amount": 5, "extra": 1 }), "\"extra\" is not allowed"),
        ] {
            let err = validate(&schema, &bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
        assert!(validate(&json!({ "oneOf": [{ "type": "integer" }, { "type": "number" }] }), &json!(1)).is_err(), "1 is both");
        assert!(validate(&json!({ "not": { "type": "string" } }), &json!(1)).is_ok());
        assert!(validate(&json!({ "type": "integer" }), &json!(2.0)).is_ok(), "2.0 is an integer in JSON Schema");
    }

    #[test]
    fn every_built_in_schema_is_well_formed_and_fits_its_sample() {
        for t in crate::catalog::builtin() {
            check_schema(&t.schema).unwrap_or_else(|e| panic!("{}: {e}", t.name));
            validate(&t.schema, &t.sample).unwrap_or_else(|e| panic!("{}: {e}", t.name));
        }
    }
}
