//! Server functions for endpoints, the event catalog and tenant settings.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};
use types::{DeliveryStatus, Endpoint, Plan};

use crate::error::AppError;

/// An endpoint, and what the dashboard adds to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointView {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// Who may reactivate it ("Name <email>"), for members looking at an inactive endpoint;
    /// empty otherwise.
    #[serde(default)]
    pub reactivated_by: Vec<String>,
    /// The form's two parts of the filter: the services (`data.service_id`, comma-separated)
    /// and every other condition as pretty JSON.
    #[serde(default)]
    pub filter_services: String,
    #[serde(default)]
    pub filter_rest: String,
}

impl std::ops::Deref for EndpointView {
    type Target = Endpoint;
    fn deref(&self) -> &Endpoint {
        &self.endpoint
    }
}

/// The figures shown next to each endpoint in the list: the last 24 hours.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ListStats {
    /// Requests sent (attempts).
    pub requests: i64,
    /// 2xx answers / requests, 0–1; none when nothing was sent.
    pub success_rate: Option<f64>,
    /// The newest delivery's status and time ("2026-03-14 09:30", UTC), over all time.
    pub last_delivery: Option<(DeliveryStatus, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointList {
    pub endpoints: Vec<EndpointView>,
    /// One per endpoint, in the same order.
    pub stats: Vec<ListStats>,
    pub plan: Plan,
}

/// What the endpoint form sends.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointForm {
    pub name: String,
    pub description: String,
    pub url: String,
    pub method: String,
    pub channel: String,
    pub email: String,
    pub payload_shape: String,
    pub event_types: Vec<String>,
    pub auth_header_name: String,
    /// Empty keeps the saved value.
    pub auth_header_value: String,
    /// Conditions as JSON (`{"data.location.id": "loc_9"}`); empty for none.
    #[serde(default)]
    pub filter: String,
    /// Service ids, comma-separated: a condition on `data.service_id`.
    #[serde(default)]
    pub filter_services: String,
    /// The throttle, when the form offers it (admins): a number, or empty for none. `None`
    /// keeps the saved limits.
    #[serde(default)]
    pub max_per_second: Option<String>,
    #[serde(default)]
    pub max_in_flight: Option<String>,
}

/// How one subscribed type's catalog sample fares against the filter being edited.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FilterPreview {
    pub event_type: String,
    pub delivered: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogGroup {
    pub resource: String,
    pub label: String,
    pub types: Vec<CatalogType>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogType {
    pub name: String,
    pub description: String,
    /// Pretty JSON of the whole envelope with the sample data, and of the data alone.
    pub envelope: String,
    pub data: String,
    /// Its events name a service (`data.service_id`), so endpoints can take only some services.
    pub names_a_service: bool,
    /// Defined by the platform, not shipped with Herald.
    #[serde(default)]
    pub custom: bool,
    /// Not offered to new subscriptions; endpoints that have it keep it.
    #[serde(default)]
    pub deprecated: bool,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;

    pub fn view(e: domain::endpoints::Endpoint) -> EndpointView {
        use domain::filter::{Filter, SERVICE_PATH};
        let mut rest = e.filter.as_ref().and_then(|f| Filter::parse(f).ok()).unwrap_or_default();
        let services: Vec<String> = rest
            .values(SERVICE_PATH)
            .unwrap_or_default()
            .iter()
            .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
            .collect();
        rest.set(SERVICE_PATH, Vec::new());
        let filter_rest = if rest.is_empty() { String::new() } else { serde_json::to_string_pretty(&rest.to_json()).unwrap_or_default() };
        EndpointView { endpoint: e, reactivated_by: Vec::new(), filter_services: services.join(", "), filter_rest }
    }

    /// The form's filter parts as one filter; `{}` (none) when both are empty.
    pub fn filter(form: &EndpointForm) -> Result<domain::filter::Filter, domain::Error> {
        use domain::filter::{Filter, SERVICE_PATH};
        let text = form.filter.trim();
        let mut filter = if text.is_empty() {
            Filter::default()
        } else {
            let value: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| domain::Error::invalid("filter", format!("The conditions are not valid JSON ({e}).")))?;
            Filter::parse(&value)?
        };
        let services: Vec<serde_json::Value> =
            form.filter_services.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| s.into()).collect();
        if !services.is_empty() {
            filter.set(SERVICE_PATH, services);
        }
        Ok(filter)
    }

    pub fn input(form: EndpointForm) -> Result<domain::endpoints::EndpointInput, domain::Error> {
        use domain::endpoints::{AuthHeaderInput, EndpointInput};
        let filter = Some(Some(filter(&form)?.to_json()));
        let auth_header = if form.auth_header_name.trim().is_empty() {
            Some(None)
        } else {
            Some(Some(AuthHeaderInput { name: form.auth_header_name, value: Some(form.auth_header_value) }))
        };
        let email_channel = types::Channel::parse(&form.channel) == Some(types::Channel::Email);
        let limit = |value: &Option<String>, field: &'static str| -> Result<Option<Option<i64>>, domain::Error> {
            match value.as_deref().map(str::trim) {
                None => Ok(None),
                Some("") => Ok(Some(None)),
                Some(n) => {
                    n.parse().map(|n| Some(Some(n))).map_err(|_| domain::Error::invalid(field, "Enter a whole number, or leave it empty."))
                }
            }
        };
        Ok(EndpointInput {
            max_per_second: limit(&form.max_per_second, "max_per_second")?,
            max_in_flight: limit(&form.max_in_flight, "max_in_flight")?,
            filter,
            name: Some(form.name),
            description: Some(form.description),
            url: (!email_channel).then_some(form.url),
            method: Some(form.method),
            auth_header,
            event_types: Some(form.event_types),
            payload_shape: Some(form.payload_shape),
            channel: Some(form.channel),
            email: email_channel.then_some(form.email),
        })
    }
}

#[server(prefix = "/rpc", endpoint = "endpoints")]
pub async fn list_endpoints() -> Result<EndpointList, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let tenant = herald.tenant(actor.tenant_id()?).await?;
    let endpoints: Vec<EndpointView> =
        herald.endpoints(&tenant.id).await?.into_iter().map(|e| convert::view(domain::endpoints::for_viewer(e, &actor))).collect();
    let mut stats = Vec::with_capacity(endpoints.len());
    for endpoint in &endpoints {
        // At most 10 endpoints (the largest plan), each from its hourly rollup.
        let day = herald.endpoint_stats(&tenant.id, &endpoint.id, domain::stats::Window::Day).await?;
        stats.push(ListStats {
            requests: day.sent,
            success_rate: day.success_rate,
            last_delivery: day.last_delivery.map(|d| (d.status, types::clock::shown(&d.created_at).chars().take(16).collect())),
        });
    }
    Ok(EndpointList { endpoints, stats, plan: tenant.plan })
}

#[server(prefix = "/rpc", endpoint = "endpoint")]
pub async fn get_endpoint(id: String) -> Result<EndpointView, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let tenant_id = actor.tenant_id()?;
    let mut view = convert::view(domain::endpoints::for_viewer(herald.endpoint(tenant_id, &id).await?, &actor));
    if view.status != types::EndpointStatus::Active && actor.require_admin().is_err() {
        view.reactivated_by = herald
            .members(tenant_id)
            .await?
            .into_iter()
            .filter(|m| m.role.is_admin())
            .map(|m| format!("{} <{}>", m.name, m.email))
            .collect();
    }
    Ok(view)
}

/// Creates (no `id`) or updates an endpoint.
#[server(prefix = "/rpc", endpoint = "save_endpoint", input = Json)]
pub async fn save_endpoint(id: Option<String>, form: EndpointForm) -> Result<EndpointView, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let input = convert::input(form)?;
    let saved = match id {
        Some(id) => herald.update_endpoint(&actor, &id, input).await?,
        None => herald.create_endpoint(&actor, input).await?,
    };
    Ok(convert::view(saved))
}

/// Runs the catalog sample of each chosen event type through the filter being edited.
#[server(prefix = "/rpc", endpoint = "preview_filter", input = Json)]
pub async fn preview_filter(form: EndpointForm) -> Result<Vec<FilterPreview>, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let filter = convert::filter(&form)?;
    let types = if form.event_types.is_empty() { vec!["*".to_string()] } else { form.event_types };
    let mut samples: Vec<FilterPreview> = filter
        .preview(&herald.catalog(), &types, actor.tenant_id()?)
        .into_iter()
        .map(|(event_type, delivered)| FilterPreview { event_type, delivered })
        .collect();
    // What would be delivered first, in catalog order.
    samples.sort_by_key(|s| !s.delivered);
    Ok(samples)
}

#[server(prefix = "/rpc", endpoint = "delete_endpoint")]
pub async fn delete_endpoint(id: String) -> Result<(), AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    herald.delete_endpoint(&actor, &id).await?;
    leptos_axum::redirect("/endpoints");
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "set_endpoint_active")]
pub async fn set_endpoint_active(id: String, active: bool) -> Result<EndpointView, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let endpoint = if active { herald.activate_endpoint(&actor, &id).await? } else { herald.deactivate_endpoint(&actor, &id).await? };
    Ok(convert::view(endpoint))
}

#[server(prefix = "/rpc", endpoint = "reveal_secret")]
pub async fn reveal_secret(id: String) -> Result<String, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    Ok(herald.endpoint_secret(&actor, &id).await?)
}

#[server(prefix = "/rpc", endpoint = "rotate_secret")]
pub async fn rotate_secret(id: String) -> Result<String, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    Ok(herald.rotate_endpoint_secret(&actor, &id).await?)
}

/// The event catalog with each type's JSON hierarchy (envelope and data alone).
#[server(prefix = "/rpc", endpoint = "event_catalog")]
pub async fn event_catalog() -> Result<Vec<CatalogGroup>, AppError> {
    let catalog = super::ssr::herald()?.fresh_catalog().await?;
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    Ok(catalog
        .resources()
        .into_iter()
        .map(|(resource, label)| CatalogGroup {
            types: catalog
                .iter()
                .filter(|t| t.resource == resource)
                .map(|t| CatalogType {
                    name: t.name.clone(),
                    description: t.description.clone(),
                    envelope: pretty(&domain::catalog::sample_envelope(t, "ten_…")),
                    data: pretty(&t.sample),
                    names_a_service: domain::catalog::names_a_service(t),
                    custom: t.custom,
                    deprecated: t.deprecated,
                })
                .collect(),
            resource,
            label,
        })
        .collect())
}

#[server(prefix = "/rpc", endpoint = "set_webhooks_enabled")]
pub async fn set_webhooks_enabled(enabled: bool) -> Result<bool, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    Ok(herald.set_webhooks_enabled(&actor, enabled).await?.webhooks_enabled)
}

/// Operators change a tenant's plan; a downgrade below the tenant's endpoint count is refused.
#[server(prefix = "/rpc", endpoint = "set_tenant_plan")]
pub async fn set_tenant_plan(tenant_id: String, plan: String) -> Result<Plan, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    actor.require_operator()?;
    let plan = super::ssr::plan_field(&plan)?;
    let tenant = herald.change_tenant(&actor, &tenant_id, domain::tenants::TenantUpdate { plan: Some(plan), ..Default::default() }).await?;
    Ok(tenant.plan)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created: String,
    pub last_used: Option<String>,
    pub revoked: bool,
}

/// Admins: the tenant's API keys (never the keys themselves).
#[server(prefix = "/rpc", endpoint = "api_keys")]
pub async fn list_api_keys() -> Result<Vec<ApiKeyRow>, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let when = |ms: i64| format!("{} UTC", types::clock::utc(ms));
    Ok(herald
        .api_keys(&actor)
        .await?
        .into_iter()
        .map(|k| ApiKeyRow {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            created: when(k.created_at),
            last_used: k.last_used_at.map(when),
            revoked: k.revoked_at.is_some(),
        })
        .collect())
}

/// Admins: a new key, returned once.
#[server(prefix = "/rpc", endpoint = "create_api_key")]
pub async fn create_api_key(name: String) -> Result<String, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let (_, key) = herald.create_api_key(&actor, &name).await?;
    Ok(key)
}

#[server(prefix = "/rpc", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(id: String) -> Result<(), AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    Ok(herald.revoke_api_key(&actor, &id).await?)
}
