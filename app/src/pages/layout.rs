//! The signed-in frame: sidebar with tenant, plan and navigation; the page in the middle.

use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};
use types::StaffRole;

use crate::api::{SessionInfo, SignOut, StopViewing, SwitchTenant};
use crate::components::{LoadError, Loading};
use crate::error::AppError;

/// The session of the signed-in user, provided to every page under the dashboard.
pub fn use_session() -> SessionInfo {
    expect_context::<SessionInfo>()
}

type SessionResult = Result<Option<SessionInfo>, AppError>;

/// The session as the page was rendered with it. The server reads it before rendering (so
/// that no page waits for it inside a suspense boundary, where resources made by the page would
/// be made again on every pass, which could leave a response unfinished) and writes it into
/// the page; hydration reads it back from there.
#[cfg(feature = "ssr")]
fn rendered_session() -> Option<SessionResult> {
    let parts = use_context::<axum::http::request::Parts>()?;
    parts.extensions.get::<crate::api::ssr::PageSession>().map(|s| s.0.clone())
}

#[cfg(not(feature = "ssr"))]
fn rendered_session() -> Option<SessionResult> {
    #[cfg(feature = "hydrate")]
    {
        let element = web_sys::window()?.document()?.get_element_by_id(SESSION_ELEMENT)?;
        serde_json::from_str(&element.get_attribute("data-session")?).ok()
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

const SESSION_ELEMENT: &str = "herald-session";

#[component]
pub fn Dashboard() -> impl IntoView {
    let Some(session) = rendered_session() else {
        // Reached by navigating in the browser from a page outside the dashboard (signing in):
        // load it from the server, which renders it with the new session.
        let location = leptos_router::hooks::use_location();
        full_reload(&format!("{}{}", location.pathname.get_untracked(), location.search.get_untracked()));
        return view! { <Loading/> }.into_any();
    };
    let data = serde_json::to_string(&session).unwrap_or_default();
    let page = match session {
        Ok(Some(info)) => {
            provide_context(info.clone());
            view! {
                <div class="shell">
                    <Sidebar info=info.clone()/>
                    <main class="content" id="main">
                        <ReadOnlyBanner info=info/>
                        <Outlet/>
                    </main>
                </div>
            }
            .into_any()
        }
        Ok(None) => view! { <Redirect path="/signin"/> }.into_any(),
        Err(e) => view! { <main class="content"><LoadError error=e/></main> }.into_any(),
    };
    view! { <div id=SESSION_ELEMENT hidden=true data-session=data></div> {page} }.into_any()
}

/// Loads `path` as a new page (the session's tenant changed: every resource must reload).
pub fn full_reload(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_href(path);
    }
    let _ = path;
}

/// Says why nothing can be changed here: staff viewing a tenant, or a suspended tenant.
#[component]
fn ReadOnlyBanner(info: SessionInfo) -> impl IntoView {
    let stop = ServerAction::<StopViewing>::new();
    // Leaving changes the whole session: load the console afresh.
    Effect::new(move |_| {
        if let Some(Ok(())) = stop.value().get() {
            full_reload("/staff");
        }
    });
    let Some(tenant) = info.tenant.clone() else { return ().into_any() };
    let role = info.staff_role.map_or("", StaffRole::as_str);
    view! {
        {info.staff_view.then(|| view! {
            <div class="banner banner-staff" id="staff-banner" role="status">
                <span>"Viewing " <strong>{tenant.name.clone()}</strong> {format!(" as {role} (read-only). Changes are refused and secrets stay hidden.")}</span>
                <button type="button" class="btn btn-secondary btn-sm" on:click=move |_| { stop.dispatch(StopViewing {}); }>"Back to the staff console"</button>
            </div>
        })}
        {tenant.suspended.then(|| view! {
            <div class="banner banner-suspended" id="suspended-banner" role="status">
                <span><strong>"This workspace is suspended."</strong>
                    " No events are accepted and nothing is delivered; the dashboard is read-only. Contact your Herald operator."</span>
            </div>
        })}
    }.into_any()
}

#[component]
fn Sidebar(info: SessionInfo) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let has_tenant = info.tenant.is_some();
    let can_read_audit = info.can_read_admin();
    let staff = info.staff_role;
    let user_label = info.display_name();
    let email = info.email.clone();
    view! {
        <aside class="sidebar">
            <A href="/" attr:class="brand"><span class="logo-mark">"H"</span>"Herald"</A>
            <TenantBadge info=info.clone()/>
            <nav class="nav" aria-label="Main">
                {has_tenant.then(|| view! {
                    <A href="/endpoints"><span class="nav-icon" aria-hidden="true">"⇢"</span>"Endpoints"</A>
                    <A href="/logs"><span class="nav-icon" aria-hidden="true">"☰"</span>"Logs"</A>
                    <A href="/event-types"><span class="nav-icon" aria-hidden="true">"◇"</span>"Event catalog"</A>
                    <A href="/team"><span class="nav-icon" aria-hidden="true">"☺"</span>"Team"</A>
                    <A href="/settings"><span class="nav-icon" aria-hidden="true">"⚙"</span>"Settings"</A>
                    {can_read_audit.then(|| view! { <A href="/audit"><span class="nav-icon" aria-hidden="true">"✎"</span>"Audit log"</A> })}
                })}
                <A href="/api-reference"><span class="nav-icon" aria-hidden="true">"{}"</span>"API reference"</A>
                {staff.map(|role| view! {
                    <p class="nav-section">{role.label()}</p>
                    <A href="/staff" exact=true><span class="nav-icon" aria-hidden="true">"▦"</span>"All tenants"</A>
                    <A href="/staff/search"><span class="nav-icon" aria-hidden="true">"⌕"</span>"Find deliveries"</A>
                    <A href="/staff/event-types"><span class="nav-icon" aria-hidden="true">"◇"</span>"Event types"</A>
                    <A href="/staff/audit"><span class="nav-icon" aria-hidden="true">"✎"</span>"Audit log, all tenants"</A>
                    {(role == StaffRole::Operator).then(|| view! {
                        <A href="/staff/platform-keys"><span class="nav-icon" aria-hidden="true">"⚷"</span>"Platform keys"</A>
                    })}
                })}
            </nav>
            <div class="user-box">
                <div class="user-name" title=email.clone()>{user_label}</div>
                <div class="user-email muted">{email}</div>
                <ActionForm action=sign_out>
                    <button type="submit" class="btn btn-ghost btn-sm" id="sign-out">"Sign out"</button>
                </ActionForm>
            </div>
        </aside>
    }
}

/// The current tenant and plan; a switcher when the user belongs to several tenants.
#[component]
fn TenantBadge(info: SessionInfo) -> impl IntoView {
    let switch = ServerAction::<SwitchTenant>::new();
    // A tenant switch changes everything on screen: load the dashboard afresh.
    Effect::new(move |_| {
        if let Some(Ok(())) = switch.value().get() {
            #[cfg(feature = "hydrate")]
            if let Some(window) = web_sys::window() {
                let _ = window.location().set_href("/endpoints");
            }
        }
    });
    let Some(tenant) = info.tenant.clone() else {
        let label = match info.staff_role {
            Some(StaffRole::Operator) => "Herald operator",
            Some(StaffRole::Support) => "Herald support",
            None => "No workspace",
        };
        return view! { <div class="tenant-box muted">{label}</div> }.into_any();
    };
    let several = info.tenants.len() > 1;
    view! {
        <div class="tenant-box">
            {if several {
                let current = tenant.id.clone();
                view! {
                    <label class="sr-only" for="tenant-switcher">"Workspace"</label>
                    <select id="tenant-switcher" class="tenant-select" on:change=move |ev| {
                        switch.dispatch(SwitchTenant { tenant_id: event_target_value(&ev) });
                    }>
                        {info.tenants.iter().map(|t| view! {
                            <option value=t.id.clone() selected=t.id == current>{t.name.clone()}</option>
                        }).collect_view()}
                    </select>
                }.into_any()
            } else {
                view! { <div class="tenant-name">{tenant.name.clone()}</div> }.into_any()
            }}
            <div class="tenant-meta">
                <span class="badge badge-plan">{tenant.plan.label()} " plan"</span>
                <span class="badge">{if info.staff_view { "read-only" } else { tenant.role.as_str() }}</span>
            </div>
        </div>
    }
    .into_any()
}
