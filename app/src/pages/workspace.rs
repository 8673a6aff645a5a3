//! The tenant's own pages: endpoints, logs and settings.

use leptos::prelude::*;
use leptos_meta::Title;

use super::layout::use_session;
use crate::components::EmptyState;

#[component]
pub fn Endpoints() -> impl IntoView {
    let session = use_session();
    let limit = session.tenant.as_ref().map(|t| t.endpoint_limit).unwrap_or(0);
    let plan = session.tenant.as_ref().map(|t| t.plan_label.clone()).unwrap_or_default();
    view! {
        <Title text="Endpoints"/>
        <header class="page-header">
            <div>
                <h1>"Endpoints"</h1>
                <p class="muted">"Where Herald delivers your events. Each endpoint chooses the event types it receives."</p>
            </div>
            <div class="usage" id="endpoint-usage">
                <span class="usage-count">"0 of " {limit} " endpoints"</span>
                <span class="muted small">{plan} " plan"</span>
            </div>
        </header>
        <section class="card">
            <EmptyState title="No endpoints yet">
                <p class="muted">"Once an endpoint is added, every matching event is signed and delivered to it, with retries."</p>
            </EmptyState>
        </section>
    }
}

#[component]
pub fn Logs() -> impl IntoView {
    view! {
        <Title text="Logs"/>
        <header class="page-header">
            <div>
                <h1>"Delivery logs"</h1>
                <p class="muted">"Every delivery attempt to your endpoints, with the request and the response."</p>
            </div>
        </header>
        <section class="card">
            <EmptyState title="No deliveries yet">
                <p class="muted">"Deliveries appear here as soon as events arrive for your endpoints."</p>
            </EmptyState>
        </section>
    }
}

#[component]
pub fn Settings() -> impl IntoView {
    let session = use_session();
    let Some(tenant) = session.tenant.clone() else {
        return view! { <p class="muted">"You are not a member of any workspace."</p> }.into_any();
    };
    view! {
        <Title text="Settings"/>
        <header class="page-header">
            <div>
                <h1>"Settings"</h1>
                <p class="muted">"Your workspace and its plan."</p>
            </div>
        </header>
        <section class="card">
            <div class="card-header"><h2>"Workspace"</h2></div>
            <dl class="facts">
                <dt>"Name"</dt><dd>{tenant.name.clone()}</dd>
                <dt>"Workspace id"</dt><dd><code>{tenant.id.clone()}</code></dd>
                <dt>"Plan"</dt><dd>{tenant.plan_label.clone()} " · up to " {tenant.endpoint_limit} " endpoints"</dd>
                <dt>"Log retention"</dt><dd>{tenant.retention_days} " days, then payloads are archived"</dd>
                <dt>"Webhooks"</dt><dd>{if tenant.webhooks_enabled { "Enabled: events are delivered" } else { "Disabled: events are recorded, not delivered" }}</dd>
                <dt>"Your role"</dt><dd>{tenant.role.clone()}</dd>
            </dl>
        </section>
    }.into_any()
}
