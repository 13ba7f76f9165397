//! The IdP's validation rules for what SPs send, one small function per concern, each citing
//! the section of the specification it implements. The core runs them on a parsed (and, when
//! signed, verified) message with `now` and its expectations; the SSO test tool prints the same
//! rule names ([`crate::SamlError::rule`]).

use time::{Duration, OffsetDateTime};

use crate::authn_request::{AuthnRequest, RequestHeader};
use crate::error::{Result, SamlError};
use crate::logout::LogoutRequest;
use crate::metadata::IndexedEndpoint;
use crate::ns;

/// Default clock skew tolerated on instants (3 minutes, as Shibboleth).
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::minutes(3);

/// SAML core 2.0 §4.1.2: a message whose major version is not 2 is answered with
/// `VersionMismatch`; we also refuse minor versions other than 0 (only 2.0 exists).
///
/// # Errors
/// `VersionMismatch`.
pub fn request_version_is_2_0(version: &str) -> Result<()> {
    if version == "2.0" {
        Ok(())
    } else {
        Err(SamlError::VersionMismatch(version.to_owned()))
    }
}

/// SAML core 2.0 §1.3.3 / §3.2.1 (IssueInstant): the request was issued within `skew` of `now`,
/// on either side. A request travels straight from the SP through the browser, so an old one is
/// a replay or a stale bookmark.
///
/// # Errors
/// `IssueInstantOutOfRange`.
pub fn request_issue_instant_within_skew(
    header: &RequestHeader,
    now: OffsetDateTime,
    skew: Duration,
) -> Result<()> {
    let delta = header.issue_instant - now;
    if delta.abs() <= skew {
        Ok(())
    } else {
        Err(SamlError::IssueInstantOutOfRange)
    }
}

/// SAML core 2.0 §3.2.1 (Destination): when present, it is the URL at which we received the
/// message, compared exactly. Bindings 2.0 §3.4.5.2 and §3.5.5.2: a signed message MUST carry
/// it, so `signed` makes it mandatory.
///
/// # Errors
/// `DestinationMismatch`, or `MissingAttribute("Destination")` for a signed request without one.
pub fn request_destination_matches(
    header: &RequestHeader,
    our_endpoint_url: &str,
    signed: bool,
) -> Result<()> {
    destination_matches(header.destination.as_deref(), our_endpoint_url, signed)
}

/// [`request_destination_matches`] for any message's `Destination` (a LogoutResponse's too).
///
/// # Errors
/// As [`request_destination_matches`].
pub fn destination_matches(
    destination: Option<&str>,
    our_endpoint_url: &str,
    signed: bool,
) -> Result<()> {
    match destination {
        Some(d) if d == our_endpoint_url => Ok(()),
        Some(d) => Err(SamlError::DestinationMismatch {
            expected: our_endpoint_url.to_owned(),
            found: d.to_owned(),
        }),
        None if signed => Err(SamlError::MissingAttribute("Destination")),
        None => Ok(()),
    }
}

/// Picks the AssertionConsumerService to answer, among the SP's registered endpoints
/// (SAML core 2.0 §3.4.1, profiles 2.0 §4.1.4.1, metadata 2.0 §2.2.3):
///
/// - `AssertionConsumerServiceIndex` excludes `AssertionConsumerServiceURL` and
///   `ProtocolBinding` (core §3.4.1);
/// - a requested URL must equal a registered location exactly (never a prefix);
/// - a requested index must be registered;
/// - otherwise the SP's default endpoint: the first with `isDefault="true"`, else the first
///   without `isDefault`, else the first (metadata §2.2.3);
/// - the Response goes by HTTP-POST only (profiles §4.1.2: HTTP-Redirect cannot carry it), so
///   endpoints of other bindings are not candidates.
///
/// # Errors
/// `AcsIndexAndUrl`, `AcsNotRegistered`, `AcsIndexNotRegistered`, `UnsupportedBinding`,
/// `NoUsableAcs`.
pub fn acs_url_is_registered<'e>(
    request: &AuthnRequest,
    registered: &'e [IndexedEndpoint],
) -> Result<&'e IndexedEndpoint> {
    let url = request.assertion_consumer_service_url.as_deref();
    let binding = request.protocol_binding.as_deref();
    if let Some(b) = binding
        && b != ns::BINDING_HTTP_POST
    {
        return Err(SamlError::UnsupportedBinding(b.to_owned()));
    }
    let post = |e: &&IndexedEndpoint| e.binding == ns::BINDING_HTTP_POST;
    match (request.assertion_consumer_service_index, url) {
        (Some(_), Some(_)) => Err(SamlError::AcsIndexAndUrl),
        (Some(_), None) if binding.is_some() => Err(SamlError::AcsIndexAndUrl),
        (Some(index), None) => {
            let endpoint = registered
                .iter()
                .find(|e| e.index == index)
                .ok_or(SamlError::AcsIndexNotRegistered(index))?;
            if post(&endpoint) {
                Ok(endpoint)
            } else {
                Err(SamlError::UnsupportedBinding(endpoint.binding.clone()))
            }
        }
        (None, Some(url)) => {
            let mut same_url = registered.iter().filter(|e| e.location == url).peekable();
            if same_url.peek().is_none() {
                return Err(SamlError::AcsNotRegistered(url.to_owned()));
            }
            same_url.find(post).ok_or(SamlError::NoUsableAcs)
        }
        (None, None) => {
            default_endpoint(registered.iter().filter(post)).ok_or(SamlError::NoUsableAcs)
        }
    }
}

/// Metadata 2.0 §2.2.3: the default among indexed endpoints.
pub(crate) fn default_endpoint<'e>(
    endpoints: impl Iterator<Item = &'e IndexedEndpoint> + Clone,
) -> Option<&'e IndexedEndpoint> {
    endpoints
        .clone()
        .find(|e| e.is_default == Some(true))
        .or_else(|| endpoints.clone().find(|e| e.is_default.is_none()))
        .or_else(|| endpoints.clone().next())
}

/// SAML core 2.0 §3.4.1 (IsPassive): a passive request without a usable session is answered
/// with `NoPassive`, never with a login page.
///
/// # Errors
/// `NoPassive`.
pub fn passive_request_has_session(request: &AuthnRequest, has_session: bool) -> Result<()> {
    if request.is_passive && !has_session {
        Err(SamlError::NoPassive)
    } else {
        Ok(())
    }
}

/// SAML core 2.0 §3.4.1 (ForceAuthn): whether the user must authenticate now. True without a
/// session, and with `ForceAuthn` unless the session's last authentication happened after the
/// request was received (the user just re-entered credentials for it).
#[must_use]
pub fn needs_fresh_authentication(
    request: &AuthnRequest,
    authenticated_at: Option<OffsetDateTime>,
    request_received_at: OffsetDateTime,
) -> bool {
    match authenticated_at {
        None => true,
        Some(at) => request.force_authn && at < request_received_at,
    }
}

/// SAML core 2.0 §3.4.1.1 (NameIDPolicy Format): a requested format must be one we can issue
/// for this SP (`unspecified` leaves the choice to us). Returns the format to use, `None` for
/// "the application's configured format".
///
/// # Errors
/// `InvalidNameIdPolicy`.
pub fn name_id_format_is_supported<'r>(
    request: &'r AuthnRequest,
    supported: &[&str],
) -> Result<Option<&'r str>> {
    match request
        .name_id_policy
        .as_ref()
        .and_then(|p| p.format.as_deref())
    {
        None | Some(ns::nameid::UNSPECIFIED) => Ok(None),
        Some(f) if supported.contains(&f) => Ok(Some(f)),
        Some(f) => Err(SamlError::InvalidNameIdPolicy(f.to_owned())),
    }
}

/// SAML core 2.0 §3.7.1 (NotOnOrAfter of a LogoutRequest): after that instant (plus skew) the
/// request is not processed.
///
/// # Errors
/// `Expired`.
pub fn logout_request_not_expired(
    request: &LogoutRequest,
    now: OffsetDateTime,
    skew: Duration,
) -> Result<()> {
    match request.not_on_or_after {
        Some(limit) if now >= limit + skew => Err(SamlError::Expired),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
