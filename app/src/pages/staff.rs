//! Platform staff: every tenant at a glance.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::staff_tenants;
use crate::components::{EmptyState, LoadError, Loading};

#[component]
pub fn Tenants() -> impl IntoView {
    let tenants = Resource::new(|| (), |_| staff_tenants());
    view! {
        <Title text="All tenants"/>
        <header class="page-header">
            <div>
                <h1>"All tenants"</h1>
                <p class="muted">"Every business on this Herald installation. Read-only for support staff."</p>
            </div>
        </header>
        <section class="card">
            <Suspense fallback=|| view! { <Loading/> }>
                {move || Suspend::new(async move {
                    match tenants.await {
                        Err(e) => view! { <LoadError error=e/> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <EmptyState title="No tenants yet"><p class="muted">"Tenants appear when businesses sign up or an operator creates one."</p></EmptyState>
                        }.into_any(),
                        Ok(list) => view! {
                            <table class="table" id="tenants">
                                <thead><tr><th>"Tenant"</th><th>"Plan"</th><th>"Members"</th><th>"Created"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|t| view! {
                                        <tr>
                                            <td><div class="strong">{t.name}</div><div class="muted small"><code>{t.id}</code></div></td>
                                            <td><span class="badge badge-plan">{t.plan_label}</span></td>
                                            <td>{t.members}</td>
                                            <td class="muted">{t.created}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
