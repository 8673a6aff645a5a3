pub mod activity;
pub mod audit;
pub mod auth;
pub mod endpoints;
pub mod event_types;
pub mod layout;
pub mod logs;
pub mod reference;
pub mod staff;
pub mod team;
pub mod workspace;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <main class="auth-page">
            <section class="auth-card">
                <h1>"Page not found"</h1>
                <p class="muted">"There is nothing at this address, or you do not have access to it."</p>
                <A href="/" attr:class="btn btn-primary">"Back to the dashboard"</A>
            </section>
        </main>
    }
}
