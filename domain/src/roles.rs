//! Who may do what. Tenant roles (owner, admin, member) live on memberships; platform staff
//! roles (support, operator) live on the user and are separate from any tenant.

use crate::error::{Error, Result};

pub use types::{ActorKind, Role, StaffRole};

/// The person (or API key) behind a request, resolved against the database on every request.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: String,
    pub email: String,
    pub staff: Option<StaffRole>,
    /// The tenant the session is working in, with the actor's role there.
    pub tenant: Option<(String, Role)>,
    /// Staff looking at a tenant they do not belong to: they may read, never change, and
    /// never see secrets.
    pub staff_view: bool,
    /// The current tenant is suspended: its dashboard and API are read-only.
    pub suspended: bool,
    /// Where the request came from, for the audit log (see `Herald::client_ip`).
    pub ip: Option<String>,
    /// A dashboard session, an API key, or the system (command line, background jobs).
    pub kind: ActorKind,
    /// The tenant's revision when an API key was resolved to this actor: ingest then uses its
    /// cached view of the tenant at that revision without reading it again.
    pub tenant_revision: Option<i64>,
}

const SUPPORT_READ_ONLY: &str = "Staff view is read-only: nothing in a tenant can be changed from here.";
const SUSPENDED: &str = "This workspace is suspended, so it is read-only. Contact your Herald operator.";

impl Actor {
    /// A signed-in user (no tenant yet, not staff).
    pub fn user(user_id: impl Into<String>, email: impl Into<String>) -> Actor {
        Actor {
            user_id: user_id.into(),
            email: email.into(),
            staff: None,
            tenant: None,
            staff_view: false,
            suspended: false,
            ip: None,
            kind: ActorKind::User,
            tenant_revision: None,
        }
    }

    /// The command line and background jobs, for the audit log.
    pub fn system(label: &str) -> Actor {
        Actor { kind: ActorKind::System, ..Actor::user("", label) }
    }

    /// The command line acting as an admin of one tenant (creating its API key, say).
    pub fn in_tenant(self, tenant_id: &str) -> Actor {
        debug_assert_eq!(self.kind, ActorKind::System, "only the system acts in a tenant it does not belong to");
        Actor { tenant: Some((tenant_id.to_string(), Role::Admin)), tenant_revision: None, ..self }
    }

    /// Staff, and the command line, read across tenants (the audit log, say).
    pub fn reads_every_tenant(&self) -> bool {
        self.is_staff() || self.kind == ActorKind::System
    }

    /// The same actor, seen coming from `ip`.
    pub fn with_ip(mut self, ip: Option<String>) -> Actor {
        self.ip = ip;
        self
    }

    /// The current tenant, for reading; a session without one cannot reach tenant data.
    pub fn tenant_id(&self) -> Result<&str> {
        self.tenant.as_ref().map(|(id, _)| id.as_str()).ok_or(Error::NotFound("tenant"))
    }

    /// The current tenant, for changing something in it (any member may): refused to staff
    /// viewing the tenant and while the tenant is suspended.
    pub fn require_writer(&self) -> Result<&str> {
        let id = self.tenant_id()?;
        if self.staff_view {
            return Err(Error::Forbidden(SUPPORT_READ_ONLY.into()));
        }
        if self.suspended {
            return Err(Error::Forbidden(SUSPENDED.into()));
        }
        Ok(id)
    }

    /// Secrets (signing secrets, auth header values) are for the tenant's own people only.
    pub fn require_secret_access(&self) -> Result<&str> {
        let id = self.tenant_id()?;
        if self.staff_view {
            return Err(Error::Forbidden("Support staff cannot see secrets.".into()));
        }
        Ok(id)
    }

    pub fn require_admin(&self) -> Result<&str> {
        match &self.tenant {
            Some(_) if self.staff_view => Err(Error::Forbidden(SUPPORT_READ_ONLY.into())),
            Some((id, role)) if role.is_admin() => {
                if self.suspended {
                    return Err(Error::Forbidden(SUSPENDED.into()));
                }
                Ok(id)
            }
            Some(_) => Err(Error::Forbidden("Only admins of this tenant can do that.".into())),
            None => Err(Error::NotFound("tenant")),
        }
    }

    /// Admins may read their tenant's admin-only pages (audit log, API keys) even while
    /// suspended; staff read every tenant's.
    pub fn require_admin_read(&self) -> Result<&str> {
        match &self.tenant {
            Some((id, _)) if self.staff_view || self.is_staff() => Ok(id),
            Some((id, role)) if role.is_admin() => Ok(id),
            Some(_) => Err(Error::Forbidden("Only admins of this tenant can see that.".into())),
            None => Err(Error::NotFound("tenant")),
        }
    }

    /// True when this actor may change things in the current tenant.
    pub fn can_write(&self) -> bool {
        self.require_writer().is_ok()
    }

    pub fn is_operator(&self) -> bool {
        self.staff == Some(StaffRole::Operator)
    }

    /// Support and operators may read every tenant.
    pub fn is_staff(&self) -> bool {
        self.staff.is_some()
    }

    /// Who may define, change and deprecate event types: the catalog is the platform's, not a
    /// tenant's, so operators (even while viewing a tenant), the command line and the
    /// platform's key (`hkp_…`); never a tenant's people or keys, nor support.
    pub fn may_edit_catalog(&self) -> bool {
        self.is_operator() || matches!(self.kind, ActorKind::System | ActorKind::PlatformKey)
    }

    pub fn require_catalog_editor(&self) -> Result<()> {
        if self.may_edit_catalog() {
            Ok(())
        } else {
            Err(Error::Forbidden("Only Herald operators and the platform's key can change the event catalog.".into()))
        }
    }

    pub fn require_operator(&self) -> Result<()> {
        if self.is_operator() {
            Ok(())
        } else {
            // Staff areas do not exist for anyone else.
            Err(Error::NotFound("page"))
        }
    }

    /// Creating and changing tenants: operators, the command line, and the platform's key.
    pub fn require_tenant_manager(&self) -> Result<()> {
        match self.kind {
            ActorKind::System | ActorKind::PlatformKey => Ok(()),
            _ => self.require_operator(),
        }
    }

    /// A platform key (`hkp_…`), before or after it picked a tenant to act in.
    pub fn is_platform_key(&self) -> bool {
        self.kind == ActorKind::PlatformKey
    }

    pub fn require_staff(&self) -> Result<()> {
        if self.is_staff() {
            Ok(())
        } else {
            Err(Error::NotFound("page"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(role: Role) -> Actor {
        Actor { tenant: Some(("ten_1".into(), role)), ..Actor::user("usr_1", "a@b.example") }
    }

    #[test]
    fn staff_view_reads_but_never_writes_or_sees_secrets() {
        let viewer = Actor { staff: Some(StaffRole::Operator), staff_view: true, ..member(Role::Member) };
        assert_eq!(viewer.tenant_id().unwrap(), "ten_1");
        assert!(matches!(viewer.require_writer(), Err(Error::Forbidden(_))));
        assert!(matches!(viewer.require_admin(), Err(Error::Forbidden(_))));
        assert!(matches!(viewer.require_secret_access(), Err(Error::Forbidden(_))));
        assert!(viewer.require_admin_read().is_ok());
    }

    #[test]
    fn only_operators_the_system_and_the_platform_key_edit_the_catalog() {
        let staff = |role| Actor { staff: Some(role), ..Actor::user("usr_2", "s@herald.example") };
        assert!(staff(StaffRole::Operator).may_edit_catalog());
        assert!(!Actor { staff_view: true, ..member(Role::Member) }.may_edit_catalog());
        assert!(Actor { staff: Some(StaffRole::Operator), staff_view: true, ..member(Role::Member) }.may_edit_catalog());
        assert!(Actor::system("cli").may_edit_catalog());
        assert!(Actor { kind: ActorKind::PlatformKey, ..Actor::user("", "platform") }.may_edit_catalog());
        for refused in [staff(StaffRole::Support), member(Role::Owner), Actor { kind: ActorKind::ApiKey, ..member(Role::Admin) }] {
            assert!(matches!(refused.require_catalog_editor(), Err(Error::Forbidden(_))), "{refused:?}");
        }
    }

    #[test]
    fn a_suspended_tenant_is_read_only_but_keeps_its_secrets() {
        let owner = Actor { suspended: true, ..member(Role::Owner) };
        assert!(owner.require_writer().unwrap_err().to_string().contains("suspended"));
        assert!(owner.require_admin().unwrap_err().to_string().contains("suspended"));
        assert!(owner.require_secret_access().is_ok());
        assert!(member(Role::Member).require_writer().is_ok());
        assert!(member(Role::Member).require_admin().is_err());
    }
}
