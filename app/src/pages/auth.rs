//! Signing up (and confirming the email), signing in, and accepting an invitation.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::{
    get_invitation, AcceptInvitation as AcceptInvitationFn, ConfirmSignUp as ConfirmSignUpFn, SignIn as SignInFn, SignUp as SignUpFn,
};
use crate::components::{field_error, form_error, last_error, Alert, Field, LoadError, Loading};

/// The centred card every signed-out page uses.
#[component]
fn AuthCard(title: &'static str, subtitle: &'static str, children: Children) -> impl IntoView {
    view! {
        <Title text=title/>
        <main class="auth-page">
            <div class="auth-brand"><span class="logo-mark">"H"</span>"Herald"</div>
            <section class="auth-card">
                <h1>{title}</h1>
                <p class="muted">{subtitle}</p>
                {children()}
            </section>
            <p class="auth-foot muted">"Webhooks for booking and wellness platforms"</p>
        </main>
    }
}

#[component]
pub fn SignIn() -> impl IntoView {
    let action = ServerAction::<SignInFn>::new();
    let error = last_error(move || action.value().get());
    let pending = action.pending();
    view! {
        <AuthCard title="Sign in" subtitle="Welcome back. Sign in to manage your webhooks.">
            <ActionForm action=action>
                <Alert message=form_error(error, &["email", "password"])/>
                <Field label="Email" name="email" kind="email" autocomplete="username" required=true error=field_error(error, "email")/>
                <Field label="Password" name="password" kind="password" autocomplete="current-password" required=true error=field_error(error, "password")/>
                <button type="submit" class="btn btn-primary btn-block" disabled=move || pending.get()>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            <p class="auth-switch">"New to Herald? " <A href="/signup">"Create an account"</A></p>
        </AuthCard>
    }
}

#[component]
pub fn SignUp() -> impl IntoView {
    let action = ServerAction::<SignUpFn>::new();
    let error = last_error(move || action.value().get());
    let pending = action.pending();
    view! {
        <AuthCard title="Create your account" subtitle="Start on the Basic plan with one endpoint. Upgrade any time.">
            <ActionForm action=action>
                <Alert message=form_error(error, &["name", "email", "password", "tenant_name"])/>
                <Field label="Your name" name="name" autocomplete="name" error=field_error(error, "name")/>
                <Field label="Business name" name="tenant_name" autocomplete="organization" placeholder="e.g. Lotus Day Spa" required=true error=field_error(error, "tenant_name")/>
                <Field label="Work email" name="email" kind="email" autocomplete="email" required=true error=field_error(error, "email")/>
                <Field label="Password" name="password" kind="password" autocomplete="new-password" hint="At least 10 characters." required=true error=field_error(error, "password")/>
                <button type="submit" class="btn btn-primary btn-block" disabled=move || pending.get()>
                    {move || if pending.get() { "Creating account…" } else { "Create account" }}
                </button>
            </ActionForm>
            <p class="auth-switch">"Already have an account? " <A href="/signin">"Sign in"</A></p>
        </AuthCard>
    }
}

/// After the sign-up form: the same page whether or not the address already had an account.
#[component]
pub fn SignUpSent() -> impl IntoView {
    view! {
        <AuthCard title="Check your email" subtitle="One more step to create your workspace.">
            <p class="invite-summary">
                "We sent a link to the address you entered. Open it to finish creating your account; it works for 24 hours."
            </p>
            <p class="muted">
                "Nothing after a few minutes? Look in your spam folder, or sign up again. If the address already has an account, we emailed it a note instead."
            </p>
            <p class="auth-switch">"Already have an account? " <A href="/signin">"Sign in"</A></p>
        </AuthCard>
    }
}

/// Where the emailed link leads: one click creates the account (a click, not the visit, so
/// that mail scanners opening the link do not use it up).
#[component]
pub fn ConfirmSignUp() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let action = ServerAction::<ConfirmSignUpFn>::new();
    let error = last_error(move || action.value().get());
    let pending = action.pending();
    view! {
        <AuthCard title="Finish signing up" subtitle="Your email address is confirmed. Create your workspace to start.">
            <ActionForm action=action>
                <input type="hidden" name="token" value=token/>
                <Alert message=form_error(error, &[])/>
                <button type="submit" class="btn btn-primary btn-block" disabled=move || pending.get()>
                    {move || if pending.get() { "Creating…" } else { "Create my workspace" }}
                </button>
            </ActionForm>
            <p class="auth-switch">"Link expired or used? " <A href="/signup">"Sign up again"</A></p>
        </AuthCard>
    }
}

#[component]
pub fn AcceptInvitation() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let invitation = Resource::new(token, get_invitation);
    let action = ServerAction::<AcceptInvitationFn>::new();
    let error = last_error(move || action.value().get());
    let pending = action.pending();
    view! {
        <AuthCard title="Join your team" subtitle="You have been invited to a Herald workspace.">
            <Suspense fallback=|| view! { <Loading/> }>
                {move || Suspend::new(async move {
                    match invitation.await {
                        Err(e) => view! {
                            <LoadError error=e/>
                            <p class="auth-switch"><A href="/signin">"Go to sign in"</A></p>
                        }.into_any(),
                        Ok(info) => {
                            let needs_account = info.signed_in_as.is_none() && !info.account_exists;
                            let must_sign_in = info.signed_in_as.is_none() && info.account_exists;
                            view! {
                                <p class="invite-summary">
                                    "Join " <strong>{info.tenant_name.clone()}</strong> " as " <strong>{info.role.as_str()}</strong>
                                    " with " <strong>{info.email.clone()}</strong> "."
                                </p>
                                {if must_sign_in {
                                    view! {
                                        <p class="muted">"You already have an account. Sign in with " {info.email.clone()} ", then open this link again."</p>
                                        <A href="/signin" attr:class="btn btn-primary btn-block">"Sign in"</A>
                                    }.into_any()
                                } else {
                                    view! {
                                        <ActionForm action=action>
                                            <input type="hidden" name="token" value=token()/>
                                            <Alert message=form_error(error, &["name", "password"])/>
                                            {needs_account.then(|| view! {
                                                <Field label="Your name" name="name" autocomplete="name" error=field_error(error, "name")/>
                                                <Field label="Choose a password" name="password" kind="password" autocomplete="new-password" hint="At least 10 characters." required=true error=field_error(error, "password")/>
                                            })}
                                            <button type="submit" class="btn btn-primary btn-block" disabled=move || pending.get()>
                                                {move || if pending.get() { "Joining…" } else { "Accept invitation" }}
                                            </button>
                                        </ActionForm>
                                    }.into_any()
                                }}
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </AuthCard>
    }
}
