//! Who acts: tenant roles, staff roles, the kind of actor, and the tenant's plan.

use crate::text_enum;

text_enum! {
    /// A member's role in a tenant.
    Role { Owner = "owner", Admin = "admin", Member = "member" }
}

impl Role {
    /// Owners and admins manage endpoints, secrets, the team and replays.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Member => "Member",
        }
    }
}

text_enum! {
    /// Platform staff, separate from any tenant: support reads every tenant, operators also
    /// set plans and suspend.
    StaffRole { Support = "support", Operator = "operator" }
}

impl StaffRole {
    pub fn label(self) -> &'static str {
        match self {
            StaffRole::Support => "Support",
            StaffRole::Operator => "Operator",
        }
    }
}

text_enum! {
    /// Who is behind a change, as the audit log records it.
    ActorKind {
        /// A dashboard session.
        User = "user",
        /// A dashboard session of platform staff.
        Staff = "staff",
        ApiKey = "api_key",
        /// A platform key (`hkp_…`): the booking platform acting across its tenants.
        PlatformKey = "platform_key",
        /// The command line and background jobs.
        System = "system",
    }
}

impl ActorKind {
    pub fn label(self) -> &'static str {
        match self {
            ActorKind::User => "Team member",
            ActorKind::Staff => "Herald staff",
            ActorKind::ApiKey => "API key",
            ActorKind::PlatformKey => "Platform key",
            ActorKind::System => "Command line",
        }
    }
}

text_enum! {
    /// A tenant's plan: how many endpoints it may have.
    Plan { Basic = "basic", Professional = "professional", Business = "business", Enterprise = "enterprise" }
}

impl Plan {
    pub fn label(self) -> &'static str {
        match self {
            Plan::Basic => "Basic",
            Plan::Professional => "Professional",
            Plan::Business => "Business",
            Plan::Enterprise => "Enterprise",
        }
    }

    /// What a person typed: any case, spaces around.
    pub fn from_input(text: &str) -> Option<Plan> {
        Plan::parse(&text.trim().to_lowercase())
    }

    /// How many endpoints (active or inactive) a tenant on this plan may have.
    pub fn endpoint_limit(self) -> i64 {
        match self {
            Plan::Basic => 1,
            Plan::Professional => 3,
            Plan::Business => 5,
            Plan::Enterprise => 10,
        }
    }

    /// The smallest plan that allows more endpoints than this one.
    pub fn next_up(self) -> Option<Plan> {
        Plan::ALL.iter().copied().find(|p| p.endpoint_limit() > self.endpoint_limit())
    }
}

/// A member of a tenant, as the team page lists them.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// When they joined (epoch milliseconds).
    pub created_at: i64,
}

/// An invitation to join a tenant (the link's token is not part of it).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Invitation {
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    pub role: Role,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
}
