//! Admin API tokens: global or limited to one tenant, stored only as SHA-256 digests.

use crate::secrets;
use crate::{Core, CoreError, CoreResult};
use sesame_model::*;
use sesame_store::StoreError;

/// What an authenticated admin token may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminScope {
    Global,
    Tenant(TenantId),
}

impl AdminScope {
    /// Refuses access to `tenant` by a token limited to another tenant.
    pub fn check_tenant(&self, tenant: TenantId) -> CoreResult<()> {
        match self {
            AdminScope::Global => Ok(()),
            AdminScope::Tenant(t) if *t == tenant => Ok(()),
            AdminScope::Tenant(_) => Err(CoreError::Forbidden),
        }
    }

    pub fn require_global(&self) -> CoreResult<()> {
        match self {
            AdminScope::Global => Ok(()),
            AdminScope::Tenant(_) => Err(CoreError::Forbidden),
        }
    }
}

/// A freshly created token: the only moment its secret exists outside the caller.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewAdminToken {
    #[serde(flatten)]
    pub token: AdminToken,
    /// The bearer secret; shown once, never stored.
    pub secret: String,
}

/// Prefix of admin tokens, so that leaked ones are recognisable by secret scanners.
pub const ADMIN_TOKEN_PREFIX: &str = "sesame_at_";

impl Core {
    pub async fn create_admin_token(
        &self,
        name: &str,
        tenant: Option<TenantId>,
    ) -> CoreResult<NewAdminToken> {
        check_text("name", name.trim(), 120)?;
        if let Some(t) = tenant {
            self.require_tenant(t).await?;
        }
        let secret = secrets::new_token(ADMIN_TOKEN_PREFIX);
        let token = AdminToken {
            id: AdminTokenId(self.new_uuid()),
            name: name.trim().to_string(),
            tenant_id: tenant,
            digest: secrets::digest(&secret),
            created_at: self.now(),
        };
        self.store.create_admin_token(&token).await?;
        Ok(NewAdminToken { token, secret })
    }

    /// Installs `secret` (from `SESAME_ADMIN_TOKEN`) as a global token unless it exists.
    pub async fn install_admin_token(&self, name: &str, secret: &str) -> CoreResult<()> {
        if secret.len() < 32 {
            return Err(CoreError::invalid(
                "SESAME_ADMIN_TOKEN",
                "must be at least 32 characters",
            ));
        }
        let digest = secrets::digest(secret);
        match self.store.find_admin_token(&digest).await {
            Ok(_) => return Ok(()),
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        let token = AdminToken {
            id: AdminTokenId(self.new_uuid()),
            name: name.to_string(),
            tenant_id: None,
            digest,
            created_at: self.now(),
        };
        self.store.create_admin_token(&token).await?;
        Ok(())
    }

    /// Creates the first global token when the store has none; `None` when one exists.
    pub async fn bootstrap_admin_token(&self) -> CoreResult<Option<NewAdminToken>> {
        if self.store.count_admin_tokens().await? > 0 {
            return Ok(None);
        }
        self.create_admin_token("bootstrap", None).await.map(Some)
    }

    /// The scope of a bearer secret, or `Unauthenticated`.
    pub async fn authenticate_admin(&self, secret: &str) -> CoreResult<AdminScope> {
        if !secret.starts_with(ADMIN_TOKEN_PREFIX) && secret.len() < 32 {
            return Err(CoreError::Unauthenticated);
        }
        let digest = secrets::digest(secret);
        let token = match self.store.find_admin_token(&digest).await {
            Ok(t) => t,
            Err(StoreError::NotFound(_)) => return Err(CoreError::Unauthenticated),
            Err(e) => return Err(e.into()),
        };
        // The lookup is by digest; comparing again in constant time keeps a backend's
        // index comparison out of the security argument.
        if !secrets::equal(&token.digest, &digest) {
            return Err(CoreError::Unauthenticated);
        }
        Ok(match token.tenant_id {
            Some(t) => AdminScope::Tenant(t),
            None => AdminScope::Global,
        })
    }
}
