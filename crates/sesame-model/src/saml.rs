//! SAML settings of an enterprise application (SAML-IDP-1, -3, -4, -5, -6) and its signing
//! certificates. Shapes only: the protocol lives in `sesame-saml`, the rules in `sesame-core`.

use crate::{AppId, TenantId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Where the application wants Responses posted (an AssertionConsumerService).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplyUrl {
    pub url: String,
    /// The ACS index an AuthnRequest may name (`AssertionConsumerServiceIndex`).
    pub index: u16,
    #[serde(default)]
    pub is_default: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub enum NameIdFormat {
    Persistent,
    #[default]
    EmailAddress,
    Unspecified,
    Transient,
}

impl NameIdFormat {
    pub fn urn(self) -> &'static str {
        match self {
            NameIdFormat::Persistent => "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            NameIdFormat::EmailAddress => "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            NameIdFormat::Unspecified => "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
            NameIdFormat::Transient => "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
        }
    }

    pub fn from_urn(urn: &str) -> Option<Self> {
        [
            NameIdFormat::Persistent,
            NameIdFormat::EmailAddress,
            NameIdFormat::Unspecified,
            NameIdFormat::Transient,
        ]
        .into_iter()
        .find(|f| f.urn() == urn)
    }
}

/// A user attribute a claim or a NameID can come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum UserField {
    UserPrincipalName,
    Mail,
    /// The part of `mail` (or the UPN when no mail) before the `@`.
    MailPrefix,
    GivenName,
    Surname,
    DisplayName,
    EmployeeId,
    ImmutableId,
    ObjectId,
    ExtensionAttribute1,
    ExtensionAttribute2,
    ExtensionAttribute3,
    ExtensionAttribute4,
    ExtensionAttribute5,
    ExtensionAttribute6,
    ExtensionAttribute7,
    ExtensionAttribute8,
    ExtensionAttribute9,
    ExtensionAttribute10,
    ExtensionAttribute11,
    ExtensionAttribute12,
    ExtensionAttribute13,
    ExtensionAttribute14,
    ExtensionAttribute15,
}

/// What the NameID is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", tag = "kind", content = "field")]
pub enum NameIdSource {
    /// A user attribute.
    User(UserField),
    /// An opaque identifier stable per user and application, unlinkable across applications.
    #[default]
    Pairwise,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NameIdSettings {
    pub format: NameIdFormat,
    pub source: NameIdSource,
}

impl Default for NameIdSettings {
    /// Entra's default: the UPN, as an e-mail address NameID.
    fn default() -> Self {
        NameIdSettings {
            format: NameIdFormat::EmailAddress,
            source: NameIdSource::User(UserField::UserPrincipalName),
        }
    }
}

/// Where an attribute's values come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", tag = "kind", content = "value")]
pub enum ClaimSource {
    User(UserField),
    Constant(String),
    /// Display names of the user's groups.
    Groups,
    /// The app roles the user holds in this application.
    AppRoles,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum ClaimTransform {
    ToLower,
    ToUpper,
    ExtractMailPrefix,
    /// `value + separator + suffix`, as Entra's Join(value, suffix, separator).
    Join {
        separator: String,
        suffix: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttributeMapping {
    pub name: String,
    /// `NameFormat` URI; `None` omits it (unspecified).
    #[serde(default)]
    pub name_format: Option<String>,
    pub source: ClaimSource,
    #[serde(default)]
    pub transforms: Vec<ClaimTransform>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub enum SigningMode {
    #[default]
    Assertion,
    Response,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub enum SamlSignatureAlgorithm {
    #[default]
    #[serde(rename = "rsa-sha256")]
    RsaSha256,
    #[serde(rename = "rsa-sha1")]
    RsaSha1,
}

/// How an encrypted assertion's content is encrypted (XML Encryption 1.1 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub enum SamlContentEncryption {
    /// AES-256-GCM: authenticated.
    #[default]
    #[serde(rename = "aes256-gcm")]
    Aes256Gcm,
    /// AES-128-CBC, for SPs whose XML Encryption library reads nothing newer.
    #[serde(rename = "aes128-cbc")]
    Aes128Cbc,
}

/// How Sésame sends an application its logout messages: its SingleLogoutService's binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub enum SamlLogoutBinding {
    /// HTTP-Redirect, signed in the query string.
    #[default]
    #[serde(rename = "redirect")]
    Redirect,
    /// HTTP-POST by an auto-submitted form, with an enveloped signature.
    #[serde(rename = "post")]
    Post,
}

/// SAML settings of an application, as an administrator sets them or metadata fills them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SamlAppSettings {
    /// The SP's entityIDs; the first is the Audience of issued assertions.
    pub identifiers: Vec<String>,
    pub reply_urls: Vec<ReplyUrl>,
    #[serde(default)]
    pub sign_on_url: Option<String>,
    /// The SP's SingleLogoutService.
    #[serde(default)]
    pub logout_url: Option<String>,
    /// Its binding.
    #[serde(default)]
    pub logout_binding: SamlLogoutBinding,
    /// Where the SP takes LogoutResponses, when not at `logoutUrl` (its metadata's
    /// `ResponseLocation`, metadata §2.2.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logout_response_url: Option<String>,
    /// The SP's SingleLogoutService for the SOAP binding (bindings §3.2), which Sésame calls
    /// itself, without a browser: for applications with no `logoutUrl`, and for sessions a
    /// logout ends that no browser is there to carry messages for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_channel_logout_url: Option<String>,
    /// RelayState sent with IdP-initiated Responses.
    #[serde(default)]
    pub relay_state: Option<String>,
    #[serde(default)]
    pub name_id: NameIdSettings,
    #[serde(default = "default_attributes")]
    pub attributes: Vec<AttributeMapping>,
    #[serde(default)]
    pub signing_mode: SigningMode,
    #[serde(default)]
    pub signature_algorithm: SamlSignatureAlgorithm,
    /// Validity of assertions, seconds.
    #[serde(default = "default_lifetime")]
    pub assertion_lifetime_secs: u32,
    /// PEM certificate; when set, assertions are encrypted to it.
    #[serde(default)]
    pub encryption_certificate: Option<String>,
    /// The content encryption of those assertions (RSA-OAEP carries the key).
    #[serde(default)]
    pub encryption_method: SamlContentEncryption,
    /// Refuse AuthnRequests and LogoutRequests not signed by a verification certificate.
    #[serde(default)]
    pub require_signed_requests: bool,
    /// PEM certificates of the SP's request signatures.
    #[serde(default)]
    pub verification_certificates: Vec<String>,
}

fn default_lifetime() -> u32 {
    3600
}

/// Entra's default claims: given name, surname, e-mail address and name.
pub fn default_attributes() -> Vec<AttributeMapping> {
    let claim = |suffix: &str, field: UserField| AttributeMapping {
        name: format!("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/{suffix}"),
        name_format: None,
        source: ClaimSource::User(field),
        transforms: Vec::new(),
    };
    vec![
        claim("givenname", UserField::GivenName),
        claim("surname", UserField::Surname),
        claim("emailaddress", UserField::Mail),
        claim("name", UserField::UserPrincipalName),
    ]
}

impl SamlAppSettings {
    /// The default ACS: the one marked default, else the lowest index.
    pub fn default_reply_url(&self) -> Option<&ReplyUrl> {
        self.reply_urls
            .iter()
            .find(|r| r.is_default)
            .or_else(|| self.reply_urls.iter().min_by_key(|r| r.index))
    }
}

/// An application's SAML signing certificate and its encrypted private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppCertificate {
    pub id: uuid::Uuid,
    pub tenant_id: TenantId,
    pub app_id: AppId,
    /// DER certificate, base64.
    pub certificate: String,
    /// SHA-1 thumbprint, upper-case hex, as Entra shows it.
    pub thumbprint: String,
    /// PKCS#8 private key sealed with the master key; never serialized.
    #[serde(skip)]
    pub sealed_private_key: Vec<u8>,
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub not_after: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// The tenant's own signing certificate: signs the tenant-wide IdP metadata and Sésame's SP
/// metadata (applications sign with their own [`AppCertificate`]s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantCertificate {
    pub tenant_id: TenantId,
    /// DER certificate, base64.
    pub certificate: String,
    pub thumbprint: String,
    /// PKCS#8 private key sealed with the master key.
    pub sealed_private_key: Vec<u8>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub created_at: OffsetDateTime,
}
