//! Federation of a verified domain with an external SAML 2.0 identity provider (SAML-SP-1, the
//! `Set-MsolDomainAuthentication` equivalent), and the SP-side records that go with it: the
//! AuthnRequests Sésame sent and has not yet seen answered. Shapes only: the protocol lives in
//! `sesame-saml`, the rules in `sesame-core`.

use crate::{TenantId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Default tolerated clock skew with a federated IdP, in seconds (3 minutes).
pub const DEFAULT_FEDERATION_CLOCK_SKEW_SECS: u32 = 180;

/// The protocol Sésame speaks with the federated IdP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum FederationProtocol {
    /// SAML 2.0 Web Browser SSO (SP-Lite, seed 001).
    #[default]
    Samlp,
}

fn answers_logout() -> bool {
    true
}

/// The federation settings of one domain of a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainFederation {
    pub tenant_id: TenantId,
    /// The federated domain (lower-case), a verified domain of the tenant.
    pub domain: String,
    /// The IdP's entityID (`IssuerUri`).
    pub issuer_uri: String,
    /// Where AuthnRequests go (HTTP-POST, `PassiveLogOnUri`).
    pub passive_logon_url: String,
    /// Where LogoutRequests go (HTTP-Redirect, `LogOffUri`).
    pub logoff_url: String,
    /// The ECP endpoint (`ActiveLogOnUri`), stored for later use.
    #[serde(default)]
    pub active_logon_url: Option<String>,
    /// PEM certificates whose keys may sign the IdP's assertions (at least one).
    pub signing_certificates: Vec<String>,
    #[serde(default)]
    pub preferred_protocol: FederationProtocol,
    /// The name shown to users on the way to their IdP.
    #[serde(default)]
    pub brand_name: Option<String>,
    /// Where the IdP's metadata can be re-read.
    #[serde(default)]
    pub metadata_url: Option<String>,
    /// The PEM certificate whose key signs the IdP's metadata (metadata §3), as federation
    /// operators publish it. When set, metadata read from `metadata_url`, or given when the
    /// federation is set, is used only with a valid signature by it.
    #[serde(default)]
    pub metadata_signing_certificate: Option<String>,
    /// Accept RSA-SHA1 / SHA-1 digests (seed 001 requires them); each acceptance is logged.
    pub allow_sha1: bool,
    /// Tolerated clock skew, in seconds.
    pub clock_skew_secs: u32,
    /// Accept IdP-initiated (unsolicited) Responses.
    pub allow_unsolicited: bool,
    /// The IdP's LogoutResponses count only when signed (by a signing certificate): an
    /// unsigned one, which anyone who learnt the request's ID could forge, does not confirm
    /// the IdP's sign-out. Off by default, as some IdPs (SimpleSAMLphp's defaults) do not sign
    /// them.
    #[serde(default)]
    pub require_signed_logout_responses: bool,
    /// The IdP answers Sésame's LogoutRequest at Sésame's SLO endpoint (SAML Single Logout;
    /// the default). When false (its logoff URL is a page that never sends the browser back),
    /// a sign-out started at Sésame ends at the IdP, and one an application started does not
    /// go there: that application must get its answer, which the IdP would never let happen
    /// (it hears PartialLogout).
    #[serde(default = "answers_logout")]
    #[schema(default = true)]
    pub idp_answers_logout: bool,
    /// The metadata refresh job's record for `metadata_url`.
    #[serde(default)]
    pub metadata_refresh: MetadataRefresh,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// What the metadata refresh job did with a federation's metadata URL (SAML-SP-5): a failed
/// refresh keeps the last good certificates and says why here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct MetadataRefresh {
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_attempt_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_success_at: Option<OffsetDateTime>,
    /// Why the last attempt failed (`None` after a success).
    #[serde(default)]
    pub last_error: Option<String>,
    /// When the job reads the URL next (`None`: at its next run).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_at: Option<OffsetDateTime>,
}

/// An AuthnRequest Sésame sent to a federated IdP and has not yet seen answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutstandingAuthnRequest {
    pub tenant_id: TenantId,
    /// The request's `ID` (the Response's `InResponseTo`).
    pub id: String,
    /// The federated domain the request went to.
    pub domain: String,
    /// Where to send the browser once signed in (a same-origin path).
    pub continue_to: Option<String>,
    pub expires_at: OffsetDateTime,
}

/// How many federations (domain and direct together) a tenant may have (SAML-SP-5).
pub const MAX_FEDERATIONS_PER_TENANT: u32 = 1000;

/// A B2B guest invited by e-mail (DIR-4). The guest's user (type Guest) exists from the
/// invitation on; the first sign-in through the direct federation of the e-mail's domain binds
/// the invitation to that IdP's issuer and persistent NameID (seed 002), which every later
/// sign-in must present again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GuestInvitation {
    pub tenant_id: TenantId,
    /// The invited address (lower-case).
    pub email: String,
    /// The guest's user in the directory.
    pub user_id: UserId,
    /// The e-mail's domain: the direct federation the guest signs in through.
    pub domain: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub invited_at: OffsetDateTime,
    /// Set by the first sign-in through the partner's IdP.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub redeemed_at: Option<OffsetDateTime>,
    /// The IdP that redeemed it.
    pub issuer: Option<String>,
    /// The persistent NameID it redeemed with.
    pub name_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Federations stored before a setting existed read with its default: an IdP answers
    /// logout unless said otherwise (else application-started logouts would stop reaching
    /// it after an upgrade).
    #[test]
    fn stored_federations_read_with_the_defaults() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let today = DomainFederation {
            tenant_id: TenantId(uuid::Uuid::nil()),
            domain: "fabrikam.example".into(),
            issuer_uri: "https://idp.fabrikam.example/".into(),
            passive_logon_url: "https://idp.fabrikam.example/sso".into(),
            logoff_url: "https://idp.fabrikam.example/slo".into(),
            active_logon_url: None,
            signing_certificates: vec!["-----BEGIN CERTIFICATE-----".into()],
            preferred_protocol: FederationProtocol::Samlp,
            brand_name: None,
            metadata_url: None,
            metadata_signing_certificate: None,
            allow_sha1: true,
            clock_skew_secs: 180,
            allow_unsolicited: false,
            require_signed_logout_responses: true,
            idp_answers_logout: false,
            metadata_refresh: MetadataRefresh::default(),
            created_at: now,
            updated_at: now,
        };
        let mut stored = serde_json::to_value(&today).unwrap();
        for later in ["requireSignedLogoutResponses", "idpAnswersLogout"] {
            stored.as_object_mut().unwrap().remove(later).unwrap();
        }
        let f: DomainFederation = serde_json::from_value(stored).unwrap();
        assert!(f.idp_answers_logout);
        assert!(!f.require_signed_logout_responses);
    }
}
