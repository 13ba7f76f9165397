//! The SCIM server's bearer tokens (issue 6): one role trait, kept apart from the directory.

use async_trait::async_trait;
use sesame_model::{GroupId, ScimToken, TenantId};
use uuid::Uuid;

use crate::StoreResult;

#[async_trait]
pub trait ScimTokenStore {
    /// NotFound `tenant`; Conflict `scim_token` on a duplicate id or digest.
    async fn create_scim_token(&self, token: &ScimToken) -> StoreResult<()>;
    /// The token with this digest, whatever its tenant (the caller compares tenants and
    /// checks expiry). NotFound `scim_token`.
    async fn find_scim_token(&self, digest: &str) -> StoreResult<ScimToken>;
    /// The tenant's tokens, oldest first.
    async fn list_scim_tokens(&self, tenant: TenantId) -> StoreResult<Vec<ScimToken>>;
    /// Revokes the token. NotFound `scim_token` if the tenant has no such token.
    async fn delete_scim_token(&self, tenant: TenantId, id: Uuid) -> StoreResult<()>;
}

/// SCIM data of groups with no directory field (`externalId`, the `display` a client gave
/// each member), kept as a JSON object per group and deleted with the group.
#[async_trait]
pub trait ScimGroupStore {
    /// `None` when the group has none (or does not exist).
    async fn get_group_scim_attributes(
        &self,
        tenant: TenantId,
        group: GroupId,
    ) -> StoreResult<Option<serde_json::Map<String, serde_json::Value>>>;
    /// Creates or replaces them. NotFound `group` if the tenant has no such group.
    async fn put_group_scim_attributes(
        &self,
        tenant: TenantId,
        group: GroupId,
        attributes: &serde_json::Map<String, serde_json::Value>,
    ) -> StoreResult<()>;
}
