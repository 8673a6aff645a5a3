//! What a dashboard session holds, and turning it into an [`Actor`]. Shared by the server
//! functions and the HTTP API so both read sessions the same way.

use domain::clock::{Millis, DAY};
use domain::{Actor, Error, Herald, Result};
use tower_sessions::Session;

const USER: &str = "user_id";
const TENANT: &str = "tenant_id";
const CSRF: &str = "csrf_token";
const SIGNED_IN_AT: &str = "signed_in_at";
/// Set by a one-time dashboard link: the session belongs to this tenant alone.
const PINNED: &str = "pinned_tenant_id";

const PINNED_MESSAGE: &str = "This session was opened by a dashboard link for one workspace only.";

/// A session ends this long after sign-in, however active (the idle expiry may end it sooner).
pub const LIFETIME: Millis = 7 * DAY;

fn store_error(err: tower_sessions::session::Error) -> Error {
    Error::internal("session store", err)
}

/// Starts a fresh session for `user_id` (a new id, so a planted session id is useless).
pub async fn sign_in(herald: &Herald, session: &Session, user_id: &str, tenant_id: Option<&str>) -> Result<()> {
    session.cycle_id().await.map_err(store_error)?;
    session.insert(USER, user_id).await.map_err(store_error)?;
    session.insert(SIGNED_IN_AT, herald.clock.now()).await.map_err(store_error)?;
    session.insert(CSRF, domain::ids::random_string(32)).await.map_err(store_error)?;
    session.remove::<String>(PINNED).await.map_err(store_error)?;
    if let Some(t) = tenant_id {
        session.insert(TENANT, t).await.map_err(store_error)?;
    }
    Ok(())
}

/// Starts a fresh session for `user_id` pinned to `tenant_id` (a dashboard link): the tenant
/// switcher cannot leave it, and no staff role comes with it.
pub async fn sign_in_pinned(herald: &Herald, session: &Session, user_id: &str, tenant_id: &str) -> Result<()> {
    sign_in(herald, session, user_id, Some(tenant_id)).await?;
    session.insert(PINNED, tenant_id).await.map_err(store_error)
}

/// The tenant a dashboard link pinned the session to, if one did.
pub async fn pinned_tenant(session: &Session) -> Result<Option<String>> {
    session.get::<String>(PINNED).await.map_err(store_error)
}

pub async fn sign_out(session: &Session) -> Result<()> {
    session.flush().await.map_err(store_error)
}

pub async fn switch_tenant(session: &Session, tenant_id: &str) -> Result<()> {
    if pinned_tenant(session).await?.is_some_and(|p| p != tenant_id) {
        return Err(Error::Forbidden(PINNED_MESSAGE.into()));
    }
    session.insert(TENANT, tenant_id).await.map_err(store_error)
}

/// Leaves the tenant the session was viewing (staff going back to their console).
pub async fn clear_tenant(session: &Session) -> Result<()> {
    if pinned_tenant(session).await?.is_some() {
        return Err(Error::Forbidden(PINNED_MESSAGE.into()));
    }
    session.remove::<String>(TENANT).await.map_err(store_error)?;
    Ok(())
}

/// The token a script using a session cookie must echo in `x-csrf-token`.
pub async fn csrf_token(session: &Session) -> Result<Option<String>> {
    session.get::<String>(CSRF).await.map_err(store_error)
}

/// The signed-in actor, or `Unauthenticated`.
pub async fn actor(herald: &Herald, session: &Session) -> Result<Actor> {
    let user_id: Option<String> = session.get(USER).await.map_err(store_error)?;
    let user_id = user_id.ok_or(Error::Unauthenticated)?;
    let now = herald.clock.now();
    match session.get::<Millis>(SIGNED_IN_AT).await.map_err(store_error)? {
        Some(at) if now - at >= LIFETIME => {
            session.flush().await.map_err(store_error)?;
            return Err(Error::Unauthenticated);
        }
        Some(_) => {}
        // Sessions from before this rule start their week now.
        None => session.insert(SIGNED_IN_AT, now).await.map_err(store_error)?,
    }
    if let Some(pinned) = pinned_tenant(session).await? {
        return match herald.pinned_actor(&user_id, &pinned).await {
            Err(Error::Unauthenticated) => {
                // No longer a member: the link's session ends.
                session.flush().await.map_err(store_error)?;
                Err(Error::Unauthenticated)
            }
            other => other,
        };
    }
    let tenant_id: Option<String> = session.get(TENANT).await.map_err(store_error)?;
    let actor = herald.actor(&user_id, tenant_id.as_deref()).await?;
    // Remember the tenant we fell back to, so the next request does not search again.
    if let Some((current, _)) = &actor.tenant {
        if tenant_id.as_deref() != Some(current) {
            session.insert(TENANT, current).await.map_err(store_error)?;
        }
    }
    Ok(actor)
}
