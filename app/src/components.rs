//! Small building blocks shared by the pages.

use leptos::prelude::*;

use crate::error::AppError;

/// A labelled input with its error message underneath. `error` yields the message for this
/// field, if the last submission failed because of it.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] value: String,
    #[prop(optional)] required: bool,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                placeholder=placeholder
                value=value
                required=required
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby=error_id.clone()
            />
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=error_id role="alert">{move || error.get()}</p>
        </div>
    }
}

/// The failure of an action's last submission, if it failed.
pub fn last_error<O, F>(value: F) -> Signal<Option<AppError>>
where
    O: 'static,
    F: Fn() -> Option<Result<O, AppError>> + Send + Sync + 'static,
{
    Signal::derive(move || value().and_then(Result::err))
}

/// The message for `field`, from the last submission's error.
pub fn field_error(error: Signal<Option<AppError>>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || error.get().and_then(|e| e.for_field(field)))
}

/// The message of an error that has no field of its own on the form.
pub fn form_error(error: Signal<Option<AppError>>, fields: &'static [&'static str]) -> Signal<Option<String>> {
    Signal::derive(move || error.get().filter(|e| e.field.as_deref().is_none_or(|f| !fields.contains(&f))).map(|e| e.message))
}

#[component]
pub fn Alert(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    move || message.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })
}

/// Shown where a list has nothing in it yet.
#[component]
pub fn EmptyState(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="empty-state">
            <div class="empty-icon" aria-hidden="true">"◎"</div>
            <h3>{title}</h3>
            {children()}
        </div>
    }
}

#[component]
pub fn Loading() -> impl IntoView {
    view! { <div class="loading" aria-busy="true"><span class="spinner"></span>"Loading…"</div> }
}

/// A page-level failure (the server could not answer).
#[component]
pub fn LoadError(error: AppError) -> impl IntoView {
    view! { <div class="alert alert-error" role="alert">{error.message}</div> }
}

/// A destructive action that asks before it acts: the first click reveals the question,
/// `children` (a form whose submit button confirms) and "Cancel".
#[component]
pub fn Confirm(
    label: &'static str,
    question: String,
    #[prop(default = "btn btn-ghost btn-sm btn-danger-text")] button_class: &'static str,
    children: Children,
) -> impl IntoView {
    let (asking, set_asking) = signal(false);
    // Pressing the action's own button answers the question: it closes rather than lingering
    // beside the result (the action's handler, or its form's submit, still runs).
    let answered = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let on_button =
                ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).and_then(|e| e.closest("button").ok().flatten());
            if on_button.is_some() {
                set_asking.set(false);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, set_asking);
    };
    view! {
        <div class="confirm">
            <button type="button" class=button_class class:hidden=move || asking.get()
                on:click=move |_| set_asking.set(true)>{label}</button>
            <div class="confirm-ask" class:hidden=move || !asking.get()>
                <span class="confirm-question">{question}</span>
                <span class="confirm-action" on:click=answered>{children()}</span>
                <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| set_asking.set(false)>"Cancel"</button>
            </div>
        </div>
    }
}

/// Copies `text` to the clipboard and says so for a moment.
#[component]
pub fn CopyButton(#[prop(into)] text: String, #[prop(default = "Copy")] label: &'static str) -> impl IntoView {
    let (copied, set_copied) = signal(false);
    let _ = &text; // only read in the browser
    let on_click = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().clipboard().write_text(&text);
        }
        set_copied.set(true);
    };
    view! {
        <button type="button" class="btn btn-secondary btn-sm" on:click=on_click>
            {move || if copied.get() { "Copied" } else { label }}
        </button>
    }
}

/// A page's title (also the browser tab's) with a line saying what the page is for.
#[component]
pub fn PageHeader(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <leptos_meta::Title text=title/>
        <header class="page-header">
            <div>
                <h1>{title}</h1>
                <p class="muted">{children()}</p>
            </div>
        </header>
    }
}
