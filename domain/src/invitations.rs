//! Invitations: an admin invites an email address with a role; the link carries a random token
//! of which only the SHA-256 digest is stored, so a database leak does not let anyone join.

use serde::Serialize;

use crate::accounts::{normalize_email, validate_password, User};
use crate::audit::Audit;
use crate::clock::DAY;
use crate::crypto::sha256_hex;
use crate::error::{Error, Result};
use crate::roles::{Actor, Role};
use crate::{execute_in, ids, on_pool, Herald};
use types::AuditAction;

pub const INVITATION_VALID_FOR: i64 = 7 * DAY;

pub use types::Invitation;

/// What the invitation page shows before the invitee accepts.
#[derive(Clone, Debug, Serialize)]
pub struct InvitationPreview {
    pub tenant_name: String,
    pub email: String,
    pub role: Role,
    pub account_exists: bool,
}

const COLUMNS: &str = "id, tenant_id, email, role, created_at, expires_at, accepted_at";

impl Herald {
    /// Invites `email` to the actor's tenant. Returns the invitation and the link to join
    /// (shown once to the admin, and emailed).
    pub async fn invite(&self, actor: &Actor, email: &str, role: &str) -> Result<(Invitation, String)> {
        let tenant_id = actor.require_admin()?.to_string();
        let email = normalize_email(email)?;
        let role = match Role::parse(role.trim()) {
            Some(r @ (Role::Admin | Role::Member)) => r,
            _ => return Err(Error::invalid("role", "Choose a role: member or admin.")),
        };
        if let Some(user) = self.user_by_email(&email).await? {
            if self.role_in(&user.id, &tenant_id).await?.is_some() {
                return Err(Error::conflict("already_member", Some("email"), format!("{email} is already on the team.")));
            }
        }
        let token = ids::random_string(40);
        let now = self.clock.now();
        let invitation = Invitation {
            id: ids::new_id("inv"),
            tenant_id: tenant_id.clone(),
            email: email.clone(),
            role,
            created_at: now,
            expires_at: now + INVITATION_VALID_FOR,
            accepted_at: None,
        };
        let mut tx = self.store.begin().await?;
        // A new invitation replaces a pending one for the same address.
        execute_in!(
            &mut tx,
            sqlx::query("DELETE FROM invitations WHERE tenant_id = $1 AND email = $2 AND accepted_at IS NULL")
                .bind(&tenant_id)
                .bind(&email)
        )?;
        execute_in!(
            &mut tx,
            sqlx::query(
                "INSERT INTO invitations (id, tenant_id, email, role, token_hash, invited_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            )
            .bind(&invitation.id)
            .bind(&tenant_id)
            .bind(&email)
            .bind(invitation.role)
            .bind(sha256_hex(&token))
            .bind(&actor.user_id)
            .bind(now)
            .bind(invitation.expires_at)
        )?;
        let entry = Audit::new(Some(&tenant_id), AuditAction::MemberInvited, format!("Invited {email} as {}", invitation.role));
        self.audit_in(&mut tx, actor, entry.target(&email)).await?;
        tx.commit().await?;

        let link = format!("{}/invite/{token}", self.public_url);
        let tenant = self.tenant(&tenant_id).await?;
        let body = format!(
            "{} invited you to join {} on Herald as {}.\n\nAccept the invitation:\n{link}\n\nThe link works for 7 days.\n",
            actor.email, tenant.name, invitation.role
        );
        if let Err(err) = self.mailer.send(&email, &format!("You are invited to {} on Herald", tenant.name), &body).await {
            // The admin still has the link on screen; a mail outage must not undo the invitation.
            tracing::warn!(error = %err, "invitation email not sent");
        }
        Ok((invitation, link))
    }

    /// Pending (not accepted) invitations of a tenant, newest first.
    pub async fn pending_invitations(&self, tenant_id: &str) -> Result<Vec<Invitation>> {
        let sql = format!("SELECT {COLUMNS} FROM invitations WHERE tenant_id = $1 AND accepted_at IS NULL ORDER BY created_at DESC");
        Ok(on_pool!(&self.store, pool => sqlx::query_as::<_, Invitation>(&sql).bind(tenant_id).fetch_all(pool).await)?)
    }

    pub async fn revoke_invitation(&self, actor: &Actor, invitation_id: &str) -> Result<()> {
        let tenant_id = actor.require_admin()?;
        let email: Option<(String,)> = on_pool!(&self.store, pool => sqlx::query_as(
            "SELECT email FROM invitations WHERE id = $1 AND tenant_id = $2 AND accepted_at IS NULL")
            .bind(invitation_id).bind(tenant_id).fetch_optional(pool).await)?;
        let mut tx = self.store.begin().await?;
        let done = execute_in!(
            &mut tx,
            sqlx::query("DELETE FROM invitations WHERE id = $1 AND tenant_id = $2 AND accepted_at IS NULL")
                .bind(invitation_id)
                .bind(tenant_id)
        )?;
        if done == 0 {
            return Err(Error::NotFound("invitation"));
        }
        let email = email.map(|(e,)| e).unwrap_or_default();
        self.audit_in(
            &mut tx,
            actor,
            Audit::new(Some(tenant_id), AuditAction::InvitationRevoked, format!("Revoked the invitation for {email}")).target(email),
        )
        .await?;
        tx.commit().await
    }

    async fn open_invitation(&self, token: &str) -> Result<Invitation> {
        let sql = format!("SELECT {COLUMNS} FROM invitations WHERE token_hash = $1");
        let invitation = on_pool!(&self.store, pool => sqlx::query_as::<_, Invitation>(&sql)
            .bind(sha256_hex(token.trim())).fetch_optional(pool).await)?
        .ok_or(Error::NotFound("invitation"))?;
        if invitation.accepted_at.is_some() {
            return Err(Error::conflict("invitation_used", None, "This invitation has already been accepted. Sign in instead."));
        }
        if invitation.expires_at <= self.clock.now() {
            return Err(Error::conflict("invitation_expired", None, "This invitation has expired. Ask your admin for a new one."));
        }
        Ok(invitation)
    }

    pub async fn invitation_preview(&self, token: &str) -> Result<InvitationPreview> {
        let invitation = self.open_invitation(token).await?;
        let tenant = self.tenant(&invitation.tenant_id).await?;
        Ok(InvitationPreview {
            account_exists: self.user_by_email(&invitation.email).await?.is_some(),
            tenant_name: tenant.name,
            email: invitation.email,
            role: invitation.role,
        })
    }

    /// A signed-in user accepts: the invitation must be addressed to their email.
    pub async fn accept_invitation(&self, token: &str, user: &User) -> Result<String> {
        let invitation = self.joinable_invitation(token).await?;
        if invitation.email != user.email {
            return Err(Error::Forbidden(format!("This invitation is for {}. Sign in with that address to accept it.", invitation.email)));
        }
        let mut tx = self.store.begin().await?;
        self.join(&mut tx, &invitation, &user.id).await?;
        tx.commit().await?;
        Ok(invitation.tenant_id)
    }

    /// Someone without an account accepts: the account is created with the invited address.
    pub async fn accept_invitation_as_new_user(&self, token: &str, name: &str, password: &str) -> Result<(User, String)> {
        let invitation = self.joinable_invitation(token).await?;
        validate_password(password)?;
        let name = name.trim();
        let hash = crate::accounts::hash_password(password).await?;
        let mut tx = self.store.begin().await?;
        let user = self.insert_user(&mut tx, &invitation.email, name, &hash, None).await?;
        self.join(&mut tx, &invitation, &user.id).await?;
        tx.commit().await?;
        Ok((user, invitation.tenant_id))
    }

    /// An open invitation to a tenant that is not suspended: joining changes the tenant's team,
    /// and a suspended tenant is read-only.
    async fn joinable_invitation(&self, token: &str) -> Result<Invitation> {
        let invitation = self.open_invitation(token).await?;
        if self.tenant(&invitation.tenant_id).await?.suspended {
            return Err(Error::Forbidden("This workspace is suspended: the invitation can be accepted once it is active again.".into()));
        }
        Ok(invitation)
    }

    async fn join(&self, tx: &mut crate::store::Tx, invitation: &Invitation, user_id: &str) -> Result<()> {
        let role = invitation.role;
        self.insert_membership(tx, &invitation.tenant_id, user_id, role).await?;
        let joined = Actor::user(user_id, invitation.email.clone());
        let entry = Audit::new(
            Some(&invitation.tenant_id),
            AuditAction::MemberJoined,
            format!("{} accepted the invitation and joined as {}", invitation.email, role.as_str()),
        )
        .target(&invitation.email);
        self.audit_in(tx, &joined, entry).await?;
        // Only one acceptance wins, even if two arrive at once.
        let marked = execute_in!(
            tx,
            sqlx::query("UPDATE invitations SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL")
                .bind(self.clock.now())
                .bind(&invitation.id)
        )?;
        if marked == 0 {
            return Err(Error::conflict("invitation_used", None, "This invitation has already been accepted."));
        }
        Ok(())
    }
}
