//! What an endpoint's detail page shows about its traffic: stats with a chart per window, "send
//! test event", recovery jobs (failed or skipped deliveries sent again at a steady pace) and
//! their progress.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use types::clock::utc;
use types::stats::{EndpointStats, FailureReason, LastDelivery, Window};
use types::{DeliveryStatus, JobStatus, RecoverStatus};

use super::logs::status_badge;
use crate::api::{
    count_recoverable, endpoint_jobs, endpoint_stats, CancelJob, CatalogGroup, CountRecoverable, DeliveryView, Job, ReactivateAndRecover,
    SendTestEvent, StartRecovery,
};
use crate::components::{Alert, CopyButton, LoadError, Loading};
use crate::error::AppError;

/// The window chosen in the URL (`?window=7d`), 24 hours by default.
pub fn use_window() -> Memo<String> {
    let query = use_query_map();
    Memo::new(move |_| query.read().get("window").filter(|w| Window::parse(w).is_some()).unwrap_or_else(|| Window::Day.to_string()))
}

/// The stats of an endpoint for the window in the URL. Made by the page itself (not inside a
/// suspended view) so that hydration finds the server's answer.
/// `refresh` changes when they should be read again (a recovery job is sending).
pub fn stats_resource(
    id: impl Fn() -> String + Send + Sync + 'static,
    refresh: impl Fn() -> usize + Send + Sync + 'static,
) -> Resource<Result<EndpointStats, AppError>> {
    let window = use_window();
    Resource::new(move || (id(), window.get(), refresh()), |(id, w, _)| endpoint_stats(id, w))
}

#[component]
pub fn StatsCard(id: String, stats: Resource<Result<EndpointStats, AppError>>) -> impl IntoView {
    let window = use_window();
    let window = move || window.get();
    view! {
        <section class="card" id="endpoint-stats">
            <div class="card-header">
                <h2>"Activity"</h2>
                <nav class="tabs" aria-label="Time window">
                    {Window::ALL.iter().map(|w| {
                        let (value, label) = (w.as_str(), w.label());
                        let href = format!("/endpoints/{id}?window={value}");
                        // A plain link: the router still navigates in place, and <A> would mark every tab current.
                        view! { <a href=href class=move || if window() == value { "tab tab-active" } else { "tab" }
                            aria-current=move || (window() == value).then_some("page")>{label}</a> }
                    }).collect_view()}
                </nav>
            </div>
            <Transition fallback=|| view! { <Loading/> }>
                {move || Suspend::new(async move {
                    match stats.await {
                        Err(e) => view! { <LoadError error=e/> }.into_any(),
                        Ok(s) => view! { <StatsBody stats=s/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn StatsBody(stats: EndpointStats) -> impl IntoView {
    let rate = stats.success_rate.map(|r| format!("{:.1} %", r * 100.0)).unwrap_or_else(|| "—".into());
    let ms = |v: Option<i64>| v.map(|v| format!("{v} ms")).unwrap_or_else(|| "—".into());
    let last = match stats.last_delivery.clone() {
        None => view! { <span class="muted">"None yet"</span> }.into_any(),
        Some(LastDelivery { status, status_code, created_at, id, .. }) => view! {
            <A href=format!("/logs/{id}")>{types::clock::shown(&created_at)} " UTC"</A> " " {status_badge(status)}
            {status_code.map(|c| format!(" HTTP {c}"))}
        }
        .into_any(),
    };
    view! {
        <div class="stat-grid">
            <div class="stat"><span class="stat-value" id="stat-sent">{stats.sent}</span><span class="stat-label">"Requests sent"</span></div>
            <div class="stat stat-ok"><span class="stat-value" id="stat-succeeded">{stats.succeeded}</span><span class="stat-label">"Succeeded (2xx)"</span></div>
            <div class="stat stat-bad"><span class="stat-value" id="stat-failed">{stats.failed}</span><span class="stat-label">"Failed"</span></div>
            <div class="stat"><span class="stat-value" id="stat-rate">{rate}</span><span class="stat-label">"Success rate"</span></div>
            <div class="stat"><span class="stat-value">{ms(stats.latency_p50_ms)}</span><span class="stat-label">"Latency p50"</span></div>
            <div class="stat"><span class="stat-value">{ms(stats.latency_p95_ms)}</span><span class="stat-label">"Latency p95"</span></div>
        </div>
        <p class="last-delivery">"Last delivery: " {last}
            {(stats.gave_up > 0).then(|| view! { <span class="muted">{format!(" · {} gave up after all retries", stats.gave_up)}</span> })}</p>
        {chart(&stats)}
        {(!stats.failure_reasons.is_empty()).then(|| view! {
            <div class="failure-reasons" id="failure-reasons">
                <h3>"Why attempts failed"</h3>
                <ul>
                    {stats.failure_reasons.iter().map(|FailureReason { reason, count, message, fix }| view! {
                        <li data-reason=reason.as_str()>
                            <span class="failure-count">{format!("{count}×")}</span>
                            <div><div class="strong">{message.clone()}</div><div class="muted small">{fix.clone()}</div></div>
                        </li>
                    }).collect_view()}
                </ul>
            </div>
        })}
    }
}

/// "1 delivery", "3 deliveries".
fn deliveries(n: i64) -> String {
    format!("{n} deliver{}", if n == 1 { "y" } else { "ies" })
}

/// Round a chart's top up to 1, 2 or 5 × 10ⁿ so the grid lines read well.
fn nice_ceiling(value: i64) -> i64 {
    let mut step = 1;
    loop {
        for factor in [1, 2, 5] {
            if value <= step * factor {
                return step * factor;
            }
        }
        step *= 10;
    }
}

/// Stacked bars (succeeded below, failed above) with the axes labelled, drawn on the server as SVG.
fn chart(stats: &EndpointStats) -> impl IntoView {
    const W: f64 = 760.0;
    const H: f64 = 200.0;
    const LEFT: f64 = 44.0;
    const BOTTOM: f64 = 26.0;
    const TOP: f64 = 12.0;
    let plot_w = W - LEFT - 8.0;
    let plot_h = H - BOTTOM - TOP;
    let n = stats.bars.len().max(1);
    let top = nice_ceiling(stats.bars.iter().map(|b| b.succeeded + b.failed).max().unwrap_or(0).max(1));
    let slot = plot_w / n as f64;
    let bar_w = (slot * 0.72).max(1.0);
    let y = |v: i64| TOP + plot_h - v as f64 / top as f64 * plot_h;
    let label_every = n.div_ceil(8);
    let title = format!(
        "{} succeeded and {} failed requests over the last {}, one bar per {}",
        stats.succeeded,
        stats.failed,
        stats.window.label(),
        stats.bar_width()
    );
    let grid = [0, top / 2, top]
        .into_iter()
        .filter(|v| *v == 0 || *v == top || top % 2 == 0)
        .map(|v| {
            view! {
                <line x1=LEFT x2=W - 8.0 y1=y(v) y2=y(v) class="chart-grid"/>
                <text x=LEFT - 6.0 y=y(v) + 4.0 text-anchor="end" class="chart-axis">{v}</text>
            }
        })
        .collect_view();
    let bars = stats
        .bars
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let x = LEFT + i as f64 * slot + (slot - bar_w) / 2.0;
            let ok_top = y(b.succeeded);
            let bad_top = y(b.succeeded + b.failed);
            let label = stats.window.bar_label(b.start_ms);
            let tip = format!("{label}: {} succeeded, {} failed", b.succeeded, b.failed);
            view! {
                <g>
                    <title>{tip}</title>
                    <rect x=x y=ok_top width=bar_w height=TOP + plot_h - ok_top class="chart-ok"/>
                    <rect x=x y=bad_top width=bar_w height=ok_top - bad_top class="chart-bad"/>
                    {(i % label_every == 0).then(|| view! {
                        <text x=x + bar_w / 2.0 y=H - 8.0 text-anchor="middle" class="chart-axis">{label}</text>
                    })}
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=title.clone() preserveAspectRatio="none">
                {grid}
                {bars}
            </svg>
            <figcaption class="chart-legend">
                <span class="legend-ok">{format!("■ {} succeeded", stats.succeeded)}</span>
                <span class="legend-bad">{format!("■ {} failed", stats.failed)}</span>
                <span class="muted">{format!("one bar per {} · UTC", stats.bar_width())}</span>
            </figcaption>
        </figure>
    }
}

/// "Send test event": the endpoint's event types (all of them for "every event"), sent at once,
/// the answer shown in place.
#[component]
pub fn TestEventCard(id: String, subscribed: Vec<String>, catalog: Resource<Result<Vec<CatalogGroup>, AppError>>) -> impl IntoView {
    let send = ServerAction::<SendTestEvent>::new();
    let every = subscribed.iter().any(|t| t == "*");
    let error = Signal::derive(move || send.value().get().and_then(Result::err).map(|e| e.message));
    view! {
        <section class="card" id="test-event">
            <div class="card-header"><h2>"Send a test event"</h2></div>
            <p class="muted">"Herald sends the catalog's sample payload for the type you choose, signed like any delivery, once and without retries. It is labelled Test in the log."</p>
            <ActionForm action=send attr:class="inline-form">
                <input type="hidden" name="endpoint_id" value=id/>
                <label class="filter">"Event type"
                    <Suspense fallback=|| view! { <select disabled=true><option>"Loading…"</option></select> }>
                        {
                            let subscribed = subscribed.clone();
                            move || {
                                let subscribed = subscribed.clone();
                                Suspend::new(async move {
                                    let types: Vec<String> = catalog.await.unwrap_or_default().into_iter()
                                        .flat_map(|g| g.types.into_iter().map(|t| t.name))
                                        .filter(|t| every || subscribed.contains(t))
                                        .collect();
                                    view! { <select name="event_type" id="test-event-type">{types.into_iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}</select> }
                                })
                            }
                        }
                    </Suspense>
                </label>
                <button type="submit" class="btn btn-primary btn-sm" disabled=move || send.pending().get()>
                    {move || if send.pending().get() { "Sending…" } else { "Send test event" }}
                </button>
            </ActionForm>
            <Alert message=error/>
            {move || send.value().get().and_then(Result::ok).map(|d| view! { <TestResult delivery=d/> })}
        </section>
    }
}

#[component]
fn TestResult(delivery: DeliveryView) -> impl IntoView {
    let row = &delivery.detail.delivery;
    let ok = row.status == DeliveryStatus::Succeeded;
    let attempt = delivery.detail.attempts.first().cloned();
    let summary = match (&attempt, ok) {
        (Some(a), true) => {
            format!("Delivered: {} in {} ms.", a.status_code.map(|c| format!("HTTP {c}")).unwrap_or_else(|| "sent".into()), a.duration_ms)
        }
        (Some(a), false) => format!("Not delivered: {}", a.error.clone().unwrap_or_else(|| "the receiver did not accept it".into())),
        (None, _) => format!("Not sent: {}", row.last_error.clone().unwrap_or_default()),
    };
    let body = attempt.and_then(|a| a.response_body).filter(|b| !b.is_empty());
    view! {
        <div class=if ok { "test-result alert alert-ok" } else { "test-result alert alert-error" } role="status" id="test-result">
            <p><strong>{summary}</strong> " " <A href=format!("/logs/{}", row.id)>"See the request and response →"</A></p>
            {body.map(|b| view! { <div class="code-head"><span class="small">"Response body"</span><CopyButton text=b.clone()/></div><pre class="code code-small" tabindex="0">{b}</pre> })}
        </div>
    }
}

/// Admins: send again every failed delivery since a time, after seeing how many that is. A
/// paced job does it; it shows up in [`JobsCard`].
#[component]
pub fn RecoverCard(id: String, active: bool, run: ServerAction<StartRecovery>) -> impl IntoView {
    let preview = ServerAction::<CountRecoverable>::new();
    let (since, set_since) = signal(String::new());
    let error = Signal::derive(move || {
        run.value().get().and_then(Result::err).or_else(|| preview.value().get().and_then(Result::err)).map(|e| e.message)
    });
    let counted = move || preview.value().get().and_then(Result::ok);
    let started = move || run.value().get().and_then(Result::ok).filter(|job| job.source_status == RecoverStatus::Failed);
    let (preview_id, run_id) = (id.clone(), id);
    view! {
        <section class="card" id="recover">
            <div class="card-header"><h2>"Recover failed deliveries"</h2></div>
            <p class="muted">"Send again every delivery to this endpoint that failed after all its retries, from a time you choose. A recovery job sends them at a steady pace (50 a second), oldest first; you can follow and cancel it. Each is a new delivery labelled Replay; deliveries already replayed are left out."</p>
            {(!active).then(|| view! { <div class="alert alert-warn" role="status">"Reactivate the endpoint first: nothing can be sent to it while it is inactive."</div> })}
            <form class="inline-form" on:submit=move |ev| {
                ev.prevent_default();
                run.clear();
                preview.dispatch(CountRecoverable { endpoint_id: preview_id.clone(), status: "failed".into(), since: since.get_untracked() });
            }>
                <label class="filter" for="recover-since">"Failed since (UTC)"
                    <input type="datetime-local" id="recover-since" required=true
                        on:input=move |ev| { set_since.set(event_target_value(&ev)); preview.clear(); }/>
                </label>
                <button type="submit" class="btn btn-secondary btn-sm" disabled=move || preview.pending().get()>"Count deliveries"</button>
            </form>
            <Alert message=error/>
            {move || match (counted(), started()) {
                (_, Some(job)) => view! { <div class="alert alert-ok" role="status" id="recover-done">{format!("Recovery job started: {} at {} per second. Follow it under Recovery jobs.", deliveries(job.total), job.rate_per_second)}</div> }.into_any(),
                (Some(0), None) => view! { <p class="muted" id="recover-count">"No failed deliveries to recover since then."</p> }.into_any(),
                (Some(n), None) => {
                    let id = run_id.clone();
                    view! {
                        <div class="confirm-ask" id="recover-count">
                            <span class="recover-question">{format!("{} will be sent again.", deliveries(n).replacen(' ', " failed ", 1))}</span>
                            <button type="button" class="btn btn-primary btn-sm" disabled=move || run.pending().get() on:click=move |_| {
                                run.dispatch(StartRecovery { endpoint_id: id.clone(), status: "failed".into(), since: since.get_untracked() });
                                preview.clear();
                            }>{format!("Recover {n}")}</button>
                            <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| preview.clear()>"Cancel"</button>
                        </div>
                    }.into_any()
                }
                (None, None) => ().into_any(),
            }}
        </section>
    }
}

/// How many skipped deliveries of the endpoint wait to be recovered; only admins may recover,
/// so for anyone else it is not asked.
pub fn skipped_resource(
    id: impl Fn() -> String + Send + Sync + 'static,
    is_admin: bool,
    refresh: impl Fn() -> usize + Send + Sync + 'static,
) -> Resource<Result<i64, AppError>> {
    Resource::new(
        move || (id(), refresh()),
        move |(id, _)| async move {
            if !is_admin {
                return Ok(0);
            }
            // A job already on it: no second offer (one job at a time per endpoint).
            if endpoint_jobs(id.clone()).await?.iter().any(Job::is_running) {
                return Ok(0);
            }
            count_recoverable(id, "skipped".into(), String::new()).await
        },
    )
}

fn were_skipped(n: i64) -> String {
    format!("{n} event{} skipped while this endpoint was inactive.", if n == 1 { " was" } else { "s were" })
}

/// After reactivation: offers to send what was recorded as skipped while the endpoint was off.
#[component]
pub fn SkippedOffer(id: String, skipped: Resource<Result<i64, AppError>>, run: ServerAction<StartRecovery>) -> impl IntoView {
    view! {
        <div class="offer-slot">
        <Suspense fallback=|| ()>
            {move || {
                let id = id.clone();
                Suspend::new(async move {
                    match (skipped.await, run.value().get()) {
                        (_, Some(Ok(job))) if job.source_status == RecoverStatus::Skipped => view! { <div class="alert alert-ok" role="status" id="skipped-offer">{format!("Recovery job started: {} on their way.", deliveries(job.total).replacen(' ', " skipped ", 1))}</div> }.into_any(),
                        (Ok(n), _) if n > 0 => view! {
                            <div class="alert alert-warn offer" role="status" id="skipped-offer">
                                <span>{were_skipped(n)}</span>
                                <button type="button" class="btn btn-primary btn-sm" disabled=move || run.pending().get() on:click=move |_| {
                                    run.dispatch(StartRecovery { endpoint_id: id.clone(), status: "skipped".into(), since: String::new() });
                                }>{format!("Send {} now", if n == 1 { "it" } else { "them" })}</button>
                            </div>
                        }.into_any(),
                        _ => ().into_any(),
                    }
                })
            }}
        </Suspense>
        </div>
    }
}

/// On an inactive endpoint with skipped events: reactivate and send them, in one action.
#[component]
pub fn ReactivateAndSend(id: String, skipped: Resource<Result<i64, AppError>>, run: ServerAction<ReactivateAndRecover>) -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let id = id.clone();
                Suspend::new(async move {
                    match skipped.await {
                        Ok(n) if n > 0 => view! {
                            <button type="button" class="btn btn-primary" id="reactivate-and-send" title=were_skipped(n)
                                disabled=move || run.pending().get()
                                on:click=move |_| { run.dispatch(ReactivateAndRecover { id: id.clone() }); }>
                                {format!("Reactivate and send {n} skipped")}
                            </button>
                        }.into_any(),
                        _ => ().into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The endpoint's recovery jobs: progress while running (the page polls), and how each ended.
#[component]
pub fn JobsCard(jobs: Resource<Result<Vec<Job>, AppError>>, cancel: ServerAction<CancelJob>, can_cancel: bool) -> impl IntoView {
    let cancel_error = Signal::derive(move || cancel.value().get().and_then(Result::err).map(|e| e.message));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match jobs.await {
                    Ok(list) if !list.is_empty() => view! {
                        <section class="card" id="jobs">
                            <div class="card-header"><h2>"Recovery jobs"</h2></div>
                            <Alert message=cancel_error/>
                            <ul class="job-list">
                                {list.into_iter().map(|job| view! { <JobItem job=job cancel=cancel can_cancel=can_cancel/> }).collect_view()}
                            </ul>
                        </section>
                    }.into_any(),
                    Ok(_) => ().into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Where a job's range starts: a time, or "the start" for everything.
fn since(ms: i64) -> String {
    if ms == 0 {
        "the start".into()
    } else {
        utc(ms)
    }
}

#[component]
fn JobItem(job: Job, cancel: ServerAction<CancelJob>, can_cancel: bool) -> impl IntoView {
    let (label, badge) = match job.status {
        JobStatus::Running => ("running", "badge-info"),
        JobStatus::Completed => ("completed", "badge-ok"),
        JobStatus::Cancelled => ("cancelled", "badge-muted"),
        JobStatus::Failed => ("stopped", "badge-off"),
    };
    let percent = job.percent();
    let id = job.id.clone();
    let running = job.is_running();
    view! {
        <li class="job" id=format!("job-{}", job.id) data-status=job.status.as_str()>
            <div class="job-head">
                <strong>{format!("Sending {} again", deliveries(job.total).replacen(' ', &format!(" {} ", job.source_status), 1))}</strong>
                <span class=format!("badge {badge}")>{label}</span>
                {(running && can_cancel).then(|| view! {
                    <button type="button" class="btn btn-secondary btn-sm job-cancel" disabled=move || cancel.pending().get()
                        on:click=move |_| { cancel.dispatch(CancelJob { id: id.clone() }); }>"Cancel job"</button>
                })}
            </div>
            <div class="progress" role="progressbar" aria-label="Queued again" aria-valuemin="0"
                aria-valuemax=job.total aria-valuenow=job.done>
                <div class="progress-fill" style=format!("width: {percent}%")></div>
            </div>
            <p class="muted small job-figures">
                {format!("{} of {} queued again · {} delivered · {} not delivered yet · {} per second",
                    job.done, job.total, job.delivered, job.failed, job.rate_per_second)}
                <br/>
                {format!("Started {} UTC by {}, for deliveries since {}", utc(job.created_at), job.created_by, since(job.since))}
                {job.finished_at.map(|at| format!("; ended {} UTC", utc(at)))}
            </p>
            {job.error.clone().map(|e| view! { <p class="small job-error">{format!("Stopped: {e}.")}</p> })}
        </li>
    }
}
