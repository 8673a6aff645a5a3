//! The delivery log: every delivery of the tenant, newest first, filtered by endpoint and
//! status through the URL (so a filtered view can be shared), paged by cursor.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{delivery_log, LogPage};
use crate::components::{EmptyState, LoadError, Loading, PageHeader};

const STATUSES: [(&str, &str); 6] =
    [("", "Any status"), ("succeeded", "Succeeded"), ("failed", "Failed"), ("retrying", "Retrying"), ("pending", "Pending"), ("skipped", "Skipped")];

#[component]
pub fn LogsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let page = Resource::new(
        move || (param("endpoint_id"), param("status"), param("cursor")),
        |(endpoint_id, status, cursor)| delivery_log(endpoint_id, status, cursor),
    );
    view! {
        <PageHeader title="Delivery logs">"Every delivery to your endpoints, newest first, with its outcome."</PageHeader>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(p) => view! { <LogTable page=p endpoint_id=param("endpoint_id") status=param("status")/> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn query_string(endpoint_id: &str, status: &str, cursor: &str) -> String {
    let parts: Vec<String> = [("endpoint_id", endpoint_id), ("status", status), ("cursor", cursor)]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if parts.is_empty() { "/logs".into() } else { format!("/logs?{}", parts.join("&")) }
}

#[component]
fn LogTable(page: LogPage, endpoint_id: String, status: String) -> impl IntoView {
    let navigate = use_navigate();
    let (ep, st) = (endpoint_id.clone(), status.clone());
    let nav = navigate.clone();
    let on_endpoint = move |ev| nav(&query_string(&event_target_value(&ev), &st, ""), Default::default());
    let on_status = move |ev| navigate(&query_string(&ep, &event_target_value(&ev), ""), Default::default());
    let filtered = !endpoint_id.is_empty() || !status.is_empty();
    let next = page.next_cursor.clone().map(|c| query_string(&endpoint_id, &status, &c));
    view! {
        <div class="filters">
            <label class="filter">"Endpoint "
                <select id="filter-endpoint" on:change=on_endpoint>
                    <option value="" selected=endpoint_id.is_empty()>"All endpoints"</option>
                    {page.endpoints.iter().map(|(id, name)| view! { <option value=id.clone() selected=*id == endpoint_id>{name.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label class="filter">"Status "
                <select id="filter-status" on:change=on_status>
                    {STATUSES.iter().map(|(value, label)| view! { <option value=*value selected=*value == status>{*label}</option> }).collect_view()}
                </select>
            </label>
            {filtered.then(|| view! { <A href="/logs" attr:class="btn btn-ghost btn-sm">"Clear filters"</A> })}
        </div>
        <section class="card card-flush">
            {if page.rows.is_empty() {
                view! {
                    <EmptyState title=if filtered { "No deliveries match" } else { "No deliveries yet" }>
                        <p class="muted">{if filtered { "Try another endpoint or status." } else { "Deliveries appear here as soon as events arrive for your endpoints." }}</p>
                    </EmptyState>
                }.into_any()
            } else {
                view! {
                    <table class="table" id="deliveries">
                        <thead><tr><th>"Time (UTC)"</th><th>"Event type"</th><th>"Endpoint"</th><th>"Status"</th><th>"HTTP"</th><th>"Attempts"</th><th>"Duration"</th></tr></thead>
                        <tbody>
                            {page.rows.into_iter().map(|r| {
                                let status_class = format!("badge badge-status-{}", r.status);
                                let detail = r.error.clone();
                                let next_attempt = r.next_attempt.clone().map(|n| format!("next attempt {n}"));
                                view! {
                                    <tr>
                                        <td class="mono small">{r.time.clone()}
                                            {r.labels.iter().map(|l| view! { <span class="badge badge-label">{l.clone()}</span> }).collect_view()}</td>
                                        <td class="mono small">{r.event_type.clone()}</td>
                                        <td>{r.endpoint.clone()}</td>
                                        <td><span class=status_class>{r.status.clone()}</span>
                                            {detail.map(|d| view! { <div class="muted small truncate" title=d.clone()>{d.clone()}</div> })}
                                            {next_attempt.map(|n| view! { <div class="muted small">{n}</div> })}</td>
                                        <td class="mono">{r.http_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into())}</td>
                                        <td>{r.attempts}</td>
                                        <td class="muted">{r.duration_ms.map(|d| format!("{d} ms")).unwrap_or_else(|| "—".into())}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        {next.map(|href| view! { <div class="pager"><A href=href attr:class="btn btn-secondary">"Older deliveries →"</A></div> })}
    }
}
