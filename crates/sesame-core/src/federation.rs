//! Federation of a domain with an external SAML 2.0 IdP (issue 5): the settings (SAML-SP-1),
//! home-realm discovery (AUTH-1) and the AuthnRequest Sésame posts to the IdP, SP metadata
//! (SAML-SP-6), and the LogoutRequest sent on sign-out. The ACS lives in [`crate::federation_acs`].
//!
//! Sésame's SP entityID for a tenant is `{public-url}/{tenant-id}/sp`; its ACS is
//! `{public-url}/{tenant-id}/saml2/acs`. AuthnRequests are unsigned (metadata says
//! `AuthnRequestsSigned="false"`) and remembered in the store until answered or expired.
//! **Must not touch**: HTTP, SQL, XML (that is `sesame-saml`'s).

use serde::{Deserialize, Serialize};
use sesame_model::{
    DEFAULT_FEDERATION_CLOCK_SKEW_SECS, DomainFederation, DomainStatus, FederationProtocol,
    OutstandingAuthnRequest, TenantId, User, UserId,
};
use sesame_saml::{MessageKind, ns};
use sesame_store::StoreError;
use time::Duration;
use utoipa::ToSchema;

use crate::sso::SamlPost;
use crate::{Core, CoreError, CoreResult};

/// How long an AuthnRequest to a federated IdP waits for its Response.
pub const AUTHN_REQUEST_LIFETIME: Duration = Duration::minutes(15);

/// What an administrator sends to federate a domain (`PUT …/domains/{domain}/federation`).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FederationInput {
    /// The IdP's entityID.
    #[serde(default)]
    pub issuer_uri: Option<String>,
    /// Where AuthnRequests are posted.
    #[serde(default)]
    pub passive_logon_url: Option<String>,
    /// Where LogoutRequests are sent (HTTP-Redirect).
    #[serde(default)]
    pub logoff_url: Option<String>,
    #[serde(default)]
    pub active_logon_url: Option<String>,
    /// PEM certificates (at least one, unless `metadataXml` provides them).
    #[serde(default)]
    pub signing_certificates: Vec<String>,
    #[serde(default)]
    pub preferred_protocol: Option<FederationProtocol>,
    #[serde(default)]
    pub brand_name: Option<String>,
    #[serde(default)]
    pub metadata_url: Option<String>,
    /// The PEM certificate whose key signs the IdP's metadata: when set, `metadataXml` and
    /// every refresh from `metadataUrl` must carry a valid signature by it.
    #[serde(default)]
    pub metadata_signing_certificate: Option<String>,
    /// The IdP's metadata: fills issuer, passive logon URL, logoff URL and certificates that
    /// the other fields leave empty.
    #[serde(default)]
    pub metadata_xml: Option<String>,
    /// Default true (seed 001 requires RSA-SHA1).
    #[serde(default)]
    pub allow_sha1: Option<bool>,
    /// Default 180.
    #[serde(default)]
    pub clock_skew_secs: Option<u32>,
    /// Default false.
    #[serde(default)]
    pub allow_unsolicited: Option<bool>,
    /// When true, only signed LogoutResponses confirm the IdP's sign-out; default false.
    #[serde(default)]
    pub require_signed_logout_responses: Option<bool>,
    /// Whether the IdP answers LogoutRequests at Sésame's SLO endpoint; default true.
    #[serde(default)]
    pub idp_answers_logout: Option<bool>,
}

fn check_url(field: &str, value: &str) -> CoreResult<()> {
    let ok = (value.starts_with("https://") || value.starts_with("http://"))
        && value.len() <= 2048
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid(field, "must be an absolute http(s) URL"))
    }
}

pub(crate) fn pem_of(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// An IdP's metadata; with a metadata signing certificate, only its signed EntityDescriptor
/// (RSA-SHA1 accepted when the federation accepts it). Errors in words for the administrator.
pub(crate) fn read_idp_metadata(
    xml: &str,
    metadata_signing_certificate: Option<&str>,
    allow_sha1: bool,
) -> Result<sesame_saml::sp::IdpMetadata, String> {
    let Some(pem) = metadata_signing_certificate else {
        return sesame_saml::sp::parse_idp_metadata(xml).map_err(|e| e.to_string());
    };
    let mut trusted = sesame_xmlsec::TrustedKeys::new();
    trusted
        .add_certificate_pem(pem)
        .map_err(|e| format!("the metadata signing certificate cannot be used: {e}"))?;
    let allowed = if allow_sha1 {
        sesame_xmlsec::AllowedAlgorithms::default().with_sha1()
    } else {
        sesame_xmlsec::AllowedAlgorithms::default()
    };
    sesame_saml::sp::verify_idp_metadata(xml, &trusted, &allowed).map_err(|e| match e {
        sesame_saml::SamlError::XmlSec(x) => format!(
            "the metadata does not carry a valid signature by the metadata signing certificate ({}: {x})",
            x.rule()
        ),
        other => other.to_string(),
    })
}

/// The trusted keys of a federation (its certificates; KeyInfo only selects among them).
pub(crate) fn trusted_keys(f: &DomainFederation) -> CoreResult<sesame_xmlsec::TrustedKeys> {
    let mut keys = sesame_xmlsec::TrustedKeys::new();
    for pem in &f.signing_certificates {
        keys.add_certificate_pem(pem)
            .map_err(|e| CoreError::invalid("signingCertificates", e.to_string()))?;
    }
    Ok(keys)
}

/// The signature algorithms `f`'s IdP may use: SHA-1 only when the federation allows it.
pub(crate) fn allowed_algorithms(f: &DomainFederation) -> sesame_xmlsec::AllowedAlgorithms {
    if f.allow_sha1 {
        sesame_xmlsec::AllowedAlgorithms::default().with_sha1()
    } else {
        sesame_xmlsec::AllowedAlgorithms::default()
    }
}

impl Core {
    /// Sésame's SP entityID for `tenant` (the Audience federated IdPs must send).
    pub fn sp_entity_id(&self, tenant: TenantId) -> String {
        format!("{}/{tenant}/sp", self.settings.public_url)
    }

    /// Sésame's ACS for `tenant`.
    pub fn acs_url(&self, tenant: TenantId) -> String {
        format!("{}/{tenant}/saml2/acs", self.settings.public_url)
    }

    /// Federates `domain` (a verified domain of the tenant) with an IdP, or replaces its
    /// settings. The domain becomes `Federated`.
    pub async fn set_federation(
        &self,
        tenant: TenantId,
        domain: &str,
        input: FederationInput,
    ) -> CoreResult<DomainFederation> {
        let domain = domain.trim().to_ascii_lowercase();
        let d = self.store.get_domain(tenant, &domain).await?;
        if d.status == DomainStatus::Unverified {
            return Err(CoreError::invalid(
                "domain",
                "the domain must be verified before it is federated",
            ));
        }
        let created_at = match self.store.get_federation(tenant, &domain).await {
            Ok(old) => Some(old.created_at),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let f = self.federation_from_input(tenant, domain, input, created_at)?;
        self.store.put_federation(&f).await?;
        Ok(f)
    }

    /// The settings of a federation with `domain` from what the administrator sent (shared by
    /// domain and direct federations): metadata fills what the fields leave empty, URLs and
    /// certificates are checked.
    pub(crate) fn federation_from_input(
        &self,
        tenant: TenantId,
        domain: String,
        input: FederationInput,
        created_at: Option<time::OffsetDateTime>,
    ) -> CoreResult<DomainFederation> {
        let metadata_signing_certificate = input
            .metadata_signing_certificate
            .map(|pem| pem.trim().to_owned())
            .filter(|pem| !pem.is_empty());
        if let Some(pem) = &metadata_signing_certificate {
            sesame_xmlsec::TrustedKeys::new()
                .add_certificate_pem(pem)
                .map_err(|e| CoreError::invalid("metadataSigningCertificate", e.to_string()))?;
        }
        let allow_sha1 = input.allow_sha1.unwrap_or(true);
        let meta = input
            .metadata_xml
            .as_deref()
            .map(|xml| read_idp_metadata(xml, metadata_signing_certificate.as_deref(), allow_sha1))
            .transpose()
            .map_err(|e| CoreError::invalid("metadataXml", e))?;
        let pick = |given: Option<String>, from_meta: Option<String>, field: &str| {
            given
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .or(from_meta)
                .ok_or_else(|| CoreError::invalid(field, "is required"))
        };
        let issuer_uri = pick(
            input.issuer_uri,
            meta.as_ref().map(|m| m.entity_id.clone()),
            "issuerUri",
        )?;
        let passive_logon_url = pick(
            input.passive_logon_url,
            meta.as_ref().map(|m| m.sso_url.clone()),
            "passiveLogonUrl",
        )?;
        let logoff_url = pick(
            input.logoff_url,
            meta.as_ref().and_then(|m| m.slo_url.clone()),
            "logoffUrl",
        )?;
        check_url("passiveLogonUrl", &passive_logon_url)?;
        check_url("logoffUrl", &logoff_url)?;
        if let Some(u) = &input.active_logon_url {
            check_url("activeLogonUrl", u)?;
        }
        if let Some(u) = &input.metadata_url {
            check_url("metadataUrl", u)?;
        }
        if issuer_uri.len() > 1024 {
            return Err(CoreError::invalid("issuerUri", "is too long"));
        }
        let mut signing_certificates = input.signing_certificates;
        if signing_certificates.is_empty()
            && let Some(m) = &meta
        {
            signing_certificates = m.signing_certificates.iter().map(|d| pem_of(d)).collect();
        }
        if signing_certificates.is_empty() {
            return Err(CoreError::invalid(
                "signingCertificates",
                "at least one certificate is required",
            ));
        }
        let clock_skew_secs = input
            .clock_skew_secs
            .unwrap_or(DEFAULT_FEDERATION_CLOCK_SKEW_SECS);
        if clock_skew_secs > 3600 {
            return Err(CoreError::invalid("clockSkewSecs", "at most 3600"));
        }
        let now = self.now();
        let created_at = created_at.unwrap_or(now);
        let f = DomainFederation {
            tenant_id: tenant,
            domain,
            issuer_uri,
            passive_logon_url,
            logoff_url,
            active_logon_url: input.active_logon_url,
            signing_certificates,
            preferred_protocol: input.preferred_protocol.unwrap_or_default(),
            brand_name: input.brand_name,
            metadata_url: input.metadata_url,
            metadata_signing_certificate,
            allow_sha1,
            clock_skew_secs,
            allow_unsolicited: input.allow_unsolicited.unwrap_or(false),
            require_signed_logout_responses: input.require_signed_logout_responses.unwrap_or(false),
            idp_answers_logout: input.idp_answers_logout.unwrap_or(true),
            metadata_refresh: sesame_model::MetadataRefresh::default(),
            created_at,
            updated_at: now,
        };
        trusted_keys(&f)?;
        Ok(f)
    }

    pub async fn get_federation(
        &self,
        tenant: TenantId,
        domain: &str,
    ) -> CoreResult<DomainFederation> {
        let domain = domain.trim().to_ascii_lowercase();
        Ok(self.store.get_federation(tenant, &domain).await?)
    }

    /// Removes the federation: the domain is `Verified` again and its users can no longer
    /// sign in through the IdP (outstanding requests to it are refused at the ACS).
    pub async fn remove_federation(&self, tenant: TenantId, domain: &str) -> CoreResult<()> {
        let domain = domain.trim().to_ascii_lowercase();
        Ok(self.store.delete_federation(tenant, &domain).await?)
    }

    /// Home-realm discovery (AUTH-1): the federation of the UPN's (or bare domain's) domain,
    /// or the direct federation of a partner's domain (DIR-4).
    pub async fn home_realm(
        &self,
        tenant: TenantId,
        upn_or_domain: &str,
    ) -> CoreResult<Option<DomainFederation>> {
        let s = upn_or_domain.trim().to_ascii_lowercase();
        let domain = s.rsplit_once('@').map_or(s.as_str(), |(_, d)| d);
        if domain.is_empty() {
            return Ok(None);
        }
        // A domain of the tenant first; else a partner's domain federated directly (guests).
        Ok(self
            .federation_of(tenant, domain)
            .await?
            .map(|f| f.settings().clone()))
    }

    /// Starts a federated sign-in: an AuthnRequest (NameIDPolicy persistent) to the IdP's
    /// passive logon URL over HTTP-POST (seed 001), remembered until answered.
    pub async fn begin_federated_sign_in(
        &self,
        federation: &DomainFederation,
        continue_to: Option<String>,
    ) -> CoreResult<SamlPost> {
        let tenant = federation.tenant_id;
        let id = format!("_{}", self.new_uuid().simple());
        let now = self.now();
        let xml = sesame_saml::sp::build_sp_authn_request(&sesame_saml::sp::SpAuthnRequestParams {
            id: &id,
            issue_instant: now,
            destination: &federation.passive_logon_url,
            issuer: &self.sp_entity_id(tenant),
            acs_url: &self.acs_url(tenant),
            name_id_format: ns::nameid::PERSISTENT,
        })
        .map_err(|e| CoreError::Internal(format!("AuthnRequest: {e}")))?;
        self.store
            .save_authn_request(&OutstandingAuthnRequest {
                tenant_id: tenant,
                id,
                domain: federation.domain.clone(),
                continue_to,
                expires_at: now + AUTHN_REQUEST_LIFETIME,
            })
            .await?;
        Ok(SamlPost {
            url: federation.passive_logon_url.clone(),
            kind: MessageKind::Request,
            xml,
            relay_state: None,
        })
    }

    /// The partner IdP that redeemed a guest's invitation, if it is still the one federated
    /// with the invitation's domain, and the persistent NameID it bound.
    async fn guest_identity_provider(
        &self,
        tenant: TenantId,
        user: &User,
    ) -> CoreResult<Option<(DomainFederation, String)>> {
        // By the guest's address, else (the address was changed since) among all invitations.
        let by_mail = match &user.mail {
            Some(mail) => match self
                .store
                .get_guest_invitation(tenant, &mail.to_ascii_lowercase())
                .await
            {
                Ok(i) => Some(i),
                Err(StoreError::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let invitation = match by_mail.filter(|i| i.user_id == user.id) {
            Some(i) => i,
            None => {
                let all = self.store.list_guest_invitations(tenant).await?;
                let Some(i) = all.into_iter().find(|i| i.user_id == user.id) else {
                    return Ok(None);
                };
                i
            }
        };
        let (Some(issuer), Some(name_id)) = (invitation.issuer, invitation.name_id) else {
            return Ok(None);
        };
        Ok(self
            .home_realm(tenant, &invitation.domain)
            .await?
            .filter(|f| f.issuer_uri == issuer)
            .map(|f| (f, name_id)))
    }

    /// Whether the user signs in through a federated IdP, which [`Core::federated_logout_url`]
    /// then reaches.
    pub async fn is_federated(&self, tenant: TenantId, user: &User) -> CoreResult<bool> {
        Ok(self.identity_provider_of(tenant, user).await?.is_some())
    }

    /// The federation the user signs in through, and the NameID it knows the user by.
    async fn identity_provider_of(
        &self,
        tenant: TenantId,
        user: &User,
    ) -> CoreResult<Option<(DomainFederation, String)>> {
        if user.source == sesame_model::UserSource::FederatedGuest {
            self.guest_identity_provider(tenant, user).await
        } else {
            Ok(self
                .home_realm(tenant, &user.user_principal_name)
                .await?
                .map(|f| (f, user.immutable_id.clone())))
        }
    }

    /// Sésame's SP metadata for `tenant` (SAML-SP-6), signed with the tenant's key.
    pub async fn sp_metadata_xml(&self, tenant: TenantId) -> CoreResult<String> {
        let key = self.tenant_signing_key(tenant).await?;
        let id = format!("_{}", self.new_uuid().simple());
        let certs = [key.certificate_der().to_vec()];
        let sign = sesame_saml::SignWith::rsa_sha256(&key);
        sesame_saml::sp::sp_metadata(
            &sesame_saml::sp::SpMetadataParams {
                id: &id,
                entity_id: &self.sp_entity_id(tenant),
                acs_url: &self.acs_url(tenant),
                slo_url: &format!("{}/{tenant}/saml2", self.settings.public_url),
                signing_certificates: &certs,
            },
            Some(&sign),
        )
        .map_err(|e| CoreError::Internal(format!("SP metadata: {e}")))
    }

    /// Where to send the browser after a federated user's local session ended, with the ID of
    /// the request and whether the IdP answers it (the federation's `idp_answers_logout`): a LogoutRequest over HTTP-Redirect to the federation's logoff URL (seed 001), or `None`
    /// for a user of a domain that is not federated. A B2B guest's goes to the partner IdP that
    /// redeemed the invitation, with the NameID it bound. Signed with the tenant's SP key (the
    /// query-string signature): profiles §4.4.4.1 has the requester authenticate itself, and
    /// IdPs that hold Sésame's SP metadata check it.
    pub async fn federated_logout_url(
        &self,
        tenant: TenantId,
        user: &User,
    ) -> CoreResult<Option<IdpLogoutRequest>> {
        let Some((f, name_id)) = self.identity_provider_of(tenant, user).await? else {
            return Ok(None);
        };
        let id = format!("_{}", self.new_uuid().simple());
        let name_id = sesame_saml::NameId {
            value: name_id,
            format: Some(ns::nameid::PERSISTENT.to_owned()),
            name_qualifier: None,
            sp_name_qualifier: None,
        };
        let xml = sesame_saml::build_logout_request(
            &sesame_saml::LogoutRequestParams {
                id: &id,
                issue_instant: self.now(),
                issuer: &self.sp_entity_id(tenant),
                destination: &f.logoff_url,
                name_id: &name_id,
                session_indexes: &[],
                not_on_or_after: None,
                reason: Some("urn:oasis:names:tc:SAML:2.0:logout:user"),
            },
            None,
        )
        .map_err(|e| CoreError::Internal(format!("LogoutRequest: {e}")))?;
        let key = self.tenant_signing_key(tenant).await?;
        let query = sesame_saml::encode_redirect(
            &xml,
            MessageKind::Request,
            None,
            Some((&key, sesame_xmlsec::SignatureAlgorithm::RsaSha256)),
        )
        .map_err(|e| CoreError::Internal(format!("LogoutRequest: {e}")))?;
        Ok(Some(IdpLogoutRequest {
            id,
            url: sesame_saml::bindings::append_query(&f.logoff_url, &query),
            answered: f.idp_answers_logout,
        }))
    }

    /// What `answer` says of `user`'s identity provider's sign-out, as the answer to Sésame's
    /// LogoutRequest `request_id`. It counts from the IdP the user is federated through (its
    /// Issuer), for that request, with Success. A signed answer (query string or enveloped)
    /// must pass with the federation's certificates and name where it was sent (bindings
    /// §3.4.5.2, §3.5.5.2). An unsigned one counts on the request's ID alone (profiles
    /// §4.4.4.2 lets the binding authenticate the responder), unless the federation requires
    /// signed LogoutResponses: the ID went through the browser, so whoever could read the
    /// browser's way to the IdP could forge an unsigned answer.
    pub(crate) async fn identity_provider_answer(
        &self,
        tenant: TenantId,
        user: UserId,
        request_id: &str,
        answer: &crate::sso::IncomingRequest,
    ) -> IdpLogoutAnswer {
        let found = match self.store.get_user(tenant, user).await {
            Ok(u) => self.identity_provider_of(tenant, &u).await,
            Err(e) => Err(e.into()),
        };
        let refused = |why: &str| {
            tracing::warn!(%tenant, %user, reason = why, "single logout: the identity provider's LogoutResponse does not confirm the logout");
            IdpLogoutAnswer::Unconfirmed
        };
        let f = match found {
            Ok(Some((f, _))) => f,
            // No longer federated (removed while the browser was at the IdP): nothing of
            // Sésame's is left there to confirm, as when the request could not be sent.
            Ok(None) => {
                tracing::debug!(%tenant, %user, "single logout: the user is no longer federated; the IdP's answer is not checked");
                return IdpLogoutAnswer::Confirmed;
            }
            Err(e) => return refused(&e.to_string()),
        };
        let check = match trusted_keys(&f) {
            Ok(trusted) => crate::slo::SignatureCheck {
                trusted,
                allowed: allowed_algorithms(&f),
                required: f.require_signed_logout_responses,
            },
            Err(e) => return refused(&e.to_string()),
        };
        let verified = crate::slo::verify_signed(
            &check,
            &answer.xml,
            answer.redirect.as_ref(),
            sesame_saml::verify_logout_response_post,
            sesame_saml::parse_logout_response,
        );
        let (response, signed) = match verified {
            Ok(Some(r)) => (r, true),
            Ok(None) => match sesame_saml::parse_logout_response(&answer.xml) {
                Ok(r) => (r, false),
                Err(e) => return refused(&format!("unreadable: {e}")),
            },
            Err(detail) => return refused(&detail),
        };
        let destination = sesame_saml::rules::destination_matches(
            response.destination.as_deref(),
            &answer.received_url,
            signed,
        );
        if let Err(e) = destination {
            return refused(&e.to_string());
        }
        if response.issuer != f.issuer_uri {
            return refused(&format!("issued by {:?}", response.issuer));
        }
        if response.in_response_to.as_deref() != Some(request_id) {
            return refused("an answer to another request");
        }
        IdpLogoutAnswer::of(&response.status)
    }
}

/// Sésame's LogoutRequest to a federated user's identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpLogoutRequest {
    /// Its ID, which the answer names.
    pub id: String,
    /// Where the browser takes it (the logoff URL, with the signed Redirect-binding query).
    pub url: String,
    /// Whether the IdP answers it at Sésame's SLO endpoint (the federation's setting).
    pub answered: bool,
}

/// What an identity provider's LogoutResponse says of its sign-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdpLogoutAnswer {
    /// Its session ended, and its other applications were told.
    Confirmed,
    /// Its session ended, but some of its other applications were not told (Success with
    /// PartialLogout, core §3.7.3.2).
    Partly,
    /// Its session may still be there.
    Unconfirmed,
}

impl IdpLogoutAnswer {
    fn of(status: &sesame_saml::Status) -> Self {
        match status.sub_code {
            _ if !status.is_success() => IdpLogoutAnswer::Unconfirmed,
            Some(sesame_saml::StatusCode::PartialLogout) => IdpLogoutAnswer::Partly,
            _ => IdpLogoutAnswer::Confirmed,
        }
    }

    /// An answer awaited by a node of an earlier version, which did not record whose it
    /// was (only identity providers were awaited so): that version's own check, the
    /// request's ID and the status, for the ten minutes such progress lives after an upgrade
    /// (no weaker than before it; the federation's checks need the user it did not record).
    pub(crate) fn unattributed(answer: &crate::sso::IncomingRequest, request_id: &str) -> Self {
        match sesame_saml::parse_logout_response(&answer.xml) {
            Ok(r) if r.in_response_to.as_deref() == Some(request_id) => Self::of(&r.status),
            _ => IdpLogoutAnswer::Unconfirmed,
        }
    }
}
