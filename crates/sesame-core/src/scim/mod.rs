//! The SCIM 2.0 server's semantics (RFC 7643, RFC 7644; issue 6, SCIM-1): bearer tokens per
//! tenant, the mapping between directory users and groups and SCIM resources, listing with
//! filters, sorting and pagination, PUT/PATCH with ETags, and Bulk.
//!
//! The protocol itself (filter grammar, PATCH engine, schemas, selection, Bulk parsing) is the
//! sans-I/O crate `sesame-scim`; this module decides what a SCIM request means for the
//! directory and performs it through the `Store`. Resources travel as `serde_json::Value`.
//! Errors are `CoreError::Scim` (status and `scimType` of RFC 7644 §3.12) or the usual core
//! errors (401, 403, storage), which `sesame-web` renders as SCIM error bodies.
//!
//! What it must not touch: HTTP (the web layer passes the base URL used in `meta.location`),
//! SQL, the system clock.

mod bulk;
mod groups;
mod list;
mod users;

use crate::{Core, CoreError, CoreResult, secrets};
use sesame_model::{ScimToken, Tenant, TenantId};
use sesame_scim::ScimError;
use sesame_store::StoreError;
use time::Duration;

pub use bulk::bulk_limits;
pub use list::ScimListQuery;
pub use users::user_to_scim;

/// Prefix of SCIM tokens, so that leaked ones are recognisable by secret scanners.
pub const SCIM_TOKEN_PREFIX: &str = "sesame_scim_";

/// Largest `count` a list request gets, and the default (RFC 7644 §3.4.2.4 lets the server
/// return fewer results than asked). The same number is advertised as `filter.maxResults`.
pub const SCIM_MAX_PAGE: usize = 200;
pub const SCIM_DEFAULT_PAGE: usize = 100;

/// The limits advertised in `/ServiceProviderConfig` and enforced by Bulk (RFC 7644 §3.7.4).
pub fn scim_service_config() -> sesame_scim::ServiceProviderConfig {
    sesame_scim::ServiceProviderConfig {
        bulk_max_operations: 1000,
        bulk_max_payload_size: 1_048_576,
        filter_max_results: SCIM_MAX_PAGE,
        documentation_uri: None,
    }
}

/// A freshly created SCIM token: the only moment its secret exists outside the caller.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewScimToken {
    #[serde(flatten)]
    pub token: ScimToken,
    /// The bearer secret to paste into the SCIM client; shown once, never stored.
    pub secret: String,
}

/// `ETag` of a resource version (RFC 7644 §3.14): weak, since the representation depends on
/// attribute selection.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// Whether an `If-Match` header value (a list of ETags, or `*`) admits `version`.
pub fn if_match_admits(header: &str, version: i64) -> bool {
    header.split(',').map(str::trim).any(|tag| {
        tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == version.to_string()
    })
}

/// 412 unless `if_match` (when given) admits `version` (RFC 7644 §3.14).
fn check_if_match(if_match: Option<&str>, version: i64) -> CoreResult<()> {
    match if_match {
        Some(h) if !if_match_admits(h, version) => Err(ScimError::PreconditionFailed(format!(
            "the resource is at version {}; If-Match named another",
            etag(version)
        ))
        .into()),
        _ => Ok(()),
    }
}

/// Store errors in SCIM terms: a uniqueness rule becomes 409 `uniqueness` (RFC 7644 §3.12).
fn store_err(e: StoreError) -> CoreError {
    match e {
        StoreError::Conflict(rule) => ScimError::Uniqueness(match conflict_attribute(rule) {
            Some(attribute) => format!("{attribute} is already in use"),
            None => e.to_string(),
        })
        .into(),
        StoreError::NotFound(_) => ScimError::NotFound(e.to_string()).into(),
        other => CoreError::from(other),
    }
}

/// The SCIM attribute a uniqueness rule is about, when it is one.
fn conflict_attribute(rule: &str) -> Option<&'static str> {
    match rule {
        "user.upn" => Some("userName"),
        "group.display_name" => Some("displayName"),
        _ => None,
    }
}

/// A store update closure refusal meaning "the record changed since it was read".
const STALE: &str = "scim: stale read";

/// How many times a PUT or PATCH re-reads a record that another writer changed meanwhile.
const MAX_ATTEMPTS: usize = 8;

fn invalid(msg: impl Into<String>) -> CoreError {
    ScimError::InvalidValue(msg.into()).into()
}

/// Parses a PATCH body, tolerating a `schemas` member inside an operation's object value
/// (scim2-tester and some clients send a whole extension object, `schemas` included, as the
/// value of `add`/`replace` on an extension URN). `schemas` is not an attribute one can patch
/// that way (RFC 7644 §3.5.2), so it is dropped rather than rejected.
fn patch_request(body: &serde_json::Value) -> CoreResult<sesame_scim::PatchRequest> {
    let mut body = body.clone();
    if let Some(ops) = body
        .as_object_mut()
        .and_then(|o| {
            o.iter_mut()
                .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
        })
        .and_then(|(_, v)| v.as_array_mut())
    {
        for op in ops.iter_mut().filter_map(|o| o.as_object_mut()) {
            if let Some(v) = op
                .iter_mut()
                .find(|(k, _)| k.eq_ignore_ascii_case("value"))
                .and_then(|(_, v)| v.as_object_mut())
            {
                v.retain(|k, _| !k.eq_ignore_ascii_case("schemas"));
            }
        }
    }
    Ok(sesame_scim::PatchRequest::parse(&body)?)
}

/// Longest lifetime a SCIM token may be given.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::days(3650);

impl Core {
    /// Creates a SCIM token for `tenant`, valid for `lifetime` when given.
    pub async fn create_scim_token(
        &self,
        tenant: TenantId,
        name: &str,
        lifetime: Option<Duration>,
    ) -> CoreResult<NewScimToken> {
        let name = name.trim();
        sesame_model::check_text("name", name, 120)?;
        if lifetime.is_some_and(|l| l <= Duration::ZERO) {
            return Err(CoreError::invalid("expires", "must be in the future"));
        }
        // Longer lifetimes overflow dates the store keeps; a token without expiry says "forever".
        if lifetime.is_some_and(|l| l > MAX_TOKEN_LIFETIME) {
            return Err(CoreError::invalid(
                "expires",
                "at most 10 years; omit it for a token that does not expire",
            ));
        }
        self.require_tenant(tenant).await?;
        let secret = secrets::new_token(SCIM_TOKEN_PREFIX);
        let now = self.now();
        let token = ScimToken {
            id: self.new_uuid(),
            tenant_id: tenant,
            name: name.to_string(),
            digest: secrets::digest(&secret),
            created_at: now,
            expires_at: lifetime.map(|l| now + l),
        };
        self.store.create_scim_token(&token).await?;
        Ok(NewScimToken { token, secret })
    }

    pub async fn list_scim_tokens(&self, tenant: TenantId) -> CoreResult<Vec<ScimToken>> {
        self.require_tenant(tenant).await?;
        Ok(self.store.list_scim_tokens(tenant).await?)
    }

    /// Revokes a token: it stops working at once.
    pub async fn revoke_scim_token(&self, tenant: TenantId, id: uuid::Uuid) -> CoreResult<()> {
        Ok(self.store.delete_scim_token(tenant, id).await?)
    }

    /// The live token a bearer secret stands for: `Unauthenticated` when it is unknown,
    /// revoked or expired. The caller compares its tenant with the one addressed.
    pub async fn scim_token(&self, secret: &str) -> CoreResult<ScimToken> {
        if secret.len() < 32 || secret.len() > 256 {
            return Err(CoreError::Unauthenticated);
        }
        let digest = secrets::digest(secret);
        let token = match self.store.find_scim_token(&digest).await {
            Ok(t) => t,
            Err(StoreError::NotFound(_)) => return Err(CoreError::Unauthenticated),
            Err(e) => return Err(e.into()),
        };
        // The lookup is by digest; comparing again in constant time keeps a backend's index
        // comparison out of the security argument.
        if !secrets::equal(&token.digest, &digest) || !token.is_valid_at(self.now()) {
            return Err(CoreError::Unauthenticated);
        }
        Ok(token)
    }

    /// Checks a bearer secret presented to `tenant`'s SCIM endpoint: `Unauthenticated` as in
    /// [`Core::scim_token`], `Forbidden` when the token belongs to another tenant.
    pub async fn authenticate_scim(&self, tenant: &Tenant, secret: &str) -> CoreResult<ScimToken> {
        let token = self.scim_token(secret).await?;
        if token.tenant_id != tenant.id {
            return Err(CoreError::Forbidden);
        }
        Ok(token)
    }
}
