//! The team page: who belongs to the tenant, invitations, removal.

use leptos::prelude::*;
use types::clock::date;
use types::Role;

use crate::api::{get_team, InviteMember, RemoveMember, RevokeInvitation, Team};
use crate::components::{
    field_error, form_error, last_error, Alert, Confirm, CopyButton, EmptyState, Field, LoadError, Loading, PageHeader,
};

#[component]
pub fn TeamPage() -> impl IntoView {
    let invite = ServerAction::<InviteMember>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let revoke = ServerAction::<RevokeInvitation>::new();
    let team = Resource::new(move || (invite.version().get(), remove.version().get(), revoke.version().get()), |_| get_team());
    let action_error = Signal::derive(move || {
        remove.value().get().and_then(Result::err).or_else(|| revoke.value().get().and_then(Result::err)).map(|e| e.message)
    });
    view! {
        <PageHeader title="Team">"People who can sign in to this workspace. Admins can replay deliveries and manage the team and API keys."</PageHeader>
        <Alert message=action_error/>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match team.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(team) => view! { <TeamView team=team invite=invite remove=remove revoke=revoke/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TeamView(
    team: Team,
    invite: ServerAction<InviteMember>,
    remove: ServerAction<RemoveMember>,
    revoke: ServerAction<RevokeInvitation>,
) -> impl IntoView {
    let can_manage = team.can_manage;
    let you = team.you.clone();
    view! {
        {can_manage.then(|| view! { <InviteCard invite=invite/> })}
        <section class="card">
            <div class="card-header"><h2>"Members"</h2><span class="muted">{match team.members.len() { 1 => "1 person".to_string(), n => format!("{n} people") }}</span></div>
            <table class="table" id="members">
                <thead><tr><th>"Name"</th><th>"Role"</th><th>"Joined"</th><th class="actions"><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>
                    {team.members.into_iter().map(|m| {
                        let is_you = m.user_id == you;
                        let removable = can_manage && !is_you && m.role != Role::Owner;
                        let question = format!("Remove {}?", m.email);
                        let user_id = m.user_id.clone();
                        view! {
                            <tr>
                                <td>
                                    <div class="strong">{if m.name.is_empty() { m.email.clone() } else { m.name.clone() }}
                                        {is_you.then(|| view! { <span class="badge badge-soft">"you"</span> })}</div>
                                    <div class="muted small">{m.email.clone()}</div>
                                </td>
                                <td><span class=format!("badge badge-role-{}", m.role)>{m.role.as_str()}</span></td>
                                <td class="muted">{date(m.created_at)}</td>
                                <td class="actions">
                                    {removable.then(|| view! {
                                        <Confirm label="Remove" question=question>
                                            <ActionForm action=remove>
                                                <input type="hidden" name="user_id" value=user_id.clone()/>
                                                <button type="submit" class="btn btn-danger btn-sm">"Yes, remove"</button>
                                            </ActionForm>
                                        </Confirm>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        {can_manage.then(|| {
            let invitations = team.invitations.clone();
            view! {
                <section class="card">
                    <div class="card-header"><h2>"Pending invitations"</h2></div>
                    {if invitations.is_empty() {
                        view! { <EmptyState title="No pending invitations"><p class="muted">"Invite a colleague above; they will appear here until they accept."</p></EmptyState> }.into_any()
                    } else {
                        view! {
                            <table class="table" id="invitations">
                                <thead><tr><th>"Email"</th><th>"Role"</th><th>"Expires"</th><th class="actions"><span class="sr-only">"Actions"</span></th></tr></thead>
                                <tbody>
                                    {invitations.into_iter().map(|i| {
                                        let question = format!("Revoke the invitation for {}?", i.email);
                                        let id = i.id.clone();
                                        view! {
                                            <tr>
                                                <td class="strong">{i.email.clone()}</td>
                                                <td><span class=format!("badge badge-role-{}", i.role)>{i.role.as_str()}</span></td>
                                                <td class="muted">{date(i.expires_at)}</td>
                                                <td class="actions">
                                                    <Confirm label="Revoke" question=question>
                                                        <ActionForm action=revoke>
                                                            <input type="hidden" name="id" value=id.clone()/>
                                                            <button type="submit" class="btn btn-danger btn-sm">"Yes, revoke"</button>
                                                        </ActionForm>
                                                    </Confirm>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }}
                </section>
            }
        })}
    }
}

#[component]
fn InviteCard(invite: ServerAction<InviteMember>) -> impl IntoView {
    let error = last_error(move || invite.value().get());
    let pending = invite.pending();
    let created = move || invite.value().get().and_then(Result::ok);
    view! {
        <section class="card">
            <div class="card-header"><h2>"Invite someone"</h2></div>
            <ActionForm action=invite>
                <div class="form-row">
                    <Field label="Email" name="email" kind="email" placeholder="colleague@business.com" required=true error=field_error(error, "email")/>
                    <div class="field">
                        <label for="field-role">"Role"</label>
                        <select id="field-role" name="role">
                            <option value="member" selected=true>"Member: endpoints, logs, test events"</option>
                            <option value="admin">"Admin: also replay, team and API keys"</option>
                        </select>
                        <p class="field-error" role="alert">{move || field_error(error, "role").get()}</p>
                    </div>
                    <div class="field field-submit">
                        <button type="submit" class="btn btn-primary" disabled=move || pending.get()>
                            {move || if pending.get() { "Inviting…" } else { "Send invitation" }}
                        </button>
                    </div>
                </div>
                <Alert message=form_error(error, &["email", "role"])/>
            </ActionForm>
            {move || created().map(|c| view! {
                <div class="alert alert-success" id="invite-result" role="status">
                    <p>"Invitation created for " <strong>{c.email.clone()}</strong> ". Share this link (it is shown only once and works for 7 days):"</p>
                    <div class="copy-row">
                        <code class="invite-link">{c.link.clone()}</code>
                        <CopyButton text=c.link.clone()/>
                    </div>
                </div>
            })}
        </section>
    }
}
