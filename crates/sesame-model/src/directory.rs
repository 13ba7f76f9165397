//! Directory records (DIR-1 … DIR-3): tenants, domains, users, groups, applications, assignments.

use crate::{AppId, GroupId, TenantId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Number of `extensionAttributeN` slots on a user (N = 1…15), as in Entra ID.
pub const EXTENSION_ATTRIBUTE_COUNT: usize = 15;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    /// The domain every tenant gets at creation, unique across the installation.
    pub initial_domain: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum DomainStatus {
    /// Added, waiting for its DNS TXT proof.
    Unverified,
    /// Proven to belong to the tenant; users may have UPNs in it.
    Verified,
    /// Verified and signing in through an external identity provider.
    Federated,
}

impl DomainStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            DomainStatus::Unverified => "unverified",
            DomainStatus::Verified => "verified",
            DomainStatus::Federated => "federated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "unverified" => Some(DomainStatus::Unverified),
            "verified" => Some(DomainStatus::Verified),
            "federated" => Some(DomainStatus::Federated),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Domain {
    pub tenant_id: TenantId,
    /// Lower-case DNS name.
    pub name: String,
    pub status: DomainStatus,
    /// The value to publish as `sesame-verification=<token>` in a TXT record.
    pub verification_token: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub verified_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub enum UserType {
    #[default]
    Member,
    Guest,
}

/// Where a user comes from (DIR-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub enum UserSource {
    #[default]
    Local,
    Synced,
    FederatedGuest,
    Social,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub user_principal_name: String,
    /// Source anchor used by federation (NameID of seed 001); defaults to base64 of the id.
    pub immutable_id: String,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub mail: Option<String>,
    pub other_mails: Vec<String>,
    pub employee_id: Option<String>,
    /// `extensionAttribute1` … `extensionAttribute15`; index 0 holds attribute 1.
    pub extension_attributes: Vec<Option<String>>,
    pub account_enabled: bool,
    pub user_type: UserType,
    pub source: UserSource,
    /// SCIM `externalId` (RFC 7643 §3.1): the provisioning client's own id for the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// SCIM attributes with no directory field (title, phoneNumbers, addresses…, and the
    /// typed `emails` list), kept as the SCIM client last wrote them; see `sesame_core::scim`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub scim_attributes: Option<serde_json::Map<String, serde_json::Value>>,
    /// Increases by one on every stored change; the basis of ETags and lost-update checks.
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl User {
    /// A user with every optional field empty, as the directory creates it.
    pub fn new(
        id: UserId,
        tenant_id: TenantId,
        user_principal_name: String,
        now: OffsetDateTime,
    ) -> Self {
        User {
            id,
            tenant_id,
            immutable_id: crate::default_immutable_id(id),
            user_principal_name,
            display_name: None,
            given_name: None,
            surname: None,
            mail: None,
            other_mails: Vec::new(),
            employee_id: None,
            extension_attributes: vec![None; EXTENSION_ATTRIBUTE_COUNT],
            account_enabled: true,
            user_type: UserType::Member,
            source: UserSource::Local,
            external_id: None,
            scim_attributes: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: GroupId,
    pub tenant_id: TenantId,
    pub display_name: String,
    pub description: Option<String>,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub id: AppId,
    pub tenant_id: TenantId,
    pub name: String,
    pub enabled: bool,
    /// SAML single sign-on settings, when the app uses SAML.
    #[serde(default)]
    pub saml: Option<crate::SamlAppSettings>,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// Who an application is assigned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(
    tag = "principalType",
    content = "principalId",
    rename_all = "camelCase"
)]
pub enum Principal {
    User(UserId),
    Group(GroupId),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    pub tenant_id: TenantId,
    pub app_id: AppId,
    #[serde(flatten)]
    pub principal: Principal,
    /// An app role value; `None` is the default access role.
    pub app_role: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}
