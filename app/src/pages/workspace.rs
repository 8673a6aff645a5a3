//! The tenant's own pages: endpoints, logs and settings.

use leptos::prelude::*;
use leptos_meta::Title;

use super::layout::use_session;
use crate::api::SetWebhooksEnabled;
use crate::components::{Alert, EmptyState};

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
                <dt>"Your role"</dt><dd>{tenant.role.clone()}</dd>
            </dl>
        </section>
        <WebhooksSwitch enabled=tenant.webhooks_enabled can_change=session.is_admin()/>
    }.into_any()
}

/// The tenant-wide switch: when off, events are still recorded but nothing is delivered.
#[component]
fn WebhooksSwitch(enabled: bool, can_change: bool) -> impl IntoView {
    let set = ServerAction::<SetWebhooksEnabled>::new();
    let on = RwSignal::new(enabled);
    Effect::new(move |_| if let Some(Ok(now)) = set.value().get() { on.set(now) });
    let error = Signal::derive(move || set.value().get().and_then(Result::err).map(|e| e.message));
    view! {
        <section class="card">
            <div class="card-header"><h2>"Webhook delivery"</h2></div>
            <Alert message=error/>
            <label class="switch">
                <input type="checkbox" id="webhooks-enabled" prop:checked=move || on.get() disabled=!can_change
                    on:change=move |ev| { set.dispatch(SetWebhooksEnabled { enabled: event_target_checked(&ev) }); }/>
                <span class="switch-track" aria-hidden="true"></span>
                <span id="webhooks-state">{move || if on.get() { "Webhooks enabled: events are delivered to your endpoints" } else { "Webhooks disabled: events are recorded but not delivered" }}</span>
            </label>
            {(!can_change).then(|| view! { <p class="hint">"Only admins can change this."</p> })}
        </section>
    }
}
