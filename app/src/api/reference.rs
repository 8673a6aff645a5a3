//! The API reference page's data: the server's generated OpenAPI document (`/api/v1/openapi.json`),
//! read on the server into what the page shows: operations by tag, their parameters, body
//! fields, answers and a cURL example.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiReferenceDoc {
    pub title: String,
    pub version: String,
    /// The introduction's paragraphs (with `code` spans).
    pub intro: Vec<String>,
    /// Where this server's API is, e.g. `https://herald.example.com/api/v1`.
    pub base_url: String,
    pub sections: Vec<Section>,
}

/// The operations of one tag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub name: String,
    pub description: String,
    pub anchor: String,
    pub operations: Vec<OperationDoc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OperationDoc {
    pub anchor: String,
    pub method: String,
    pub path: String,
    pub summary: String,
    pub description: String,
    /// Needs no API key.
    pub public: bool,
    pub parameters: Vec<FieldDoc>,
    pub body: Option<SchemaDoc>,
    pub responses: Vec<ResponseDoc>,
    pub curl: String,
}

/// A parameter or a field of a body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldDoc {
    /// Nested fields are dotted: `auth_header.name`, `data[].id`.
    pub name: String,
    /// `path` or `query` for parameters; empty for body fields.
    pub location: String,
    pub type_label: String,
    pub required: bool,
    pub nullable: bool,
    pub description: String,
    /// "1–1000", "at most 100 characters", "one of: a, b".
    pub constraints: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemaDoc {
    pub name: String,
    pub fields: Vec<FieldDoc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseDoc {
    pub status: String,
    pub description: String,
    pub content_type: Option<String>,
    pub schema: Option<SchemaDoc>,
}

/// The generated document, as the server provides it to server functions.
#[cfg(feature = "ssr")]
#[derive(Clone, Copy, Debug)]
pub struct OpenApiDocument(pub &'static str);

/// The API reference, read from the document this server generates.
#[server(prefix = "/rpc", endpoint = "api_reference")]
pub async fn api_reference() -> Result<ApiReferenceDoc, AppError> {
    let herald = super::ssr::herald()?;
    let document =
        use_context::<OpenApiDocument>().ok_or_else(|| domain::Error::Internal("OpenAPI document missing from context".into()))?;
    let json: serde_json::Value =
        serde_json::from_str(document.0).map_err(|e| domain::Error::internal("the OpenAPI document does not parse", e))?;
    Ok(read::reference(&json, &format!("{}/api/v1", herald.public_url)))
}

#[cfg(feature = "ssr")]
mod read {
    //! OpenAPI 3.1 JSON → [`ApiReferenceDoc`]. Only what Herald's document uses: local `$ref`s,
    //! `oneOf` with `null` for optional values, type arrays with `"null"`.
    use super::*;
    use serde_json::{json, Map, Value};

    pub fn reference(doc: &Value, base_url: &str) -> ApiReferenceDoc {
        let info = &doc["info"];
        let mut sections: Vec<Section> = doc["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|tag| {
                let name = text(&tag["name"]);
                Section { anchor: anchor(&name), description: text(&tag["description"]), name, operations: Vec::new() }
            })
            .collect();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in ["get", "post", "put", "patch", "delete"] {
                let Some(op) = item.get(method).filter(|op| op.is_object()) else { continue };
                let operation = operation(doc, method, path, op, base_url);
                let tag = text(&op["tags"][0]);
                match sections.iter_mut().find(|s| s.name == tag) {
                    Some(section) => section.operations.push(operation),
                    None => {
                        sections.push(Section { anchor: anchor(&tag), name: tag, description: String::new(), operations: vec![operation] })
                    }
                }
            }
        }
        sections.retain(|s| !s.operations.is_empty());
        ApiReferenceDoc {
            title: text(&info["title"]),
            version: text(&info["version"]),
            intro: text(&info["description"]).split("\n\n").map(str::to_string).collect(),
            base_url: base_url.to_string(),
            sections,
        }
    }

    fn text(value: &Value) -> String {
        value.as_str().unwrap_or_default().to_string()
    }

    /// `/endpoints/{id}/test` → `endpoints-id-test`.
    fn anchor(text: &str) -> String {
        text.to_lowercase().split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join("-")
    }

    fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
        match value["$ref"].as_str().and_then(|r| doc.pointer(r.trim_start_matches('#'))) {
            Some(target) => resolve(doc, target),
            None => value,
        }
    }

    fn ref_name(value: &Value) -> Option<String> {
        value["$ref"].as_str().and_then(|r| r.rsplit('/').next()).map(str::to_string)
    }

    /// The schema without its `null` alternative, and whether it had one.
    fn non_null(schema: &Value) -> (&Value, bool) {
        for key in ["oneOf", "anyOf"] {
            if let Some(options) = schema[key].as_array() {
                let others: Vec<&Value> = options.iter().filter(|o| o["type"] != "null").collect();
                if others.len() == 1 && others.len() < options.len() {
                    return (others[0], true);
                }
            }
        }
        if let Some(all) = schema["allOf"].as_array().filter(|a| a.len() == 1) {
            return (&all[0], false);
        }
        let nullable = schema["type"].as_array().is_some_and(|types| types.iter().any(|t| t == "null"));
        (schema, nullable)
    }

    fn base_type(schema: &Value) -> String {
        match &schema["type"] {
            Value::String(t) => t.clone(),
            Value::Array(types) => types.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect::<Vec<_>>().join(" or "),
            _ => String::new(),
        }
    }

    fn type_label(doc: &Value, schema: &Value) -> String {
        let (schema, _) = non_null(schema);
        if let Some(name) = ref_name(schema) {
            let target = resolve(doc, schema);
            return if target["enum"].is_array() { "string".into() } else { name };
        }
        let base = base_type(schema);
        match base.as_str() {
            "array" => format!("array of {}", type_label(doc, &schema["items"])),
            "" => "any JSON".into(),
            _ => match schema["format"].as_str() {
                Some("date-time") => format!("{base} (RFC 3339 time)"),
                Some(format) if !format.starts_with("int") => format!("{base} ({format})"),
                _ => base,
            },
        }
    }

    fn constraints(doc: &Value, schema: &Value) -> Vec<String> {
        let (schema, _) = non_null(schema);
        let schema = resolve(doc, schema);
        let mut out = Vec::new();
        if let Some(values) = schema["enum"].as_array() {
            let values: Vec<String> =
                values.iter().filter(|v| !v.is_null()).map(|v| v.as_str().map_or(v.to_string(), str::to_string)).collect();
            out.push(format!("one of: {}", values.join(", ")));
        }
        match (schema["minimum"].as_i64(), schema["maximum"].as_i64()) {
            (Some(min), Some(max)) => out.push(format!("{min}–{max}")),
            (Some(min), None) => out.push(format!("at least {min}")),
            (None, Some(max)) => out.push(format!("at most {max}")),
            _ => {}
        }
        if let Some(max) = schema["maxLength"].as_i64() {
            out.push(format!("at most {max} characters"));
        }
        if let Some(pattern) = schema["pattern"].as_str() {
            out.push(format!("matches {pattern}"));
        }
        out
    }

    /// The fields of an object schema, nested objects (and lists of them) dotted below their
    /// field, two levels deep.
    fn fields(doc: &Value, schema: &Value, prefix: &str, depth: usize, out: &mut Vec<FieldDoc>) {
        let object = resolve(doc, non_null(schema).0);
        let required: Vec<&str> = object["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        for (name, property) in object["properties"].as_object().into_iter().flatten() {
            let (inner, nullable) = non_null(property);
            let resolved = resolve(doc, inner);
            let description =
                property["description"].as_str().or(inner["description"].as_str()).or(resolved["description"].as_str()).unwrap_or_default();
            out.push(FieldDoc {
                name: format!("{prefix}{name}"),
                location: String::new(),
                type_label: type_label(doc, property),
                required: required.contains(&name.as_str()),
                nullable,
                description: description.to_string(),
                constraints: constraints(doc, property),
            });
            if depth < 2 {
                if resolved["properties"].is_object() {
                    fields(doc, resolved, &format!("{prefix}{name}."), depth + 1, out);
                } else if base_type(resolved) == "array" {
                    let items = resolve(doc, non_null(&resolved["items"]).0);
                    if items["properties"].is_object() {
                        fields(doc, items, &format!("{prefix}{name}[]."), depth + 1, out);
                    }
                }
            }
        }
    }

    fn schema_doc(doc: &Value, schema: &Value) -> SchemaDoc {
        let mut out = Vec::new();
        fields(doc, schema, "", 0, &mut out);
        SchemaDoc { name: type_label(doc, schema), fields: out }
    }

    fn operation(doc: &Value, method: &str, path: &str, op: &Value, base_url: &str) -> OperationDoc {
        let parameters: Vec<FieldDoc> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                let p = resolve(doc, p);
                FieldDoc {
                    name: text(&p["name"]),
                    location: text(&p["in"]),
                    type_label: type_label(doc, &p["schema"]),
                    required: p["required"] == true,
                    nullable: false,
                    description: text(&p["description"]),
                    constraints: constraints(doc, &p["schema"]),
                }
            })
            .collect();
        let body_schema = &op["requestBody"]["content"]["application/json"]["schema"];
        let body = body_schema.is_object().then(|| schema_doc(doc, body_schema));
        let responses = op["responses"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(status, response)| {
                let response = resolve(doc, response);
                let (content_type, schema) = match response["content"].as_object().and_then(|c| c.iter().next()) {
                    Some((kind, content)) => {
                        let schema = &content["schema"];
                        let schema = if !schema.is_object() {
                            None
                        } else if ref_name(schema).as_deref() == Some("ErrorBody") {
                            // Explained once, at the top of the page.
                            Some(SchemaDoc { name: "ErrorBody".into(), fields: Vec::new() })
                        } else {
                            Some(schema_doc(doc, schema))
                        };
                        (Some(kind.clone()), schema)
                    }
                    None => (None, None),
                };
                ResponseDoc { status: status.clone(), description: text(&response["description"]), content_type, schema }
            })
            .collect();
        let public = op["security"].as_array().is_some_and(|s| s.is_empty());
        // The platform's routes take its key (`hkp_…`), the others a tenant's.
        let key_variable =
            if op["security"] == serde_json::json!([{ "platform_key": [] }]) { "HERALD_PLATFORM_KEY" } else { "HERALD_API_KEY" };
        let path = path.to_string();
        let relative = path.strip_prefix("/api/v1").unwrap_or(&path).to_string();
        OperationDoc {
            anchor: format!("{method}-{}", anchor(&relative)),
            method: method.to_uppercase(),
            curl: curl(doc, method, &relative, base_url, (!public).then_some(key_variable), body_schema),
            path,
            summary: text(&op["summary"]),
            description: text(&op["description"]),
            public,
            parameters,
            body,
            responses,
        }
    }

    /// An example request: the body holds the fields that have an example, and the required ones.
    fn curl(doc: &Value, method: &str, path: &str, base_url: &str, key_variable: Option<&str>, body_schema: &Value) -> String {
        let mut lines = vec![if method == "get" {
            format!("curl '{base_url}{path}'")
        } else {
            format!("curl -X {} '{base_url}{path}'", method.to_uppercase())
        }];
        if let Some(variable) = key_variable {
            lines.push(format!("-H \"Authorization: Bearer ${variable}\""));
        }
        if body_schema.is_object() {
            let example = example_body(doc, body_schema);
            lines.push("-H 'content-type: application/json'".into());
            let json = serde_json::to_string_pretty(&example).unwrap_or_default().replace('\'', "'\\''").replace('\n', "\n  ");
            lines.push(format!("-d '{json}'"));
        }
        lines.join(" \\\n  ")
    }

    fn example_body(doc: &Value, schema: &Value) -> Value {
        let object = resolve(doc, non_null(schema).0);
        let required: Vec<&str> = object["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let mut body = Map::new();
        for (name, property) in object["properties"].as_object().into_iter().flatten() {
            let (inner, _) = non_null(property);
            let example_of = |schema: &Value| schema.get("example").cloned().or_else(|| schema["examples"].get(0).cloned());
            let example = example_of(property).or_else(|| example_of(inner)).or_else(|| example_of(resolve(doc, inner)));
            let value = match example {
                Some(example) => example,
                None if required.contains(&name.as_str()) => match base_type(resolve(doc, inner)).as_str() {
                    "boolean" => json!(true),
                    "integer" | "number" => json!(1),
                    "object" => json!({}),
                    "array" => json!([]),
                    _ => json!("…"),
                },
                None => continue,
            };
            body.insert(name.clone(), value);
        }
        Value::Object(body)
    }
}
