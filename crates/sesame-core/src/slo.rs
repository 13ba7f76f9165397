//! SAML Single Logout as identity provider (SAML-IDP-7, SAML core §3.7, profiles §4.4).
//!
//! Front-channel and sequential: the session ends at once; then the browser visits each other
//! application of the session that has a logout URL with a signed LogoutRequest (Redirect
//! binding), comes back with its LogoutResponse; a federated user's identity provider comes
//! next, the same way; finally the application that started the logout gets Sésame's
//! LogoutResponse (so an IdP that never answers at Sésame's SLO endpoint leaves that answer
//! unsent). The progress travels sealed in a cookie ([`SloState`]), so any node can carry on.
//!
//! Applications with a SOAP SingleLogoutService (`backChannelLogoutUrl`) are also told by
//! Sésame itself, server to server (bindings §3.2): those without a front-channel endpoint,
//! and those of sessions a LogoutRequest ends without the browser that holds them, which no
//! browser is there to visit.

use crate::federation::IdpLogoutAnswer;
use crate::sso::{IncomingRequest, RequestMeta, SamlPost, SsoFailure, codes};
use crate::{Core, CoreError};
use serde::{Deserialize, Serialize};
use sesame_model::*;
use sesame_saml::{MessageKind, RedirectMessage};
use sesame_store::EndedSessions;
use sesame_xmlsec::{AllowedAlgorithms, SignatureAlgorithm, TrustedKeys};
use std::sync::Arc;

impl From<SessionParticipant> for SloTarget {
    fn from(p: SessionParticipant) -> Self {
        SloTarget {
            app_id: p.app_id,
            name_id: p.name_id,
            name_id_format: p.name_id_format,
            session_index: p.session_index,
        }
    }
}

/// Why applications are told that sessions ended (SAML core §3.7.3, `Reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LogoutCause {
    /// The user logged out.
    User,
    /// An administrator took the account away.
    Admin,
}

/// One back-channel LogoutRequest: a NameID an application was issued, and the SessionIndex
/// of each session of it to end.
struct BackChannelCall {
    target: SloTarget,
    session_indexes: Vec<String>,
}

/// `targets` as calls: one per application and NameID, naming each of its sessions
/// (core §3.7.1 allows several SessionIndex values), duplicates dropped.
fn back_channel_calls(targets: &[SloTarget]) -> Vec<BackChannelCall> {
    let mut targets = targets.to_vec();
    let key = |t: &SloTarget| (t.app_id, t.name_id.clone(), t.name_id_format.clone());
    targets.sort_by(|a, b| (key(a), &a.session_index).cmp(&(key(b), &b.session_index)));
    targets.dedup();
    let mut calls: Vec<BackChannelCall> = Vec::new();
    for t in targets {
        match calls.last_mut() {
            Some(call) if key(&call.target) == key(&t) => {
                call.session_indexes.push(t.session_index);
            }
            _ => calls.push(BackChannelCall {
                session_indexes: vec![t.session_index.clone()],
                target: t,
            }),
        }
    }
    calls
}

/// The application that asked for the logout, to be answered at the end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SloOrigin {
    #[serde(rename = "a", alias = "app_id")]
    pub app_id: AppId,
    #[serde(rename = "i", alias = "request_id")]
    pub request_id: String,
    #[serde(rename = "r", alias = "relay_state")]
    pub relay_state: Option<String>,
}

/// An application still to be logged out. Carried in a cookie, so written short: one-letter
/// names, and a letter for the NameID formats Sésame issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SloTarget {
    #[serde(rename = "a", alias = "app_id")]
    pub app_id: AppId,
    #[serde(rename = "n", alias = "name_id")]
    pub name_id: String,
    #[serde(rename = "f", alias = "name_id_format", with = "short_format")]
    pub name_id_format: String,
    #[serde(rename = "s", alias = "session_index")]
    pub session_index: String,
}

/// NameID format URIs as one letter each for the formats Sésame issues; any other as is (a
/// URI, never a single letter).
mod short_format {
    use serde::{Deserialize, Deserializer, Serializer};
    use sesame_model::NameIdFormat;

    const LETTERS: [(NameIdFormat, &str); 4] = [
        (NameIdFormat::Persistent, "p"),
        (NameIdFormat::EmailAddress, "e"),
        (NameIdFormat::Unspecified, "u"),
        (NameIdFormat::Transient, "t"),
    ];

    pub fn serialize<S: Serializer>(format: &str, s: S) -> Result<S::Ok, S::Error> {
        let letter = LETTERS.iter().find(|(f, _)| f.urn() == format);
        s.serialize_str(letter.map_or(format, |(_, l)| l))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        let written = String::deserialize(d)?;
        Ok(LETTERS
            .iter()
            .find(|(_, l)| *l == written)
            .map_or(written, |(f, _)| f.urn().to_string()))
    }
}

/// Progress of one Single Logout (in a cookie: one-letter names, as [`SloTarget`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SloState {
    #[serde(rename = "o", alias = "origin")]
    pub origin: Option<SloOrigin>,
    #[serde(rename = "r", alias = "remaining")]
    pub remaining: Vec<SloTarget>,
    /// The ID of the LogoutRequest whose answer we wait for.
    #[serde(rename = "w", alias = "awaiting")]
    pub awaiting: Option<String>,
    /// The application that request went to: its answer must come from it.
    #[serde(rename = "x", default)]
    pub awaiting_app: Option<AppId>,
    /// Some application did not confirm: the final status is PartialLogout.
    #[serde(rename = "p", alias = "partial")]
    pub partial: bool,
    /// Once the applications are done, the federated user whose identity provider is sent a
    /// LogoutRequest (when the logout ended the browser's own session).
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    pub then_idp_of: Option<UserId>,
    /// The federated user whose identity provider the awaited request went to: its answer is
    /// checked against that federation.
    #[serde(rename = "i", default, skip_serializing_if = "Option::is_none")]
    pub awaiting_idp_of: Option<UserId>,
    /// The identity provider could not be sent its LogoutRequest, or did not confirm it: it
    /// may sign the user in again without asking. The origin then hears PartialLogout too.
    #[serde(rename = "u", default, skip_serializing_if = "std::ops::Not::not")]
    pub idp_unconfirmed: bool,
}

impl SloState {
    /// Whether anyone that held a session did not confirm its end: the origin then hears
    /// PartialLogout.
    pub fn is_partial(&self) -> bool {
        self.partial || self.idp_unconfirmed
    }
}

/// The sessions a LogoutRequest ends (id digests).
struct NamedSessions {
    /// The session of the browser that brought the request, when the request names it.
    browsers: Option<String>,
    /// Other sessions it names (found by NameID and SessionIndex, or a signed NameID).
    others: Vec<String>,
    /// Some session stays: the browser's own belongs to another principal, or the request
    /// could not prove it may end the sessions its NameID names (answered PartialLogout).
    partial: bool,
}

/// A LogoutRequest accepted: what the browser does next, and whether its own session ended
/// (only then does it lose its session cookie).
pub struct LogoutAccepted {
    pub state: SloState,
    pub browser_signed_out: bool,
}

/// Purpose label of the sealed logout progress.
pub(crate) const SLO_PURPOSE: &str = "saml-slo";

/// The longest sealed logout progress: RFC 6265 §6.1 has browsers keep cookies of 4,096 bytes,
/// name, value and attributes together; the name (`__Host-sesame_slo_` and the tenant) and the
/// attributes (`Path`, `HttpOnly`, `SameSite`, `Secure`, `Max-Age`) take about 110.
pub const SLO_PROGRESS_MAX: usize = 3_900;

/// The key under which the replay cache keeps an application's LogoutRequest IDs.
fn app_issuer(app: &Application) -> String {
    format!("app {}", app.id)
}

/// What the browser does next.
pub enum SloStep {
    /// Visit this URL (a LogoutRequest to the next application or to the user's identity
    /// provider, or the final LogoutResponse).
    Redirect(String),
    /// Post this message (to an application whose SingleLogoutService takes HTTP-POST).
    Post(SamlPost),
    /// Nothing left; no application to answer (logout started at Sésame).
    Done,
    /// Nothing left here, but the user's identity provider never sends the browser back:
    /// the signed-out page says what was not told, and links to this LogoutRequest.
    DoneThenIdp(String),
}

/// Sends SOAP messages (bindings §3.2) for Single Logout's back channel; the binary provides
/// HTTP. `Ok`: an answer with a SOAP body (HTTP 200, or 500 for a fault); `Err`: no usable
/// answer (connection, timeout, another status, too large), in words people can read.
#[async_trait::async_trait]
pub trait SoapClient: Send + Sync {
    async fn call(&self, url: &str, envelope: String) -> Result<SoapReply, String>;
}

/// An HTTP answer to a SOAP call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapReply {
    pub status: u16,
    pub body: String,
}

/// The most applications one logout tells over the back channel; beyond, it is partial.
const MAX_BACK_CHANNEL_CALLS: usize = 32;
/// How many of those calls run at once.
const BACK_CHANNEL_CONCURRENCY: usize = 8;
/// How long a logout waits for all of them (each call has its own, shorter, timeout).
const BACK_CHANNEL_DEADLINE: std::time::Duration = std::time::Duration::from_secs(15);

/// The other applications of a session, by how they can be told of its end.
#[derive(Debug, Default)]
struct SessionTargets {
    /// Visited by the browser (front channel).
    front: Vec<SloTarget>,
    /// Called by Sésame over SOAP.
    back: Vec<SloTarget>,
    /// Applications nobody can tell: a session ended without its browser, and no SOAP
    /// endpoint.
    untold: usize,
}

impl Core {
    /// Single Logout's back channel: without it, applications reachable only over SOAP are
    /// not told (and the logout is partial).
    pub fn with_soap_client(mut self, client: Arc<dyn SoapClient>) -> Self {
        self.soap_client = Some(client);
        self
    }

    /// Root element name of a SAML message, to route it (`AuthnRequest`, `LogoutRequest`…).
    pub fn saml_message_name(xml: &str) -> Option<String> {
        let doc = sesame_xmlsec::strict::parse(xml, &sesame_xmlsec::Limits::default()).ok()?;
        Some(doc.root_element().tag_name().name().to_string())
    }

    /// Starts a logout at Sésame's own sign-out page: ends the session and lists the
    /// applications to visit.
    pub async fn start_logout(
        &self,
        tenant: TenantId,
        session_secret: &str,
    ) -> Result<SloState, CoreError> {
        let digest = crate::secrets::digest(session_secret);
        let targets = self.logout_targets(tenant, &digest, None, true).await?;
        self.sign_out(tenant, session_secret).await?;
        let told = self
            .logout_back_channel(tenant, &targets.back, LogoutCause::User)
            .await;
        Ok(SloState {
            remaining: targets.front,
            partial: !told,
            ..SloState::default()
        })
    }

    /// Seals the logout progress for the browser's cookie. Applications beyond what a cookie
    /// holds are dropped from the browser's round, last first: those with a SOAP endpoint are
    /// told over the back channel instead (the browser's answer waits for those calls), and
    /// the others make the logout partial (the origin then hears PartialLogout), where a
    /// cookie too big to keep would have lost the whole chain.
    pub async fn seal_logout_progress(
        &self,
        tenant: TenantId,
        state: &mut SloState,
    ) -> Result<String, CoreError> {
        let sealed = self.seal_context(SLO_PURPOSE, state)?;
        if sealed.len() <= SLO_PROGRESS_MAX || state.remaining.is_empty() {
            return Ok(sealed);
        }
        // Counted with `partial` false, the longer: the count holds whatever the calls say.
        let partial = std::mem::replace(&mut state.partial, false);
        // The most applications that fit, by bisection: `fits` kept always fit (none at
        // worst: the origin's ID and RelayState are bounded to fit alone), `fits + 1..=all`
        // may not.
        let mut all = std::mem::take(&mut state.remaining);
        let (mut fits, mut too_many) = (0, all.len());
        let mut best = None;
        while fits + 1 < too_many {
            let mid = (fits + too_many) / 2;
            state.remaining = all[..mid].to_vec();
            let sealed = self.seal_context(SLO_PURPOSE, state)?;
            if sealed.len() <= SLO_PROGRESS_MAX {
                (fits, best) = (mid, Some(sealed));
            } else {
                too_many = mid;
            }
        }
        let dropped = all.split_off(fits);
        state.remaining = all;
        let (mut back, mut untold) = (Vec::new(), 0usize);
        for target in dropped {
            match self.store.get_app(tenant, target.app_id).await {
                Ok(Application { saml: Some(s), .. }) if s.back_channel_logout_url.is_some() => {
                    back.push(target)
                }
                _ => untold += 1,
            }
        }
        tracing::warn!(
            kept = fits,
            back_channel = back.len(),
            untold,
            "single logout: too many applications for the progress cookie; the last go over the back channel where they can"
        );
        let told = self
            .logout_back_channel(tenant, &back, LogoutCause::User)
            .await;
        state.partial = partial || !told || untold > 0;
        if state.partial {
            // Sealed again: it still fits, "true" being shorter than "false".
            best = None;
        }
        match best {
            Some(sealed) => Ok(sealed),
            None => self.seal_context(SLO_PURPOSE, state),
        }
    }

    /// Opens a logout progress sealed by [`Core::seal_logout_progress`].
    pub fn open_logout_progress(&self, sealed: &str) -> Option<SloState> {
        self.open_context(SLO_PURPOSE, sealed)
    }

    /// Accepts a LogoutRequest from an application (signature checked when it has
    /// certificates, required when it requires signed requests; fresh and used once), ends the
    /// sessions it names, and lists the other applications the browser visits.
    pub async fn accept_logout_request(
        &self,
        tenant: &Tenant,
        req: IncomingRequest,
        session_secret: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<LogoutAccepted, SsoFailure> {
        let bad = |code: &'static str, message: &str| SsoFailure {
            code,
            status: 400,
            message: message.to_string(),
        };
        let parse = if req.soap {
            sesame_saml::parse_soap_logout_request
        } else {
            sesame_saml::parse_logout_request
        };
        let unverified = parse(&req.xml).map_err(|_| {
            bad(
                codes::MALFORMED_REQUEST,
                "The application sent a logout request Sésame cannot read.",
            )
        })?;
        // Sealed into the logout-progress cookie until the answer: bounded as for sign-ins.
        if let Some(problem) = req
            .relay_state
            .as_deref()
            .and_then(crate::saml_apps::relay_state_problem)
        {
            return Err(bad(codes::MALFORMED_REQUEST, &problem));
        }
        let app = match self
            .find_saml_app(tenant.id, &unverified.header.issuer)
            .await
        {
            Ok(Some(a)) => a,
            Ok(None) => {
                return Err(bad(
                    codes::UNKNOWN_APPLICATION,
                    "The application asking to log out is not registered.",
                ));
            }
            Err(e) => {
                return Err(SsoFailure {
                    code: e.code(),
                    status: 503,
                    message: "Logout is unavailable right now.".into(),
                });
            }
        };
        let Some(settings) = app.saml.clone() else {
            return Err(bad(
                codes::UNKNOWN_APPLICATION,
                "This application is not set up for SAML.",
            ));
        };
        let (request, signed) = match verify_logout(&settings, &req) {
            Ok(Some(v)) => (v, true),
            Ok(None) => (unverified, false),
            Err(detail) => {
                let f = bad(
                    codes::BAD_SIGNATURE,
                    "The logout request's signature is missing or invalid.",
                );
                self.log_saml(tenant.id, Some(app.id), None, "", &f, &detail, meta)
                    .await;
                return Err(f);
            }
        };
        // Ending sessions without the browser's cookie makes a captured request worth
        // replaying: it must be fresh (as an AuthnRequest) and is accepted once.
        let now = self.now();
        let skew = sesame_saml::rules::DEFAULT_CLOCK_SKEW;
        if let Err(e) = sesame_saml::rules::logout_request_not_expired(&request, now, skew)
            .and_then(|()| {
                sesame_saml::rules::request_issue_instant_within_skew(&request.header, now, skew)
            })
            // A signed request must name where it was sent (bindings §3.4.5.2, §3.5.5.2): one
            // addressed to another tenant or IdP that trusts the same SP key is refused here.
            .and_then(|()| {
                sesame_saml::rules::request_destination_matches(
                    &request.header,
                    &req.received_url,
                    signed,
                )
            })
        {
            return Err(bad(
                codes::STALE_REQUEST,
                &format!("The logout request was refused: {e}."),
            ));
        }
        let unavailable = |e: CoreError| SsoFailure {
            code: e.code(),
            status: 503,
            message: "Logout is unavailable right now.".into(),
        };
        let replay_key = format!("LogoutRequest {}", request.header.id);
        match self
            .store
            .remember_assertion(tenant.id, &app_issuer(&app), &replay_key, now + skew * 2)
            .await
        {
            Ok(()) => {}
            Err(sesame_store::StoreError::Conflict(_)) => {
                return Err(bad(
                    codes::STALE_REQUEST,
                    "The logout request was refused: it was already used.",
                ));
            }
            Err(e) => return Err(unavailable(e.into())),
        }
        let mut state = SloState {
            origin: Some(SloOrigin {
                app_id: app.id,
                request_id: request.header.id.clone(),
                relay_state: req.relay_state,
            }),
            ..SloState::default()
        };
        let sessions = self
            .sessions_named(tenant.id, app.id, &request, signed, session_secret)
            .await
            .map_err(unavailable)?;
        state.partial = sessions.partial;
        let mut back = Vec::new();
        // The browser's own session: its other applications are visited, front-channel.
        if let Some(digest) = &sessions.browsers {
            let targets = self
                .logout_targets(tenant.id, digest, Some(app.id), true)
                .await
                .map_err(unavailable)?;
            state.remaining = targets.front;
            back.extend(targets.back);
        }
        // Sessions found without the cookie: only the back channel reaches their other
        // applications. Redirects would carry those applications' NameIDs (pairwise, meant to
        // be unlinkable) to whoever sent the request, not to the user's browser. Applications
        // without a SOAP endpoint are not told, which the answer says (PartialLogout).
        for digest in &sessions.others {
            let targets = self
                .logout_targets(tenant.id, digest, Some(app.id), false)
                .await
                .map_err(unavailable)?;
            state.partial |= targets.untold > 0;
            back.extend(targets.back);
        }
        for digest in sessions.browsers.iter().chain(&sessions.others) {
            match self.store.delete_session(tenant.id, digest).await {
                Ok(()) | Err(sesame_store::StoreError::NotFound(_)) => {}
                Err(e) => return Err(unavailable(e.into())),
            }
        }
        // After the sessions end: a slow application delays the answer, never the logout.
        state.partial |= !self
            .logout_back_channel(tenant.id, &back, LogoutCause::User)
            .await;
        Ok(LogoutAccepted {
            browser_signed_out: sessions.browsers.is_some(),
            state,
        })
    }

    /// A LogoutRequest an application's server POSTed over SOAP (bindings §3.2, profiles
    /// §4.4.3.4): accepted as any LogoutRequest without the browser (its sessions end, their
    /// other applications hear of it over the back channel). The answer is a LogoutResponse
    /// for the SOAP body, also when the request is refused (bindings §3.2.3.3: a SAML
    /// processing error is a SAML status, with HTTP 200); `Err` only when there is no
    /// LogoutRequest to answer (a SOAP-level error: a fault, with its SOAP 1.1 code).
    pub async fn soap_logout_request(
        &self,
        tenant: &Tenant,
        envelope: String,
        received_url: String,
        meta: &RequestMeta,
    ) -> Result<String, (sesame_saml::bindings::SoapFaultCode, SsoFailure)> {
        use sesame_saml::bindings::SoapFaultCode;
        let unreadable = |e: &sesame_saml::SamlError| {
            format!(
                "This is not a LogoutRequest Sésame can read ({}).",
                e.rule()
            )
        };
        let is_endpoint = |actor: &str| same_url(actor, &received_url);
        if let Err(e) = sesame_saml::bindings::check_soap_request_headers(&envelope, &is_endpoint) {
            let failure = SsoFailure {
                code: codes::MALFORMED_REQUEST,
                status: 400,
                message: unreadable(&e),
            };
            return Err((SoapFaultCode::of(&e), failure));
        }
        let request = match sesame_saml::parse_soap_logout_request(&envelope) {
            Ok(r) => r,
            Err(e) => {
                // A LogoutRequest with an ID in a readable envelope gets a SAML status (bindings
                // §3.2.3.3); anything else is a SOAP-level error (a fault).
                let Some(id) = sesame_saml::bindings::soap_logout_request_id(&envelope) else {
                    let failure = SsoFailure {
                        code: codes::MALFORMED_REQUEST,
                        status: 400,
                        message: unreadable(&e),
                    };
                    return Err((SoapFaultCode::of(&e), failure));
                };
                let status = match e {
                    sesame_saml::SamlError::VersionMismatch(_) => {
                        sesame_saml::StatusCode::VersionMismatch
                    }
                    _ => sesame_saml::StatusCode::Requester,
                };
                let message = format!(
                    "{}: {} (correlation id {})",
                    codes::MALFORMED_REQUEST,
                    unreadable(&e),
                    meta.correlation_id
                );
                let status = sesame_saml::Status::of(status, Some(message));
                return self
                    .soap_logout_answer(tenant.id, &id, status, None)
                    .map_err(|f| (SoapFaultCode::Server, f));
            }
        };
        let incoming = IncomingRequest {
            xml: envelope,
            relay_state: None,
            redirect: None,
            received_url,
            soap: true,
        };
        let outcome = self
            .accept_logout_request(tenant, incoming, None, meta)
            .await;
        let accepted = outcome.is_ok();
        let status = match outcome {
            // No browser came: nothing is visited, so anything untold made it partial.
            Ok(accepted) if accepted.state.partial || !accepted.state.remaining.is_empty() => {
                sesame_saml::Status::of(sesame_saml::StatusCode::PartialLogout, None)
            }
            Ok(_) => sesame_saml::Status::success(),
            Err(f) => {
                tracing::warn!(code = f.code, reason = %f.message, correlation_id = %meta.correlation_id, "single logout: SOAP LogoutRequest refused");
                let code = match f.code {
                    codes::BAD_SIGNATURE | codes::UNKNOWN_APPLICATION => {
                        sesame_saml::StatusCode::RequestDenied
                    }
                    _ if f.status >= 500 => sesame_saml::StatusCode::Responder,
                    _ => sesame_saml::StatusCode::Requester,
                };
                let message = format!(
                    "{}: {} (correlation id {})",
                    f.code, f.message, meta.correlation_id
                );
                sesame_saml::Status::of(code, Some(message))
            }
        };
        // Signed with the key of the application it names when accepted; a refusal goes
        // unsigned: Sésame signs nothing about a request it could not trust.
        let app = if accepted {
            self.find_saml_app(tenant.id, &request.header.issuer)
                .await
                .ok()
                .flatten()
        } else {
            None
        };
        let key = match &app {
            Some(a) => match self.active_signing_key(tenant.id, a.id).await {
                Ok(k) => Some(k),
                Err(e) => {
                    tracing::error!(app = %a.id, error = %e, "single logout: no key to sign a SOAP LogoutResponse with; answered unsigned");
                    None
                }
            },
            None => None,
        };
        let signer = app
            .as_ref()
            .and_then(|a| a.saml.as_ref())
            .zip(key.as_deref());
        self.soap_logout_answer(tenant.id, &request.header.id, status, signer)
            .map_err(|f| (SoapFaultCode::Server, f))
    }

    /// The LogoutResponse to SOAP LogoutRequest `request_id`, in its envelope; signed with
    /// the app's key and algorithms when `signer` is given.
    fn soap_logout_answer(
        &self,
        tenant: TenantId,
        request_id: &str,
        status: sesame_saml::Status,
        signer: Option<(&SamlAppSettings, &sesame_xmlsec::SigningKey)>,
    ) -> Result<String, SsoFailure> {
        let id = format!("_{}", self.new_uuid().simple());
        let issuer = self.idp_entity_id(tenant);
        let params = sesame_saml::LogoutResponseParams {
            id: &id,
            issue_instant: self.now(),
            issuer: &issuer,
            destination: None,
            in_response_to: request_id,
            status,
        };
        let sign = signer.map(|(settings, key)| sign_with(settings, key));
        let xml = sesame_saml::build_logout_response(&params, sign.as_ref()).map_err(|e| {
            tracing::error!(error = %e, "single logout: cannot answer a SOAP LogoutRequest");
            SsoFailure {
                code: codes::ISSUANCE,
                status: 500,
                message: "The logout answer could not be made.".into(),
            }
        })?;
        Ok(sesame_saml::soap_envelope(&xml))
    }

    /// The sessions a LogoutRequest names (SAML core §3.7.3.2): those in which this app received
    /// the request's NameID, with one of its SessionIndex values when it has some.
    ///
    /// The browser's cookie is not needed — a cross-site POST does not carry it — but without
    /// it the request must prove it comes from the SP: a verified signature, or a SessionIndex
    /// (unguessable, only ever sent to that SP). An unsigned request with a bare NameID (an
    /// e-mail address anyone can write) ends only the session of the browser that brought it.
    async fn sessions_named(
        &self,
        tenant: TenantId,
        app: AppId,
        request: &sesame_saml::LogoutRequest,
        signed: bool,
        session_secret: Option<&str>,
    ) -> Result<NamedSessions, CoreError> {
        let name_id = request.name_id.value.as_str();
        let mut browsers = None;
        let mut browser_in_use = false;
        if let Some(secret) = session_secret {
            let digest = crate::secrets::digest(secret);
            let participants = self
                .store
                .list_session_participants(tenant, &digest)
                .await?;
            browser_in_use = !participants.is_empty();
            // SAML core §3.7.3.1: the NameID must be the one issued to this SP in this session
            // (whatever its SessionIndex: the cookie already shows the session is this browser's).
            if participants
                .iter()
                .any(|p| p.app_id == app && p.name_id == name_id)
            {
                browsers = Some(digest);
            }
        }
        let now = self.now();
        let found: Vec<String> = if !request.session_indexes.is_empty() {
            let mut found = Vec::new();
            for index in &request.session_indexes {
                found.extend(
                    self.store
                        .find_participant_sessions(tenant, app, name_id, Some(index), now)
                        .await?,
                );
            }
            found
        } else {
            self.store
                .find_participant_sessions(tenant, app, name_id, None, now)
                .await?
        };
        let proven = signed || !request.session_indexes.is_empty();
        let mut others = Vec::new();
        let mut unproven_left = false;
        for digest in found {
            if browsers.as_ref() == Some(&digest) || others.contains(&digest) {
                continue;
            }
            if proven {
                others.push(digest);
            } else {
                unproven_left = true;
            }
        }
        // An unproven request from a browser whose session it does not name is partial
        // whether or not the NameID has sessions: the answer must not tell anyone who writes
        // a NameID whether that user is signed in.
        let partial = if proven {
            browsers.is_none() && others.is_empty() && browser_in_use
        } else {
            browsers.is_none() || unproven_left
        };
        Ok(NamedSessions {
            partial,
            browsers,
            others,
        })
    }

    /// The applications of the session with a logout endpoint, except `except`, by channel:
    /// with the browser (`browser`), the front channel when the application has one, else
    /// SOAP; without it, SOAP only.
    async fn logout_targets(
        &self,
        tenant: TenantId,
        digest: &str,
        except: Option<AppId>,
        browser: bool,
    ) -> Result<SessionTargets, CoreError> {
        let mut targets = SessionTargets::default();
        for p in self.store.list_session_participants(tenant, digest).await? {
            if Some(p.app_id) == except {
                continue;
            }
            let (front, back) = match self.store.get_app(tenant, p.app_id).await {
                Ok(Application { saml: Some(s), .. }) => {
                    (s.logout_url.is_some(), s.back_channel_logout_url.is_some())
                }
                _ => (false, false),
            };
            let target = SloTarget::from(p);
            match (browser && front, back) {
                (true, _) => targets.front.push(target),
                (false, true) => targets.back.push(target),
                (false, false) if front => targets.untold += 1,
                (false, false) => {}
            }
        }
        Ok(targets)
    }

    /// Ends every session of a user whose account was disabled or deleted. The applications
    /// reached in them keep sessions of their own; those with a SOAP endpoint are told, once
    /// per NameID they were issued, with an administrator's LogoutRequest (Reason `admin`)
    /// naming the SessionIndex of each of those sessions: a NameID drawn from a field another
    /// user may hold later (mail, a renamed UPN) must not end that user's sessions. The calls
    /// go on in the background: an administrator's request does not wait for applications.
    pub(crate) async fn end_user_sessions(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<(), CoreError> {
        let ended = self.store.delete_user_sessions(tenant, user).await?;
        self.tell_ended_sessions(tenant, user, ended).await
    }

    /// Deletes a user, ending its sessions in the same transaction and telling its
    /// applications as [`Core::end_user_sessions`] does: no session created in between can be
    /// cascaded away untold.
    pub(crate) async fn delete_user_and_sessions(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<(), CoreError> {
        let ended = self.store.delete_user(tenant, user).await?;
        self.tell_ended_sessions(tenant, user, ended).await
    }

    async fn tell_ended_sessions(
        &self,
        tenant: TenantId,
        user: UserId,
        ended: EndedSessions,
    ) -> Result<(), CoreError> {
        let mut told = Vec::new();
        let mut untold = 0usize;
        for p in ended.participants {
            match self.store.get_app(tenant, p.app_id).await {
                Ok(Application { saml: Some(s), .. }) if s.back_channel_logout_url.is_some() => {
                    told.push(SloTarget::from(p))
                }
                _ => untold += 1,
            }
        }
        if ended.sessions > 0 {
            tracing::info!(%user, sessions = ended.sessions, back_channel = told.len(), untold, "account disabled or deleted: its sessions ended");
        }
        if !told.is_empty() {
            let core = self.clone();
            tokio::spawn(async move {
                if !core
                    .logout_back_channel(tenant, &told, LogoutCause::Admin)
                    .await
                {
                    tracing::warn!(%user, "account disabled or deleted: some applications did not confirm the end of its sessions");
                }
            });
        }
        Ok(())
    }

    /// Tells `targets` over SOAP, one call per application and NameID, a few at a time:
    /// whether every one confirmed. The calls run
    /// in a task of their own, so that they finish (and are logged) even if the browser's
    /// request that started them goes away: its sessions have already ended.
    async fn logout_back_channel(
        &self,
        tenant: TenantId,
        targets: &[SloTarget],
        cause: LogoutCause,
    ) -> bool {
        let mut calls = back_channel_calls(targets);
        if calls.is_empty() {
            return true;
        }
        let Some(client) = self.soap_client.clone() else {
            tracing::warn!(
                applications = calls.len(),
                "single logout: no SOAP client in this process; applications with only a back-channel endpoint are not told"
            );
            return false;
        };
        let all_fit = calls.len() <= MAX_BACK_CHANNEL_CALLS;
        if !all_fit {
            tracing::warn!(
                applications = calls.len(),
                told = MAX_BACK_CHANNEL_CALLS,
                "single logout: too many back-channel calls for one logout; the rest are not told"
            );
            calls.truncate(MAX_BACK_CHANNEL_CALLS);
        }
        let core = self.clone();
        let calls = tokio::spawn(async move {
            use futures_util::StreamExt;
            let issuer = core.idp_entity_id(tenant);
            // Each call owns what it uses (a spawned task's futures borrow nothing).
            let told = futures_util::stream::iter(calls)
                .map(|call| {
                    let (core, issuer, client) = (core.clone(), issuer.clone(), client.clone());
                    async move {
                        core.tell_back_channel(tenant, &issuer, &call, cause, client.as_ref())
                            .await
                    }
                })
                .buffer_unordered(BACK_CHANNEL_CONCURRENCY)
                .collect::<Vec<bool>>();
            match tokio::time::timeout(BACK_CHANNEL_DEADLINE, told).await {
                Ok(told) => told.into_iter().all(|t| t),
                Err(_) => {
                    tracing::warn!(
                        "single logout: back-channel calls still unanswered after {} s",
                        BACK_CHANNEL_DEADLINE.as_secs()
                    );
                    false
                }
            }
        });
        calls.await.unwrap_or(false) && all_fit
    }

    /// One signed LogoutRequest over SOAP, logged: whether the application confirmed it.
    async fn tell_back_channel(
        &self,
        tenant: TenantId,
        issuer: &str,
        call: &BackChannelCall,
        cause: LogoutCause,
        client: &dyn SoapClient,
    ) -> bool {
        let target = &call.target;
        match self
            .back_channel_request(tenant, issuer, call, cause, client)
            .await
        {
            Ok(()) => {
                tracing::info!(app = %target.app_id, "single logout: told over the back channel");
                true
            }
            Err(reason) => {
                tracing::warn!(app = %target.app_id, %reason, "single logout: back-channel LogoutRequest failed");
                false
            }
        }
    }

    async fn back_channel_request(
        &self,
        tenant: TenantId,
        issuer: &str,
        call: &BackChannelCall,
        cause: LogoutCause,
        client: &dyn SoapClient,
    ) -> Result<(), String> {
        let target = &call.target;
        let app = self
            .store
            .get_app(tenant, target.app_id)
            .await
            .map_err(|e| format!("application unavailable: {e}"))?;
        let Some((settings, url)) = app
            .saml
            .as_ref()
            .and_then(|s| s.back_channel_logout_url.as_deref().map(|url| (s, url)))
        else {
            return Err("the application has no back-channel logout URL any more".into());
        };
        let (id, key) = self
            .new_logout_request_id(tenant, app.id)
            .await
            .map_err(|e| format!("no signing key: {e}"))?;
        let xml = self
            .build_logout_request(
                issuer,
                &id,
                target,
                &call
                    .session_indexes
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
                cause,
                url,
                Some(&sign_with(settings, &key)),
            )
            .map_err(|e| format!("cannot build the LogoutRequest: {e}"))?;
        let reply = client.call(url, sesame_saml::soap_envelope(&xml)).await?;
        let response = read_soap_answer(settings, &reply)?;
        if answer_confirms(settings, &response, &id) {
            Ok(())
        } else {
            Err(format!(
                "the answer does not confirm the logout (status {}, issuer {:?}, InResponseTo {:?})",
                response.status.code.uri(),
                response.issuer,
                response.in_response_to
            ))
        }
    }

    /// Records the LogoutResponse awaited (`answer`: its XML, the Redirect binding's
    /// message, where it was received): a missing or failed answer makes the logout partial
    /// (`partial` for an application, `idp_unconfirmed` for the user's identity provider),
    /// never stops it. The answer counts when it comes from the application the request went
    /// to, for that request, sent here, with Success, and its signature passes as that
    /// application's LogoutRequests' would (profiles §4.4.4.2: the responder authenticates).
    /// The user's identity provider's answer is checked by
    /// [`Core::identity_provider_answer`]; its failure is told apart (`idp_unconfirmed`).
    pub async fn record_logout_response(
        &self,
        tenant: TenantId,
        state: &mut SloState,
        answer: &IncomingRequest,
    ) {
        let app = state.awaiting_app.take();
        let idp_of = state.awaiting_idp_of.take();
        let Some(request_id) = state.awaiting.take() else {
            // Nothing awaited: a stray answer, which counts for nothing.
            return;
        };
        match (app, idp_of) {
            (Some(app_id), _) => {
                state.partial |= !self
                    .logout_confirmed(tenant, app_id, &request_id, answer)
                    .await;
            }
            (None, idp_of) => {
                let said = match idp_of {
                    Some(user) => {
                        self.identity_provider_answer(tenant, user, &request_id, answer)
                            .await
                    }
                    None => IdpLogoutAnswer::unattributed(answer, &request_id),
                };
                match said {
                    IdpLogoutAnswer::Confirmed => {}
                    // The IdP's own applications count as the session's (the origin hears
                    // PartialLogout, the page says some applications were not told).
                    IdpLogoutAnswer::Partly => state.partial = true,
                    IdpLogoutAnswer::Unconfirmed => state.idp_unconfirmed = true,
                }
            }
        }
    }

    async fn logout_confirmed(
        &self,
        tenant: TenantId,
        app_id: AppId,
        request_id: &str,
        answer: &IncomingRequest,
    ) -> bool {
        let (xml, redirect) = (answer.xml.as_str(), answer.redirect.as_ref());
        let Ok(app) = self.store.get_app(tenant, app_id).await else {
            return false;
        };
        let Some(settings) = app.saml.as_ref() else {
            return false;
        };
        let (response, signed) = match verify_from_app(
            settings,
            xml,
            redirect,
            sesame_saml::verify_logout_response_post,
            sesame_saml::parse_logout_response,
        ) {
            Ok(Some(verified)) => (verified, true),
            Ok(None) => match sesame_saml::parse_logout_response(xml) {
                Ok(r) => (r, false),
                Err(_) => return false,
            },
            Err(detail) => {
                tracing::warn!(app = %app.id, %detail, "single logout: LogoutResponse refused");
                return false;
            }
        };
        // Where it was sent: mandatory when signed (bindings §3.4.5.2, §3.5.5.2).
        let destination = sesame_saml::rules::destination_matches(
            response.destination.as_deref(),
            &answer.received_url,
            signed,
        );
        if let Err(e) = destination {
            tracing::warn!(app = %app.id, error = %e, "single logout: LogoutResponse refused");
            return false;
        }
        answer_confirms(settings, &response, request_id)
    }

    /// The next browser step: a LogoutRequest to the next application, else to the federated
    /// user's identity provider, else the final LogoutResponse to the origin. An application that cannot be sent its message (deleted,
    /// no usable key) is skipped and the logout becomes partial: the session is already over,
    /// and the others still hear of it.
    pub async fn next_logout_step(&self, tenant: TenantId, state: &mut SloState) -> SloStep {
        let issuer = self.idp_entity_id(tenant);
        while let Some(target) = state.remaining.first().cloned() {
            state.remaining.remove(0);
            let app = match self.store.get_app(tenant, target.app_id).await {
                Ok(a) => a,
                Err(_) => {
                    state.partial = true;
                    continue;
                }
            };
            let Some(url) = app.saml.as_ref().and_then(|s| s.logout_url.clone()) else {
                continue;
            };
            match self
                .logout_request_to(tenant, &issuer, &app, &target, &url)
                .await
            {
                Ok((id, step)) => {
                    state.awaiting = Some(id);
                    state.awaiting_app = Some(app.id);
                    return step;
                }
                Err(e) => {
                    tracing::error!(app = %app.id, error = %e, "single logout: could not send a LogoutRequest");
                    state.partial = true;
                }
            }
        }
        // The applications are done: a federated user's identity provider next, whose answer
        // is awaited by its request's ID and checked against the user's federation
        // (`awaiting_idp_of`).
        if let Some(user) = state.then_idp_of.take() {
            match self.identity_provider_logout(tenant, user).await {
                Ok(Some(request)) if request.answered => {
                    state.awaiting = Some(request.id);
                    state.awaiting_app = None;
                    state.awaiting_idp_of = Some(user);
                    return SloStep::Redirect(request.url);
                }
                // An IdP that never sends the browser back: the last stop of a sign-out
                // started here (nothing left to answer after it), straight away unless the
                // page has something to say first; an application that asked must get its
                // answer instead, so the IdP keeps its session.
                Ok(Some(request)) if state.origin.is_none() => {
                    return if state.partial {
                        SloStep::DoneThenIdp(request.url)
                    } else {
                        SloStep::Redirect(request.url)
                    };
                }
                Ok(Some(_)) => state.idp_unconfirmed = true,
                // No longer federated (the federation was removed meanwhile): no IdP to tell.
                Ok(None) => {}
                Err(e) => {
                    // The logout goes on; the IdP keeps its session, which the user is told of.
                    tracing::warn!(%tenant, %user, error = %e, "single logout: no LogoutRequest to the user's identity provider");
                    state.idp_unconfirmed = true;
                }
            }
        }
        let Some(origin) = state.origin.take() else {
            return SloStep::Done;
        };
        match self
            .logout_response_to(tenant, &issuer, &origin, state.is_partial())
            .await
        {
            Ok(Some(step)) => step,
            // The origin published no logout endpoint: nothing to answer to.
            Ok(None) => SloStep::Done,
            Err(e) => {
                tracing::error!(app = %origin.app_id, error = %e, "single logout: could not answer the application that asked");
                SloStep::Done
            }
        }
    }

    /// The LogoutRequest to `user`'s identity provider (its ID, and the URL to send the browser
    /// to), if the user still signs in through one.
    async fn identity_provider_logout(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Option<crate::federation::IdpLogoutRequest>, CoreError> {
        let user = self.store.get_user(tenant, user).await?;
        self.federated_logout_url(tenant, &user).await
    }

    /// A signed LogoutRequest for `target`, by the application's logout binding: its ID and
    /// the browser's step.
    async fn logout_request_to(
        &self,
        tenant: TenantId,
        issuer: &str,
        app: &Application,
        target: &SloTarget,
        url: &str,
    ) -> Result<(String, SloStep), CoreError> {
        let (id, key) = self.new_logout_request_id(tenant, app.id).await?;
        let step = logout_message(app, &key, url, MessageKind::Request, None, |sign| {
            let index = [target.session_index.as_str()];
            self.build_logout_request(issuer, &id, target, &index, LogoutCause::User, url, sign)
        })?;
        Ok((id, step))
    }

    /// A fresh LogoutRequest ID, and the app's signing key to sign it with.
    async fn new_logout_request_id(
        &self,
        tenant: TenantId,
        app: AppId,
    ) -> Result<(String, Arc<sesame_xmlsec::SigningKey>), CoreError> {
        let key = self.active_signing_key(tenant, app).await?;
        Ok((format!("_{}", self.new_uuid().simple()), key))
    }

    /// The LogoutRequest `id` for `target`'s NameID and `session_indexes` at `url`, signed
    /// when `sign` is given.
    #[allow(clippy::too_many_arguments)]
    fn build_logout_request(
        &self,
        issuer: &str,
        id: &str,
        target: &SloTarget,
        session_indexes: &[&str],
        cause: LogoutCause,
        url: &str,
        sign: Option<&sesame_saml::SignWith<'_>>,
    ) -> sesame_saml::Result<String> {
        let name_id = sesame_saml::NameId {
            value: target.name_id.clone(),
            format: Some(target.name_id_format.clone()),
            name_qualifier: None,
            sp_name_qualifier: None,
        };
        let now = self.now();
        let params = sesame_saml::LogoutRequestParams {
            id,
            issue_instant: now,
            issuer,
            destination: url,
            name_id: &name_id,
            session_indexes,
            not_on_or_after: Some(now + time::Duration::minutes(5)),
            reason: Some(match cause {
                LogoutCause::User => "urn:oasis:names:tc:SAML:2.0:logout:user",
                LogoutCause::Admin => "urn:oasis:names:tc:SAML:2.0:logout:admin",
            }),
        };
        sesame_saml::build_logout_request(&params, sign)
    }

    /// The signed LogoutResponse to the application that asked, by its logout binding; `None`
    /// when it has no logout endpoint.
    async fn logout_response_to(
        &self,
        tenant: TenantId,
        issuer: &str,
        origin: &SloOrigin,
        partial: bool,
    ) -> Result<Option<SloStep>, CoreError> {
        let app = self.store.get_app(tenant, origin.app_id).await?;
        let Some(url) = app.saml.as_ref().and_then(|s| {
            s.logout_response_url
                .clone()
                .or_else(|| s.logout_url.clone())
        }) else {
            return Ok(None);
        };
        let key = self.active_signing_key(tenant, app.id).await?;
        let id = format!("_{}", self.new_uuid().simple());
        let status = if partial {
            sesame_saml::Status::of(sesame_saml::StatusCode::PartialLogout, None)
        } else {
            sesame_saml::Status::success()
        };
        let params = sesame_saml::LogoutResponseParams {
            id: &id,
            issue_instant: self.now(),
            issuer,
            destination: Some(&url),
            in_response_to: &origin.request_id,
            status,
        };
        let relay_state = origin.relay_state.as_deref();
        let step = logout_message(
            &app,
            &key,
            &url,
            MessageKind::Response,
            relay_state,
            |sign| sesame_saml::build_logout_response(&params, sign),
        )?;
        Ok(Some(step))
    }
}

/// A logout message for `app` at `url`, by its logout binding: HTTP-Redirect signs the query
/// string (`build` gets no key), HTTP-POST signs the message itself (bindings §3.4.4.1,
/// §3.5.4). Signed with the app's algorithms, as its Responses (an SP set up for RSA-SHA1 may
/// not verify anything else).
fn logout_message(
    app: &Application,
    key: &sesame_xmlsec::SigningKey,
    url: &str,
    kind: MessageKind,
    relay_state: Option<&str>,
    build: impl FnOnce(Option<&sesame_saml::SignWith<'_>>) -> sesame_saml::Result<String>,
) -> Result<SloStep, CoreError> {
    let algorithm = app
        .saml
        .as_ref()
        .map_or(SignatureAlgorithm::RsaSha256, |s| {
            crate::sso::signing_algorithms(s).0
        });
    let failed = |e: sesame_saml::SamlError| CoreError::Internal(format!("logout message: {e}"));
    match app
        .saml
        .as_ref()
        .map(|s| s.logout_binding)
        .unwrap_or_default()
    {
        SamlLogoutBinding::Redirect => {
            let xml = build(None).map_err(failed)?;
            let query =
                sesame_saml::encode_redirect(&xml, kind, relay_state, Some((key, algorithm)))
                    .map_err(failed)?;
            Ok(SloStep::Redirect(sesame_saml::bindings::append_query(
                url, &query,
            )))
        }
        SamlLogoutBinding::Post => {
            let sign = match app.saml.as_ref() {
                Some(s) => sign_with(s, key),
                None => sesame_saml::SignWith {
                    key,
                    algorithm,
                    digest: sesame_xmlsec::DigestAlgorithm::Sha256,
                },
            };
            Ok(SloStep::Post(SamlPost {
                url: url.to_string(),
                kind,
                xml: build(Some(&sign)).map_err(failed)?,
                relay_state: relay_state.map(str::to_string),
            }))
        }
    }
}

/// An enveloped signature with the app's algorithms, as its Responses (an SP set up for
/// RSA-SHA1 may not verify anything else).
fn sign_with<'k>(
    settings: &SamlAppSettings,
    key: &'k sesame_xmlsec::SigningKey,
) -> sesame_saml::SignWith<'k> {
    let (algorithm, digest) = crate::sso::signing_algorithms(settings);
    sesame_saml::SignWith {
        key,
        algorithm,
        digest,
    }
}

/// Whether an application's LogoutResponse confirms our request `request_id`: from one of its
/// entityIDs, for that request, Success without an SP's own PartialLogout (core §3.7.3.2).
fn answer_confirms(
    settings: &SamlAppSettings,
    response: &sesame_saml::StatusResponse,
    request_id: &str,
) -> bool {
    response.status.is_success()
        && response.status.sub_code != Some(sesame_saml::StatusCode::PartialLogout)
        && response.in_response_to.as_deref() == Some(request_id)
        && settings.identifiers.contains(&response.issuer)
}

/// Whether two URLs name the same resource, as URL parsing normalises them (scheme and host
/// case, default port), a trailing slash aside.
fn same_url(a: &str, b: &str) -> bool {
    let normal = |u: &str| {
        url::Url::parse(u).ok().map(|u| {
            u.as_str()
                .strip_suffix('/')
                .unwrap_or(u.as_str())
                .to_owned()
        })
    };
    matches!((normal(a), normal(b)), (Some(a), Some(b)) if a == b)
}

/// The LogoutResponse of a SOAP answer: a SAML answer comes with HTTP 200, a fault with 500
/// (bindings §3.2.3.3). Its signature is checked as the application's LogoutRequests' are
/// (when it has certificates; required when it requires signed requests). An unsigned one
/// otherwise counts on the strength of the channel (profiles §4.4.4.2 lets the binding
/// authenticate the responder): Sésame opened the connection to the registered URL, over TLS
/// unless on loopback.
fn read_soap_answer(
    settings: &SamlAppSettings,
    reply: &SoapReply,
) -> Result<sesame_saml::StatusResponse, String> {
    if reply.body.len() > sesame_saml::bindings::MAX_SOAP_BYTES {
        return Err("the answer is too large".into());
    }
    let unsigned = sesame_saml::parse_soap_logout_response(&reply.body)
        .map_err(|e| format!("unreadable answer ({}): {e}", e.rule()))?;
    if reply.status != 200 {
        return Err(format!(
            "a LogoutResponse came with HTTP {} (200 expected)",
            reply.status
        ));
    }
    let verified = verify_from_app(
        settings,
        &reply.body,
        None,
        sesame_saml::verify_soap_logout_response,
        sesame_saml::parse_soap_logout_response,
    )?;
    Ok(verified.unwrap_or(unsigned))
}

/// The application's verification certificates as trusted keys.
fn trusted_keys(settings: &SamlAppSettings) -> Result<TrustedKeys, String> {
    let mut trusted = TrustedKeys::new();
    for pem in &settings.verification_certificates {
        trusted
            .add_certificate_pem(pem)
            .map_err(|e| format!("stored verification certificate unusable: {e}"))?;
    }
    Ok(trusted)
}

/// The verified LogoutRequest when a signature was checked; `Err(detail)` when it fails.
fn verify_logout(
    settings: &SamlAppSettings,
    req: &IncomingRequest,
) -> Result<Option<sesame_saml::LogoutRequest>, String> {
    if req.soap {
        // No browser, and no client certificate: only a signature tells who sent it
        // (profiles §4.4.4.1), so one is required whatever the app's settings say.
        let signed_only = SamlAppSettings {
            require_signed_requests: true,
            ..settings.clone()
        };
        return verify_from_app(
            &signed_only,
            &req.xml,
            None,
            sesame_saml::verify_soap_logout_request,
            sesame_saml::parse_soap_logout_request,
        );
    }
    verify_from_app(
        settings,
        &req.xml,
        req.redirect.as_ref(),
        sesame_saml::verify_logout_request_post,
        sesame_saml::parse_logout_request,
    )
}

/// A message from an application, checked as its settings ask: the signature is verified
/// when the application has certificates, and required when it requires signed requests.
fn verify_from_app<T: Clone>(
    settings: &SamlAppSettings,
    xml: &str,
    redirect: Option<&RedirectMessage>,
    verify_post: VerifyPost<T>,
    parse: fn(&str) -> Result<T, sesame_saml::SamlError>,
) -> Result<Option<T>, String> {
    let required = settings.require_signed_requests;
    if settings.verification_certificates.is_empty() {
        return if required {
            Err("no verification certificate".into())
        } else {
            Ok(None)
        };
    }
    let check = SignatureCheck {
        trusted: trusted_keys(settings)?,
        // SHA-1 only from apps configured for it, as for their AuthnRequests.
        allowed: crate::sso::allowed_algorithms(settings),
        required,
    };
    verify_signed(&check, xml, redirect, verify_post, parse)
}

/// Verifies an enveloped signature and returns what it covers.
pub(crate) type VerifyPost<T> = fn(
    &str,
    &TrustedKeys,
    &AllowedAlgorithms,
) -> Result<sesame_xmlsec::Verified<T>, sesame_saml::SamlError>;

/// Whose signatures a message may carry, and whether it must carry one.
pub(crate) struct SignatureCheck {
    pub trusted: TrustedKeys,
    pub allowed: AllowedAlgorithms,
    pub required: bool,
}

/// A message's signature checked: the query string's for the Redirect binding, else an
/// enveloped one. `Ok(None)`: unsigned and allowed; `Ok(Some)`: the verified message, parsed
/// from what the signature covers; `Err(detail)`: a signature that fails, or none when one
/// is required.
pub(crate) fn verify_signed<T: Clone>(
    check: &SignatureCheck,
    xml: &str,
    redirect: Option<&RedirectMessage>,
    verify_post: VerifyPost<T>,
    parse: fn(&str) -> Result<T, sesame_saml::SamlError>,
) -> Result<Option<T>, String> {
    let (trusted, allowed, required) = (&check.trusted, &check.allowed, check.required);
    match redirect {
        Some(msg) => match &msg.signature {
            None if required => Err("message not signed".into()),
            None => Ok(None),
            // The query-string signature covers the whole message: its parse is the verified one.
            Some(_) => sesame_saml::verify_redirect_signature(msg, trusted, allowed)
                .map_err(|e| format!("redirect signature rejected by rule {}: {e}", e.rule()))
                .and_then(|_| {
                    parse(&msg.xml)
                        .map(Some)
                        .map_err(|e| format!("message unreadable: {e}"))
                }),
        },
        None => {
            match verify_post(xml, trusted, allowed) {
                Ok(v) => Ok(Some(v.get().clone())),
                Err(sesame_saml::SamlError::XmlSec(
                    sesame_xmlsec::XmlSecError::MissingSignature,
                )) if !required => Ok(None),
                Err(e) => Err(format!("signature rejected by rule {}: {e}", e.rule())),
            }
        }
    }
}
