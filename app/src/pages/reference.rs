//! The API reference: the server's generated OpenAPI document (`/api/v1/openapi.json`) as a
//! page: operations by tag with their parameters, body fields, answers and a cURL example.
//! Rendered here, from the document; nothing is loaded from elsewhere.

use leptos::prelude::*;

use crate::api::{api_reference, ApiReferenceDoc, FieldDoc, OperationDoc, ResponseDoc, SchemaDoc, Section};
use crate::components::{CopyButton, LoadError, Loading, PageHeader};

#[component]
pub fn ApiReferencePage() -> impl IntoView {
    let reference = Resource::new(|| (), |_| api_reference());
    view! {
        <PageHeader title="API reference">
            "Every route of the HTTP API, generated from Herald's code. The same description, for tools and code generators, is at "
            <a href="/api/v1/openapi.json" id="openapi-json">"/api/v1/openapi.json"</a> "."
        </PageHeader>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match reference.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(r) => view! { <Reference reference=r/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Reference(reference: ApiReferenceDoc) -> impl IntoView {
    let ApiReferenceDoc { title, version, intro, base_url, sections } = reference;
    let toc = sections.clone();
    view! {
        <div class="ref-layout">
            <nav class="ref-toc" aria-label="API sections">
                <p class="ref-toc-title">"On this page"</p>
                <a href="#overview" class="ref-toc-section">"Overview"</a>
                {toc.into_iter().map(|s| view! {
                    <a href=format!("#{}", s.anchor) class="ref-toc-section">{s.name.clone()}</a>
                    <ul>
                        {s.operations.into_iter().map(|op| view! {
                            <li><a href=format!("#{}", op.anchor)><MethodBadge method=op.method.clone()/><span>{op.summary.clone()}</span></a></li>
                        }).collect_view()}
                    </ul>
                }).collect_view()}
            </nav>
            <div class="ref-main">
                <section class="card ref-intro" id="overview">
                    <div class="card-header"><h2>{title} " " <span class="badge badge-soft">"v" {version}</span></h2></div>
                    {intro.into_iter().map(|p| view! { <p>{rich(&p)}</p> }).collect_view()}
                    <dl class="facts">
                        <dt>"Base URL"</dt><dd><code id="base-url">{base_url}</code></dd>
                        <dt>"Authentication"</dt><dd><code>"Authorization: Bearer hk_…"</code>" — create a key in "<a href="/settings#api-keys">"Settings → API keys"</a>"; the booking platform's key is "<code>"hkp_…"</code></dd>
                        <dt>"Errors"</dt><dd><code>"{\"error\": {\"code\": \"invalid_field\", \"message\": \"…\", \"field\": \"url\"}}"</code></dd>
                    </dl>
                    <p class="hint">"The examples read the key from " <code>"$HERALD_API_KEY"</code> " (the platform's routes: " <code>"$HERALD_PLATFORM_KEY"</code> ")."</p>
                </section>
                {sections.into_iter().map(|s| view! { <ApiSection section=s/> }).collect_view()}
            </div>
        </div>
    }
}

#[component]
fn ApiSection(section: Section) -> impl IntoView {
    view! {
        <section class="ref-section" id=section.anchor.clone()>
            <h2 class="ref-section-title">{section.name.clone()}</h2>
            {(!section.description.is_empty()).then(|| view! { <p class="muted">{rich(&section.description)}</p> })}
            {section.operations.into_iter().map(|op| view! { <Operation op=op/> }).collect_view()}
        </section>
    }
}

#[component]
fn Operation(op: OperationDoc) -> impl IntoView {
    let OperationDoc { anchor, method, path, summary, description, public, parameters, body, responses, curl } = op;
    view! {
        <article class="card ref-op" id=anchor.clone() aria-labelledby=format!("{anchor}-title")>
            <header class="ref-op-head">
                <h3 id=format!("{anchor}-title")>{summary}</h3>
                <div class="ref-op-line">
                    <MethodBadge method=method/>
                    <code class="ref-path">{path}</code>
                    {public.then(|| view! { <span class="badge badge-ok badge-soft">"No key needed"</span> })}
                </div>
            </header>
            {(!description.is_empty()).then(|| view! { <p class="ref-description">{rich(&description)}</p> })}
            {(!parameters.is_empty()).then(|| view! {
                <h4 class="ref-label">"Parameters"</h4>
                <div class="ref-params"><FieldTable fields=parameters with_location=true marks=true/></div>
            })}
            {body.map(|body| view! {
                <h4 class="ref-label">"Request body " <span class="muted">"application/json · " {body.name.clone()}</span></h4>
                <div class="ref-body"><FieldTable fields=body.fields with_location=false marks=true/></div>
            })}
            <h4 class="ref-label">"Responses"</h4>
            <ul class="ref-responses">
                {responses.into_iter().map(|r| view! { <Response response=r/> }).collect_view()}
            </ul>
            <div class="code-head">
                <h4 class="ref-label">"Example"</h4>
                <CopyButton text=curl.clone() label="Copy cURL"/>
            </div>
            <pre class="code ref-curl" tabindex="0" aria-label="Example request">{curl}</pre>
        </article>
    }
}

#[component]
fn MethodBadge(method: String) -> impl IntoView {
    view! { <span class=format!("method method-{}", method.to_lowercase())>{method.clone()}</span> }
}

#[component]
/// Parameters or fields; `marks`: show which are required (in requests; a response's
/// fields are always there, `null` where the type says so).
fn FieldTable(fields: Vec<FieldDoc>, with_location: bool, marks: bool) -> impl IntoView {
    view! {
        <table class="table table-compact ref-fields">
            <thead><tr>
                <th>{if with_location { "Name" } else { "Field" }}</th>
                {with_location.then(|| view! { <th>"In"</th> })}
                <th>"Type"</th>
                <th>"Description"</th>
            </tr></thead>
            <tbody>
                {fields.into_iter().map(|f| {
                    let depth = f.name.matches('.').count();
                    view! {
                        <tr>
                            <td class="ref-field-name" style=format!("padding-left: {}px", 10 + depth * 14)>
                                // Nested fields show their own name, indented under their parent's.
                                <code title=f.name.clone() data-field=f.name.clone()>{f.name.rsplit('.').next().unwrap_or_default().to_string()}</code>
                                {(marks && f.required).then(|| view! { <span class="ref-required" title="Required">"required"</span> })}
                            </td>
                            {with_location.then(|| view! { <td class="muted">{f.location.clone()}</td> })}
                            <td class="ref-type">{f.type_label.clone()}{f.nullable.then_some(" or null")}</td>
                            <td>
                                {rich(&f.description)}
                                {(!f.constraints.is_empty()).then(|| view! {
                                    <div class="ref-constraints">{f.constraints.iter().map(|c| view! { <span class="chip">{c.clone()}</span> }).collect_view()}</div>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn Response(response: ResponseDoc) -> impl IntoView {
    let ResponseDoc { status, description, content_type, schema } = response;
    let class = match status.chars().next() {
        Some('2') => "status status-ok",
        Some('4') => "status status-client",
        _ => "status status-other",
    };
    let (schema_name, fields) = match schema {
        Some(SchemaDoc { name, fields }) => (Some(name), fields),
        None => (None, Vec::new()),
    };
    let body_label = match (content_type, schema_name) {
        (_, Some(name)) if name == "ErrorBody" => Some("error body".to_string()),
        (Some(kind), Some(name)) if kind != "application/json" || name == "object" => Some(kind),
        (_, Some(name)) => Some(name),
        (kind, None) => kind,
    };
    view! {
        <li class="ref-response">
            <div class="ref-response-line">
                <span class=class>{status.clone()}</span>
                <span class="ref-response-text">{rich(&description)}</span>
                {body_label.map(|label| view! { <span class="chip">{label}</span> })}
            </div>
            {(!fields.is_empty()).then(|| view! {
                <details class="ref-response-fields">
                    <summary>{if fields.len() == 1 { "1 field".to_string() } else { format!("{} fields", fields.len()) }}</summary>
                    <FieldTable fields=fields with_location=false marks=false/>
                </details>
            })}
        </li>
    }
}

/// Text with `code` spans.
fn rich(text: &str) -> Vec<AnyView> {
    text.split('`')
        .enumerate()
        .filter(|(_, part)| !part.is_empty())
        .map(|(i, part)| if i % 2 == 1 { view! { <code>{part.to_string()}</code> }.into_any() } else { part.to_string().into_any() })
        .collect()
}
