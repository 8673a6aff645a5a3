//! The operator console's event catalog: the built-in types and the platform's own, each with
//! its description, sample and schema; operators define, change, deprecate and restore the
//! platform's types, support staff read. Anyone else gets "not found".

use leptos::prelude::*;
use leptos_meta::Title;

use super::staff::StaffNotFound;
use crate::api::{staff_event_types, CatalogEntry, CreateEventType, SetEventTypeDeprecated, StaffCatalog, UpdateEventType};
use crate::components::{field_error, form_error, last_error, Alert, Confirm, EmptyState, LoadError, Loading};

const SAMPLE_PLACEHOLDER: &str = "{\n  \"id\": \"vch_5Jq2\",\n  \"code\": \"SPRING-25\",\n  \"amount\": 2500,\n  \"currency\": \"EUR\"\n}";

#[component]
pub fn EventTypesPage() -> impl IntoView {
    if super::layout::use_session().staff_role.is_none() {
        return view! { <StaffNotFound/> }.into_any();
    }
    let create = ServerAction::<CreateEventType>::new();
    let catalog = Resource::new(move || create.version().get(), |_| staff_event_types());
    view! {
        <Title text="Event catalog"/>
        <header class="page-header">
            <div>
                <h1>"Event catalog"</h1>
                <p class="muted">"The event types every tenant can subscribe to: Herald's built-in ones and the platform's own. "
                    "A deprecated type is no longer offered to new subscriptions; endpoints that have it keep receiving it."</p>
            </div>
        </header>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match catalog.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(catalog) => view! { <CatalogView catalog=catalog create=create/> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn CatalogView(catalog: StaffCatalog, create: ServerAction<CreateEventType>) -> impl IntoView {
    let can_edit = catalog.can_edit;
    let custom_count = catalog.custom.len();
    let built_in_count = catalog.built_in.len();
    view! {
        {can_edit.then(|| view! { <CreateCard create=create/> })}
        <section class="card" id="custom-types">
            <div class="card-header">
                <h2>"The platform's types"</h2>
                <span class="muted small">{match custom_count { 1 => "1 type".to_string(), n => format!("{n} types") }}</span>
            </div>
            {if catalog.custom.is_empty() {
                view! {
                    <EmptyState title="No custom types yet">
                        <p class="muted">{if can_edit {
                            "Define one above: it appears in every tenant's endpoint form at once, and ingest accepts it."
                        } else {
                            "Operators define them here; until then tenants see the built-in types below."
                        }}</p>
                    </EmptyState>
                }.into_any()
            } else {
                catalog.custom.into_iter().map(|entry| view! { <CustomType entry=entry can_edit=can_edit/> }).collect_view().into_any()
            }}
        </section>
        <section class="card" id="built-in-types">
            <div class="card-header">
                <h2>"Built-in types"</h2>
                <span class="muted small">{built_in_count} " types · shipped with Herald, read-only"</span>
            </div>
            {catalog.resources.into_iter().filter_map(|(resource, label)| {
                let types: Vec<CatalogEntry> = catalog.built_in.iter().filter(|t| t.resource == resource).cloned().collect();
                (!types.is_empty()).then(|| view! {
                    <h3 class="catalog-resource">{label}</h3>
                    {types.into_iter().map(|entry| view! {
                        <details class="catalog-type">
                            <summary><span class="mono strong">{entry.name.clone()}</span> <span class="muted">{entry.description.clone()}</span></summary>
                            <JsonPair entry=entry/>
                        </details>
                    }).collect_view()}
                })
            }).collect_view()}
        </section>
    }
}

/// The sample and the schema side by side.
#[component]
fn JsonPair(entry: CatalogEntry) -> impl IntoView {
    let schema_title = if entry.schema_given { "Schema" } else { "Schema (derived from the sample)" };
    view! {
        <div class="json-pair">
            <div><h3>"Sample data"</h3><pre class="json" tabindex="0">{entry.sample}</pre></div>
            <div><h3>{schema_title}</h3><pre class="json" tabindex="0">{entry.schema}</pre></div>
        </div>
    }
}

/// A labelled textarea for JSON, with its hint and its error.
#[component]
fn JsonField(
    id: String,
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    #[prop(optional)] value: String,
    #[prop(optional)] placeholder: &'static str,
    message: Signal<Option<String>>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field" class:has-error=move || message.get().is_some()>
            <label for=id.clone()>{label}</label>
            <textarea id=id name=name class="mono" rows="8" spellcheck="false" placeholder=placeholder aria-describedby=hint_id.clone()
                aria-invalid=move || if message.get().is_some() { "true" } else { "false" }>{value}</textarea>
            <p class="hint" id=hint_id>{hint}</p>
            <p class="field-error" role="alert">{move || message.get()}</p>
        </div>
    }
}

#[component]
fn CreateCard(create: ServerAction<CreateEventType>) -> impl IntoView {
    let error = last_error(move || create.value().get());
    let pending = create.pending();
    let created = move || create.value().get().and_then(Result::ok);
    // A type added: the form is ready for the next one.
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(form)) = (create.value().get(), form.get()) {
            form.reset();
        }
    });
    view! {
        <section class="card" id="create-event-type">
            <div class="card-header"><h2>"Define an event type"</h2><span class="muted small">"Offered to every tenant at once"</span></div>
            <ActionForm action=create node_ref=form>
                <div class="form-row-2">
                    <div class="field" class:has-error=move || field_error(error, "type").get().is_some()>
                        <label for="new-type-name">"Name"</label>
                        <input id="new-type-name" name="name" class="mono" placeholder="voucher.redeemed" maxlength="100" required=true
                            autocomplete="off" spellcheck="false" aria-describedby="new-type-name-hint"/>
                        <p class="hint" id="new-type-name-hint">"Dotted lower-case words like the built-in types; the first word is its resource."</p>
                        <p class="field-error" role="alert">{move || field_error(error, "type").get()}</p>
                    </div>
                    <div class="field field-grow" class:has-error=move || field_error(error, "description").get().is_some()>
                        <label for="new-type-description">"Description"</label>
                        <input id="new-type-description" name="description" placeholder="A client redeemed a gift voucher." maxlength="500" required=true/>
                        <p class="hint">"When this event happens, in one sentence for the tenants."</p>
                        <p class="field-error" role="alert">{move || field_error(error, "description").get()}</p>
                    </div>
                </div>
                <div class="form-row-2">
                    <div class="field-grow">
                        <JsonField id="new-type-sample".into() name="sample" label="Sample data (JSON object)" placeholder=SAMPLE_PLACEHOLDER
                            hint="Sent by \"send test event\" and shown in the catalog." message=field_error(error, "sample")/>
                    </div>
                    <div class="field-grow">
                        <JsonField id="new-type-schema".into() name="schema" label="JSON Schema (optional)"
                            hint="Draft 2020-12. Empty: derived from the sample. The sample must match it." message=field_error(error, "schema")/>
                    </div>
                </div>
                <Alert message=form_error(error, &["type", "description", "sample", "schema"])/>
                <div class="form-actions-inline">
                    <button type="submit" class="btn btn-primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Adding…" } else { "Add event type" }}
                    </button>
                    {move || created().map(|t| view! {
                        <span class="hint" role="status" id="type-created">"Added " <span class="mono">{t.name}</span> "."</span>
                    })}
                </div>
            </ActionForm>
        </section>
    }
}

/// One of the platform's types: what it is, and for operators its edit form and deprecation.
#[component]
fn CustomType(entry: CatalogEntry, can_edit: bool) -> impl IntoView {
    let update = ServerAction::<UpdateEventType>::new();
    let deprecate = ServerAction::<SetEventTypeDeprecated>::new();
    let shown = RwSignal::new(entry.clone());
    Effect::new(move |_| {
        if let Some(Ok(saved)) = update.value().get() {
            shown.set(saved);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(saved)) = deprecate.value().get() {
            shown.set(saved);
        }
    });
    let error = last_error(move || update.value().get());
    let saved = move || matches!(update.value().get(), Some(Ok(_)));
    let deprecate_error = Signal::derive(move || deprecate.value().get().and_then(Result::err).map(|e| e.message));
    let slug = entry.name.replace('.', "-");
    let details_id = format!("type-{slug}");
    let name = entry.name.clone();
    view! {
        <details class="catalog-type custom-type" id=details_id>
            <summary>
                <span class="mono strong">{name.clone()}</span>
                <span class="badge badge-info">"custom"</span>
                {move || shown.get().deprecated.then(|| view! { <span class="badge badge-muted">"deprecated"</span> })}
                <span class="muted">{move || shown.get().description}</span>
            </summary>
            {move || view! { <JsonPair entry=shown.get()/> }}
            <p class="muted small">{move || shown.get().updated.map(|u| format!("Last changed {u}."))}
                {move || if shown.get().deprecated {
                    " Deprecated: not offered to new subscriptions; endpoints that have it still receive it."
                } else {
                    " Offered to every tenant's subscriptions."
                }}</p>
            {can_edit.then(|| {
                let (edit_id, deprecate_name, restore_name) = (format!("edit-{slug}"), name.clone(), name.clone());
                view! {
                    <div class="type-edit">
                        <h3>"Change " <span class="mono">{name.clone()}</span></h3>
                        <ActionForm action=update attr:id=edit_id>
                            <input type="hidden" name="name" value=name.clone()/>
                            <div class="field" class:has-error=move || field_error(error, "description").get().is_some()>
                                <label for=format!("{slug}-description")>"Description"</label>
                                <input id=format!("{slug}-description") name="description" value=entry.description.clone() maxlength="500"/>
                                <p class="field-error" role="alert">{move || field_error(error, "description").get()}</p>
                            </div>
                            <div class="form-row-2">
                                <div class="field-grow">
                                    <JsonField id=format!("{slug}-sample") name="sample" label="Sample data (JSON object)" value=entry.sample.clone()
                                        hint="Sent by \"send test event\"." message=field_error(error, "sample")/>
                                </div>
                                <div class="field-grow">
                                    <JsonField id=format!("{slug}-schema") name="schema" label="JSON Schema (optional)"
                                        value=if entry.schema_given { entry.schema.clone() } else { String::new() }
                                        hint="Empty: derived from the sample." message=field_error(error, "schema")/>
                                </div>
                            </div>
                            <Alert message=form_error(error, &["description", "sample", "schema"])/>
                            <div class="form-actions-inline">
                                <button type="submit" class="btn btn-primary btn-sm" disabled=move || update.pending().get()>
                                    {move || if update.pending().get() { "Saving…" } else { "Save changes" }}
                                </button>
                                {move || saved().then(|| view! { <span class="hint" role="status">"Saved."</span> })}
                            </div>
                        </ActionForm>
                        <Alert message=deprecate_error/>
                        {move || if shown.get().deprecated {
                            let name = restore_name.clone();
                            view! {
                                <button type="button" class="btn btn-secondary btn-sm"
                                    on:click=move |_| { deprecate.dispatch(SetEventTypeDeprecated { name: name.clone(), deprecated: false }); }>
                                    "Offer it to new subscriptions again"
                                </button>
                            }.into_any()
                        } else {
                            let name = deprecate_name.clone();
                            view! {
                                <Confirm label="Deprecate" question=format!("Deprecate {name}? Tenants can no longer add it; endpoints that have it keep receiving it.")>
                                    <button type="button" class="btn btn-danger btn-sm"
                                        on:click={
                                            let name = name.clone();
                                            move |_| { deprecate.dispatch(SetEventTypeDeprecated { name: name.clone(), deprecated: true }); }
                                        }>"Yes, deprecate"</button>
                                </Confirm>
                            }.into_any()
                        }}
                    </div>
                }
            })}
        </details>
    }
}
