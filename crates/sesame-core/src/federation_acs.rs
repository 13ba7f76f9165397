//! Sésame's ACS as the SP of federated IdPs (issue 5, SAML-SP-2 … SAML-SP-4): the posted
//! Response is tied to the outstanding AuthnRequest it answers, validated by
//! `sesame_saml::validate_response` against the federation of that request's domain, its
//! assertion ID recorded once in the store's replay cache (shared by all nodes), and its subject
//! matched to a member of the federated domain: NameID = immutableId and `IDPEmail` = UPN
//! (seed 001). Every refusal is a [`FederationFailure`] with a `SESAME-40xx` code and a sign-in
//! log entry (protocol `saml`); no session is created.
//! **Must not touch**: HTTP, SQL, XML parsing (all reading is `sesame-saml`'s).

use sesame_model::{DomainFederation, SignInEvent, SignInId, SignInResult, TenantId, User};
use sesame_saml::{SpExpectations, ns};
use sesame_store::StoreError;
use sesame_xmlsec::{AllowedAlgorithms, AllowedEncryption};
use time::Duration;

use crate::federation::{allowed_algorithms, trusted_keys};
use crate::sso::RequestMeta;
use crate::{Core, CoreResult, SignedIn};

/// The stable codes of ACS refusals (README's table).
pub mod codes {
    /// The SAMLResponse could not be decoded or read.
    pub const UNREADABLE: &str = "SESAME-4001";
    /// InResponseTo names no request we sent, or one already answered or expired; or an
    /// unsolicited Response where none is accepted.
    pub const UNKNOWN_REQUEST: &str = "SESAME-4002";
    /// The domain the request went to is no longer federated.
    pub const NOT_FEDERATED: &str = "SESAME-4003";
    /// A validation rule refused the Response (the message names it).
    pub const RULE_FAILED: &str = "SESAME-4004";
    /// The assertion was already used (replay).
    pub const REPLAY: &str = "SESAME-4005";
    /// No member of the federated domain matches the NameID and IDPEmail.
    pub const USER_NOT_MATCHED: &str = "SESAME-4006";
    /// The matched account is disabled.
    pub const DISABLED: &str = "SESAME-4007";
    /// The store failed.
    pub const UNAVAILABLE: &str = "SESAME-1500";
}

/// The attribute carrying the UPN in seed 001's profile.
pub const IDP_EMAIL: &str = "IDPEmail";

/// A refusal at the ACS: what the error page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederationFailure {
    pub code: &'static str,
    /// 400 for a bad message, 403 for a refusal, 503 when the store fails.
    pub status: u16,
    /// What the user reads (names the rule, never values from the assertion).
    pub message: String,
    /// The rule name (`sesame_saml::SpRule::name`, or `replay-cache`, `user-matching`…).
    pub rule: &'static str,
}

/// A federation the ACS checks a Response against: of a domain of the tenant (members, seed
/// 001) or direct with a partner's domain (guests, seed 002).
#[derive(Debug, Clone)]
pub(crate) enum Federation {
    Domain(DomainFederation),
    Direct(DomainFederation),
}

impl Federation {
    pub(crate) fn settings(&self) -> &DomainFederation {
        match self {
            Self::Domain(f) | Self::Direct(f) => f,
        }
    }

    /// The attribute that carries the address matched to the directory.
    pub(crate) fn email_attribute(&self) -> &'static str {
        match self {
            Self::Domain(_) => IDP_EMAIL,
            Self::Direct(_) => crate::guests::EMAIL_CLAIM,
        }
    }
}

impl Core {
    /// The federation of `domain`: the domain federation, else the direct one.
    pub(crate) async fn federation_of(
        &self,
        tenant: TenantId,
        domain: &str,
    ) -> Result<Option<Federation>, StoreError> {
        match self.store.get_federation(tenant, domain).await {
            Ok(f) => return Ok(Some(Federation::Domain(f))),
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        // A domain the tenant verified after federating it directly is the tenant's own: its
        // members must not be sent to the partner's IdP.
        match self.store.get_domain(tenant, domain).await {
            Ok(d) if d.status != sesame_model::DomainStatus::Unverified => return Ok(None),
            Ok(_) | Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        match self.store.get_direct_federation(tenant, domain).await {
            Ok(f) => Ok(Some(Federation::Direct(f))),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The owned parts of [`SpExpectations`] for one federation at one instant.
pub(crate) struct AcsExpectations {
    idp_entity_id: String,
    trusted: sesame_xmlsec::TrustedKeys,
    allowed: AllowedAlgorithms,
    encryption: AllowedEncryption,
    sp_entity_id: String,
    acs_url: String,
    allow_unsolicited: bool,
    now: time::OffsetDateTime,
    clock_skew: Duration,
}

impl AcsExpectations {
    /// The expectations for a Response answering `request_id` (`None`: unsolicited).
    pub(crate) fn for_request<'a>(&'a self, request_id: Option<&'a str>) -> SpExpectations<'a> {
        SpExpectations {
            idp_entity_id: &self.idp_entity_id,
            trusted: &self.trusted,
            allowed: &self.allowed,
            encryption: &self.encryption,
            sp_entity_id: &self.sp_entity_id,
            acs_url: &self.acs_url,
            outstanding_request_id: request_id,
            allow_unsolicited: self.allow_unsolicited,
            now: self.now,
            clock_skew: self.clock_skew,
            required_name_id_format: Some(ns::nameid::PERSISTENT),
            decryption_keys: &[],
        }
    }
}

/// The refusal for a Response that a validation rule refused.
pub(crate) fn rule_failure(e: &sesame_saml::SamlError) -> FederationFailure {
    refuse(
        codes::RULE_FAILED,
        403,
        e.rule(),
        format!(
            "The identity provider's answer was refused by the rule {}.",
            e.rule()
        ),
    )
}

/// The refusal for a Response that could not be read.
pub(crate) fn unreadable(e: &sesame_saml::SamlError) -> FederationFailure {
    refuse(
        codes::UNREADABLE,
        400,
        e.rule(),
        format!("The SAML Response could not be read ({}).", e.rule()),
    )
}

/// The refusal for a Response that answers no request we are waiting for.
pub(crate) fn unknown_request() -> FederationFailure {
    refuse(
        codes::UNKNOWN_REQUEST,
        400,
        "in-response-to-matches",
        "This sign-in answers no request Sésame is waiting for (unknown, already used or expired). Start again from the sign-in page.".into(),
    )
}

/// The refusal for an unsolicited Response where none is accepted.
pub(crate) fn unsolicited_refused() -> FederationFailure {
    refuse(
        codes::UNKNOWN_REQUEST,
        400,
        "in-response-to-matches",
        "Unsolicited (IdP-initiated) sign-in is not accepted. Start from the sign-in page.".into(),
    )
}

/// The refusal for a domain that is not (or no longer) federated.
pub(crate) fn not_federated() -> FederationFailure {
    refuse(
        codes::NOT_FEDERATED,
        403,
        "federation",
        "The domain of this sign-in is no longer federated.".into(),
    )
}

/// The refusal for an assertion already used.
pub(crate) fn replayed() -> FederationFailure {
    refuse(
        codes::REPLAY,
        403,
        "replay-cache",
        "This sign-in was already used.".into(),
    )
}

/// The refusal for a disabled account.
pub(crate) fn disabled() -> FederationFailure {
    refuse(
        codes::DISABLED,
        403,
        "account-enabled",
        "Your account is disabled. Contact your administrator.".into(),
    )
}

/// A federated sign-in that succeeded.
pub struct FederatedSignIn {
    pub signed_in: SignedIn,
    /// Where to go next (a same-origin path saved with the request).
    pub continue_to: Option<String>,
}

fn refuse(
    code: &'static str,
    status: u16,
    rule: &'static str,
    message: String,
) -> FederationFailure {
    FederationFailure {
        code,
        status,
        message,
        rule,
    }
}

impl Core {
    /// Consumes a Response posted to `/{tenant}/saml2/acs` (`xml` after the POST binding).
    pub async fn complete_federated_sign_in(
        &self,
        tenant: TenantId,
        xml: &str,
        meta: &RequestMeta,
    ) -> Result<FederatedSignIn, FederationFailure> {
        let mut upn_for_log = String::new();
        let mut user_for_log = None;
        let result = self
            .acs(tenant, xml, &mut upn_for_log, &mut user_for_log)
            .await;
        let (outcome, reason) = match &result {
            Ok(_) => (SignInResult::Success, None),
            Err(f) => (
                SignInResult::Failure,
                Some(format!("{} {}: {}", f.code, f.rule, f.message)),
            ),
        };
        let event = SignInEvent {
            id: SignInId(self.new_uuid()),
            tenant_id: tenant,
            at: self.now(),
            user_id: user_for_log,
            user_principal_name: upn_for_log.chars().take(256).collect(),
            app_id: None,
            protocol: "saml".to_owned(),
            result: outcome,
            reason,
            ip: meta.ip.clone(),
            correlation_id: meta.correlation_id.clone(),
        };
        if let Err(e) = self.store.append_sign_in(&event).await {
            tracing::error!(error = %e, "cannot write the sign-in log");
            return Err(refuse(
                codes::UNAVAILABLE,
                503,
                "store",
                "Sign-in is unavailable right now. Try again in a moment.".into(),
            ));
        }
        tracing::info!(
            tenant = %tenant,
            result = outcome.as_str(),
            correlation_id = %meta.correlation_id,
            reason = event.reason.as_deref().unwrap_or(""),
            "federated sign-in"
        );
        result
    }

    async fn acs(
        &self,
        tenant: TenantId,
        xml: &str,
        upn_for_log: &mut String,
        user_for_log: &mut Option<sesame_model::UserId>,
    ) -> Result<FederatedSignIn, FederationFailure> {
        let unavailable = |e: StoreError| {
            tracing::error!(error = %e, "store failure at the ACS");
            refuse(
                codes::UNAVAILABLE,
                503,
                "store",
                "Sign-in is unavailable right now. Try again in a moment.".into(),
            )
        };
        let in_response_to =
            sesame_saml::unverified_in_response_to(xml).map_err(|e| unreadable(&e))?;
        let now = self.now();
        // Candidate federations, with the outstanding request each is checked against.
        let (candidates, continue_to): (Vec<(Federation, Option<String>)>, _) = match in_response_to
        {
            Some(id) => {
                let req = match self.store.take_authn_request(tenant, &id).await {
                    Ok(r) if r.expires_at > now => r,
                    Ok(_) | Err(StoreError::NotFound(_)) => return Err(unknown_request()),
                    Err(e) => return Err(unavailable(e)),
                };
                let f = match self.federation_of(tenant, &req.domain).await {
                    Ok(Some(f)) => f,
                    Ok(None) => return Err(not_federated()),
                    Err(e) => return Err(unavailable(e)),
                };
                (vec![(f, Some(req.id))], req.continue_to)
            }
            None => {
                let domain = self
                    .store
                    .list_federations(tenant)
                    .await
                    .map_err(unavailable)?;
                let direct = self
                    .store
                    .list_direct_federations(tenant)
                    .await
                    .map_err(unavailable)?;
                let allowing: Vec<_> = domain
                    .into_iter()
                    .map(Federation::Domain)
                    .chain(direct.into_iter().map(Federation::Direct))
                    .filter(|f| f.settings().allow_unsolicited)
                    .map(|f| (f, None))
                    .collect();
                if allowing.is_empty() {
                    return Err(unsolicited_refused());
                }
                (allowing, None)
            }
        };

        let mut first_failure = None;
        for (f, request_id) in candidates {
            match self
                .validate_for(f.settings(), request_id.as_deref(), xml)
                .await
            {
                Ok(a) => {
                    return self
                        .finish(tenant, &f, a, continue_to, upn_for_log, user_for_log)
                        .await;
                }
                Err(e) => {
                    if first_failure.is_none() {
                        first_failure = Some(e);
                    }
                }
            }
        }
        Err(first_failure.unwrap_or_else(|| {
            refuse(
                codes::RULE_FAILED,
                403,
                "federation",
                "No federation accepted this Response.".into(),
            )
        }))
    }

    async fn validate_for(
        &self,
        f: &DomainFederation,
        request_id: Option<&str>,
        xml: &str,
    ) -> Result<sesame_saml::ValidatedAssertion, FederationFailure> {
        let owned = self.acs_expectations(f)?;
        let verified = sesame_saml::validate_response(xml, &owned.for_request(request_id))
            .map_err(|e| rule_failure(&e))?;
        let a = verified.get().clone();
        if a.protection.sha1 {
            tracing::warn!(
                tenant = %f.tenant_id,
                domain = %f.domain,
                issuer = %f.issuer_uri,
                "accepted a SHA-1 signature from a federated IdP (allowSha1 is on)"
            );
        }
        Ok(a)
    }

    /// What the ACS expects of a Response from `f`'s IdP (shared with the SSO test tool, so
    /// that both run exactly the same rules). Fails when the federation's certificates cannot
    /// be used.
    pub(crate) fn acs_expectations(
        &self,
        f: &DomainFederation,
    ) -> Result<AcsExpectations, FederationFailure> {
        let trusted = trusted_keys(f).map_err(|_| {
            refuse(
                codes::RULE_FAILED,
                403,
                "assertion-signed-by-trusted-key",
                "The federation's signing certificates cannot be used.".into(),
            )
        })?;
        let allowed = allowed_algorithms(f);
        Ok(AcsExpectations {
            idp_entity_id: f.issuer_uri.clone(),
            trusted,
            allowed,
            encryption: AllowedEncryption::default(),
            sp_entity_id: self.sp_entity_id(f.tenant_id),
            acs_url: self.acs_url(f.tenant_id),
            allow_unsolicited: f.allow_unsolicited,
            now: self.now(),
            clock_skew: Duration::seconds(i64::from(f.clock_skew_secs)),
        })
    }

    async fn finish(
        &self,
        tenant: TenantId,
        federation: &Federation,
        a: sesame_saml::ValidatedAssertion,
        continue_to: Option<String>,
        upn_for_log: &mut String,
        user_for_log: &mut Option<sesame_model::UserId>,
    ) -> Result<FederatedSignIn, FederationFailure> {
        let f = federation.settings();
        let email = a
            .attribute_values(federation.email_attribute())
            .first()
            .cloned()
            .unwrap_or_default();
        *upn_for_log = email.trim().to_lowercase();
        // Each assertion once, across nodes (profiles §4.1.4.5).
        let keep_until = a.not_on_or_after + Duration::seconds(i64::from(f.clock_skew_secs));
        match self
            .store
            .remember_assertion(tenant, &a.issuer, &a.id, keep_until)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(replayed()),
            Err(e) => {
                tracing::error!(error = %e, "replay cache failure");
                return Err(refuse(
                    codes::UNAVAILABLE,
                    503,
                    "store",
                    "Sign-in is unavailable right now. Try again in a moment.".into(),
                ));
            }
        }
        let user = match federation {
            Federation::Domain(f) => self.match_user(tenant, f, &a.name_id.value, &email).await?,
            Federation::Direct(f) => {
                self.match_guest(f, &a.issuer, &a.name_id.value, &email, true)
                    .await?
            }
        };
        *user_for_log = Some(user.id);
        if !user.account_enabled {
            return Err(disabled());
        }
        let signed_in = self.open_session(tenant, user).await.map_err(|e| {
            tracing::error!(error = %e, "cannot create a session");
            refuse(
                codes::UNAVAILABLE,
                503,
                "store",
                "Sign-in is unavailable right now. Try again in a moment.".into(),
            )
        })?;
        Ok(FederatedSignIn {
            signed_in,
            continue_to,
        })
    }

    /// SAML-SP-4 (seed 001): a member of the federated domain whose immutableId equals the
    /// NameID and whose UPN equals `IDPEmail` (case-insensitively).
    pub(crate) async fn match_user(
        &self,
        tenant: TenantId,
        f: &DomainFederation,
        name_id: &str,
        email: &str,
    ) -> Result<User, FederationFailure> {
        let not_matched = || {
            refuse(
                codes::USER_NOT_MATCHED,
                403,
                "user-matching",
                "No account of this organisation matches the identity provider's answer (NameID and IDPEmail).".into(),
            )
        };
        let user = match self.store.find_user_by_immutable_id(tenant, name_id).await {
            Ok(u) => u,
            Err(StoreError::NotFound(_)) => return Err(not_matched()),
            Err(e) => {
                tracing::error!(error = %e, "user lookup failed");
                return Err(refuse(
                    codes::UNAVAILABLE,
                    503,
                    "store",
                    "Sign-in is unavailable right now. Try again in a moment.".into(),
                ));
            }
        };
        let upn = user.user_principal_name.to_lowercase();
        let in_domain = upn.rsplit_once('@').is_some_and(|(_, d)| d == f.domain);
        if !in_domain || email.trim().to_lowercase() != upn {
            return Err(not_matched());
        }
        Ok(user)
    }
}

/// Housekeeping: forgets expired replay-cache entries and AuthnRequests.
impl Core {
    pub async fn purge_federation_state(&self) -> CoreResult<u64> {
        let now = self.now();
        let a = self.store.purge_expired_assertions(now).await?;
        let r = self.store.purge_expired_authn_requests(now).await?;
        Ok(a + r)
    }
}
