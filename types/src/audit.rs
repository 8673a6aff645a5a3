//! What the audit log records, and the groups its filter offers.

use crate::text_enum;

text_enum! {
    /// A stable dotted code for one kind of change: `group.what`.
    AuditAction {
        EndpointCreated = "endpoint.created",
        EndpointUpdated = "endpoint.updated",
        EndpointDeleted = "endpoint.deleted",
        EndpointActivated = "endpoint.activated",
        EndpointDeactivated = "endpoint.deactivated",
        EndpointAuthHeaderSet = "endpoint.auth_header_set",
        EndpointAuthHeaderRemoved = "endpoint.auth_header_removed",
        EndpointSecretRotated = "endpoint.secret_rotated",
        MemberInvited = "member.invited",
        MemberJoined = "member.joined",
        MemberRemoved = "member.removed",
        InvitationRevoked = "invitation.revoked",
        ApiKeyCreated = "api_key.created",
        ApiKeyRevoked = "api_key.revoked",
        TenantCreated = "tenant.created",
        TenantPlanChanged = "tenant.plan_changed",
        TenantRetentionChanged = "tenant.retention_changed",
        TenantPrivateUrlsChanged = "tenant.private_urls_changed",
        TenantSuspended = "tenant.suspended",
        TenantUnsuspended = "tenant.unsuspended",
        TenantWebhooksEnabled = "tenant.webhooks_enabled",
        TenantWebhooksDisabled = "tenant.webhooks_disabled",
        DeliveryReplayed = "delivery.replayed",
        RecoveryStarted = "recovery.started",
        RecoveryCancelled = "recovery.cancelled",
        RecoveryFinished = "recovery.finished",
        StaffGranted = "staff.granted",
        PlatformKeyCreated = "platform_key.created",
        PlatformKeyRevoked = "platform_key.revoked",
        DashboardLinkCreated = "dashboard_link.created",
        DashboardLinkUsed = "dashboard_link.used",
        EventTypeCreated = "event_type.created",
        EventTypeUpdated = "event_type.updated",
        EventTypeDeprecated = "event_type.deprecated",
        EventTypeRestored = "event_type.restored",
    }
}

text_enum! {
    /// A filter of the audit log: every action whose code starts with `group.`.
    AuditGroup {
        Endpoint = "endpoint",
        Member = "member",
        Invitation = "invitation",
        ApiKey = "api_key",
        Tenant = "tenant",
        Delivery = "delivery",
        Recovery = "recovery",
        Staff = "staff",
        PlatformKey = "platform_key",
        DashboardLink = "dashboard_link",
        EventType = "event_type",
    }
}

impl AuditGroup {
    pub fn label(self) -> &'static str {
        match self {
            AuditGroup::Endpoint => "Endpoints",
            AuditGroup::Member => "Team",
            AuditGroup::Invitation => "Invitations",
            AuditGroup::ApiKey => "API keys",
            AuditGroup::Tenant => "Plan and workspace",
            AuditGroup::Delivery => "Replays",
            AuditGroup::Recovery => "Recovery jobs",
            AuditGroup::Staff => "Staff accounts",
            AuditGroup::PlatformKey => "Platform keys",
            AuditGroup::DashboardLink => "Dashboard links",
            AuditGroup::EventType => "Event catalog",
        }
    }

    /// The filter value: `endpoint.` matches every endpoint action.
    pub fn prefix(self) -> String {
        format!("{}.", self.as_str())
    }
}

impl AuditAction {
    pub fn group(self) -> AuditGroup {
        let (group, _) = self.as_str().split_once('.').unwrap_or_default();
        AuditGroup::parse(group).unwrap_or(AuditGroup::Tenant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_belongs_to_the_group_its_code_names() {
        for action in AuditAction::ALL {
            let group = action.group();
            assert!(action.as_str().starts_with(&group.prefix()), "{action} is not in {group}");
        }
        for group in AuditGroup::ALL {
            assert!(AuditAction::ALL.iter().any(|a| a.group() == *group), "no action in {group}");
        }
    }
}

/// One entry of the audit log. Times are epoch milliseconds.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct AuditEntry {
    /// Write order (the cursor of the next page).
    pub seq: i64,
    pub id: String,
    pub tenant_id: Option<String>,
    pub tenant_name: Option<String>,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub actor_kind: crate::ActorKind,
    pub action: AuditAction,
    pub target: Option<String>,
    pub summary: String,
    /// JSON.
    pub details: Option<String>,
    pub ip: Option<String>,
    pub created_at: i64,
}
