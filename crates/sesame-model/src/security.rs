//! Security records: password credentials, SSO sessions, admin tokens and the sign-in log.
//! Secrets never appear here in clear: only their argon2id hash or SHA-256 digest.

use crate::{AdminTokenId, AppId, SignInId, TenantId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// A user's local password and its lockout counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordCredential {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    /// PHC string of the argon2id hash.
    pub hash: String,
    /// Failed attempts since the last success or the last lockout.
    pub failed_attempts: u32,
    pub locked_until: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
}

/// An SSO session. `id_digest` is the SHA-256 of the cookie value, hex-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id_digest: String,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub authenticated_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// An application the user reached during an SSO session, remembered for single logout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionParticipant {
    pub app_id: AppId,
    pub name_id: String,
    pub name_id_format: String,
    pub session_index: String,
    pub at: OffsetDateTime,
}

/// A bearer token for the admin API, global or limited to one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminToken {
    pub id: AdminTokenId,
    pub name: String,
    /// `None`: the token administers every tenant.
    pub tenant_id: Option<TenantId>,
    /// SHA-256 of the token, hex-encoded; never serialized.
    #[serde(skip)]
    pub digest: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum SignInResult {
    Success,
    Failure,
    Locked,
}

impl SignInResult {
    pub fn as_str(&self) -> &'static str {
        match self {
            SignInResult::Success => "success",
            SignInResult::Failure => "failure",
            SignInResult::Locked => "locked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(SignInResult::Success),
            "failure" => Some(SignInResult::Failure),
            "locked" => Some(SignInResult::Locked),
            _ => None,
        }
    }
}

/// One sign-in attempt (AUTH-4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignInEvent {
    pub id: SignInId,
    pub tenant_id: TenantId,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// The user, when the name given matched one.
    pub user_id: Option<UserId>,
    /// The name as typed (lower-cased), kept even when no user matched.
    pub user_principal_name: String,
    pub app_id: Option<AppId>,
    /// `password`, later `saml`, `wsfed`, `oidc`, `kerberos`.
    pub protocol: String,
    pub result: SignInResult,
    /// Stable reason code for failures (`SESAME-1001`…), `None` on success.
    pub reason: Option<String>,
    pub ip: Option<String>,
    pub correlation_id: String,
}

/// Which sign-in events to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignInQuery {
    pub user_id: Option<UserId>,
    /// Sign-ins to this application.
    pub app_id: Option<AppId>,
    pub result: Option<SignInResult>,
    pub correlation_id: Option<String>,
    /// Sign-ins at or after this instant.
    pub since: Option<OffsetDateTime>,
}
