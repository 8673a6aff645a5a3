//! Server functions behind the dashboard. Each is a thin call into `domain::Herald`; the
//! types here are what crosses the wire to the browser.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use types::{Invitation, Member, Plan, Role, StaffRole};

use crate::error::AppError;

/// The signed-in user and the tenant they are working in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub email: String,
    pub name: String,
    pub staff_role: Option<StaffRole>,
    pub tenant: Option<CurrentTenant>,
    pub tenants: Vec<TenantChoice>,
    /// Staff looking at a tenant they do not belong to: read-only, no secrets.
    pub staff_view: bool,
}

impl SessionInfo {
    /// May change things in the tenant: an admin, not staff viewing, not suspended.
    pub fn is_admin(&self) -> bool {
        self.can_write() && self.tenant.as_ref().is_some_and(|t| t.role.is_admin())
    }
    /// May see admin-only pages (the audit log): the tenant's admins, and staff.
    pub fn can_read_admin(&self) -> bool {
        self.staff_role.is_some() || self.tenant.as_ref().is_some_and(|t| t.role.is_admin())
    }
    /// Any change at all (members too): not while staff view a tenant, not while suspended.
    pub fn can_write(&self) -> bool {
        !self.staff_view && self.tenant.as_ref().is_some_and(|t| !t.suspended)
    }
    /// Secrets are for the tenant's own people.
    pub fn can_see_secrets(&self) -> bool {
        !self.staff_view
    }
    pub fn display_name(&self) -> String {
        if self.name.is_empty() {
            self.email.clone()
        } else {
            self.name.clone()
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurrentTenant {
    pub id: String,
    pub name: String,
    pub plan: Plan,
    pub role: Role,
    pub webhooks_enabled: bool,
    pub retention_days: i64,
    pub suspended: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TenantChoice {
    pub id: String,
    pub name: String,
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Team {
    pub members: Vec<Member>,
    pub invitations: Vec<Invitation>,
    /// The user id of whoever reads it.
    pub you: String,
    pub can_manage: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewInvitation {
    pub email: String,
    pub link: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvitationInfo {
    pub tenant_name: String,
    pub email: String,
    pub role: Role,
    pub account_exists: bool,
    pub signed_in_as: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TenantSummary {
    pub id: String,
    pub name: String,
    pub plan: Plan,
    /// The plan's limit, for callers of the function that do not know the plans.
    pub endpoint_limit: i64,
    pub members: i64,
    pub endpoints: i64,
    pub created: String,
    pub retention_days: i64,
    pub allow_private_urls: bool,
    pub suspended: bool,
    pub messages_today: i64,
    pub messages_7d: i64,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Reaching the domain and the session from inside a server function.
    use super::*;
    use domain::{Actor, Herald};
    use tower_sessions::Session;

    pub fn herald() -> Result<Herald, AppError> {
        use_context::<Herald>().ok_or_else(|| domain::Error::Internal("Herald missing from context".into()).into())
    }

    pub async fn session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>().await.map_err(|e| domain::Error::internal("session layer", e).into())
    }

    /// A plan named in a form.
    pub fn plan_field(text: &str) -> Result<Plan, AppError> {
        Plan::from_input(text).ok_or_else(|| domain::Error::invalid("plan", "Choose basic, professional, business or enterprise.").into())
    }

    /// The signed-in actor (with the client's address, for the audit log), or a 401 "Sign in first".
    pub async fn actor() -> Result<(Herald, Actor), AppError> {
        let herald = herald()?;
        let actor = crate::session::actor(&herald, &session().await?).await?;
        let ip = client_ip_for(&herald).await;
        Ok((herald, actor.with_ip(ip)))
    }

    /// The client's address, for the audit log and sign-in throttling: the TCP peer, or what
    /// the trusted proxies forwarded (see `domain::net::client_address`).
    pub async fn client_ip() -> Option<String> {
        client_ip_for(&herald().ok()?).await
    }

    /// [`client_ip`] with the `Herald` already in hand: after the awaits above, the context
    /// may no longer be reachable (SSR of some pages logged "Herald missing from context").
    async fn client_ip_for(herald: &Herald) -> Option<String> {
        use axum::extract::ConnectInfo;
        let peer = leptos_axum::extract::<ConnectInfo<std::net::SocketAddr>>().await.ok().map(|ConnectInfo(addr)| addr.ip());
        let headers = leptos_axum::extract::<axum::http::HeaderMap>().await.unwrap_or_default();
        let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        herald.client_ip(peer, forwarded)
    }

    /// [`client_ip`] for throttling, which needs some key even without a peer.
    pub async fn client_address() -> String {
        client_ip().await.unwrap_or_else(|| "unknown".into())
    }

    /// Who is signed in, with the tenant they work in; `None` when nobody is.
    pub async fn session_info(herald: &Herald, session: &Session) -> Result<Option<SessionInfo>, AppError> {
        let actor = match crate::session::actor(herald, session).await {
            Ok(actor) => actor,
            Err(domain::Error::Unauthenticated) => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        let user = herald.user(&actor.user_id).await?;
        let mut tenants = herald.memberships(&actor.user_id).await?;
        // A session a dashboard link opened offers its own tenant only.
        if crate::session::pinned_tenant(session).await?.is_some() {
            tenants.retain(|m| actor.tenant.as_ref().is_some_and(|(id, _)| *id == m.tenant_id));
        }
        let tenant = match &actor.tenant {
            Some((id, role)) => {
                let t = herald.tenant(id).await?;
                Some(CurrentTenant {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    plan: t.plan,
                    role: *role,
                    webhooks_enabled: t.webhooks_enabled,
                    retention_days: t.retention_days,
                    suspended: t.suspended,
                })
            }
            None => None,
        };
        Ok(Some(SessionInfo {
            email: user.email,
            name: user.name,
            // Not `user.staff_role`: a session a dashboard link opened carries no staff role.
            staff_role: actor.staff,
            tenant,
            tenants: tenants.into_iter().map(|m| TenantChoice { id: m.tenant_id, name: m.tenant_name, role: m.role }).collect(),
            staff_view: actor.staff_view,
        }))
    }

    /// The session of the page being rendered, read before rendering began (the server puts
    /// it in the request's extensions).
    #[derive(Clone, Debug)]
    pub struct PageSession(pub Result<Option<SessionInfo>, AppError>);

    pub use types::clock::{date, utc as when};
}

#[server(prefix = "/rpc", endpoint = "session")]
pub async fn get_session() -> Result<Option<SessionInfo>, AppError> {
    ssr::session_info(&ssr::herald()?, &ssr::session().await?).await
}

/// Starts a sign-up; the next page says to check the email (the same whether or not the
/// address already has an account).
#[server(prefix = "/rpc", endpoint = "sign_up")]
pub async fn sign_up(name: String, email: String, password: String, tenant_name: String) -> Result<(), AppError> {
    let herald = ssr::herald()?;
    herald.sign_up(domain::accounts::SignUp { name, email, password, tenant_name }, &ssr::client_address().await).await?;
    leptos_axum::redirect("/signup/sent");
    Ok(())
}

/// Follows the emailed sign-up link: creates the account and its workspace, and signs in.
#[server(prefix = "/rpc", endpoint = "confirm_sign_up")]
pub async fn confirm_sign_up(token: String) -> Result<(), AppError> {
    let herald = ssr::herald()?;
    let (user, tenant_id) = herald.confirm_sign_up(&token).await?;
    crate::session::sign_in(&herald, &ssr::session().await?, &user.id, Some(&tenant_id)).await?;
    leptos_axum::redirect("/endpoints");
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    let herald = ssr::herald()?;
    let user = herald.sign_in(&email, &password, &ssr::client_address().await).await?;
    crate::session::sign_in(&herald, &ssr::session().await?, &user.id, None).await?;
    let home = if user.staff_role.is_some() && herald.memberships(&user.id).await?.is_empty() { "/staff" } else { "/endpoints" };
    leptos_axum::redirect(home);
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    crate::session::sign_out(&ssr::session().await?).await?;
    leptos_axum::redirect("/signin");
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "switch_tenant")]
pub async fn switch_tenant(tenant_id: String) -> Result<(), AppError> {
    let (herald, actor) = ssr::actor().await?;
    if herald.role_in(&actor.user_id, &tenant_id).await?.is_none() {
        return Err(domain::Error::NotFound("tenant").into());
    }
    crate::session::switch_tenant(&ssr::session().await?, &tenant_id).await?;
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "team")]
pub async fn get_team() -> Result<Team, AppError> {
    let (herald, actor) = ssr::actor().await?;
    let tenant_id = actor.tenant_id()?.to_string();
    let can_manage = actor.require_admin().is_ok();
    let members = herald.members(&tenant_id).await?;
    let invitations = if can_manage { herald.pending_invitations(&tenant_id).await? } else { Vec::new() };
    Ok(Team { members, invitations, you: actor.user_id.clone(), can_manage })
}

#[server(prefix = "/rpc", endpoint = "invite")]
pub async fn invite_member(email: String, role: String) -> Result<NewInvitation, AppError> {
    let (herald, actor) = ssr::actor().await?;
    let (invitation, link) = herald.invite(&actor, &email, &role).await?;
    Ok(NewInvitation { email: invitation.email, link })
}

#[server(prefix = "/rpc", endpoint = "revoke_invitation")]
pub async fn revoke_invitation(id: String) -> Result<(), AppError> {
    let (herald, actor) = ssr::actor().await?;
    Ok(herald.revoke_invitation(&actor, &id).await?)
}

#[server(prefix = "/rpc", endpoint = "remove_member")]
pub async fn remove_member(user_id: String) -> Result<(), AppError> {
    let (herald, actor) = ssr::actor().await?;
    Ok(herald.remove_member(&actor, &user_id).await?)
}

#[server(prefix = "/rpc", endpoint = "invitation")]
pub async fn get_invitation(token: String) -> Result<InvitationInfo, AppError> {
    let herald = ssr::herald()?;
    let preview = herald.invitation_preview(&token).await?;
    let signed_in_as = match crate::session::actor(&herald, &ssr::session().await?).await {
        Ok(actor) => Some(actor.email),
        Err(_) => None,
    };
    Ok(InvitationInfo {
        tenant_name: preview.tenant_name,
        email: preview.email,
        role: preview.role,
        account_exists: preview.account_exists,
        signed_in_as,
    })
}

/// Accepts an invitation: as the signed-in user, or by creating the invited account.
#[server(prefix = "/rpc", endpoint = "accept_invitation")]
pub async fn accept_invitation(token: String, name: Option<String>, password: Option<String>) -> Result<(), AppError> {
    let herald = ssr::herald()?;
    let session = ssr::session().await?;
    let (user_id, tenant_id) = match crate::session::actor(&herald, &session).await {
        Ok(actor) => {
            // Accepting signs in afresh, which would lift a dashboard link's pin (and give back a
            // staff role the link did not carry) without anyone proving who they are.
            if crate::session::pinned_tenant(&session).await?.is_some() {
                return Err(domain::Error::Forbidden(
                    "This session was opened by a dashboard link: open the invitation in a new browser window to accept it.".into(),
                )
                .into());
            }
            let user = herald.user(&actor.user_id).await?;
            let tenant_id = herald.accept_invitation(&token, &user).await?;
            (user.id, tenant_id)
        }
        Err(_) => {
            let (user, tenant_id) = herald
                .accept_invitation_as_new_user(&token, name.as_deref().unwrap_or_default(), password.as_deref().unwrap_or_default())
                .await?;
            (user.id, tenant_id)
        }
    };
    crate::session::sign_in(&herald, &session, &user_id, Some(&tenant_id)).await?;
    leptos_axum::redirect("/endpoints");
    Ok(())
}

mod catalog;
pub use catalog::*;
mod endpoints;
pub use endpoints::*;
mod jobs;
pub use jobs::*;
mod logs;
pub use logs::*;
mod reference;
pub use reference::*;
mod staff;
pub use staff::*;
