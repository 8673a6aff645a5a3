//! Herald's dashboard: server-rendered with Leptos and hydrated in the browser.

pub mod api;
mod components;
pub mod error;
mod pages;
#[cfg(feature = "ssr")]
pub mod session;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{path, SsrMode};

use pages::{audit, auth, endpoints, event_types, layout, logs, reference, staff, team, workspace};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="herald" href="/pkg/herald.css"/>
        <Title formatter=|title: String| if title.is_empty() { "Herald".to_string() } else { format!("{title} · Herald") }/>
        <Router>
            <Routes fallback=|| view! { <pages::NotFound/> }>
                <Route path=path!("/signin") view=auth::SignIn ssr=SsrMode::Async/>
                <Route path=path!("/signup") view=auth::SignUp ssr=SsrMode::Async/>
                <Route path=path!("/signup/sent") view=auth::SignUpSent ssr=SsrMode::Async/>
                <Route path=path!("/signup/confirm/:token") view=auth::ConfirmSignUp ssr=SsrMode::Async/>
                <Route path=path!("/invite/:token") view=auth::AcceptInvitation ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=layout::Dashboard ssr=SsrMode::Async>
                    <Route path=path!("/") view=|| view! { <Redirect path="/endpoints"/> }/>
                    <Route path=path!("/endpoints") view=endpoints::EndpointsPage/>
                    <Route path=path!("/endpoints/new") view=endpoints::NewEndpoint/>
                    <Route path=path!("/endpoints/:id") view=endpoints::EndpointDetail/>
                    <Route path=path!("/endpoints/:id/edit") view=endpoints::EditEndpoint/>
                    <Route path=path!("/event-types") view=endpoints::CatalogPage/>
                    <Route path=path!("/logs") view=logs::LogsPage/>
                    <Route path=path!("/logs/:id") view=logs::DeliveryPage/>
                    <Route path=path!("/settings") view=workspace::Settings/>
                    <Route path=path!("/team") view=team::TeamPage/>
                    <Route path=path!("/audit") view=audit::TenantAudit/>
                    <Route path=path!("/api-reference") view=reference::ApiReferencePage/>
                    <Route path=path!("/staff") view=staff::Tenants/>
                    <Route path=path!("/staff/tenants/:id") view=staff::TenantPage/>
                    <Route path=path!("/staff/search") view=staff::SearchPage/>
                    <Route path=path!("/staff/audit") view=audit::StaffAudit/>
                    <Route path=path!("/staff/platform-keys") view=staff::PlatformKeysPage/>
                    <Route path=path!("/staff/event-types") view=event_types::EventTypesPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
