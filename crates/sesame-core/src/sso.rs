//! SAML 2.0 single sign-on as identity provider (SAML-IDP-2 … -9): accepting AuthnRequests,
//! answering them for a signed-in user, IdP-initiated sign-in, and the IdP metadata.
//!
//! Flow: the web layer decodes the binding and calls [`Core::accept_authn_request`], which
//! checks everything that does not depend on the user (issuer, signature, destination, ACS,
//! NameID policy) and returns a [`PendingSso`]. The web layer seals it into the sign-in page's
//! `continue` URL when nobody is signed in, then calls [`Core::complete_sso`] with the session.
//! Every refusal is an [`SsoFailure`] — an error page, never a redirect — and a sign-in log entry.

use crate::claims::{ClaimInputs, map_claims};
use crate::{Core, CoreError};
use serde::{Deserialize, Serialize};
use sesame_model::*;
use sesame_saml::metadata::IndexedEndpoint;
use sesame_saml::{MessageKind, RedirectMessage, rules};
use sesame_xmlsec::{
    AllowedAlgorithms, ContentEncryption, DigestAlgorithm, EncryptionRecipient, SignatureAlgorithm,
    TrustedKeys,
};
use time::Duration;

/// Validity of the bearer SubjectConfirmationData (the time to post the Response).
const SUBJECT_CONFIRMATION_LIFETIME: Duration = Duration::minutes(5);
/// Assertions are valid from a little before issuance, for SPs whose clock runs behind.
const NOT_BEFORE_SKEW: Duration = Duration::minutes(5);
/// How long IdP metadata may be cached and relied upon.
pub(crate) const METADATA_VALIDITY: Duration = Duration::days(7);

/// Who asks, for the sign-in log.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub correlation_id: String,
}

/// A SAML message as received, after the binding's decoding: an AuthnRequest or LogoutRequest,
/// or an SP's LogoutResponse.
pub struct IncomingRequest {
    pub xml: String,
    pub relay_state: Option<String>,
    /// The Redirect binding's message, whose query-string signature covers the request.
    pub redirect: Option<RedirectMessage>,
    /// The URL the request was sent to, as the SP saw it (checked against Destination).
    pub received_url: String,
    /// A SOAP envelope (bindings §3.2), whose body holds the message.
    pub soap: bool,
}

/// A request validated and waiting for a signed-in user. Carried sealed by the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSso {
    pub app_id: AppId,
    /// The AuthnRequest's ID; `None` for IdP-initiated sign-in.
    pub request_id: Option<String>,
    pub audience: String,
    pub acs_url: String,
    pub relay_state: Option<String>,
    pub force_authn: bool,
    pub is_passive: bool,
    pub requested_format: Option<NameIdFormat>,
    /// When the request arrived, microseconds since the epoch: ForceAuthn needs a sign-in
    /// strictly after it (second precision would let a sign-in of the same second pass).
    pub received_at_us: i64,
    /// The RequestedAuthnContext asks for something password sign-in cannot give: the answer
    /// is a `NoAuthnContext` Response (SAML core §3.3.2.2.1).
    #[serde(default)]
    pub unsatisfiable_authn_context: bool,
    /// The NameID value of the request's `<Subject>`: the assertion must be about that
    /// principal (SAML core §3.4.1), else the answer is an `AuthnFailed` Response.
    #[serde(default)]
    pub requested_subject: Option<String>,
    /// The NameIDPolicy Format asked for when Sésame cannot produce it: the answer is an
    /// `InvalidNameIDPolicy` Response (SAML core §3.4.1.1).
    #[serde(default)]
    pub unsupported_name_id_format: Option<String>,
}

/// A refused SAML request: shown as an error page with `code`, logged with `detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoFailure {
    pub code: &'static str,
    /// 400 for a bad request, 403 for a policy refusal, 503 when the store fails.
    pub status: u16,
    /// What the user reads.
    pub message: String,
}

/// A SAML message to deliver by the HTTP-POST binding (an auto-submitted form).
#[derive(Debug, Clone)]
pub struct SamlPost {
    pub url: String,
    pub kind: MessageKind,
    pub xml: String,
    pub relay_state: Option<String>,
}

impl SsoFailure {
    fn new(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        SsoFailure {
            code,
            status,
            message: message.into(),
        }
    }

    fn app_disabled(app: &Application) -> Self {
        SsoFailure::new(
            codes::APP_DISABLED,
            403,
            format!("The application {} is disabled.", app.name),
        )
    }

    fn not_saml() -> Self {
        SsoFailure::new(
            codes::UNKNOWN_APPLICATION,
            400,
            "This application is not set up for SAML sign-in.",
        )
    }

    fn from_core(e: &CoreError) -> Self {
        tracing::error!(error = %e, "SAML flow failed");
        SsoFailure::new(
            e.code(),
            503,
            "Sign-in is unavailable right now. Try again in a moment.",
        )
    }
}

/// Codes of SAML refusals (README, "Error codes").
pub mod codes {
    pub const UNKNOWN_APPLICATION: &str = "SESAME-3001";
    pub const MALFORMED_REQUEST: &str = "SESAME-3002";
    pub const ACS_NOT_REGISTERED: &str = "SESAME-3003";
    pub const BAD_SIGNATURE: &str = "SESAME-3004";
    pub const NOT_ASSIGNED: &str = "SESAME-3005";
    pub const APP_DISABLED: &str = "SESAME-3006";
    pub const NAME_ID: &str = "SESAME-3007";
    pub const STALE_REQUEST: &str = "SESAME-3008";
    pub const ISSUANCE: &str = "SESAME-3009";
    pub const NO_PASSIVE: &str = "SESAME-3010";
    pub const NO_AUTHN_CONTEXT: &str = "SESAME-3013";
    pub const OTHER_SUBJECT: &str = "SESAME-3015";
}

impl Core {
    /// The issuer (entityID) of the tenant's IdP: `{public-url}/{tenant-id}/` (SAML-IDP-8).
    pub fn idp_entity_id(&self, tenant: TenantId) -> String {
        format!("{}/{tenant}/", self.settings.public_url)
    }

    /// The SSO and SLO endpoint of the tenant.
    pub fn idp_sso_url(&self, tenant: TenantId) -> String {
        format!("{}/{tenant}/saml2", self.settings.public_url)
    }

    /// The tenant's SLO endpoint for the SOAP binding (SPs' back-channel LogoutRequests).
    pub fn idp_slo_soap_url(&self, tenant: TenantId) -> String {
        format!("{}/soap", self.idp_sso_url(tenant))
    }

    /// Validates an AuthnRequest (SAML core §3.4.1, profiles §4.1.4.1) up to the user.
    pub async fn accept_authn_request(
        &self,
        tenant: &Tenant,
        req: IncomingRequest,
        meta: &RequestMeta,
    ) -> Result<PendingSso, SsoFailure> {
        let refuse = |app: Option<AppId>, f: SsoFailure, detail: String| async move {
            self.log_saml(tenant.id, app, None, "", &f, &detail, meta)
                .await;
            Err(f)
        };
        let unverified = match sesame_saml::parse_authn_request(&req.xml) {
            Ok(r) => r,
            Err(e) => {
                let f = SsoFailure::new(
                    codes::MALFORMED_REQUEST,
                    400,
                    "The application sent a sign-in request Sésame cannot read.",
                );
                return refuse(
                    None,
                    f,
                    format!("unreadable AuthnRequest: {} ({e})", e.rule()),
                )
                .await;
            }
        };
        let issuer = unverified.header.issuer.clone();
        let app = match self.find_saml_app(tenant.id, &issuer).await {
            Ok(Some(a)) => a,
            Ok(None) => {
                let f = SsoFailure::new(
                    codes::UNKNOWN_APPLICATION,
                    400,
                    format!(
                        "The application with identifier {issuer:?} is not registered in this organisation."
                    ),
                );
                return refuse(None, f, format!("unknown SP issuer {issuer:?}")).await;
            }
            Err(e) => return Err(SsoFailure::from_core(&e)),
        };
        let Some(settings) = app.saml.as_ref() else {
            return Err(SsoFailure::not_saml());
        };
        if !app.enabled {
            let f = SsoFailure::app_disabled(&app);
            return refuse(Some(app.id), f, "application disabled".into()).await;
        }

        // Signature (SAML-IDP-6): verified when the app has certificates, required when set.
        let (request, verified) = match self.check_request_signature(settings, &req) {
            Ok(Some(verified)) => (verified, true),
            Ok(None) => (unverified, false),
            Err(detail) => {
                let f = SsoFailure::new(
                    codes::BAD_SIGNATURE,
                    400,
                    "The sign-in request's signature is missing or invalid.",
                );
                return refuse(Some(app.id), f, detail).await;
            }
        };
        // Signed over either binding (a POSTed request's enveloped signature included): the
        // Destination is then mandatory.
        let signed = verified
            || settings.require_signed_requests
            || req.redirect.as_ref().is_some_and(|m| m.signature.is_some());
        let now = self.now();
        let checks = rules::request_version_is_2_0(&request.header.version)
            .and_then(|_| {
                rules::request_issue_instant_within_skew(
                    &request.header,
                    now,
                    rules::DEFAULT_CLOCK_SKEW,
                )
            })
            .and_then(|_| {
                rules::request_destination_matches(&request.header, &req.received_url, signed)
            });
        if let Err(e) = checks {
            let f = SsoFailure::new(
                codes::STALE_REQUEST,
                400,
                format!("The sign-in request was refused: {e}."),
            );
            return refuse(Some(app.id), f, format!("rule {} failed: {e}", e.rule())).await;
        }
        let endpoints = registered_endpoints(settings);
        let acs = match rules::acs_url_is_registered(&request, &endpoints) {
            Ok(e) => e.location.clone(),
            Err(e) => {
                let f = SsoFailure::new(
                    codes::ACS_NOT_REGISTERED,
                    400,
                    "The reply URL in the request does not match the reply URLs configured for the application.",
                );
                return refuse(Some(app.id), f, format!("rule {} failed: {e}", e.rule())).await;
            }
        };
        let supported = [
            NameIdFormat::Persistent.urn(),
            NameIdFormat::EmailAddress.urn(),
            NameIdFormat::Transient.urn(),
        ];
        // A format Sésame cannot produce is the SP's to hear, at its validated ACS, as an
        // `InvalidNameIDPolicy` Response (SAML core §3.4.1.1, §3.2.2.2), not a dead end for the user.
        let (requested_format, unsupported_name_id_format) =
            match rules::name_id_format_is_supported(&request, &supported) {
                Ok(f) => (f.and_then(NameIdFormat::from_urn), None),
                Err(_) => (
                    None,
                    request
                        .name_id_policy
                        .as_ref()
                        .and_then(|p| p.format.clone()),
                ),
            };
        // Carried sealed through the sign-in page: a NameID is at most 256 characters for the
        // standard formats (core §8.3.6, §8.3.7), and this leaves room for the others.
        if request
            .subject
            .as_ref()
            .is_some_and(|s| s.value.len() > 512)
        {
            let f = SsoFailure::new(
                codes::MALFORMED_REQUEST,
                400,
                "The request's Subject is longer than 512 bytes.",
            );
            return refuse(Some(app.id), f, "Subject NameID over 512 bytes".into()).await;
        }
        if let Some(problem) = req
            .relay_state
            .as_deref()
            .and_then(crate::saml_apps::relay_state_problem)
        {
            let f = SsoFailure::new(codes::MALFORMED_REQUEST, 400, problem.clone());
            return refuse(Some(app.id), f, problem).await;
        }
        Ok(PendingSso {
            app_id: app.id,
            request_id: Some(request.header.id.clone()),
            // The Audience names the SP as it named itself.
            audience: issuer,
            acs_url: acs,
            relay_state: req.relay_state,
            force_authn: request.force_authn,
            is_passive: request.is_passive,
            requested_format,
            received_at_us: unix_micros(now),
            unsatisfiable_authn_context: request
                .requested_authn_context
                .as_ref()
                .is_some_and(|c| !password_satisfies(c)),
            requested_subject: request.subject.map(|s| s.value),
            unsupported_name_id_format,
        })
    }

    /// The verified request when a signature was checked; `Err(detail)` when it fails.
    fn check_request_signature(
        &self,
        settings: &SamlAppSettings,
        req: &IncomingRequest,
    ) -> Result<Option<sesame_saml::AuthnRequest>, String> {
        if settings.verification_certificates.is_empty() {
            return Ok(None);
        }
        let mut trusted = TrustedKeys::new();
        for pem in &settings.verification_certificates {
            trusted
                .add_certificate_pem(pem)
                .map_err(|e| format!("stored verification certificate unusable: {e}"))?;
        }
        let allowed = allowed_algorithms(settings);
        match &req.redirect {
            Some(msg) => match (&msg.signature, settings.require_signed_requests) {
                (None, true) => Err(
                    "AuthnRequest not signed but the application requires signed requests".into(),
                ),
                (None, false) => Ok(None),
                (Some(_), _) => sesame_saml::verify_redirect_signature(msg, &trusted, &allowed)
                    .map(|_| None)
                    .map_err(|e| format!("redirect signature rejected by rule {}: {e}", e.rule())),
            },
            None => match sesame_saml::verify_authn_request_post(&req.xml, &trusted, &allowed) {
                Ok(v) => Ok(Some(v.get().clone())),
                Err(sesame_saml::SamlError::XmlSec(
                    sesame_xmlsec::XmlSecError::MissingSignature,
                )) if !settings.require_signed_requests => Ok(None),
                Err(e) => Err(format!(
                    "AuthnRequest signature rejected by rule {}: {e}",
                    e.rule()
                )),
            },
        }
    }

    /// IdP-initiated sign-in to `app` (a portal launch link): an unsolicited Response to the
    /// default reply URL with the app's default RelayState.
    pub async fn idp_initiated(
        &self,
        tenant: &Tenant,
        app: AppId,
        meta: &RequestMeta,
    ) -> Result<PendingSso, SsoFailure> {
        let app = match self.app(tenant.id, app).await {
            Ok(a) => a,
            Err(CoreError::NotFound(_)) => {
                return Err(SsoFailure::new(
                    codes::UNKNOWN_APPLICATION,
                    404,
                    "This application does not exist.",
                ));
            }
            Err(e) => return Err(SsoFailure::from_core(&e)),
        };
        let Some(settings) = app.saml.as_ref() else {
            return Err(SsoFailure::not_saml());
        };
        if !app.enabled {
            let f = SsoFailure::app_disabled(&app);
            self.log_saml(
                tenant.id,
                Some(app.id),
                None,
                "",
                &f,
                "application disabled",
                meta,
            )
            .await;
            return Err(f);
        }
        let Some(acs) = settings.default_reply_url() else {
            return Err(SsoFailure::new(
                codes::ACS_NOT_REGISTERED,
                400,
                "The application has no reply URL.",
            ));
        };
        Ok(PendingSso {
            app_id: app.id,
            request_id: None,
            audience: settings.identifiers.first().cloned().unwrap_or_default(),
            acs_url: acs.url.clone(),
            relay_state: settings.relay_state.clone(),
            force_authn: false,
            is_passive: false,
            requested_format: None,
            received_at_us: unix_micros(self.now()),
            unsatisfiable_authn_context: false,
            requested_subject: None,
            unsupported_name_id_format: None,
        })
    }

    /// True when the session may answer `pending` (ForceAuthn needs a sign-in after the request).
    pub fn session_satisfies(&self, pending: &PendingSso, session: &Session) -> bool {
        !pending.force_authn || unix_micros(session.authenticated_at) > pending.received_at_us
    }

    /// The Response for a signed-in user (SAML-IDP-3, -4, -5, -9).
    pub async fn complete_sso(
        &self,
        tenant: &Tenant,
        pending: &PendingSso,
        session: &Session,
        user: &User,
        meta: &RequestMeta,
    ) -> Result<SamlPost, SsoFailure> {
        let upn = user.user_principal_name.as_str();
        let fail = |f: SsoFailure, detail: String| async move {
            self.log_saml(
                tenant.id,
                Some(pending.app_id),
                Some(user.id),
                upn,
                &f,
                &detail,
                meta,
            )
            .await;
            Err(f)
        };
        let app = match self.app(tenant.id, pending.app_id).await {
            Ok(a) => a,
            Err(e) => return Err(SsoFailure::from_core(&e)),
        };
        let Some(settings) = app.saml.as_ref() else {
            return Err(SsoFailure::not_saml());
        };
        if !app.enabled {
            let f = SsoFailure::app_disabled(&app);
            return fail(f, "application disabled".into()).await;
        }
        let wants_groups = settings
            .attributes
            .iter()
            .any(|a| a.source == ClaimSource::Groups);
        let access = match self
            .app_access(tenant.id, app.id, user.id, wants_groups)
            .await
        {
            Ok(Some(access)) => access,
            Ok(None) => {
                let f = SsoFailure::new(
                    codes::NOT_ASSIGNED,
                    403,
                    format!(
                        "Your account {upn} is not assigned to the application {}. Ask your administrator to assign you to it.",
                        app.name
                    ),
                );
                if pending.is_passive {
                    // IsPassive: no page may take over the user's screen (SAML core §3.4.1);
                    // the SP hears RequestDenied instead.
                    let detail =
                        "user not assigned to the application: answered RequestDenied (IsPassive)";
                    return self
                        .status_response(
                            tenant,
                            pending,
                            sesame_saml::StatusCode::RequestDenied,
                            &f,
                            detail,
                            meta,
                        )
                        .await;
                }
                return fail(f, "user not assigned to the application".into()).await;
            }
            Err(e) => return Err(SsoFailure::from_core(&e)),
        };
        // A failed read only costs a write: the participant is then recorded again.
        let known = self
            .store
            .get_session_participant(tenant.id, &session.id_digest, app.id)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "could not read the SSO participant");
                None
            });
        let issued = match self
            .issue_response(
                tenant,
                &app,
                settings,
                pending,
                session,
                user,
                &access,
                known.as_ref(),
            )
            .await
        {
            Ok(i) => i,
            Err(IssueError::Claims(e)) => {
                let f = SsoFailure::new(
                    codes::NAME_ID,
                    400,
                    format!("Sésame cannot build the token for this application: {e}"),
                );
                return fail(f, format!("claims: {e}")).await;
            }
            Err(IssueError::Saml(detail)) => {
                let f = SsoFailure::new(
                    codes::ISSUANCE,
                    500,
                    "Sésame could not sign the token for this application.",
                );
                return fail(f, detail).await;
            }
            Err(IssueError::Core(e)) => return Err(SsoFailure::from_core(&e)),
            Err(IssueError::OtherSubject) => {
                let f = SsoFailure::new(
                    codes::OTHER_SUBJECT,
                    200,
                    "the request names another user than the one signed in",
                );
                let detail = format!(
                    "the request's Subject is not {upn}: answered AuthnFailed (core §3.4.1)"
                );
                return self
                    .status_response(
                        tenant,
                        pending,
                        sesame_saml::StatusCode::AuthnFailed,
                        &f,
                        &detail,
                        meta,
                    )
                    .await;
            }
        };
        match issued.new_participant {
            None => self.log_saml_success(tenant.id, app.id, user, meta).await,
            Some(participant) => {
                // Both at once: on SQLite they then share one commit (group commit).
                let (recorded, ()) = tokio::join!(
                    self.store
                        .add_session_participant(tenant.id, &session.id_digest, &participant),
                    self.log_saml_success(tenant.id, app.id, user, meta)
                );
                if let Err(e) = recorded {
                    tracing::warn!(error = %e, "could not record the SSO participant; single logout will miss it");
                }
            }
        }
        Ok(SamlPost {
            url: pending.acs_url.clone(),
            kind: MessageKind::Response,
            xml: issued.xml,
            relay_state: pending.relay_state.clone(),
        })
    }

    /// A `NoPassive` Response (SAML core §3.4.1.1): IsPassive and nobody signed in.
    pub async fn no_passive_response(
        &self,
        tenant: &Tenant,
        pending: &PendingSso,
        meta: &RequestMeta,
    ) -> Result<SamlPost, SsoFailure> {
        let f = SsoFailure::new(
            codes::NO_PASSIVE,
            200,
            "nobody signed in for a passive request",
        );
        let detail = "IsPassive without a session: answered NoPassive";
        self.status_response(
            tenant,
            pending,
            sesame_saml::StatusCode::NoPassive,
            &f,
            detail,
            meta,
        )
        .await
    }

    /// An `InvalidNameIDPolicy` Response (SAML core §3.4.1.1): the request's NameIDPolicy names
    /// a format Sésame does not produce.
    pub async fn invalid_name_id_policy_response(
        &self,
        tenant: &Tenant,
        pending: &PendingSso,
        meta: &RequestMeta,
    ) -> Result<SamlPost, SsoFailure> {
        let format = pending.unsupported_name_id_format.as_deref().unwrap_or("");
        let f = SsoFailure::new(
            codes::NAME_ID,
            200,
            "the requested NameID format cannot be provided",
        );
        let detail = format!(
            "NameIDPolicy Format {format:?} is not supported: answered InvalidNameIDPolicy"
        );
        self.status_response(
            tenant,
            pending,
            sesame_saml::StatusCode::InvalidNameIdPolicy,
            &f,
            &detail,
            meta,
        )
        .await
    }

    /// A `NoAuthnContext` Response: the requested authentication context is stronger than a
    /// password (SAML core §3.3.2.2.1).
    pub async fn no_authn_context_response(
        &self,
        tenant: &Tenant,
        pending: &PendingSso,
        meta: &RequestMeta,
    ) -> Result<SamlPost, SsoFailure> {
        let f = SsoFailure::new(
            codes::NO_AUTHN_CONTEXT,
            200,
            "requested authentication context unavailable",
        );
        let detail =
            "RequestedAuthnContext cannot be met by password sign-in: answered NoAuthnContext";
        self.status_response(
            tenant,
            pending,
            sesame_saml::StatusCode::NoAuthnContext,
            &f,
            detail,
            meta,
        )
        .await
    }

    /// A signed error Response to the ACS with `sub_code` under its top-level code (`Requester`
    /// when the request was at fault, else `Responder`), logged as a failure.
    async fn status_response(
        &self,
        tenant: &Tenant,
        pending: &PendingSso,
        sub_code: sesame_saml::StatusCode,
        failure: &SsoFailure,
        detail: &str,
        meta: &RequestMeta,
    ) -> Result<SamlPost, SsoFailure> {
        self.log_saml(
            tenant.id,
            Some(pending.app_id),
            None,
            "",
            failure,
            detail,
            meta,
        )
        .await;
        let key = self
            .active_signing_key(tenant.id, pending.app_id)
            .await
            .map_err(|e| SsoFailure::from_core(&e))?;
        let app = self
            .app(tenant.id, pending.app_id)
            .await
            .map_err(|e| SsoFailure::from_core(&e))?;
        let (algorithm, digest) = match &app.saml {
            Some(settings) => signing_algorithms(settings),
            None => (SignatureAlgorithm::RsaSha256, DigestAlgorithm::Sha256),
        };
        let issuer = self.idp_entity_id(tenant.id);
        let id = saml_id(self.new_uuid());
        let params = sesame_saml::StatusResponseParams {
            response_id: &id,
            issue_instant: self.now(),
            issuer: &issuer,
            destination: &pending.acs_url,
            in_response_to: pending.request_id.as_deref(),
            status: sesame_saml::Status {
                code: sub_code.top_level(),
                sub_code: Some(sub_code),
                message: None,
            },
        };
        let sign = sesame_saml::SignWith {
            key: &key,
            algorithm,
            digest,
        };
        let xml = sesame_saml::build_status_response(&params, Some(&sign)).map_err(|e| {
            SsoFailure::new(
                codes::ISSUANCE,
                500,
                format!("could not build the response: {e}"),
            )
        })?;
        Ok(SamlPost {
            url: pending.acs_url.clone(),
            kind: MessageKind::Response,
            xml,
            relay_state: pending.relay_state.clone(),
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn issue_response(
        &self,
        tenant: &Tenant,
        app: &Application,
        settings: &SamlAppSettings,
        pending: &PendingSso,
        session: &Session,
        user: &User,
        access: &crate::portal::AppAccess,
        known: Option<&SessionParticipant>,
    ) -> Result<Issued, IssueError> {
        let master = self.master_key.clone();
        let pairwise_subject = format!("{}/{}", tenant.id, user.id);
        let pairwise_audience = app.id.to_string();
        let pairwise = move || match &master {
            Some(m) => m.pairwise(&pairwise_audience, &pairwise_subject),
            None => String::new(),
        };
        let transient = || saml_id(uuid::Uuid::new_v4());
        let inputs = ClaimInputs {
            user,
            group_names: &access.group_names,
            app_roles: &access.roles,
            pairwise: &pairwise,
            transient: &transient,
        };
        let claims =
            map_claims(settings, pending.requested_format, &inputs).map_err(IssueError::Claims)?;
        if let Some(wanted) = &pending.requested_subject
            && *wanted != claims.name_id
        {
            return Err(IssueError::OtherSubject);
        }
        let key = self
            .active_signing_key(tenant.id, app.id)
            .await
            .map_err(IssueError::Core)?;
        let now = self.now();
        let issuer = self.idp_entity_id(tenant.id);
        let response_id = saml_id(self.new_uuid());
        let assertion_id = saml_id(self.new_uuid());
        // One SessionIndex per session and app while the NameID stays the same (a transient
        // NameID changes every time): a LogoutRequest from an SP session opened by an earlier
        // Response still names this session (SAML core §3.7.3.2). It is a credential of the
        // SP's (it ends the session without the browser's cookie): 128 random bits.
        let format_urn = claims.name_id_format.urn();
        let unchanged =
            known.filter(|p| p.name_id == claims.name_id && p.name_id_format == format_urn);
        let session_index = match unchanged {
            Some(p) => p.session_index.clone(),
            None => crate::secrets::new_session_index(),
        };
        let name_id = sesame_saml::NameId {
            value: claims.name_id.clone(),
            format: Some(claims.name_id_format.urn().to_string()),
            name_qualifier: None,
            sp_name_qualifier: None,
        };
        let attributes: Vec<sesame_saml::Attribute> = claims
            .attributes
            .iter()
            .map(|a| sesame_saml::Attribute {
                name: a.name.clone(),
                name_format: a.name_format.clone(),
                friendly_name: None,
                values: a.values.clone(),
            })
            .collect();
        let params = sesame_saml::ResponseParams {
            response_id: &response_id,
            assertion_id: &assertion_id,
            issue_instant: now,
            issuer: &issuer,
            destination: &pending.acs_url,
            in_response_to: pending.request_id.as_deref(),
            audience: &pending.audience,
            name_id: &name_id,
            subject_not_on_or_after: now + SUBJECT_CONFIRMATION_LIFETIME,
            not_before: now - NOT_BEFORE_SKEW,
            not_on_or_after: now + Duration::seconds(i64::from(settings.assertion_lifetime_secs)),
            authn_instant: session.authenticated_at,
            session_index: Some(&session_index),
            session_not_on_or_after: Some(session.expires_at),
            authn_context_class_ref: sesame_saml::ns::AC_PASSWORD_PROTECTED_TRANSPORT,
            attributes: &attributes,
        };
        let recipient = match &settings.encryption_certificate {
            Some(pem) => Some(
                EncryptionRecipient::from_certificate_pem(pem)
                    .map_err(|e| IssueError::Saml(format!("encryption certificate: {e}")))?,
            ),
            None => None,
        };
        let (algorithm, digest) = signing_algorithms(settings);
        let signer = sesame_saml::Signer {
            sign: sesame_saml::SignWith {
                key: &key,
                algorithm,
                digest,
            },
            mode: match settings.signing_mode {
                SigningMode::Assertion => sesame_saml::SigningMode::Assertion,
                SigningMode::Response => sesame_saml::SigningMode::Response,
                SigningMode::Both => sesame_saml::SigningMode::Both,
            },
            encryption: recipient
                .as_ref()
                .map(|r| sesame_saml::AssertionEncryption {
                    content: match settings.encryption_method {
                        SamlContentEncryption::Aes256Gcm => ContentEncryption::Aes256Gcm,
                        SamlContentEncryption::Aes128Cbc => ContentEncryption::Aes128Cbc,
                    },
                    ..sesame_saml::AssertionEncryption::new(r)
                }),
        };
        let xml = sesame_saml::build_response(&params, &signer).map_err(|e| {
            IssueError::Saml(format!(
                "building the Response failed at rule {}: {e}",
                e.rule()
            ))
        })?;
        let new_participant = unchanged.is_none().then(|| SessionParticipant {
            app_id: app.id,
            name_id: claims.name_id,
            name_id_format: format_urn.to_string(),
            session_index,
            at: now,
        });
        Ok(Issued {
            xml,
            new_participant,
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn log_saml(
        &self,
        tenant: TenantId,
        app: Option<AppId>,
        user: Option<UserId>,
        upn: &str,
        failure: &SsoFailure,
        detail: &str,
        meta: &RequestMeta,
    ) {
        tracing::info!(tenant = %tenant, code = failure.code, detail, correlation_id = %meta.correlation_id, "SAML request refused");
        self.append_event(
            tenant,
            app,
            user,
            upn,
            SignInResult::Failure,
            Some(format!("{} {detail}", failure.code)),
            meta,
        )
        .await;
    }

    async fn log_saml_success(
        &self,
        tenant: TenantId,
        app: AppId,
        user: &User,
        meta: &RequestMeta,
    ) {
        self.append_event(
            tenant,
            Some(app),
            Some(user.id),
            &user.user_principal_name,
            SignInResult::Success,
            None,
            meta,
        )
        .await;
    }

    #[allow(clippy::too_many_arguments)]
    async fn append_event(
        &self,
        tenant: TenantId,
        app: Option<AppId>,
        user: Option<UserId>,
        upn: &str,
        result: SignInResult,
        reason: Option<String>,
        meta: &RequestMeta,
    ) {
        let event = SignInEvent {
            id: SignInId(self.new_uuid()),
            tenant_id: tenant,
            at: self.now(),
            user_id: user,
            user_principal_name: upn.to_string(),
            app_id: app,
            protocol: "saml".to_string(),
            result,
            reason,
            ip: meta.ip.clone(),
            correlation_id: meta.correlation_id.clone(),
        };
        if let Err(e) = self.store.append_sign_in(&event).await {
            tracing::error!(error = %e, "could not write the sign-in log");
        }
    }
}

struct Issued {
    xml: String,
    /// What to record for single logout; `None` when the session already has it.
    new_participant: Option<SessionParticipant>,
}

enum IssueError {
    /// The request's `<Subject>` names someone else than the signed-in user.
    OtherSubject,
    Claims(CoreError),
    Saml(String),
    Core(CoreError),
}

/// Whether password sign-in (`PasswordProtectedTransport`) meets the requested context. The
/// strength order used: InternetProtocol < Password < PasswordProtectedTransport < anything
/// else (MFA, smartcard, Kerberos…), which password sign-in never reaches.
fn password_satisfies(requested: &sesame_saml::RequestedAuthnContext) -> bool {
    use sesame_saml::AuthnContextComparison as C;
    const PASSWORD: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password";
    const IP: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:InternetProtocol";
    const UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified";
    let ours = sesame_saml::ns::AC_PASSWORD_PROTECTED_TRANSPORT;
    let refs = &requested.class_refs;
    if refs.is_empty() {
        return true;
    }
    let weaker = |c: &String| c == PASSWORD || c == IP;
    match requested.comparison {
        C::Exact => refs.iter().any(|c| c == ours || c == UNSPECIFIED),
        C::Minimum => refs
            .iter()
            .any(|c| c == ours || c == UNSPECIFIED || weaker(c)),
        C::Maximum => refs.iter().any(|c| !weaker(c)),
        C::Better => refs.iter().all(weaker),
    }
}

fn unix_micros(t: time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

/// An XML ID (an NCName): `_` and 32 hex digits.
pub(crate) fn saml_id(u: uuid::Uuid) -> String {
    format!("_{}", u.simple())
}

fn registered_endpoints(settings: &SamlAppSettings) -> Vec<IndexedEndpoint> {
    settings
        .reply_urls
        .iter()
        .map(|r| IndexedEndpoint {
            binding: sesame_saml::ns::BINDING_HTTP_POST.to_string(),
            location: r.url.clone(),
            index: r.index,
            is_default: Some(r.is_default),
        })
        .collect()
}

pub(crate) fn signing_algorithms(
    settings: &SamlAppSettings,
) -> (SignatureAlgorithm, DigestAlgorithm) {
    match settings.signature_algorithm {
        SamlSignatureAlgorithm::RsaSha256 => {
            (SignatureAlgorithm::RsaSha256, DigestAlgorithm::Sha256)
        }
        SamlSignatureAlgorithm::RsaSha1 => (SignatureAlgorithm::RsaSha1, DigestAlgorithm::Sha1),
    }
}

/// SHA-1 request signatures are accepted only from apps configured for SHA-1 (compatibility).
pub(crate) fn allowed_algorithms(settings: &SamlAppSettings) -> AllowedAlgorithms {
    match settings.signature_algorithm {
        SamlSignatureAlgorithm::RsaSha1 => AllowedAlgorithms::default().with_sha1(),
        SamlSignatureAlgorithm::RsaSha256 => AllowedAlgorithms::default(),
    }
}
