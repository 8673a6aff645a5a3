//! Users: sign-up, sign-in, staff accounts, and resolving who is behind a session.

use crate::audit::Audit;
use crate::roles::ActorKind;
use serde::Serialize;
use types::AuditAction;

use crate::clock::{Millis, DAY};
use crate::crypto::{self, sha256_hex};
use crate::error::{is_unique_violation, Error, Result};
use crate::roles::{Actor, Role, StaffRole};
use crate::tenants::{validate_tenant_name, Plan};
use crate::{execute_in, execute_on, ids, on_pool, Herald};

pub const MIN_PASSWORD_LEN: usize = 10;
/// How long the link that finishes a sign-up works.
pub const SIGN_UP_VALID_FOR: Millis = DAY;

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub staff_role: Option<StaffRole>,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct UserWithHash {
    id: String,
    password_hash: String,
}

/// A sign-up waiting for its email address to be confirmed.
#[derive(sqlx::FromRow)]
struct SignUpRequest {
    email: String,
    name: String,
    password_hash: String,
    tenant_name: String,
}

/// What the sign-up form sends.
#[derive(Clone, Debug, Default)]
pub struct SignUp {
    pub name: String,
    pub email: String,
    pub password: String,
    pub tenant_name: String,
}

/// Trims and lower-cases an email address and checks it is one.
pub fn normalize_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return Err(Error::invalid("email", "Enter your email address."));
    }
    let valid = email.len() <= 254
        && email.parse::<lettre::Address>().is_ok()
        && email.split('@').nth(1).is_some_and(|domain| domain.contains('.') || domain == "localhost");
    if !valid {
        return Err(Error::invalid("email", format!("\"{email}\" is not a valid email address.")));
    }
    Ok(email)
}

pub fn validate_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(Error::invalid("password", format!("Use at least {MIN_PASSWORD_LEN} characters for the password.")));
    }
    if password.len() > 1024 {
        return Err(Error::invalid("password", "The password can be at most 1024 characters."));
    }
    Ok(())
}

fn validate_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.chars().count() > 100 {
        return Err(Error::invalid("name", "The name can be at most 100 characters."));
    }
    Ok(name.to_string())
}

/// Argon2 is deliberately slow: keep it off the async executor.
pub(crate) async fn hash_password(password: &str) -> Result<String> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || crypto::hash_password(&password)).await.map_err(|e| Error::internal("hash task", e))?
}

async fn verify_password(password: &str, hash: String) -> bool {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || crypto::verify_password(&password, &hash)).await.unwrap_or(false)
}

/// A valid hash of nothing in particular, checked when the email is unknown so that unknown and
/// known accounts take the same time to refuse.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3y0fU2pC4B0Nq2d7bq2fC3yRk2bXzKjJkqkQ0hH7m3k";

impl Herald {
    /// Starts a sign-up from `address`. The answer is the same whether or not the email already
    /// has an account, so the form cannot tell anyone who has one: a new address is sent a link
    /// to finish ([`Herald::confirm_sign_up`]), an existing one a notice. Nothing is created
    /// until the link is followed.
    pub async fn sign_up(&self, input: SignUp, address: &str) -> Result<()> {
        let now = self.clock.now();
        self.check_sign_up(address, now).await?;
        let email = normalize_email(&input.email)?;
        let name = validate_name(&input.name)?;
        validate_password(&input.password)?;
        let tenant_name = validate_tenant_name(&input.tenant_name)?;
        // Hashed either way, so that both answers take as long.
        let hash = hash_password(&input.password).await?;
        let may_mail = self.record_sign_up(&email, address, now).await?;
        let turn = self.store.write_turn().await;
        execute_on!(&self.store, sqlx::query("DELETE FROM sign_up_requests WHERE expires_at <= $1").bind(now))?;
        let (subject, body) = if self.user_by_email(&email).await?.is_some() {
            let body = format!(
                "Someone, perhaps you, tried to create a Herald account with {email}, which already has a Herald account. \
                 Nothing was changed.\n\nTo use your account, sign in:\n{}/signin\n\nIf it was not you, you can ignore this email.\n",
                self.public_url
            );
            ("Someone tried to sign up with your email address".to_string(), body)
        } else {
            let token = ids::random_string(40);
            execute_on!(
                &self.store,
                sqlx::query(
                    "INSERT INTO sign_up_requests (token_hash, email, name, password_hash, tenant_name, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)"
                )
                .bind(sha256_hex(&token))
                .bind(&email)
                .bind(&name)
                .bind(&hash)
                .bind(&tenant_name)
                .bind(now)
                .bind(now + SIGN_UP_VALID_FOR)
            )?;
            // (Nothing the form sent is repeated: the mail may go to someone who did not sign up.)
            let body = format!(
                "Welcome to Herald. To finish creating your account and workspace, open this link:\n{}/signup/confirm/{token}\n\n\
                 The link works for 24 hours. If you did not sign up, ignore this email: nothing is created without it.\n",
                self.public_url
            );
            ("Confirm your email address to finish signing up".to_string(), body)
        };
        drop(turn);
        if may_mail {
            if let Err(err) = self.mailer.send(&email, &subject, &body).await {
                // The answer must not differ: the person can sign up again.
                tracing::warn!(error = %err, "sign-up email not sent");
            }
        }
        Ok(())
    }

    /// Follows a sign-up link: creates the user, their tenant on the Basic plan, and makes them
    /// its owner, all or nothing. A link works once, for [`SIGN_UP_VALID_FOR`].
    pub async fn confirm_sign_up(&self, token: &str) -> Result<(User, String)> {
        let token_hash = sha256_hex(token.trim());
        let request: SignUpRequest = on_pool!(&self.store, pool => sqlx::query_as(
            "SELECT email, name, password_hash, tenant_name FROM sign_up_requests WHERE token_hash = $1 AND expires_at > $2")
            .bind(&token_hash).bind(self.clock.now()).fetch_optional(pool).await)?
        .ok_or(Error::NotFound("sign-up link"))?;
        let mut tx = self.store.begin().await?;
        // Only one use of the link wins, even if two arrive at once.
        let taken = execute_in!(&mut tx, sqlx::query("DELETE FROM sign_up_requests WHERE token_hash = $1").bind(&token_hash))?;
        if taken == 0 {
            return Err(Error::NotFound("sign-up link"));
        }
        let user = self.insert_user(&mut tx, &request.email, &request.name, &request.password_hash, None).await?;
        let tenant_id = self.insert_tenant(&mut tx, &request.tenant_name, Plan::Basic, false).await?;
        self.insert_membership(&mut tx, &tenant_id, &user.id, Role::Owner).await?;
        execute_in!(&mut tx, sqlx::query("DELETE FROM sign_up_requests WHERE email = $1").bind(&user.email))?;
        tx.commit().await?;
        tracing::info!(user_id = %user.id, tenant_id = %tenant_id, "signed up");
        Ok((user, tenant_id))
    }

    pub(crate) async fn insert_user(
        &self,
        tx: &mut crate::store::Tx,
        email: &str,
        name: &str,
        password_hash: &str,
        staff: Option<StaffRole>,
    ) -> Result<User> {
        let user = User {
            id: ids::new_id("usr"),
            email: email.to_string(),
            name: name.to_string(),
            staff_role: staff,
            created_at: self.clock.now(),
        };
        let inserted = execute_in!(
            tx,
            sqlx::query("INSERT INTO users (id, email, name, password_hash, staff_role, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&user.id)
                .bind(&user.email)
                .bind(&user.name)
                .bind(password_hash)
                .bind(user.staff_role)
                .bind(user.created_at)
        );
        match inserted {
            Err(e) if is_unique_violation(&e) => {
                Err(Error::conflict("email_taken", Some("email"), "An account with this email already exists. Sign in instead."))
            }
            other => other.map(|_| user).map_err(Error::from),
        }
    }

    /// Checks an email and password, throttled per account and per client address (see
    /// [`crate::ratelimit`]).
    pub async fn sign_in(&self, email: &str, password: &str, address: &str) -> Result<User> {
        let email_key = email.trim().to_lowercase();
        if email_key.is_empty() {
            return Err(Error::invalid("email", "Enter your email address."));
        }
        if password.is_empty() {
            return Err(Error::invalid("password", "Enter your password."));
        }
        let now = self.clock.now();
        self.check_sign_in(&email_key, address, now).await?;
        self.record_sign_in_attempt(&email_key, address, now).await?;
        let found: Option<UserWithHash> = on_pool!(&self.store, pool => sqlx::query_as(
            "SELECT id, password_hash FROM users WHERE email = $1")
            .bind(&email_key).fetch_optional(pool).await)?;
        let (id, hash) = match found {
            Some(u) => (Some(u.id), u.password_hash),
            None => (None, DUMMY_HASH.to_string()),
        };
        let ok = verify_password(password, hash).await;
        match id {
            Some(id) if ok => {
                self.forgive_sign_in(&email_key, address).await?;
                self.user(&id).await
            }
            _ => {
                tracing::info!("sign-in refused");
                Err(Error::Invalid {
                    code: "invalid_credentials",
                    message: "That email and password do not match an account.".into(),
                    field: Some("password"),
                })
            }
        }
    }

    pub async fn user(&self, user_id: &str) -> Result<User> {
        on_pool!(&self.store, pool => sqlx::query_as::<_, User>(
            "SELECT id, email, name, staff_role, created_at FROM users WHERE id = $1")
            .bind(user_id).fetch_optional(pool).await)?
        .ok_or(Error::NotFound("user"))
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        Ok(on_pool!(&self.store, pool => sqlx::query_as::<_, User>(
            "SELECT id, email, name, staff_role, created_at FROM users WHERE email = $1")
            .bind(email.trim().to_lowercase()).fetch_optional(pool).await)?)
    }

    pub async fn user_count(&self) -> Result<i64> {
        let (n,): (i64,) = on_pool!(&self.store, pool => sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(pool).await)?;
        Ok(n)
    }

    /// Resolves a session's user and chosen tenant into an [`Actor`]. A tenant the user no
    /// longer belongs to is dropped (the caller falls back to their first tenant), unless the
    /// user is staff: staff may view any tenant, read-only.
    pub async fn actor(&self, user_id: &str, tenant_id: Option<&str>) -> Result<Actor> {
        let user = self.user(user_id).await.map_err(|_| Error::Unauthenticated)?;
        let staff = user.staff_role;
        let mut staff_view = false;
        let tenant = match tenant_id {
            Some(t) => match self.role_in(user_id, t).await? {
                Some(role) => Some((t.to_string(), role)),
                None if staff.is_some() && self.tenant(t).await.is_ok() => {
                    staff_view = true;
                    Some((t.to_string(), Role::Member))
                }
                None => None,
            },
            None => None,
        };
        let tenant = match tenant {
            Some(t) => Some(t),
            None => self.memberships(user_id).await?.into_iter().next().map(|m| (m.tenant_id, m.role)),
        };
        let suspended = match &tenant {
            Some((id, _)) => self.tenant(id).await.map(|t| t.suspended).unwrap_or(false),
            None => false,
        };
        Ok(Actor { staff, tenant, staff_view, suspended, ..Actor::user(user.id, user.email) })
    }

    /// Creates a platform staff account, or gives an existing user the staff role.
    pub async fn create_staff(&self, email: &str, password: &str, role: StaffRole) -> Result<User> {
        let email = normalize_email(email)?;
        if let Some(existing) = self.user_by_email(&email).await? {
            execute_on!(&self.store, sqlx::query("UPDATE users SET staff_role = $1 WHERE id = $2").bind(role.as_str()).bind(&existing.id))?;
            return self.user(&existing.id).await;
        }
        validate_password(password)?;
        let hash = hash_password(password).await?;
        let mut tx = self.store.begin().await?;
        let user = self.insert_user(&mut tx, &email, "", &hash, Some(role)).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// The command line (or an operator): creates a tenant with its first admin (owner), and
    /// records it in the audit log. An existing user becomes the owner without a new password;
    /// a new one needs `password`. (The console invites instead: [`Herald::create_tenant_by`].)
    pub async fn create_tenant(
        &self,
        actor: &Actor,
        name: &str,
        plan: Plan,
        admin_email: &str,
        password: Option<&str>,
        allow_private_urls: bool,
    ) -> Result<String> {
        if actor.kind != ActorKind::System {
            actor.require_operator()?;
        }
        let name = validate_tenant_name(name)?;
        let email = normalize_email(admin_email)?;
        let existing = self.user_by_email(&email).await?;
        let hash = match (&existing, password) {
            (Some(_), _) => None,
            (None, Some(p)) => {
                validate_password(p)?;
                Some(hash_password(p).await?)
            }
            (None, None) => return Err(Error::invalid("password", "A new admin account needs a password.")),
        };
        let mut tx = self.store.begin().await?;
        let tenant_id = self.insert_tenant(&mut tx, &name, plan, allow_private_urls).await?;
        let user_id = match existing {
            Some(user) => user.id,
            None => self.insert_user(&mut tx, &email, "", hash.as_deref().unwrap_or_default(), None).await?.id,
        };
        self.insert_membership(&mut tx, &tenant_id, &user_id, Role::Owner).await?;
        let summary = format!("Created the workspace \"{name}\" on the {} plan with admin {email}", plan.label());
        self.audit_in(&mut tx, actor, Audit::new(Some(&tenant_id), AuditAction::TenantCreated, summary).target(&tenant_id)).await?;
        tx.commit().await?;
        Ok(tenant_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(normalize_email("  Ana@Salon.Example ").unwrap(), "ana@salon.example");
        for bad in ["", "ana", "ana@", "@x.io", "ana@nodot", "a b@x.io"] {
            assert!(normalize_email(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(validate_password("short").is_err());
        assert!(validate_password("long enough!").is_ok());
    }

    #[test]
    fn the_dummy_hash_parses() {
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
