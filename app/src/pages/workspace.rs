//! The tenant's settings: workspace facts, the webhooks switch, API keys.

use leptos::prelude::*;

use super::layout::use_session;
use crate::api::{list_api_keys, CreateApiKey, RevokeApiKey, SetWebhooksEnabled};
use crate::components::{
    field_error, form_error, last_error, Alert, Confirm, CopyButton, EmptyState, Field, LoadError, Loading, PageHeader,
};

#[component]
pub fn Settings() -> impl IntoView {
    let session = use_session();
    let Some(tenant) = session.tenant.clone() else {
        return view! { <p class="muted">"You are not a member of any workspace."</p> }.into_any();
    };
    view! {
        <PageHeader title="Settings">"Your workspace and its plan."</PageHeader>
        <section class="card">
            <div class="card-header"><h2>"Workspace"</h2></div>
            <dl class="facts">
                <dt>"Name"</dt><dd>{tenant.name.clone()}</dd>
                <dt>"Workspace id"</dt><dd><code>{tenant.id.clone()}</code></dd>
                <dt>"Plan"</dt><dd>{format!("{} · up to {} endpoint{}", tenant.plan.label(), tenant.plan.endpoint_limit(), if tenant.plan.endpoint_limit() == 1 { "" } else { "s" })}</dd>
                <dt>"Log retention"</dt><dd>{tenant.retention_days} " days, then payloads are archived"</dd>
                <dt>"Your role"</dt><dd>{tenant.role.as_str()}</dd>
            </dl>
        </section>
        <WebhooksSwitch enabled=tenant.webhooks_enabled can_change=session.is_admin()/>
        {session.is_admin().then(|| view! { <ApiKeys/> })}
    }.into_any()
}

/// The tenant-wide switch: when off, events are still recorded but nothing is delivered.
#[component]
fn WebhooksSwitch(enabled: bool, can_change: bool) -> impl IntoView {
    let set = ServerAction::<SetWebhooksEnabled>::new();
    let on = RwSignal::new(enabled);
    Effect::new(move |_| {
        if let Some(Ok(now)) = set.value().get() {
            on.set(now)
        }
    });
    let error = Signal::derive(move || set.value().get().and_then(Result::err).map(|e| e.message));
    view! {
        <section class="card">
            <div class="card-header"><h2>"Webhook delivery"</h2></div>
            <Alert message=error/>
            <label class="switch">
                <input type="checkbox" id="webhooks-enabled" prop:checked=move || on.get() disabled=!can_change
                    on:change=move |ev| { set.dispatch(SetWebhooksEnabled { enabled: event_target_checked(&ev) }); }/>
                <span class="switch-track" aria-hidden="true"></span>
                <span id="webhooks-state">{move || if on.get() { "Webhooks enabled: events are delivered to your endpoints" } else { "Webhooks disabled: events are recorded as skipped, not delivered" }}</span>
            </label>
            <p class="hint">"Events that arrive while webhooks are off are kept as skipped deliveries. Once they are on again, \
                send them from an endpoint's page with Recover (status: skipped)."</p>
            {(!can_change).then(|| view! { <p class="hint">"Only admins can change this."</p> })}
        </section>
    }
}

/// Admins create keys for `POST /api/v1/events` and the API; a key is shown once.
#[component]
fn ApiKeys() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_api_keys());
    let error = last_error(move || create.value().get());
    let created = move || create.value().get().and_then(Result::ok);
    view! {
        <section class="card" id="api-keys">
            <div class="card-header"><h2>"API keys"</h2></div>
            <p class="muted">"Your platform sends events with " <code>"Authorization: Bearer hk_…"</code>
                " to " <code>"POST /api/v1/events"</code> ". A key acts as an admin of this workspace. Every route is described in the "
                <a href="/api-reference" id="api-reference-link">"API reference"</a> "."</p>
            <ActionForm action=create>
                <div class="form-row-2">
                    <Field label="Key name" name="name" placeholder="e.g. Production booking platform" error=field_error(error, "name")/>
                    <div class="field field-submit"><button type="submit" class="btn btn-primary">"Create key"</button></div>
                </div>
                <Alert message=form_error(error, &["name"])/>
            </ActionForm>
            {move || created().map(|key| view! {
                <div class="alert alert-success" role="status" id="new-api-key">
                    <p>"Copy this key now: it is shown only once."</p>
                    <div class="copy-row"><code class="invite-link">{key.clone()}</code><CopyButton text=key/></div>
                </div>
            })}
            <Transition fallback=|| view! { <Loading/> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Err(e) => view! { <LoadError error=e/> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <EmptyState title="No API keys yet"><p class="muted">"Create one to start sending events."</p></EmptyState>
                        }.into_any(),
                        Ok(list) => view! {
                            <table class="table">
                                <thead><tr><th>"Name"</th><th>"Key"</th><th>"Created"</th><th>"Last used"</th><th class="actions"><span class="sr-only">"Actions"</span></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|k| view! {
                                        <tr class:revoked=k.revoked>
                                            <td class="strong">{k.name.clone()}</td>
                                            <td><code>{k.prefix.clone()} "…"</code></td>
                                            <td class="muted">{k.created.clone()}</td>
                                            <td class="muted">{k.last_used.clone().unwrap_or_else(|| "Never".into())}</td>
                                            <td class="actions">
                                                {if k.revoked {
                                                    view! { <span class="badge badge-off">"revoked"</span> }.into_any()
                                                } else {
                                                    view! {
                                                        <Confirm label="Revoke" question=format!("Revoke \"{}\"?", k.name)>
                                                            <ActionForm action=revoke>
                                                                <input type="hidden" name="id" value=k.id.clone()/>
                                                                <button type="submit" class="btn btn-danger btn-sm">"Yes, revoke"</button>
                                                            </ActionForm>
                                                        </Confirm>
                                                    }.into_any()
                                                }}
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
