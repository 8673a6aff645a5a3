//! The delivery log: every delivery of the tenant, newest first, filtered through the URL (so a
//! filtered view can be shared) and paged by cursor; and one delivery's raw view.

use leptos::prelude::*;
use leptos_router::components::{Form, A};
use leptos_router::hooks::{use_params_map, use_query_map};
use types::clock::utc;
use types::log::{DeliveryRow, RawRequest};
use types::{DeliveryStatus, StatusFilter};

use super::layout::use_session;
use crate::api::{delivery_detail, delivery_log, DeliveryView, LogPage, LogQuery, ReplayDelivery};
use crate::components::{Alert, Confirm, CopyButton, EmptyState, LoadError, Loading, PageHeader};

/// Why Raw, Download and Replay are greyed out on an archived delivery.
pub const ARCHIVED_NOTE: &str = "Archived: the payload and bodies were deleted after the retention period";

#[component]
pub fn LogsPage() -> impl IntoView {
    let query = use_query_map();
    let log_query = move || {
        let q = query.read();
        let get = |name: &str| q.get(name).unwrap_or_default();
        LogQuery {
            endpoint_id: get("endpoint_id"),
            status: get("status"),
            event_type: get("event_type"),
            since: get("since"),
            until: get("until"),
            cursor: get("cursor"),
        }
    };
    let page = Resource::new(log_query, delivery_log);
    view! {
        <PageHeader title="Delivery logs">"Every delivery to your endpoints, newest first, with its outcome. Times are UTC."</PageHeader>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                let current = log_query();
                match page.await {
                    Err(e) => view! { <Filters query=current event_types=vec![] endpoints=vec![]/> <LoadError error=e/> }.into_any(),
                    Ok(p) => view! { <LogTable page=p query=current/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `/logs?…` for these filters (empty ones left out).
fn logs_href(query: &LogQuery) -> String {
    let parts: Vec<String> = [
        ("endpoint_id", &query.endpoint_id),
        ("status", &query.status),
        ("event_type", &query.event_type),
        ("since", &query.since),
        ("until", &query.until),
        ("cursor", &query.cursor),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}={}", v.replace('+', "%2B").replace(' ', "%20")))
    .collect();
    if parts.is_empty() {
        "/logs".into()
    } else {
        format!("/logs?{}", parts.join("&"))
    }
}

/// The filter bar: a GET form, so the filters live in the URL.
#[component]
fn Filters(query: LogQuery, event_types: Vec<String>, endpoints: Vec<(String, String)>) -> impl IntoView {
    let filtered = query != LogQuery::default();
    // Choosing from a list applies it at once (also before hydration); the times wait for "Apply".
    let submit_on_change = "this.form.requestSubmit()";
    view! {
        <Form method="GET" action="/logs">
            <div class="filters" role="search">
                <label class="filter">"Endpoint"
                    <select id="filter-endpoint" name="endpoint_id" onchange=submit_on_change>
                        <option value="" selected=query.endpoint_id.is_empty()>"All endpoints"</option>
                        {endpoints.iter().map(|(id, name)| view! { <option value=id.clone() selected=*id == query.endpoint_id>{name.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="filter">"Status"
                    <select id="filter-status" name="status" onchange=submit_on_change>
                        <option value="" selected=query.status.is_empty()>"Any status"</option>
                        {StatusFilter::ALL.iter().map(|s| view! { <option value=s.as_str() selected=s.as_str() == query.status>{s.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="filter">"Event type"
                    <select id="filter-event-type" name="event_type" onchange=submit_on_change>
                        <option value="" selected=query.event_type.is_empty()>"Any event type"</option>
                        {event_types.iter().map(|t| view! { <option value=t.clone() selected=*t == query.event_type>{t.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="filter">"From (UTC)"
                    <input type="datetime-local" id="filter-since" name="since" value=query.since.clone()/>
                </label>
                <label class="filter">"Until (UTC)"
                    <input type="datetime-local" id="filter-until" name="until" value=query.until.clone()/>
                </label>
                <div class="filter-actions">
                    <button type="submit" class="btn btn-secondary btn-sm">"Apply"</button>
                    {filtered.then(|| view! { <A href="/logs" attr:class="btn btn-ghost btn-sm">"Clear filters"</A> })}
                </div>
            </div>
        </Form>
    }
}

pub fn status_badge(status: DeliveryStatus) -> impl IntoView {
    view! { <span class=format!("badge badge-status-{status}")>{status.as_str()}</span> }
}

fn labels(row: &DeliveryRow) -> impl IntoView {
    row.labels()
        .into_iter()
        .map(|l| view! { <span class=format!("badge badge-label badge-label-{}", l.to_lowercase())>{l}</span> })
        .collect_view()
}

#[component]
fn LogTable(page: LogPage, query: LogQuery) -> impl IntoView {
    let filtered = LogQuery { cursor: String::new(), ..query.clone() } != LogQuery::default();
    let next = page.next_cursor.clone().map(|c| logs_href(&LogQuery { cursor: c, ..query.clone() }));
    let first = (!query.cursor.is_empty()).then(|| logs_href(&LogQuery { cursor: String::new(), ..query.clone() }));
    view! {
        <Filters query=query event_types=page.event_types.clone() endpoints=page.endpoints.clone()/>
        <section class="card card-flush">
            {if page.rows.is_empty() {
                view! {
                    <EmptyState title=if filtered { "No deliveries match" } else { "No deliveries yet" }>
                        <p class="muted">{if filtered { "Try other filters, or a wider time range." } else { "Deliveries appear here as soon as events arrive for your endpoints." }}</p>
                    </EmptyState>
                }.into_any()
            } else {
                view! {
                    <table class="table table-hover" id="deliveries">
                        <thead><tr><th>"Time (UTC)"</th><th>"Event type"</th><th>"Endpoint"</th><th>"Status"</th><th>"HTTP"</th><th>"Attempts"</th><th>"Duration"</th><th>"Actions"</th></tr></thead>
                        <tbody>
                            {page.rows.iter().map(|r| view! { <LogLine row=r.clone() endpoint=page.endpoint_name(&r.endpoint_id)/> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <div class="pager">
            {first.map(|href| view! { <A href=href attr:class="btn btn-ghost">"← Newest"</A> })}
            {next.map(|href| view! { <A href=href attr:class="btn btn-secondary">"Older deliveries →"</A> })}
        </div>
    }
}

#[component]
fn LogLine(row: DeliveryRow, endpoint: String) -> impl IntoView {
    let href = format!("/logs/{}", row.id);
    let next_attempt = row.next_retry_at().map(|n| format!("next attempt {}", utc(n)));
    let replays = (row.replays > 0).then(|| format!("replayed {}×", row.replays));
    let (time, row_labels, archived) = (utc(row.created_at), labels(&row), row.archived_at.is_some());
    view! {
        <tr class:row-archived=archived>
            <td class="mono small nowrap"><A href=href.clone()>{time}</A><div class="labels">{row_labels}</div></td>
            <td class="mono small">{row.event_type.clone()}</td>
            <td>{endpoint}</td>
            <td>{status_badge(row.status)}
                {row.last_error.clone().map(|d| view! { <div class="muted small truncate" title=d.clone()>{d.clone()}</div> })}
                {next_attempt.map(|n| view! { <div class="muted small">{n}</div> })}
                {replays.map(|n| view! { <div class="muted small">{n}</div> })}</td>
            <td class="mono">{row.last_status_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into())}</td>
            <td>{row.attempts}</td>
            <td class="muted nowrap">{row.last_duration_ms.map(|d| format!("{d} ms")).unwrap_or_else(|| "—".into())}</td>
            <td><RowActions row=row/></td>
        </tr>
    }
}

/// Raw, Download and Replay on each row, as Calenso's log has them. Replay is for admins (others
/// see it greyed, with why); once archived, all three are greyed.
#[component]
fn RowActions(row: DeliveryRow) -> impl IntoView {
    let what = format!("the {} delivery at {}", row.event_type, utc(row.created_at));
    if row.archived_at.is_some() {
        return view! {
            <div class="row-actions" role="group" aria-label=format!("Actions for {what}")>
                <button class="btn btn-ghost btn-sm" disabled=true title=ARCHIVED_NOTE>"Raw"</button>
                <button class="btn btn-ghost btn-sm" disabled=true title=ARCHIVED_NOTE>"Download"</button>
                <button class="btn btn-ghost btn-sm" disabled=true title=ARCHIVED_NOTE>"Replay"</button>
            </div>
        }
        .into_any();
    }
    let replay = if use_session().is_admin() {
        let action = ServerAction::<ReplayDelivery>::new();
        let id = row.id.clone();
        let error = Signal::derive(move || action.value().get().and_then(Result::err).map(|e| e.message));
        view! {
            {move || match action.value().get() {
                Some(Ok(new_id)) => view! { <A href=format!("/logs/{new_id}") attr:class="btn btn-ghost btn-sm replay-queued">"Replay queued →"</A> }.into_any(),
                _ => {
                    let id = id.clone();
                    view! {
                        <Confirm label="Replay" question="Send again?".to_string() button_class="btn btn-ghost btn-sm">
                            <button type="button" class="btn btn-primary btn-sm" on:click=move |_| { action.dispatch(ReplayDelivery { id: id.clone() }); }>"Yes, replay"</button>
                        </Confirm>
                    }.into_any()
                }
            }}
            {move || error.get().map(|e| view! { <div class="field-error small" role="alert">{e}</div> })}
        }
        .into_any()
    } else {
        view! { <button class="btn btn-ghost btn-sm" disabled=true title="Only admins of this workspace can replay deliveries">"Replay"</button> }.into_any()
    };
    view! {
        <div class="row-actions" role="group" aria-label=format!("Actions for {what}")>
            <A href=format!("/logs/{}#raw-request", row.id) attr:class="btn btn-ghost btn-sm" attr:aria-label=format!("Raw data of {what}")>"Raw"</A>
            <a class="btn btn-ghost btn-sm" href=format!("/api/v1/deliveries/{}/payload", row.id) download="" aria-label=format!("Download the payload of {what}")>"Download"</a>
            {replay}
        </div>
    }
    .into_any()
}

#[component]
pub fn DeliveryPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let replay = ServerAction::<ReplayDelivery>::new();
    let detail = Resource::new(move || (id(), replay.version().get()), |(id, _)| delivery_detail(id));
    view! {
        <leptos_meta::Title text="Delivery"/>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <LoadError error=e/> <A href="/logs">"Back to the log"</A> }.into_any(),
                    Ok(d) => view! { <DeliveryDetail delivery=d replay=replay/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DeliveryDetail(delivery: DeliveryView, replay: ServerAction<ReplayDelivery>) -> impl IntoView {
    let session = use_session();
    let DeliveryView { detail, endpoint } = delivery;
    let row = detail.delivery.clone();
    let archived = row.archived_at.is_some();
    let replay_error = Signal::derive(move || replay.value().get().and_then(Result::err).map(|e| e.message));
    let replayed = move || replay.value().get().and_then(Result::ok);
    let download = format!("/api/v1/deliveries/{}/payload", row.id);
    let replay_block = if archived {
        view! { <button class="btn btn-secondary" disabled=true title=ARCHIVED_NOTE>"Replay"</button> }.into_any()
    } else if !session.is_admin() {
        view! { <button class="btn btn-secondary" disabled=true title="Only admins of this workspace can replay deliveries">"Replay"</button> }.into_any()
    } else {
        let id = row.id.clone();
        view! {
            <Confirm label="Replay" question="Send this delivery again?".to_string() button_class="btn btn-secondary">
                <button type="button" class="btn btn-primary btn-sm" id="confirm-replay" on:click=move |_| { replay.dispatch(ReplayDelivery { id: id.clone() }); }>"Yes, replay"</button>
            </Confirm>
        }.into_any()
    };
    view! {
        <header class="page-header">
            <div>
                <p class="crumbs"><A href="/logs">"Delivery logs"</A> " / " <code>{row.id.clone()}</code></p>
                <h1><span class="mono">{row.event_type.clone()}</span> " " {status_badge(row.status)} " " <span class="labels">{labels(&row)}</span></h1>
                <p class="muted">{format!("{} UTC · to ", utc(row.created_at))}<A href=format!("/endpoints/{}", row.endpoint_id)>{endpoint}</A></p>
            </div>
            <div class="header-actions">
                {if archived {
                    view! { <button class="btn btn-secondary" disabled=true title=ARCHIVED_NOTE>"Download payload"</button> }.into_any()
                } else {
                    view! { <a class="btn btn-secondary" id="download-payload" href=download download=format!("{}.json", row.message_id)>"Download payload"</a> }.into_any()
                }}
                {replay_block}
            </div>
        </header>
        <Alert message=replay_error/>
        {move || replayed().map(|id| view! {
            <div class="alert alert-ok" role="status">"Replay queued. " <A href=format!("/logs/{id}")>"Follow the replay →"</A></div>
        })}
        {archived.then(|| view! { <div class="alert alert-warn" role="status">{ARCHIVED_NOTE} ". What happened (time, status, attempts) is kept."</div> })}
        <section class="card">
            <dl class="facts">
                <dt>"Message"</dt><dd><code id="message-id">{row.message_id.clone()}</code> " " <CopyButton text=row.message_id.clone()/></dd>
                <dt>"Outcome"</dt><dd>{status_badge(row.status)} " "
                    {row.last_status_code.map(|c| format!("HTTP {c}"))} {row.last_duration_ms.map(|d| format!(" · {d} ms"))}
                    {format!(" · {} attempt{}", row.attempts, if row.attempts == 1 { "" } else { "s" })}
                    {row.next_retry_at().map(|n| format!(" · next attempt {} UTC", utc(n)))}</dd>
                {row.last_error.clone().map(|e| view! { <dt>"Last error"</dt><dd>{e}</dd> })}
                {row.replay_of.clone().map(|of| view! { <dt>"Replay of"</dt><dd><A href=format!("/logs/{of}")><code>{of.clone()}</code></A></dd> })}
                <dt>"Replayed"</dt>
                <dd id="replays">{if detail.replay_ids.is_empty() {
                    view! { <span class="muted">"Never"</span> }.into_any()
                } else {
                    view! {
                        <span>{format!("{} time{}: ", detail.replay_ids.len(), if detail.replay_ids.len() == 1 { "" } else { "s" })}</span>
                        {detail.replay_ids.clone().into_iter().map(|r| view! { <A href=format!("/logs/{r}") attr:class="replay-link"><code>{r.clone()}</code></A> }).collect_view()}
                    }.into_any()
                }}</dd>
            </dl>
        </section>
        <RequestCard request=detail.request.clone() archived=archived/>
        <section class="card">
            <div class="card-header"><h2>"Attempts"</h2></div>
            {if detail.attempts.is_empty() {
                view! { <p class="muted">"Not sent yet."</p> }.into_any()
            } else {
                detail.attempts.iter().enumerate().map(|(i, a)| {
                    let response_headers = a.response_header_pairs();
                    let result = match (a.status_code, &a.error) {
                        (Some(code), _) => format!("HTTP {code}"),
                        (None, Some(_)) => "No response".to_string(),
                        (None, None) => "Sent".to_string(),
                    };
                    let ok = a.status_code.is_some_and(|c| (200..300).contains(&c)) || (a.status_code.is_none() && a.error.is_none());
                    view! {
                        <div class="attempt">
                            <div class="attempt-head">
                                <strong>{format!("Attempt {}", i + 1)}</strong>
                                <span class=if ok { "badge badge-status-succeeded" } else { "badge badge-status-failed" }>{result}</span>
                                <span class="muted small">{format!("{} UTC · {} ms", utc(a.attempted_at), a.duration_ms)}</span>
                            </div>
                            {a.error.clone().map(|e| view! { <p class="attempt-error">{e}</p> })}
                            {a.failure_class.map(|class| view! {
                                <div class="attempt-why" data-reason=class.as_str()>
                                    <p class="strong">{class.sentence()}</p>
                                    <p class="muted small">"What to do: " {class.fix()}</p>
                                </div>
                            })}
                            {(!response_headers.is_empty()).then(|| view! {
                                <details><summary>{format!("Response headers ({})", response_headers.len())}</summary>
                                    <table class="table table-compact"><tbody>{response_headers.iter().map(|(k, v)| view! { <tr><td class="mono small">{k.clone()}</td><td class="mono small">{v.clone()}</td></tr> }).collect_view()}</tbody></table>
                                </details>
                            })}
                            {match (&a.response_body, archived) {
                                (_, true) => view! { <p class="muted small">"Response body archived."</p> }.into_any(),
                                (Some(body), _) if !body.is_empty() => view! {
                                    <div class="code-head"><span class="muted small">"Response body"</span><CopyButton text=body.clone()/></div>
                                    <pre class="code" tabindex="0">{body.clone()}</pre>
                                }.into_any(),
                                _ => view! { <p class="muted small">"Empty response body."</p> }.into_any(),
                            }}
                        </div>
                    }
                }).collect_view().into_any()
            }}
        </section>
    }
}

#[component]
fn RequestCard(request: Option<RawRequest>, archived: bool) -> impl IntoView {
    let Some(request) = request else {
        return view! { <section class="card"><div class="card-header"><h2>"Request"</h2></div><p class="muted">"Sent by email: see the attempts below."</p></section> }.into_any();
    };
    let headers_text = request.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("\n");
    view! {
        <section class="card" id="raw-request">
            <div class="card-header">
                <h2>"Request"</h2>
                {match request.curl.clone() {
                    Some(curl) => view! { <CopyButton text=curl label="Copy as cURL"/> }.into_any(),
                    None => view! { <button class="btn btn-secondary btn-sm" disabled=true title=ARCHIVED_NOTE>"Copy as cURL"</button> }.into_any(),
                }}
            </div>
            <p class="request-line mono"><strong>{request.method.clone()}</strong> " " {request.url.clone()}</p>
            <div class="code-head"><span class="muted small">"Headers · the signature and auth header value are masked"</span><CopyButton text=headers_text/></div>
            <table class="table table-compact" id="request-headers"><tbody>
                {request.headers.iter().map(|(k, v)| view! { <tr><td class="mono small">{k.clone()}</td><td class="mono small">{v.clone()}</td></tr> }).collect_view()}
            </tbody></table>
            {match (request.body.clone(), archived) {
                (Some(body), false) => view! {
                    <div class="code-head"><span class="muted small">"Body"</span><CopyButton text=body.clone()/></div>
                    <pre class="code" id="request-body" tabindex="0">{body}</pre>
                }.into_any(),
                _ => view! { <p class="muted small" title=ARCHIVED_NOTE>"Body archived."</p> }.into_any(),
            }}
        </section>
    }.into_any()
}
