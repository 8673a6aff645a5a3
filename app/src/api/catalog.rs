//! Server functions for the operator console's event catalog: every type with its sample and
//! schema (staff), and defining, changing and deprecating the platform's own types (operators:
//! see `Actor::may_edit_catalog`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One event type as the console shows it: its JSON pretty-printed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogEntry {
    pub name: String,
    pub resource: String,
    pub description: String,
    pub custom: bool,
    pub deprecated: bool,
    /// The schema was given (not derived from the sample).
    pub schema_given: bool,
    pub schema: String,
    pub sample: String,
    /// Custom types: when it was last changed ("2026-03-14 09:30 UTC").
    pub updated: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffCatalog {
    /// Every resource with its label, in catalog order.
    pub resources: Vec<(String, String)>,
    pub built_in: Vec<CatalogEntry>,
    pub custom: Vec<CatalogEntry>,
    /// The viewer may define and change types (operators; support only reads).
    pub can_edit: bool,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;

    pub fn entry(t: &domain::catalog::EventType) -> CatalogEntry {
        let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
        CatalogEntry {
            name: t.name.clone(),
            resource: t.resource.clone(),
            description: t.description.clone(),
            custom: t.custom,
            deprecated: t.deprecated,
            schema_given: t.schema_given,
            schema: pretty(&t.schema),
            sample: pretty(&t.sample),
            updated: t.updated_at.map(|at| format!("{} UTC", types::clock::utc(at))),
        }
    }

    /// A JSON field of the form: empty is `None`; text that does not parse names the field.
    pub fn json(field: &'static str, label: &str, text: &str) -> Result<Option<serde_json::Value>, domain::Error> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        serde_json::from_str(text).map(Some).map_err(|e| domain::Error::invalid(field, format!("The {label} is not valid JSON ({e}).")))
    }

    /// The form's fields as the domain's input; an empty schema means "derive it from the sample".
    pub fn input(description: String, schema: &str, sample: &str) -> Result<domain::event_types::EventTypeInput, domain::Error> {
        let sample = json("sample", "sample", sample)?
            .ok_or_else(|| domain::Error::invalid("sample", "Give a sample: a JSON object such as an event of this type carries."))?;
        Ok(domain::event_types::EventTypeInput {
            name: None,
            description: Some(description),
            schema: Some(json("schema", "schema", schema)?),
            sample: Some(sample),
            deprecated: None,
        })
    }
}

/// Staff: the whole catalog, built-in and custom, deprecated ones included.
#[server(prefix = "/rpc", endpoint = "staff_event_types")]
pub async fn staff_event_types() -> Result<StaffCatalog, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    actor.require_staff()?;
    let catalog = herald.fresh_catalog().await?;
    Ok(StaffCatalog {
        resources: catalog.resources(),
        built_in: catalog.iter().filter(|t| !t.custom).map(convert::entry).collect(),
        custom: catalog.custom().iter().map(convert::entry).collect(),
        can_edit: actor.may_edit_catalog(),
    })
}

/// Operators: a new event type, offered to every tenant's subscriptions at once.
#[server(prefix = "/rpc", endpoint = "create_event_type")]
pub async fn create_event_type(
    name: String,
    description: String,
    #[server(default)] schema: String,
    sample: String,
) -> Result<CatalogEntry, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    actor.require_catalog_editor()?;
    let input = domain::event_types::EventTypeInput { name: Some(name), ..convert::input(description, &schema, &sample)? };
    Ok(convert::entry(&herald.create_event_type(&actor, input).await?))
}

/// Operators: a custom type's description, sample and schema (empty: derived from the sample).
#[server(prefix = "/rpc", endpoint = "update_event_type")]
pub async fn update_event_type(
    name: String,
    description: String,
    #[server(default)] schema: String,
    sample: String,
) -> Result<CatalogEntry, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    actor.require_catalog_editor()?;
    let input = convert::input(description, &schema, &sample)?;
    Ok(convert::entry(&herald.update_event_type(&actor, &name, input).await?))
}

/// Operators: deprecate a custom type (no new subscriptions), or offer it again.
#[server(prefix = "/rpc", endpoint = "set_event_type_deprecated")]
pub async fn set_event_type_deprecated(name: String, deprecated: bool) -> Result<CatalogEntry, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let input = domain::event_types::EventTypeInput { deprecated: Some(deprecated), ..Default::default() };
    Ok(convert::entry(&herald.update_event_type(&actor, &name, input).await?))
}
