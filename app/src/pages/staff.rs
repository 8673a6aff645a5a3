//! Platform staff: every tenant at a glance.

use leptos::prelude::*;

use super::layout::use_session;
use crate::api::{staff_tenants, SetTenantPlan, TenantSummary};
use crate::components::{EmptyState, LoadError, Loading, PageHeader};

#[component]
pub fn Tenants() -> impl IntoView {
    let is_operator = use_session().staff_role.as_deref() == Some("operator");
    let tenants = Resource::new(|| (), |_| staff_tenants());
    view! {
        <PageHeader title="All tenants">"Every business on this Herald installation. Read-only for support staff."</PageHeader>
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
                                <thead><tr><th>"Tenant"</th><th>"Plan"</th><th>"Endpoints"</th><th>"Members"</th><th>"Created"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|t| view! { <TenantRow tenant=t is_operator=is_operator/> }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn TenantRow(tenant: TenantSummary, is_operator: bool) -> impl IntoView {
    let set_plan = ServerAction::<SetTenantPlan>::new();
    let error = move || set_plan.value().get().and_then(Result::err).map(|e| e.message);
    let saved = move || set_plan.value().get().and_then(Result::ok).map(|label| format!("Now on {label}."));
    let id = tenant.id.clone();
    view! {
        <tr>
            <td><div class="strong">{tenant.name.clone()}</div><div class="muted small"><code>{tenant.id.clone()}</code></div></td>
            <td>
                {if is_operator {
                    view! {
                        <select class="plan-select" aria-label=format!("Plan of {}", tenant.name) on:change=move |ev| {
                            set_plan.dispatch(SetTenantPlan { tenant_id: id.clone(), plan: event_target_value(&ev) });
                        }>
                            {[("basic", "Basic · 1"), ("professional", "Professional · 3"), ("business", "Business · 5"), ("enterprise", "Enterprise · 10")]
                                .into_iter().map(|(value, label)| view! { <option value=value selected=tenant.plan == value>{label}</option> }).collect_view()}
                        </select>
                        <div class="field-error" role="alert">{error}</div>
                        <div class="hint">{saved}</div>
                    }.into_any()
                } else {
                    view! { <span class="badge badge-plan">{tenant.plan_label.clone()}</span> }.into_any()
                }}
            </td>
            <td>{tenant.endpoints} " of " {tenant.endpoint_limit}</td>
            <td>{tenant.members}</td>
            <td class="muted">{tenant.created.clone()}</td>
        </tr>
    }
}
