//! Platform staff: the operator console (tenants, plans, retention, suspension, usage) and the
//! support console (finding any tenant's deliveries). Anyone else gets "not found".

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use types::clock::utc;
use types::{Plan, StaffRole};

use super::layout::use_session;
use crate::api::{
    platform_keys, search_deliveries, staff_tenant, staff_tenants, AuditView, CreatePlatformKey, CreateTenant, FoundRow, PlatformKeyRow,
    RevokePlatformKey, SearchResults, SetTenantPlan, SetTenantSuspended, TenantDetail, TenantSummary, UpdateTenantSettings, ViewTenant,
};
use crate::components::{
    field_error, form_error, last_error, Alert, Confirm, CopyButton, EmptyState, Field, LoadError, Loading, PageHeader,
};

use crate::error::AppError;

/// The plan choices, with how many endpoints each allows.
fn plan_options(selected: Option<Plan>) -> impl IntoView {
    Plan::ALL
        .iter()
        .map(|plan| {
            let limit = plan.endpoint_limit();
            let label = if limit == 1 { format!("{} · 1 endpoint", plan.label()) } else { format!("{} · {limit}", plan.label()) };
            view! { <option value=plan.as_str() selected=selected == Some(*plan)>{label}</option> }
        })
        .collect_view()
}

/// "Not found" inside the dashboard frame, with a 404 status: staff pages do not exist for
/// anyone else.
#[component]
pub fn StaffNotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <EmptyState title="Page not found">
            <p class="muted">"There is nothing at this address, or you do not have access to it."</p>
            <A href="/" attr:class="btn btn-primary">"Back to the dashboard"</A>
        </EmptyState>
    }
}

fn is_staff() -> bool {
    use_session().staff_role.is_some()
}

fn is_operator() -> bool {
    use_session().staff_role == Some(StaffRole::Operator)
}

#[component]
pub fn Tenants() -> impl IntoView {
    if !is_staff() {
        return view! { <StaffNotFound/> }.into_any();
    }
    let operator = is_operator();
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    let create = ServerAction::<CreateTenant>::new();
    let tenants = Resource::new(move || (search(), create.version().get()), |(q, _)| staff_tenants(q));
    view! {
        <PageHeader title="All tenants">
            {if operator { "Every business on this Herald installation: create tenants, set plans, retention and suspension." }
             else { "Every business on this Herald installation. Support staff can look, never change." }}
        </PageHeader>
        {operator.then(|| view! { <CreateTenantCard create=create/> })}
        <section class="card card-flush">
            <form method="get" action="/staff" class="toolbar">
                <label class="sr-only" for="tenant-search">"Search tenants"</label>
                <input id="tenant-search" name="q" type="search" placeholder="Search by name or tenant id" value=search/>
                <button type="submit" class="btn btn-secondary btn-sm">"Search"</button>
                {move || (!search().is_empty()).then(|| view! { <A href="/staff" attr:class="btn btn-ghost btn-sm">"Clear"</A> })}
            </form>
            <Transition fallback=|| view! { <Loading/> }>
                {move || Suspend::new(async move {
                    match tenants.await {
                        Err(e) => view! { <LoadError error=e/> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <EmptyState title="No tenants found"><p class="muted">"Tenants appear when businesses sign up or an operator creates one."</p></EmptyState>
                        }.into_any(),
                        Ok(list) => view! {
                            <table class="table" id="tenants">
                                <thead><tr><th>"Tenant"</th><th>"Plan"</th><th>"Endpoints"</th><th>"Messages today"</th><th>"Last 7 days"</th><th>"Retention"</th><th>"Created"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|t| view! { <TenantRow tenant=t operator=operator/> }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

#[component]
fn TenantRow(tenant: TenantSummary, operator: bool) -> impl IntoView {
    let set_plan = ServerAction::<SetTenantPlan>::new();
    let error = move || set_plan.value().get().and_then(Result::err).map(|e| e.message);
    let limit = RwSignal::new(tenant.plan.endpoint_limit());
    Effect::new(move |_| {
        if let Some(Ok(plan)) = set_plan.value().get() {
            limit.set(plan.endpoint_limit());
        }
    });
    let id = tenant.id.clone();
    let endpoints = tenant.endpoints;
    let (href, name) = (format!("/staff/tenants/{}", tenant.id), tenant.name.clone());
    view! {
        <tr class:suspended=tenant.suspended>
            <td>
                <A href=href attr:class="strong">{name}</A>
                {tenant.suspended.then(|| view! { <span class="badge badge-off badge-soft">"suspended"</span> })}
                <div class="muted small"><code>{tenant.id.clone()}</code></div>
            </td>
            <td>
                {if operator {
                    view! {
                        <select class="plan-select" aria-label=format!("Plan of {}", tenant.name) on:change=move |ev| {
                            set_plan.dispatch(SetTenantPlan { tenant_id: id.clone(), plan: event_target_value(&ev) });
                        }>
                            {plan_options(Some(tenant.plan))}
                        </select>
                        <div class="field-error" role="alert">{error}</div>
                    }.into_any()
                } else {
                    view! { <span class="badge badge-plan">{tenant.plan.label()}</span> }.into_any()
                }}
            </td>
            <td class="usage-cell">{endpoints} " of " {move || limit.get()}</td>
            <td>{tenant.messages_today}</td>
            <td>{tenant.messages_7d}</td>
            <td>{tenant.retention_days} " days"</td>
            <td class="muted">{tenant.created.clone()}</td>
        </tr>
    }
}

#[component]
fn CreateTenantCard(create: ServerAction<CreateTenant>) -> impl IntoView {
    let error = last_error(move || create.value().get());
    let pending = create.pending();
    let created = move || create.value().get().and_then(Result::ok);
    view! {
        <section class="card" id="create-tenant">
            <div class="card-header"><h2>"Create a tenant"</h2><span class="muted small">"Its first admin becomes the owner"</span></div>
            <ActionForm action=create>
                <div class="form-grid">
                    <Field label="Business name" name="name" placeholder="e.g. Lotus Day Spa" required=true error=field_error(error, "tenant_name")/>
                    <Field label="Admin email" name="admin_email" kind="email" placeholder="owner@business.com" required=true error=field_error(error, "admin_email")/>
                    <div class="field">
                        <label for="new-tenant-plan">"Plan"</label>
                        <select id="new-tenant-plan" name="plan">
                            {plan_options(None)}
                        </select>
                        <p class="field-error" role="alert">{move || field_error(error, "plan").get()}</p>
                    </div>
                    <div class="field field-submit">
                        <button type="submit" class="btn btn-primary" disabled=move || pending.get()>
                            {move || if pending.get() { "Creating…" } else { "Create tenant" }}
                        </button>
                    </div>
                </div>
                <label class="check"><input type="checkbox" name="allow_private_urls" value="true"/>" Allow http and private-network endpoint URLs"</label>
                <Alert message=form_error(error, &["tenant_name", "admin_email", "plan"])/>
            </ActionForm>
            {move || created().map(|t| view! {
                <div class="alert alert-success" id="tenant-created" role="status">
                    <p>"Created " <A href=format!("/staff/tenants/{}", t.tenant_id)><strong>{t.name.clone()}</strong></A> "."
                        {if t.invitation_link.is_some() { " The admin has no account yet: they set their password with this link (emailed too, valid 7 days):" }
                         else { " The admin already had an account and is now its owner." }}</p>
                    {t.invitation_link.clone().map(|link| view! {
                        <div class="copy-row"><code class="invite-link">{link.clone()}</code><CopyButton text=link/></div>
                    })}
                </div>
            })}
        </section>
    }
}

#[component]
pub fn TenantPage() -> impl IntoView {
    if !is_staff() {
        return view! { <StaffNotFound/> }.into_any();
    }
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let settings = ServerAction::<UpdateTenantSettings>::new();
    let suspend = ServerAction::<SetTenantSuspended>::new();
    let detail = Resource::new(move || (id(), settings.version().get(), suspend.version().get()), |(id, _, _)| staff_tenant(id));
    // Made here, not in the view that shows it, so that it is made once (see `layout::Dashboard`).
    let changes = super::audit::recent_changes(move || (id(), settings.version().get() + suspend.version().get()));
    view! {
        <Title text="Tenant"/>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <LoadError error=e/> <A href="/staff">"Back to all tenants"</A> }.into_any(),
                    Ok(d) => view! { <TenantView detail=d settings=settings suspend=suspend changes=changes/> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn TenantView(
    detail: TenantDetail,
    settings: ServerAction<UpdateTenantSettings>,
    suspend: ServerAction<SetTenantSuspended>,
    changes: Resource<Result<AuditView, AppError>>,
) -> impl IntoView {
    let operator = is_operator();
    let view_tenant = ServerAction::<ViewTenant>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = view_tenant.value().get() {
            super::layout::full_reload("/endpoints");
        }
    });
    let view_error = Signal::derive(move || view_tenant.value().get().and_then(Result::err).map(|e| e.message));
    let t = detail.tenant.clone();
    let view_id = t.id.clone();
    let max = detail.per_day.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    view! {
        <header class="page-header">
            <div>
                <p class="crumbs"><A href="/staff">"All tenants"</A> " / "</p>
                <h1>{t.name.clone()} " "
                    {if t.suspended { view! { <span class="badge badge-off">"suspended"</span> }.into_any() }
                     else { view! { <span class="badge badge-ok">"active"</span> }.into_any() }}</h1>
                <p class="muted"><code>{t.id.clone()}</code> " · created " {t.created.clone()}</p>
            </div>
            <div class="header-actions">
                <button type="button" class="btn btn-secondary" id="view-tenant"
                    on:click=move |_| { view_tenant.dispatch(ViewTenant { tenant_id: view_id.clone() }); }>"Open its dashboard (read-only)"</button>
                <A href=format!("/staff/search?tenant={}", t.id) attr:class="btn btn-secondary">"Find its deliveries"</A>
            </div>
        </header>
        <Alert message=view_error/>
        <section class="card">
            <div class="card-header"><h2>"Usage"</h2></div>
            <div class="stat-grid" id="tenant-usage">
                <div class="stat"><div class="stat-value" id="usage-endpoints">{t.endpoints} " of " {t.plan.endpoint_limit()}</div><div class="stat-label">"endpoints (" {t.plan.label()} " plan)"</div></div>
                <div class="stat"><div class="stat-value">{t.messages_today}</div><div class="stat-label">"messages today"</div></div>
                <div class="stat"><div class="stat-value">{t.messages_7d}</div><div class="stat-label">"messages, last 7 days"</div></div>
                <div class="stat"><div class="stat-value">{t.members}</div><div class="stat-label">{if t.members == 1 { "member" } else { "members" }}</div></div>
            </div>
            <div class="day-bars" aria-label="Messages per day, last 7 days">
                {detail.per_day.iter().map(|(day, n)| {
                    let height = format!("height: {}%", (*n as f64 / max as f64 * 100.0).max(2.0));
                    view! {
                        <div class="day-bar" title=format!("{day}: {n} messages")>
                            <div class="day-bar-count">{*n}</div>
                            <div class="day-bar-fill" style=height></div>
                            <div class="day-bar-label">{day.get(5..).unwrap_or_default().to_string()}</div>
                        </div>
                    }
                }).collect_view()}
            </div>
        </section>
        {if operator {
            view! { <OperatorControls tenant=t.clone() settings=settings suspend=suspend/> }.into_any()
        } else {
            view! {
                <section class="card">
                    <div class="card-header"><h2>"Plan and policy"</h2><span class="muted small">"Only operators can change these"</span></div>
                    <dl class="facts">
                        <dt>"Plan"</dt><dd>{t.plan.label()} " · up to " {t.plan.endpoint_limit()} " endpoints"</dd>
                        <dt>"Log retention"</dt><dd>{t.retention_days} " days"</dd>
                        <dt>"Endpoint URLs"</dt><dd>{if t.allow_private_urls { "http and private networks allowed" } else { "public https only" }}</dd>
                        <dt>"Webhooks"</dt><dd>{if detail.webhooks_enabled { "enabled" } else { "switched off by the tenant" }}</dd>
                    </dl>
                </section>
            }.into_any()
        }}
        <super::audit::RecentChanges entries=changes/>
    }
}

#[component]
fn OperatorControls(
    tenant: TenantSummary,
    settings: ServerAction<UpdateTenantSettings>,
    suspend: ServerAction<SetTenantSuspended>,
) -> impl IntoView {
    let error = last_error(move || settings.value().get());
    let saved = move || matches!(settings.value().get(), Some(Ok(_)));
    let suspend_error = Signal::derive(move || suspend.value().get().and_then(Result::err).map(|e| e.message));
    let id = tenant.id.clone();
    let suspended = tenant.suspended;
    view! {
        <section class="card" id="tenant-settings">
            <div class="card-header"><h2>"Plan and policy"</h2></div>
            <ActionForm action=settings>
                <input type="hidden" name="tenant_id" value=tenant.id.clone()/>
                <div class="form-grid">
                    <div class="field">
                        <label for="tenant-plan">"Plan"</label>
                        <select id="tenant-plan" name="plan">
                            {plan_options(Some(tenant.plan))}
                        </select>
                        <p class="field-error" role="alert">{move || field_error(error, "plan").get()}</p>
                    </div>
                    <div class="field">
                        <label for="tenant-retention">"Log retention (days)"</label>
                        <input id="tenant-retention" name="retention_days" type="number" min="1" max="3650" value=tenant.retention_days.to_string()/>
                        <p class="hint">"Older payloads and response bodies are archived; metadata stays."</p>
                        <p class="field-error" role="alert">{move || field_error(error, "retention_days").get()}</p>
                    </div>
                </div>
                <label class="check"><input type="checkbox" name="allow_private_urls" value="true" checked=tenant.allow_private_urls/>
                    " Allow http and private-network endpoint URLs"</label>
                <Alert message=form_error(error, &["plan", "retention_days"])/>
                <div class="form-actions-inline">
                    <button type="submit" class="btn btn-primary">"Save changes"</button>
                    {move || saved().then(|| view! { <span class="hint" role="status" id="settings-saved">"Saved."</span> })}
                </div>
            </ActionForm>
        </section>
        <section class=if suspended { "card" } else { "card card-danger" } id="tenant-suspension">
            <div class="card-header"><h2>"Suspension"</h2></div>
            <Alert message=suspend_error/>
            {if suspended {
                let id = id.clone();
                view! {
                    <p class="muted">"Suspended: events are refused (403), nothing is delivered, and the tenant's dashboard is read-only."</p>
                    <button type="button" class="btn btn-primary" on:click=move |_| { suspend.dispatch(SetTenantSuspended { tenant_id: id.clone(), suspended: false }); }>"Lift the suspension"</button>
                }.into_any()
            } else {
                let id = id.clone();
                view! {
                    <p class="muted">"Suspending stops ingest (events are refused) and delivery, and makes the tenant's dashboard read-only. Nothing is deleted."</p>
                    <Confirm label="Suspend tenant" question=format!("Suspend {}?", tenant.name)>
                        <button type="button" class="btn btn-danger btn-sm" on:click=move |_| { suspend.dispatch(SetTenantSuspended { tenant_id: id.clone(), suspended: true }); }>"Yes, suspend"</button>
                    </Confirm>
                }.into_any()
            }}
        </section>
    }
}

const SEARCH_FIELDS: [&str; 7] = ["tenant", "endpoint_url", "message_id", "event_id", "event_type", "since", "until"];

#[component]
pub fn SearchPage() -> impl IntoView {
    if !is_staff() {
        return view! { <StaffNotFound/> }.into_any();
    }
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    // Read once the results are in: no need to track it.
    let searched = move || SEARCH_FIELDS.iter().any(|f| query.read_untracked().get(f).is_some_and(|v| !v.is_empty()));
    let results = Resource::new(
        move || (SEARCH_FIELDS.map(&param), param("cursor")),
        |([tenant, endpoint_url, message_id, event_id, event_type, since, until], cursor)| {
            search_deliveries(tenant, endpoint_url, message_id, event_id, event_type, since, until, cursor)
        },
    );
    view! {
        <PageHeader title="Find deliveries">"Every tenant's deliveries, archived ones included. Read-only: auth header values and secrets are never shown."</PageHeader>
        <section class="card">
            <form method="get" action="/staff/search" id="delivery-search">
                <div class="search-grid">
                    <SearchField label="Tenant" name="tenant" placeholder="Name or ten_… id" value=param("tenant")/>
                    <SearchField label="Endpoint URL" name="endpoint_url" placeholder="Part of the URL" value=param("endpoint_url")/>
                    <SearchField label="Message id" name="message_id" placeholder="msg_…" value=param("message_id")/>
                    <SearchField label="Event id" name="event_id" placeholder="The producer's key" value=param("event_id")/>
                    <SearchField label="Event type" name="event_type" placeholder="appointment.booking.created" value=param("event_type")/>
                    <SearchField label="From (UTC)" name="since" kind="datetime-local" value=param("since")/>
                    <SearchField label="Until (UTC)" name="until" kind="datetime-local" value=param("until")/>
                    <div class="field field-submit"><button type="submit" class="btn btn-primary">"Search"</button></div>
                </div>
            </form>
        </section>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match results.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(r) => view! { <SearchTable results=r searched=searched()/> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn SearchField(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] placeholder: &'static str,
    value: String,
) -> impl IntoView {
    let id = format!("search-{name}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id name=name type=kind placeholder=placeholder value=value/>
        </div>
    }
}

fn next_page(cursor: &str) -> String {
    let query = use_query_map();
    let mut parts: Vec<String> = SEARCH_FIELDS
        .iter()
        .filter_map(|f| query.read_untracked().get(f).filter(|v| !v.is_empty()).map(|v| format!("{f}={}", urlencode(&v))))
        .collect();
    parts.push(format!("cursor={}", urlencode(cursor)));
    format!("/staff/search?{}", parts.join("&"))
}

fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
fn SearchTable(results: SearchResults, searched: bool) -> impl IntoView {
    let next = results.next_cursor.as_deref().map(next_page);
    view! {
        <section class="card card-flush">
            {if results.rows.is_empty() {
                view! {
                    <EmptyState title=if searched { "No deliveries match" } else { "No deliveries yet" }>
                        <p class="muted">"Check the message id, or widen the time range."</p>
                    </EmptyState>
                }.into_any()
            } else {
                view! {
                    <table class="table" id="found-deliveries">
                        <thead><tr><th>"Time (UTC)"</th><th>"Tenant"</th><th>"Endpoint"</th><th>"Event"</th><th>"Status"</th><th>"HTTP"</th><th>"Attempts"</th><th>"Duration"</th></tr></thead>
                        <tbody>
                            {results.rows.into_iter().map(|FoundRow { delivery: r, archived }| {
                                view! {
                                    <tr class:archived=archived>
                                        <td class="mono small">{utc(r.created_at)}
                                            {archived.then(|| view! { <div><span class="badge badge-archived" title="Older than the tenant's retention: payload and response bodies were deleted, metadata kept.">"Archived"</span></div> })}
                                            {r.kind.label().map(|l| view! { <span class="badge badge-label">{l}</span> })}</td>
                                        <td><A href=format!("/staff/tenants/{}", r.tenant_id)>{r.tenant_name.clone()}</A></td>
                                        <td><div>{r.endpoint_name.clone()}</div><div class="muted small mono truncate" title=r.endpoint_url.clone()>{r.endpoint_url.clone()}</div></td>
                                        <td><div class="mono small">{r.event_type.clone()}</div>
                                            <div class="muted small mono">{r.message_id.clone()}</div>
                                            {r.event_id.clone().map(|e| view! { <div class="muted small">"event id " <span class="mono">{e}</span></div> })}</td>
                                        <td>{super::logs::status_badge(r.status)}</td>
                                        <td class="mono">{r.last_status_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into())}</td>
                                        <td>{r.attempts}</td>
                                        <td class="muted">{r.last_duration_ms.map(|d| format!("{d} ms")).unwrap_or_else(|| "—".into())}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        {next.map(|href| view! { <div class="pager"><a href=href class="btn btn-secondary">"Older deliveries →"</a></div> })}
    }
}

/// Operator: the booking platform's keys (`hkp_…`). A new key is shown once; revoking asks
/// first, and stops the key at once.
#[component]
pub fn PlatformKeysPage() -> impl IntoView {
    if !is_operator() {
        return view! { <StaffNotFound/> }.into_any();
    }
    let create = ServerAction::<CreatePlatformKey>::new();
    let revoke = ServerAction::<RevokePlatformKey>::new();
    let keys = Resource::new(move || (create.version().get(), revoke.version().get()), |_| platform_keys());
    let error = last_error(move || create.value().get());
    let revoke_error = Signal::derive(move || revoke.value().get().and_then(Result::err).map(|e| e.message));
    let pending = create.pending();
    let created = move || create.value().get().and_then(Result::ok);
    view! {
        <PageHeader title="Platform keys">
            "A platform key lets your booking platform create and manage tenants, and act for any one of them under "
            <code>"/api/v1/tenants/{tenant_id}/…"</code> ", so it needs no key per business. Treat it like a root password."
        </PageHeader>
        <section class="card" id="create-platform-key">
            <div class="card-header"><h2>"Create a platform key"</h2><span class="muted small">"Shown once; only its digest is stored"</span></div>
            <ActionForm action=create>
                <div class="form-row-2">
                    <Field label="Key name" name="name" placeholder="e.g. ReserveKit production" hint="Shown in the audit log as the actor of everything done with the key." error=field_error(error, "name")/>
                    <div class="field field-submit">
                        <button type="submit" class="btn btn-primary" disabled=move || pending.get()>
                            {move || if pending.get() { "Creating…" } else { "Create key" }}
                        </button>
                    </div>
                </div>
                <Alert message=form_error(error, &["name"])/>
            </ActionForm>
            {move || created().map(|k| view! {
                <div class="alert alert-success" role="status" id="new-platform-key">
                    <p><strong>{k.name.clone()}</strong> ": copy this key now. It is shown only once and cannot be recovered; if it is lost, create another and revoke this one."</p>
                    <div class="copy-row"><code class="invite-link">{k.key.clone()}</code><CopyButton text=k.key/></div>
                </div>
            })}
        </section>
        <section class="card card-flush">
            <div class="card-header card-header-padded"><h2>"Keys"</h2><span class="muted small">"A revoked key stops working at once"</span></div>
            <Alert message=revoke_error/>
            <Transition fallback=|| view! { <Loading/> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Err(e) => view! { <LoadError error=e/> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <EmptyState title="No platform keys yet">
                                <p class="muted">"Create one above, or with " <code>"herald api-key create --platform"</code> "."</p>
                            </EmptyState>
                        }.into_any(),
                        Ok(list) => view! {
                            <table class="table" id="platform-keys">
                                <thead><tr><th>"Name"</th><th>"Key"</th><th>"Created (UTC)"</th><th>"Last used (UTC)"</th><th>"Status"</th><th class="actions"><span class="sr-only">"Actions"</span></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|k| view! { <PlatformKeyItem row=k revoke=revoke/> }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

#[component]
fn PlatformKeyItem(row: PlatformKeyRow, revoke: ServerAction<RevokePlatformKey>) -> impl IntoView {
    let revoked = row.revoked_at.is_some();
    view! {
        <tr class:revoked=revoked>
            <td class="strong">{row.name.clone()}</td>
            <td><code>{row.prefix.clone()} "…"</code></td>
            <td class="muted mono small nowrap">{utc(row.created_at)}</td>
            <td class="muted mono small nowrap">{row.last_used_at.map(utc).unwrap_or_else(|| "Never".into())}</td>
            <td>{match row.revoked_at {
                Some(at) => view! { <span class="badge badge-off" title=format!("Revoked {} UTC", utc(at))>"revoked"</span> }.into_any(),
                None => view! { <span class="badge badge-ok">"active"</span> }.into_any(),
            }}</td>
            <td class="actions">
                {(!revoked).then(|| view! {
                    <Confirm label="Revoke" question=format!("Revoke \"{}\"?", row.name)>
                        <ActionForm action=revoke>
                            <input type="hidden" name="id" value=row.id.clone()/>
                            <button type="submit" class="btn btn-danger btn-sm">"Yes, revoke"</button>
                        </ActionForm>
                    </Confirm>
                })}
            </td>
        </tr>
    }
}
