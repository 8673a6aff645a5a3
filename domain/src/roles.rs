//! Who may do what. Tenant roles (owner, admin, member) live on memberships; platform staff
//! roles (support, operator) live on the user and are separate from any tenant.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    pub fn is_admin(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StaffRole {
    Support,
    Operator,
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Support => "support",
            StaffRole::Operator => "operator",
        }
    }

    pub fn parse(value: &str) -> Option<StaffRole> {
        match value {
            "support" => Some(StaffRole::Support),
            "operator" => Some(StaffRole::Operator),
            _ => None,
        }
    }
}

/// The person (or API key) behind a request, resolved against the database on every request.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: String,
    pub email: String,
    pub staff: Option<StaffRole>,
    /// The tenant the session is working in, with the actor's role there.
    pub tenant: Option<(String, Role)>,
}

impl Actor {
    /// The current tenant; a session without one cannot reach tenant data.
    pub fn tenant_id(&self) -> Result<&str> {
        self.tenant.as_ref().map(|(id, _)| id.as_str()).ok_or(Error::NotFound("tenant"))
    }

    pub fn require_admin(&self) -> Result<&str> {
        match &self.tenant {
            Some((id, role)) if role.is_admin() => Ok(id),
            Some(_) => Err(Error::Forbidden("Only admins of this tenant can do that.".into())),
            None => Err(Error::NotFound("tenant")),
        }
    }

    pub fn is_operator(&self) -> bool {
        self.staff == Some(StaffRole::Operator)
    }

    /// Support and operators may read every tenant.
    pub fn is_staff(&self) -> bool {
        self.staff.is_some()
    }

    pub fn require_operator(&self) -> Result<()> {
        if self.is_operator() {
            Ok(())
        } else {
            // Staff areas do not exist for anyone else.
            Err(Error::NotFound("page"))
        }
    }
}
