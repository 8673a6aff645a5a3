//! Endpoints: the list with the plan's limit, the detail page with the signing secret, and
//! the form that creates and edits them.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use types::clock::shown;
use types::stats::EndpointStats;
use types::{Channel, EndpointStatus, Health, HealthState, HttpMethod, PayloadShape, DEFAULT_IN_FLIGHT, MAX_IN_FLIGHT, MAX_PER_SECOND};

use super::activity::{skipped_resource, stats_resource, JobsCard, ReactivateAndSend, RecoverCard, SkippedOffer, StatsCard, TestEventCard};
use super::layout::use_session;
use crate::api::{endpoint_jobs, CancelJob, Job, ReactivateAndRecover, StartRecovery};
use crate::api::{
    event_catalog, get_endpoint, list_endpoints, CatalogGroup, DeleteEndpoint, EndpointForm, EndpointList, EndpointView, ListStats,
    PreviewFilter, RevealSecret, RotateSecret, SaveEndpoint, SetEndpointActive,
};
use crate::components::{field_error, form_error, last_error, Alert, Confirm, CopyButton, EmptyState, LoadError, Loading, PageHeader};
use crate::error::AppError;

const AUTH_HEADER_SUGGESTIONS: [&str; 3] = ["Authorization", "Ocp-Apim-Subscription-Key", "X-API-Key"];

/// Healthy, Degraded, At risk or Inactive, with how many failures are left in the tooltip.
fn health_badge(health: &Health) -> impl IntoView {
    let title = match health.state {
        HealthState::Healthy => "The last attempt succeeded".to_string(),
        HealthState::Inactive => "Receives nothing until an admin reactivates it".to_string(),
        _ => format!("{} failed attempts in a row; deactivated after {} more", health.consecutive_failures, health.failures_left),
    };
    view! { <span class=format!("badge badge-health-{}", health.state) title=title>{health.state.label()}</span> }
}

/// What the health state means and what to do, on the endpoint page (not for healthy ones).
fn health_note(health: &Health) -> Option<impl IntoView> {
    let failure = health.last_failure.clone();
    let (class, headline) = match health.state {
        HealthState::Degraded => (
            "alert alert-warn",
            format!(
                "Deliveries are failing: {} failed attempts in a row. After {} more, Herald deactivates this endpoint.",
                health.consecutive_failures, health.failures_left
            ),
        ),
        HealthState::AtRisk => (
            "alert alert-error",
            format!(
                "At risk: {} failed attempts in a row. Only {} more and Herald deactivates this endpoint. Admins were emailed.",
                health.consecutive_failures, health.failures_left
            ),
        ),
        _ => return None,
    };
    Some(view! {
        <div class=class role="status" id="endpoint-health">
            <p class="strong">{headline}</p>
            {failure.map(|f| view! {
                <p>{format!("Last failure {} UTC{}: {}", shown(&f.at), f.code.map(|c| format!(" (HTTP {c})")).unwrap_or_default(), f.message)}</p>
                <p>"What to do: " {f.fix}</p>
            })}
        </div>
    })
}

#[component]
pub fn EndpointsPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| list_endpoints());
    view! {
        <Title text="Endpoints"/>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(list) => view! { <EndpointTable list=list/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn EndpointTable(list: EndpointList) -> impl IntoView {
    let can_write = use_session().can_write();
    let used = list.endpoints.len() as i64;
    let endpoints = StoredValue::new(list.endpoints.iter().cloned().zip(list.stats.iter().cloned()).collect::<Vec<_>>());
    let limit = list.plan.endpoint_limit();
    let at_limit = used >= limit;
    let limit_note = at_limit.then(|| {
        let upgrade = match list.plan.next_up() {
            Some(plan) => format!(
                " The {} plan allows {}: ask your Herald operator to upgrade, or delete an endpoint.",
                plan.label(),
                plan.endpoint_limit()
            ),
            None => " Delete an endpoint to add another.".into(),
        };
        format!(
            "You have reached your plan's limit: the {} plan allows {} endpoint{}.{upgrade}",
            list.plan.label(),
            limit,
            if limit == 1 { "" } else { "s" }
        )
    });
    view! {
        <header class="page-header">
            <div>
                <h1>"Endpoints"</h1>
                <p class="muted">"Where Herald delivers your events. Each endpoint chooses the event types it receives. "
                    <A href="/event-types">"Browse the event catalog"</A></p>
            </div>
            <div class="header-actions">
                <div class="usage" id="endpoint-usage">
                    <span class="usage-count">{used} " of " {limit} " endpoints"</span>
                    <span class="muted small">{list.plan.label()} " plan"</span>
                </div>
                {if !can_write {
                    ().into_any()
                } else if at_limit {
                    view! { <button class="btn btn-primary" disabled=true title="Plan limit reached">"Add endpoint"</button> }.into_any()
                } else {
                    view! { <A href="/endpoints/new" attr:class="btn btn-primary">"Add endpoint"</A> }.into_any()
                }}
            </div>
        </header>
        {limit_note.map(|note| view! { <div class="alert alert-warn" id="limit-note" role="status">{note}</div> })}
        {(!list.endpoints.is_empty()).then(|| view! { <StatusFilter endpoints=endpoints/> })}
        <section class="card card-flush">
            {if list.endpoints.is_empty() {
                view! {
                    <EmptyState title="No endpoints yet">
                        <p class="muted">"Add an endpoint and every matching event is signed and delivered to it, with retries."</p>
                        {can_write.then(|| view! { <A href="/endpoints/new" attr:class="btn btn-primary">"Add your first endpoint"</A> })}
                    </EmptyState>
                }.into_any()
            } else {
                view! {
                    <table class="table" id="endpoints">
                        <thead><tr><th>"Endpoint"</th><th>"Events"</th><th>"Verb"</th><th>"Health"</th>
                            <th class="num">"Requests (24 h)"</th><th class="num">"2xx rate"</th><th>"Last delivery"</th></tr></thead>
                        <tbody>
                            {move || {
                                let shown = shown_status();
                                let rows = endpoints.with_value(|all| all.iter().filter(|(e, _)| shown.is_none_or(|s| e.status == s)).cloned().collect::<Vec<_>>());
                                if rows.is_empty() {
                                    return view! { <tr><td colspan="7" class="muted empty-row">{format!("No {} endpoints.", shown.map_or("", EndpointStatus::as_str))}</td></tr> }.into_any();
                                }
                                rows.into_iter().map(endpoint_row).collect_view().into_any()
                            }}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

/// One throttle limit of the endpoint form: a whole number from 1 to `max`, or empty.
#[component]
fn LimitField(
    field: &'static str,
    id: &'static str,
    label: &'static str,
    max: i64,
    placeholder: &'static str,
    hint: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let message = field_error(error, field);
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field" class:has-error=move || message.get().is_some()>
            <label for=id>{label}</label>
            <input id=id type="number" min="1" max=max step="1" inputmode="numeric" bind:value=value placeholder=placeholder
                aria-describedby=hint_id.clone()/>
            <p class="hint" id=hint_id>{hint}</p>
            <p class="field-error" role="alert">{move || message.get()}</p>
        </div>
    }
}

/// The status to show, from the URL (`?status=active|inactive`), so a filtered list can be shared.
fn shown_status() -> Option<EndpointStatus> {
    use_query_map().read().get("status").and_then(|s| EndpointStatus::parse(&s))
}

/// All / Active / Inactive, with counts: links, so they work with the keyboard and the back button.
#[component]
fn StatusFilter(endpoints: StoredValue<Vec<(EndpointView, ListStats)>>) -> impl IntoView {
    let count = move |status: Option<EndpointStatus>| {
        endpoints.with_value(|all| all.iter().filter(|(e, _)| status.is_none_or(|s| e.status == s)).count())
    };
    let tab = move |status: Option<EndpointStatus>, label: &'static str| {
        let href = status.map_or("/endpoints".to_string(), |s| format!("/endpoints?status={s}"));
        view! {
            <a href=href class="filter-tab" id=format!("filter-{}", status.map_or("all", EndpointStatus::as_str))
                aria-current=move || (shown_status() == status).then_some("page")>
                {label} " " <span class="count">{count(status)}</span>
            </a>
        }
    };
    view! {
        <nav class="filter-tabs" aria-label="Show endpoints by status">
            {tab(None, "All")} {tab(Some(EndpointStatus::Active), "Active")} {tab(Some(EndpointStatus::Inactive), "Inactive")}
        </nav>
    }
}

fn endpoint_row((e, stats): (EndpointView, ListStats)) -> impl IntoView {
    let rate = stats.success_rate.map(|r| format!("{:.1} %", r * 100.0)).unwrap_or_else(|| "—".into());
    let rate_class = match stats.success_rate {
        Some(r) if r < 0.9 => "num rate-bad",
        Some(_) => "num rate-ok",
        None => "num muted",
    };
    let (href, name) = (format!("/endpoints/{}", e.id), e.name.clone());
    view! {
        <tr>
            <td>
                <A href=href attr:class="strong">{name}</A>
                <div class="muted small mono truncate">{e.target()}</div>
            </td>
            <td>{e.events_label()}</td>
            <td><code>{if e.channel == Channel::Email { "EMAIL" } else { e.method.as_str() }}</code></td>
            <td>{health_badge(&e.health)}</td>
            <td class="num">{stats.requests}</td>
            <td class=rate_class>{rate}</td>
            <td>{match stats.last_delivery {
                Some((status, at)) => view! { <span class="last-delivery-cell">{super::logs::status_badge(status)} " " <span class="muted small">{at}</span></span> }.into_any(),
                None => view! { <span class="muted">"None yet"</span> }.into_any(),
            }}</td>
        </tr>
    }
}

#[component]
pub fn EndpointDetail() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let toggle = ServerAction::<SetEndpointActive>::new();
    let start = ServerAction::<StartRecovery>::new();
    let reactivate = ServerAction::<ReactivateAndRecover>::new();
    let cancel = ServerAction::<CancelJob>::new();
    // Bumped every second while a job runs, so its progress moves.
    let (tick, set_tick) = signal(0usize);
    // Every resource of the page is made here, not inside a suspended view, so that hydration
    // finds the server's answers.
    let endpoint = Resource::new(move || (id(), toggle.version().get() + reactivate.version().get()), |(id, _)| get_endpoint(id));
    let changes = move || toggle.version().get() + start.version().get() + reactivate.version().get() + cancel.version().get();
    let jobs = Resource::new(move || (id(), changes(), tick.get()), |(id, _, _)| endpoint_jobs(id));
    Effect::new(move |_| {
        if let Some(Ok(list)) = jobs.get() {
            if list.iter().any(Job::is_running) {
                set_timeout(move || set_tick.update(|t| *t += 1), std::time::Duration::from_secs(1));
            }
        }
    });
    let resources = Activity {
        stats: stats_resource(id, move || tick.get()),
        skipped: skipped_resource(id, use_session().is_admin(), changes),
        catalog: Resource::new(|| (), |_| event_catalog()),
        jobs,
        start,
        reactivate,
        cancel,
    };
    view! {
        <Title text="Endpoint"/>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match endpoint.await {
                    Err(e) => view! { <LoadError error=e/> <A href="/endpoints">"Back to endpoints"</A> }.into_any(),
                    Ok(e) => view! { <EndpointOverview endpoint=e toggle=toggle activity=resources/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[derive(Clone, Copy)]
struct Activity {
    stats: Resource<Result<EndpointStats, AppError>>,
    skipped: Resource<Result<i64, AppError>>,
    catalog: Resource<Result<Vec<CatalogGroup>, AppError>>,
    jobs: Resource<Result<Vec<Job>, AppError>>,
    start: ServerAction<StartRecovery>,
    reactivate: ServerAction<ReactivateAndRecover>,
    cancel: ServerAction<CancelJob>,
}

fn throttle_text(per_second: Option<i64>, in_flight: Option<i64>) -> String {
    match (per_second, in_flight) {
        (None, None) => format!("None: as fast as the receiver answers ({DEFAULT_IN_FLIGHT} requests at once per worker)"),
        (Some(r), None) => format!("At most {r} per second"),
        (None, Some(n)) => format!("At most {n} at once"),
        (Some(r), Some(n)) => format!("At most {r} per second, {n} at once"),
    }
}

/// Tells a member whom to ask.
fn reactivate_note(admins: &[String]) -> String {
    match admins {
        [] => "An admin can reactivate it.".into(),
        [one] => format!("Only an admin can reactivate it: ask {one}."),
        many => format!("Only an admin can reactivate it: ask {}.", many.join(", ")),
    }
}

#[component]
fn EndpointOverview(endpoint: EndpointView, toggle: ServerAction<SetEndpointActive>, activity: Activity) -> impl IntoView {
    let session = use_session();
    let can_write = session.can_write();
    let delete = ServerAction::<DeleteEndpoint>::new();
    let toggle_error = last_error(move || toggle.value().get());
    let reactivate_error = last_error(move || activity.reactivate.value().get());
    let delete_error = last_error(move || delete.value().get());
    let active = endpoint.status == EndpointStatus::Active;
    let id = endpoint.id.clone();
    let auth = match &endpoint.auth_header {
        Some(header) => format!("{}: {}", header.name, header.value_hint),
        None => "None".to_string(),
    };
    view! {
        <header class="page-header">
            <div>
                <p class="crumbs"><A href="/endpoints">"Endpoints"</A> " / "</p>
                <h1>{endpoint.name.clone()} " " {health_badge(&endpoint.health)}</h1>
                <p class="muted">{if endpoint.description.is_empty() { "No description.".to_string() } else { endpoint.description.clone() }}</p>
            </div>
            <div class="header-actions">
                <A href=format!("/logs?endpoint_id={}", endpoint.id) attr:class="btn btn-ghost">"Delivery log"</A>
                {can_write.then(|| view! { <A href=format!("/endpoints/{}/edit", endpoint.id) attr:class="btn btn-secondary">"Edit"</A> })}
                {if !can_write {
                    view! { <span class="muted small">"Read-only"</span> }.into_any()
                } else if active {
                    let id = id.clone();
                    view! { <button class="btn btn-secondary" on:click=move |_| { toggle.dispatch(SetEndpointActive { id: id.clone(), active: false }); }>"Deactivate"</button> }.into_any()
                } else if session.is_admin() {
                    let id = id.clone();
                    view! {
                        <ReactivateAndSend id=id.clone() skipped=activity.skipped run=activity.reactivate/>
                        <button class="btn btn-secondary" on:click=move |_| { toggle.dispatch(SetEndpointActive { id: id.clone(), active: true }); }>"Reactivate"</button>
                    }.into_any()
                } else {
                    view! { <span class="muted small" id="who-reactivates">{reactivate_note(&endpoint.reactivated_by)}</span> }.into_any()
                }}
            </div>
        </header>
        <Alert message=Signal::derive(move || toggle_error.get().or(delete_error.get()).or(reactivate_error.get()).map(|e| e.message))/>
        {(!active).then(|| {
            let reason = match endpoint.inactive_reason.as_deref() {
                Some("manual") => "It was deactivated by hand".to_string(),
                Some(other) => format!("It was deactivated: {other}"),
                None => "It is inactive".to_string(),
            };
            let since = endpoint.inactive_since.as_deref().map(|s| format!(" on {}", shown(s))).unwrap_or_default();
            view! { <div class="alert alert-warn" role="status">{format!("This endpoint receives nothing. {reason}{since} UTC. New events are recorded as skipped.")}</div> }
        })}
        {health_note(&endpoint.health)}
        {(active && session.is_admin()).then(|| view! { <SkippedOffer id=endpoint.id.clone() skipped=activity.skipped run=activity.start/> })}
        <StatsCard id=endpoint.id.clone() stats=activity.stats/>
        {can_write.then(|| view! { <TestEventCard id=endpoint.id.clone() subscribed=endpoint.event_types.clone() catalog=activity.catalog/> })}
        <section class="card">
            <div class="card-header"><h2>"Configuration"</h2></div>
            <dl class="facts" id="endpoint-facts">
                {if endpoint.channel == Channel::Email {
                    view! { <dt>"Delivers to"</dt><dd>"Email: " {endpoint.email.clone().unwrap_or_default()}</dd> }.into_any()
                } else {
                    view! { <dt>"URL"</dt><dd class="mono">{endpoint.url.clone()}</dd><dt>"HTTP verb"</dt><dd><code>{endpoint.method.as_str()}</code></dd> }.into_any()
                }}
                <dt>"Auth header"</dt><dd class="mono" id="auth-header">{auth}</dd>
                <dt>"Events"</dt>
                <dd>{endpoint.event_types.iter().map(|t| view! { <span class="chip">{if t == "*" { "All events".to_string() } else { t.clone() }}</span> }).collect_view()}</dd>
                <dt>"Filter"</dt>
                <dd id="endpoint-filter">{match endpoint.filter.as_ref() {
                    Some(filter) => view! { <code>{filter.to_string()}</code> }.into_any(),
                    None => view! { <span class="muted">"None: every event of these types is delivered"</span> }.into_any(),
                }}</dd>
                <dt>"Payload"</dt><dd>{if endpoint.payload_shape == PayloadShape::Data { "The data object alone" } else { "The full event envelope" }}</dd>
                <dt>"Throttle"</dt><dd id="endpoint-throttle">{throttle_text(endpoint.max_per_second, endpoint.max_in_flight)}</dd>
                <dt>"Created"</dt><dd>{shown(&endpoint.created_at)} " UTC"</dd>
            </dl>
        </section>
        <JobsCard jobs=activity.jobs cancel=activity.cancel can_cancel=session.is_admin() && can_write/>
        {session.is_admin().then(|| view! { <RecoverCard id=endpoint.id.clone() active=active run=activity.start/> })}
        {if session.can_see_secrets() {
            view! { <SigningSecret id=endpoint.id.clone() can_rotate=can_write/> }.into_any()
        } else {
            view! {
                <section class="card">
                    <div class="card-header"><h2>"Signing secret"</h2></div>
                    <p class="muted" id="secret-hidden">"Signing secrets and auth header values are never shown to Herald staff."</p>
                </section>
            }.into_any()
        }}
        {can_write.then(|| view! {
        <section class="card card-danger">
            <div class="card-header"><h2>"Delete endpoint"</h2></div>
            <p class="muted">"Deleting stops all deliveries to this endpoint. It cannot be undone."</p>
            <Confirm label="Delete endpoint" question=format!("Delete \"{}\"?", endpoint.name)>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=endpoint.id.clone()/>
                    <button type="submit" class="btn btn-danger btn-sm">"Yes, delete"</button>
                </ActionForm>
            </Confirm>
        </section>
        })}
    }
}

#[component]
fn SigningSecret(id: String, can_rotate: bool) -> impl IntoView {
    let reveal = ServerAction::<RevealSecret>::new();
    let rotate = ServerAction::<RotateSecret>::new();
    // Whichever answered last is what is on screen.
    let shown = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(s)) = reveal.value().get() {
            shown.set(Some(s))
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(s)) = rotate.value().get() {
            shown.set(Some(s))
        }
    });
    let rotated = move || matches!(rotate.value().get(), Some(Ok(_)));
    let error = Signal::derive(move || {
        reveal.value().get().and_then(Result::err).or_else(|| rotate.value().get().and_then(Result::err)).map(|e| e.message)
    });
    let reveal_id = id.clone();
    view! {
        <section class="card">
            <div class="card-header"><h2>"Signing secret"</h2></div>
            <p class="muted">"Every request carries " <code>"webhook-signature"</code> ": verify it with this secret (Standard Webhooks) to know the request came from Herald."</p>
            <Alert message=error/>
            <div class="secret-row">
                {move || match shown.get() {
                    Some(secret) => view! { <code class="secret" id="signing-secret">{secret.clone()}</code> <CopyButton text=secret/> }.into_any(),
                    None => {
                        let id = reveal_id.clone();
                        view! {
                            <code class="secret muted">"whsec_••••••••••••••••••••••••"</code>
                            <button type="button" class="btn btn-secondary btn-sm" on:click=move |_| { reveal.dispatch(RevealSecret { id: id.clone() }); }>"Reveal"</button>
                        }.into_any()
                    }
                }}
            </div>
            {move || rotated().then(|| view! { <p class="hint">"New secret in use. The previous secret also signs deliveries for the next 24 hours, so receivers can switch over."</p> })}
            {can_rotate.then(|| view! {
            <div class="secret-actions">
                <Confirm label="Rotate secret" question="Replace the secret?".to_string()>
                    <button type="button" class="btn btn-danger btn-sm" on:click={
                        let id = id.clone();
                        move |_| { rotate.dispatch(RotateSecret { id: id.clone() }); }
                    }>"Yes, rotate"</button>
                </Confirm>
            </div>
            })}
        </section>
    }
}

#[component]
pub fn NewEndpoint() -> impl IntoView {
    let catalog = Resource::new(|| (), |_| event_catalog());
    view! {
        <Title text="Add endpoint"/>
        <header class="page-header">
            <div>
                <p class="crumbs"><A href="/endpoints">"Endpoints"</A> " / "</p>
                <h1>"Add endpoint"</h1>
                <p class="muted">"Tell Herald where to send events, which ones, and how."</p>
            </div>
        </header>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match catalog.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(groups) => view! { <EndpointEditor initial=None catalog=groups/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn EditEndpoint() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new(id, |id| async move { Ok::<_, crate::error::AppError>((get_endpoint(id).await?, event_catalog().await?)) });
    view! {
        <Title text="Edit endpoint"/>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok((endpoint, groups)) => {
                        let (href, name) = (format!("/endpoints/{}", endpoint.id), endpoint.name.clone());
                        view! {
                        <header class="page-header">
                            <div>
                                <p class="crumbs"><A href="/endpoints">"Endpoints"</A> " / " <A href=href>{name}</A> " / "</p>
                                <h1>"Edit endpoint"</h1>
                            </div>
                        </header>
                        <EndpointEditor initial=Some(endpoint) catalog=groups/>
                    }.into_any() }
                }
            })}
        </Suspense>
    }
}

/// The create/edit form. Every input is a signal, so the form can show the URL or the email
/// field for the chosen channel and keep the event picker consistent.
#[component]
fn EndpointEditor(initial: Option<EndpointView>, catalog: Vec<CatalogGroup>) -> impl IntoView {
    let editing_id = initial.as_ref().map(|e| e.id.clone());
    let get = |f: fn(&EndpointView) -> String, default: &str| initial.as_ref().map(f).unwrap_or_else(|| default.to_string());
    let name = RwSignal::new(get(|e| e.name.clone(), ""));
    let description = RwSignal::new(get(|e| e.description.clone(), ""));
    let channel = RwSignal::new(initial.as_ref().map_or(Channel::Http, |e| e.channel));
    let url = RwSignal::new(get(|e| e.url.clone(), ""));
    let email = RwSignal::new(get(|e| e.email.clone().unwrap_or_default(), ""));
    let method = RwSignal::new(get(|e| e.method.as_str().to_string(), HttpMethod::Post.as_str()));
    let shape = RwSignal::new(initial.as_ref().map_or(PayloadShape::Envelope, |e| e.payload_shape));
    let header_name = RwSignal::new(get(|e| e.auth_header.as_ref().map(|h| h.name.clone()).unwrap_or_default(), ""));
    let header_value = RwSignal::new(String::new());
    let saved_hint = initial.as_ref().and_then(|e| e.auth_header.as_ref().map(|h| h.value_hint.clone()));
    let initial_types = initial.as_ref().map(|e| e.event_types.clone()).unwrap_or_default();
    // A deprecated type is offered only where the endpoint already has it (it may keep it).
    let catalog: Vec<CatalogGroup> = catalog
        .into_iter()
        .map(|mut group| {
            group.types.retain(|t| !t.deprecated || initial_types.contains(&t.name));
            group
        })
        .filter(|group| !group.types.is_empty())
        .collect();
    let all_events = RwSignal::new(initial_types.iter().any(|t| t == "*"));
    let selected = RwSignal::new(initial_types.into_iter().filter(|t| t != "*").collect::<Vec<_>>());
    let filter = RwSignal::new(get(|e| e.filter_rest.clone(), ""));
    let filter_services = RwSignal::new(get(|e| e.filter_services.clone(), ""));
    let can_throttle = use_session().is_admin();
    let max_per_second = RwSignal::new(get(|e| e.max_per_second.map(|n| n.to_string()).unwrap_or_default(), ""));
    let max_in_flight = RwSignal::new(get(|e| e.max_in_flight.map(|n| n.to_string()).unwrap_or_default(), ""));
    // The Service field appears for event types that name a service (ReserveKit's bookings),
    // and stays while it holds a value.
    let service_types = StoredValue::new(
        catalog.iter().flat_map(|g| g.types.iter().filter(|t| t.names_a_service).map(|t| t.name.clone())).collect::<Vec<_>>(),
    );
    let offers_service = move || {
        !filter_services.get().trim().is_empty()
            || all_events.get()
            || selected.with(|s| service_types.with_value(|types| s.iter().any(|t| types.contains(t))))
    };

    let save = ServerAction::<SaveEndpoint>::new();
    let error = last_error(move || save.value().get());
    let pending = save.pending();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            navigate(&format!("/endpoints/{}", saved.id), Default::default());
        }
    });
    let form = move || EndpointForm {
        name: name.get(),
        description: description.get(),
        url: url.get(),
        method: method.get(),
        channel: channel.get().as_str().to_string(),
        email: email.get(),
        payload_shape: shape.get().as_str().to_string(),
        event_types: if all_events.get() { vec!["*".to_string()] } else { selected.get() },
        auth_header_name: header_name.get(),
        auth_header_value: header_value.get(),
        filter: filter.get(),
        filter_services: filter_services.get(),
        max_per_second: can_throttle.then(|| max_per_second.get()),
        max_in_flight: can_throttle.then(|| max_in_flight.get()),
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(SaveEndpoint { id: editing_id.clone(), form: form() });
    };
    let preview = ServerAction::<PreviewFilter>::new();
    let is_email = move || channel.get() == Channel::Email;
    let value_placeholder = match &saved_hint {
        Some(hint) => format!("Saved ({hint}). Leave empty to keep it."),
        None => "e.g. Bearer sk_live_…".into(),
    };
    let has_saved = saved_hint.is_some();
    let cancel_href = initial.as_ref().map(|e| format!("/endpoints/{}", e.id)).unwrap_or_else(|| "/endpoints".into());
    // The server-rendered form is inert until the page is hydrated: its fields are not yet
    // bound, so hydration would wipe what was typed, and a submit would reload the page.
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));
    // Choices shown checked before hydration too (`prop:checked` is only set in the browser).
    let (is_email_at_first, shape_at_first) = (channel.get_untracked() == Channel::Email, shape.get_untracked());

    view! {
        <form class="card form-card" on:submit=on_submit novalidate=true inert=move || !live.get() aria-busy=move || (!live.get()).to_string()>
            <Alert message=form_error(error, &["name", "description", "url", "email", "method", "channel", "payload_shape", "event_types", "auth_header.name", "auth_header.value", "filter"])/>
            <div class="form-section">
                <h2>"Basics"</h2>
                <div class="field" class:has-error=move || field_error(error, "name").get().is_some()>
                    <label for="ep-name">"Name"</label>
                    <input id="ep-name" bind:value=name placeholder="e.g. Booking sync" maxlength="100" required=true/>
                    <p class="field-error" role="alert">{move || field_error(error, "name").get()}</p>
                </div>
                <div class="field">
                    <label for="ep-description">"Description " <span class="muted">"(optional)"</span></label>
                    <input id="ep-description" bind:value=description placeholder="What this endpoint is for" maxlength="500"/>
                    <p class="field-error" role="alert">{move || field_error(error, "description").get()}</p>
                </div>
            </div>
            <div class="form-section">
                <h2>"Destination"</h2>
                <div class="segmented" role="radiogroup" aria-label="Channel">
                    <label><input type="radio" name="channel" value="http" checked=!is_email_at_first prop:checked=move || !is_email() on:change=move |_| channel.set(Channel::Http)/>" HTTP request"</label>
                    <label><input type="radio" name="channel" value="email" checked=is_email_at_first prop:checked=is_email on:change=move |_| channel.set(Channel::Email)/>" Email"</label>
                </div>
                <Show when=move || !is_email() fallback=move || view! {
                    <div class="field" class:has-error=move || field_error(error, "email").get().is_some()>
                        <label for="ep-email">"Email address"</label>
                        <input id="ep-email" type="email" bind:value=email placeholder="ops@business.com"/>
                        <p class="hint">"The event JSON is emailed here; no HTTP request is made."</p>
                        <p class="field-error" role="alert">{move || field_error(error, "email").get()}</p>
                    </div>
                }>
                    <div class="form-row-2">
                        <div class="field field-grow" class:has-error=move || field_error(error, "url").get().is_some()>
                            <label for="ep-url">"URL"</label>
                            <input id="ep-url" type="url" bind:value=url placeholder="https://hooks.example.com/herald" class="mono"/>
                            <p class="field-error" role="alert">{move || field_error(error, "url").get()}</p>
                        </div>
                        <div class="field">
                            <label for="ep-method">"HTTP verb"</label>
                            <select id="ep-method" bind:value=method>
                                <option value="POST">"POST"</option>
                                <option value="PUT">"PUT"</option>
                                <option value="PATCH">"PATCH"</option>
                            </select>
                        </div>
                    </div>
                </Show>
            </div>
            <div class="form-section" id="event-picker">
                <h2>"Events"</h2>
                <p class="field-error" role="alert">{move || field_error(error, "event_types").get()}</p>
                <label class="check check-strong">
                    <input type="checkbox" id="all-events" checked=all_events.get_untracked() bind:checked=all_events/>
                    " All events, including types added later"
                </label>
                <div class="event-groups" class:disabled=move || all_events.get()>
                    {catalog.into_iter().map(|group| view! {
                        <fieldset class="event-group">
                            <legend>{group.label.clone()}</legend>
                            {group.types.into_iter().map(|t| {
                                let name = t.name.clone();
                                let toggle_name = t.name.clone();
                                let checked_at_first = selected.with_untracked(|s| s.contains(&t.name));
                                view! {
                                    <label class="check" title=t.description.clone()>
                                        <input type="checkbox" value=t.name.clone() checked=checked_at_first
                                            prop:checked=move || selected.with(|s| s.contains(&name))
                                            prop:disabled=move || all_events.get()
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                selected.update(|s| {
                                                    s.retain(|x| x != &toggle_name);
                                                    if on { s.push(toggle_name.clone()); }
                                                });
                                            }/>
                                        " " <span class="mono">{t.name.clone()}</span>
                                        {t.deprecated.then(|| view! { <span class="badge badge-muted badge-soft" title="Kept because this endpoint has it; it cannot be added again once removed">"deprecated"</span> })}
                                    </label>
                                }
                            }).collect_view()}
                        </fieldset>
                    }).collect_view()}
                </div>
            </div>
            <div class="form-section" id="filter-section">
                <h2>"Filter " <span class="muted">"(optional)"</span></h2>
                <p class="muted">"Only events that match every condition are delivered to this endpoint; the others create no delivery."</p>
                <Show when=offers_service>
                    <div class="field">
                        <label for="ep-services">"Service"</label>
                        <input id="ep-services" bind:value=filter_services class="mono" placeholder="e.g. srv_5521, srv_7730" aria-describedby="ep-services-hint"/>
                        <p class="hint" id="ep-services-hint">"Only bookings for these services (their " <code>"service_id"</code> ", comma-separated). Empty: every service."</p>
                    </div>
                </Show>
                <div class="field" class:has-error=move || field_error(error, "filter").get().is_some()>
                    <label for="ep-filter">"Conditions " <span class="muted">"(JSON)"</span></label>
                    <textarea id="ep-filter" class="mono" rows="3" bind:value=filter aria-describedby="ep-filter-hint"
                        placeholder="{\"data.location.id\": \"loc_9\", \"data.status\": [\"confirmed\", \"pending\"]}"></textarea>
                    <p class="hint" id="ep-filter-hint">"Each key is a dotted path into the envelope, each value one allowed value or a list of them."</p>
                    <p class="field-error" role="alert">{move || field_error(error, "filter").get()}</p>
                </div>
                <button type="button" class="btn btn-secondary btn-sm" id="preview-filter" disabled=move || preview.pending().get()
                    on:click=move |_| { preview.dispatch(PreviewFilter { form: form() }); }>
                    {move || if preview.pending().get() { "Checking…" } else { "Check against the samples" }}
                </button>
                <div aria-live="polite">
                    {move || preview.value().get().map(|result| match result {
                        Err(e) => view! { <p class="field-error" role="alert" id="filter-preview-error">{e.message}</p> }.into_any(),
                        Ok(rows) => {
                            let passing = rows.iter().filter(|r| r.delivered).count();
                            let total = rows.len();
                            view! {
                                <p class="filter-summary" id="filter-summary">{format!("{passing} of {total} sample events would be delivered.")}</p>
                                <ul class="filter-preview" id="filter-preview" tabindex="0" aria-label="Each sample event against the filter">
                                    {rows.into_iter().map(|r| view! {
                                        <li class:passes=r.delivered>
                                            <span class="mono">{r.event_type}</span>
                                            <span class=if r.delivered { "badge badge-soft badge-ok" } else { "badge badge-soft" }>
                                                {if r.delivered { "this sample would be delivered" } else { "filtered out" }}
                                            </span>
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }
                    })}
                </div>
            </div>
            <div class="form-section">
                <h2>"Payload"</h2>
                <div class="segmented" role="radiogroup" aria-label="Payload shape">
                    <label><input type="radio" name="payload_shape" value="envelope" checked=shape_at_first == PayloadShape::Envelope prop:checked=move || shape.get() == PayloadShape::Envelope on:change=move |_| shape.set(PayloadShape::Envelope)/>" Full envelope " <span class="muted">"(id, event type, timestamp, data)"</span></label>
                    <label><input type="radio" name="payload_shape" value="data" checked=shape_at_first == PayloadShape::Data prop:checked=move || shape.get() == PayloadShape::Data on:change=move |_| shape.set(PayloadShape::Data)/>" Data object only"</label>
                </div>
            </div>
            {can_throttle.then(|| view! {
                <div class="form-section" id="throttle-section">
                    <h2>"Throttle " <span class="muted">"(optional)"</span></h2>
                    <p class="muted">"For a receiver that cannot take bursts. Deliveries beyond these limits wait their turn; they never fail because of them."</p>
                    <div class="form-row-2">
                        <LimitField field="max_per_second" id="ep-max-per-second" label="Deliveries per second, at most" max=MAX_PER_SECOND
                            placeholder="No limit" hint="1 to 1,000. Empty: no limit." value=max_per_second error=error/>
                        <LimitField field="max_in_flight" id="ep-max-in-flight" label="Requests at once, at most" max=MAX_IN_FLIGHT
                            placeholder="Default (8)" hint="1 to 100. Empty: Herald's default, 8 per worker." value=max_in_flight error=error/>
                    </div>
                </div>
            })}
            <div class="form-section">
                <h2>"Auth header " <span class="muted">"(optional)"</span></h2>
                <p class="muted">"Sent with every request so your receiver can authenticate Herald. The value is stored encrypted and never shown again."</p>
                <div class="form-row-2">
                    <div class="field" class:has-error=move || field_error(error, "auth_header.name").get().is_some()>
                        <label for="ep-header-name">"Header name"</label>
                        <input id="ep-header-name" list="auth-header-suggestions" bind:value=header_name placeholder="Authorization"/>
                        <datalist id="auth-header-suggestions">
                            {AUTH_HEADER_SUGGESTIONS.iter().map(|h| view! { <option value=*h></option> }).collect_view()}
                        </datalist>
                        <p class="field-error" role="alert">{move || field_error(error, "auth_header.name").get()}</p>
                    </div>
                    <div class="field field-grow" class:has-error=move || field_error(error, "auth_header.value").get().is_some()>
                        <label for="ep-header-value">"Header value"</label>
                        <input id="ep-header-value" type="password" autocomplete="off" bind:value=header_value placeholder=value_placeholder/>
                        <p class="field-error" role="alert">{move || field_error(error, "auth_header.value").get()}</p>
                    </div>
                </div>
                {has_saved.then(|| view! {
                    <button type="button" class="btn btn-ghost btn-sm btn-danger-text" id="remove-auth-header"
                        on:click=move |_| { header_name.set(String::new()); header_value.set(String::new()); }>
                        "Remove the auth header"
                    </button>
                    <span class="hint">" (then save)"</span>
                })}
            </div>
            <div class="form-actions">
                <A href=cancel_href attr:class="btn btn-ghost">"Cancel"</A>
                <button type="submit" class="btn btn-primary" disabled=move || pending.get()>
                    {move || if pending.get() { "Saving…" } else { "Save endpoint" }}
                </button>
            </div>
        </form>
    }
}

/// The event catalog: every type, with its envelope and data as JSON.
#[component]
pub fn CatalogPage() -> impl IntoView {
    let catalog = Resource::new(|| (), |_| event_catalog());
    view! {
        <PageHeader title="Event catalog">"Every event type Herald delivers. Endpoints receive the full envelope, or only its "
            <code>"data"</code> " object if they choose so. Also at " <code>"GET /api/v1/event-types"</code> "."</PageHeader>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match catalog.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(groups) if groups.is_empty() => view! { <EmptyState title="No event types"><p/></EmptyState> }.into_any(),
                    Ok(groups) => groups.into_iter().map(|g| view! {
                        <section class="card catalog-group" id=format!("resource-{}", g.resource)>
                            <div class="card-header"><h2>{g.label.clone()}</h2><span class="muted">{g.types.len()} " types"</span></div>
                            {g.types.into_iter().map(|t| view! {
                                <details class="catalog-type">
                                    <summary><span class="mono strong">{t.name.clone()}</span>
                                        {t.custom.then(|| view! { <span class="badge badge-info" title="Defined by your platform">"platform"</span> })}
                                        {t.deprecated.then(|| view! { <span class="badge badge-muted" title="Endpoints that have it keep receiving it; it cannot be added to an endpoint">"deprecated"</span> })}
                                        <span class="muted">{t.description.clone()}</span></summary>
                                    <div class="json-pair">
                                        <div><h3>"Envelope (default)"</h3><pre class="json" tabindex="0">{t.envelope.clone()}</pre></div>
                                        <div><h3>"Data only"</h3><pre class="json" tabindex="0">{t.data.clone()}</pre></div>
                                    </div>
                                </details>
                            }).collect_view()}
                        </section>
                    }).collect_view().into_any(),
                }
            })}
        </Suspense>
    }
}
