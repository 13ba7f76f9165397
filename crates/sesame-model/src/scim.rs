//! SCIM server credentials: bearer secret tokens limited to one tenant (issue 6, SCIM-1).
//! Only the SHA-256 digest of a token is kept; the secret is shown once at creation.

use crate::TenantId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A bearer token a SCIM client (Entra ID, Okta, an HR system) presents to
/// `/{tenant}/scim/v2/…`. It is valid for its tenant only, until `expires_at` if set, and
/// until revoked (deleted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScimToken {
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    pub tenant_id: TenantId,
    /// What the token is for ("Entra provisioning"), shown in lists.
    pub name: String,
    /// SHA-256 of the token, hex-encoded; never serialized.
    #[serde(skip)]
    pub digest: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// `None`: the token does not expire.
    #[serde(with = "time::serde::rfc3339::option", default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
}

impl ScimToken {
    /// Whether the token may still be used at `now`.
    pub fn is_valid_at(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_none_or(|e| now < e)
    }
}
