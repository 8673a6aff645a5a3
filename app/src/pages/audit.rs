//! The audit log: who changed what, when and from where. Tenant admins see their tenant's;
//! staff see every tenant's at /staff/audit.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use types::clock::utc;
use types::AuditGroup;

use super::layout::use_session;
use super::staff::StaffNotFound;
use crate::api::{audit_entries, AuditView};
use crate::components::{EmptyState, LoadError, Loading, PageHeader};
use crate::error::AppError;

/// The current tenant's log (admins, and staff viewing the tenant).
#[component]
pub fn TenantAudit() -> impl IntoView {
    if !use_session().can_read_admin() {
        return view! { <StaffNotFound/> }.into_any();
    }
    view! {
        <PageHeader title="Audit log">"Every change to this workspace: endpoints, auth headers, secrets, replays, team, API keys and plan, with who made it and from where."</PageHeader>
        <AuditList all=false base="/audit"/>
    }
    .into_any()
}

/// Every tenant's log (staff).
#[component]
pub fn StaffAudit() -> impl IntoView {
    if use_session().staff_role.is_none() {
        return view! { <StaffNotFound/> }.into_any();
    }
    view! {
        <PageHeader title="Audit log, all tenants">"Every change by tenant admins, members and staff, across all tenants."</PageHeader>
        <AuditList all=true base="/staff/audit"/>
    }
    .into_any()
}

#[component]
fn AuditList(all: bool, base: &'static str) -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let page = Resource::new(
        move || (param("action"), param("cursor")),
        move |(action, cursor)| audit_entries(all, String::new(), action, cursor, None),
    );
    view! {
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(p) => view! { <AuditTable view=p action=param("action") base=base/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AuditTable(view: AuditView, action: String, base: &'static str) -> impl IntoView {
    let navigate = use_navigate();
    let on_action = move |ev| {
        let value = event_target_value(&ev);
        navigate(&if value.is_empty() { base.to_string() } else { format!("{base}?action={value}") }, Default::default());
    };
    let next = view.next_cursor.clone().map(|c| {
        if action.is_empty() {
            format!("{base}?cursor={c}")
        } else {
            format!("{base}?action={action}&cursor={c}")
        }
    });
    let all = view.all_tenants;
    view! {
        <div class="filters">
            <label class="filter">"Show "
                <select id="filter-action" on:change=on_action>
                    <option value="" selected=action.is_empty()>"All changes"</option>
                    {AuditGroup::ALL.iter().map(|g| view! { <option value=g.prefix() selected=g.prefix() == action>{g.label()}</option> }).collect_view()}
                </select>
            </label>
        </div>
        <section class="card card-flush">
            {if view.rows.is_empty() {
                view! { <EmptyState title="Nothing recorded yet"><p class="muted">"Changes appear here as soon as someone makes one."</p></EmptyState> }.into_any()
            } else {
                view! {
                    <table class="table" id="audit">
                        <thead><tr><th>"Time (UTC)"</th>{all.then(|| view! { <th>"Tenant"</th> })}<th>"Who"</th><th>"What"</th><th>"From"</th></tr></thead>
                        <tbody>
                            {view.rows.into_iter().map(|r| view! {
                                <tr>
                                    <td class="mono small nowrap">{utc(r.created_at)}</td>
                                    {all.then(|| view! {
                                        <td>{match (r.tenant_id.clone(), r.tenant_name.clone()) {
                                            (Some(id), Some(name)) => view! { <A href=format!("/staff/tenants/{id}")>{name}</A> }.into_any(),
                                            _ => view! { <span class="muted">"Platform"</span> }.into_any(),
                                        }}</td>
                                    })}
                                    <td><div>{r.actor_label.clone()}</div><div class="muted small">{r.actor_kind.label()}</div></td>
                                    <td><div>{r.summary.clone()}</div><div class="muted small mono">{r.action.as_str()}</div></td>
                                    <td class="mono small">{r.ip.clone().unwrap_or_else(|| "—".into())}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        {next.map(|href| view! { <div class="pager"><A href=href attr:class="btn btn-secondary">"Older entries →"</A></div> })}
    }
}

/// The latest changes to the tenant `source` names (with a number that changes to reload).
pub fn recent_changes(source: impl Fn() -> (String, usize) + Send + Sync + 'static) -> Resource<Result<AuditView, AppError>> {
    Resource::new(source, |(tenant_id, _)| audit_entries(true, tenant_id, String::new(), String::new(), Some(8)))
}

/// The latest changes to one tenant, for the staff tenant page.
#[component]
pub fn RecentChanges(entries: Resource<Result<AuditView, AppError>>) -> impl IntoView {
    view! {
        <section class="card card-flush" id="recent-changes">
            <div class="card-header card-header-padded"><h2>"Recent changes"</h2><A href="/staff/audit">"All tenants' log"</A></div>
            <Transition fallback=|| view! { <Loading/> }>
                {move || Suspend::new(async move {
                    match entries.await {
                        Err(e) => view! { <LoadError error=e/> }.into_any(),
                        Ok(v) if v.rows.is_empty() => view! { <EmptyState title="No changes yet"><p class="muted">"Changes by its admins and by staff appear here."</p></EmptyState> }.into_any(),
                        Ok(v) => view! {
                            <table class="table">
                                <tbody>
                                    {v.rows.into_iter().map(|r| view! {
                                        <tr>
                                            <td class="mono small nowrap">{utc(r.created_at)}</td>
                                            <td><div>{r.summary.clone()}</div><div class="muted small">{r.actor_label.clone()}</div></td>
                                            <td class="mono small">{r.ip.clone().unwrap_or_else(|| "—".into())}</td>
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
