//! What ingest needs of a tenant (its row and its endpoints), kept in memory per process and
//! used only at the tenant's current revision. The database bumps `tenants.revision` on every
//! change to the tenant and to what ingest reads of its endpoints (migration 0019), and an API
//! key's lookup reads it with the key; so an event costs no tenant or endpoint reads, and a
//! change made by any process (a suspension, a paused endpoint) applies to the next event.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::endpoints::EndpointRow;
use crate::error::Result;
use crate::tenants::Tenant;
use crate::Herald;

pub struct TenantView {
    pub tenant: Tenant,
    pub endpoints: Vec<EndpointRow>,
}

/// Views by tenant id. Bounded: past this many tenants it starts again empty.
#[derive(Default)]
pub struct TenantViews(Mutex<HashMap<String, Arc<TenantView>>>);

const MAX_VIEWS: usize = 10_000;

impl TenantViews {
    fn at(&self, tenant_id: &str, revision: i64) -> Option<Arc<TenantView>> {
        let views = self.0.lock().unwrap_or_else(|p| p.into_inner());
        views.get(tenant_id).filter(|v| v.tenant.revision == revision).cloned()
    }

    fn keep(&self, view: Arc<TenantView>) {
        let mut views = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if views.len() >= MAX_VIEWS {
            views.clear();
        }
        views.insert(view.tenant.id.clone(), view);
    }
}

impl Herald {
    /// The tenant and its endpoints at `revision` (the one an API key's lookup just read), from
    /// memory when this process has them; without a revision (a dashboard session, the command
    /// line), read afresh.
    pub(crate) async fn tenant_view(&self, tenant_id: &str, revision: Option<i64>) -> Result<Arc<TenantView>> {
        if let Some(view) = revision.and_then(|r| self.tenant_views.at(tenant_id, r)) {
            return Ok(view);
        }
        // The tenant row first: the endpoints read after it are at least as new as its
        // revision, so a view is never older than the revision it is kept under.
        let tenant = self.tenant(tenant_id).await?;
        let endpoints = self.endpoint_rows(tenant_id).await?;
        let view = Arc::new(TenantView { tenant, endpoints });
        self.tenant_views.keep(view.clone());
        Ok(view)
    }
}
