//! Single Logout messages (SAML core 2.0 §3.7, profiles 2.0 §4.4): reading a `LogoutRequest`
//! from an SP (unsigned / Redirect-signed, or POSTed with an enveloped signature), writing the
//! `LogoutRequest`s we send to the other SPs of the session and the `LogoutResponse` we answer
//! with, and reading the `LogoutResponse`s SPs send back.

use roxmltree::Node;
use sesame_xmlsec::{AllowedAlgorithms, ElementPath, Limits, TrustedKeys, Verified, VerifyPolicy};
use time::OffsetDateTime;

use crate::authn_request::{RequestHeader, read_request_header};
use crate::error::{Result, SamlError, unexpected};
use crate::ns;
use crate::sign::{SignWith, sign_at};
use crate::status::{ResponseHeader, Status, StatusResponse, read_status_response};
use crate::xml::{
    Writer, attr_instant, check_id, children, format_instant, is, opt_child, text_exact,
    text_trimmed,
};

/// A `<saml:NameID>` (core §2.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameId {
    /// The identifier, exactly as written (never trimmed: it is compared byte for byte).
    pub value: String,
    /// `Format`.
    pub format: Option<String>,
    /// `NameQualifier` (the IdP's entityID for persistent/transient identifiers).
    pub name_qualifier: Option<String>,
    /// `SPNameQualifier` (the SP's entityID for persistent/transient identifiers).
    pub sp_name_qualifier: Option<String>,
}

impl NameId {
    pub(crate) fn write(&self, w: &mut Writer) {
        w.start("saml:NameID")
            .attr_opt("Format", self.format.as_deref())
            .attr_opt("NameQualifier", self.name_qualifier.as_deref())
            .attr_opt("SPNameQualifier", self.sp_name_qualifier.as_deref())
            .open_end()
            .text(&self.value)
            .end("saml:NameID");
    }

    pub(crate) fn read(node: Node<'_, '_>) -> Result<Self> {
        Ok(Self {
            value: text_exact(node)?,
            format: node.attribute("Format").map(str::to_owned),
            name_qualifier: node.attribute("NameQualifier").map(str::to_owned),
            sp_name_qualifier: node.attribute("SPNameQualifier").map(str::to_owned),
        })
    }
}

/// A parsed `<samlp:LogoutRequest>` (core §3.7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    /// ID, Version, IssueInstant, Destination, Issuer.
    pub header: RequestHeader,
    /// `NotOnOrAfter`: checked by [`crate::rules::logout_request_not_expired`].
    pub not_on_or_after: Option<OffsetDateTime>,
    /// `Reason` (a URI such as `urn:oasis:names:tc:SAML:2.0:logout:user`).
    pub reason: Option<String>,
    /// The principal to log out.
    pub name_id: NameId,
    /// `SessionIndex` values; empty means every session of the principal with that SP.
    pub session_indexes: Vec<String>,
}

/// Parses a LogoutRequest whose signature, if any, is checked elsewhere (Redirect binding).
///
/// # Errors
/// Strict-reading errors, `UnexpectedMessage`, `VersionMismatch`, missing elements; an
/// `EncryptedID` is refused (`InvalidValue`): we never issue encrypted identifiers.
pub fn parse_logout_request(xml: &str) -> Result<LogoutRequest> {
    let doc = sesame_xmlsec::strict::parse(xml, &Limits::default())?;
    read_logout_request(doc.root_element())
}

/// Verifies the enveloped signature of a POSTed LogoutRequest and parses the signed element only.
///
/// # Errors
/// `XmlSec` naming the signature rule, then those of [`parse_logout_request`].
pub fn verify_logout_request_post(
    xml: &str,
    trusted: &TrustedKeys,
    allowed: &AllowedAlgorithms,
) -> Result<Verified<LogoutRequest>> {
    verify_message_at(
        xml,
        &ElementPath::root(ns::PROTOCOL, "LogoutRequest"),
        trusted,
        allowed,
        read_logout_request,
    )
}

/// Verifies the enveloped signature of the message at `path` and reads the signed element
/// only, with `read`.
pub(crate) fn verify_message_at<T>(
    xml: &str,
    path: &ElementPath<'_>,
    trusted: &TrustedKeys,
    allowed: &AllowedAlgorithms,
    read: fn(Node<'_, '_>) -> Result<T>,
) -> Result<Verified<T>> {
    let policy = VerifyPolicy {
        algorithms: allowed.clone(),
        limits: Limits::default(),
    };
    sesame_xmlsec::verify_enveloped(xml, path, trusted, &policy)?.try_map(|element| {
        let doc = element.document()?;
        read(doc.root_element())
    })
}

/// The most distinct SessionIndex values a LogoutRequest may carry.
pub const MAX_SESSION_INDEXES: usize = 16;

pub(crate) fn read_logout_request(root: Node<'_, '_>) -> Result<LogoutRequest> {
    if !is(root, ns::PROTOCOL, "LogoutRequest") {
        return Err(unexpected("LogoutRequest", root));
    }
    let header = read_request_header(root)?;
    if opt_child(root, ns::ASSERTION, "EncryptedID")?.is_some() {
        return Err(SamlError::InvalidValue {
            what: "EncryptedID",
            value: "encrypted identifiers are not supported".into(),
        });
    }
    let name_id = opt_child(root, ns::ASSERTION, "NameID")?
        .ok_or(SamlError::MissingElement("NameID"))
        .and_then(NameId::read)?;
    let mut session_indexes = children(root, ns::PROTOCOL, "SessionIndex")
        .map(text_trimmed)
        .collect::<Result<Vec<_>>>()?;
    // Each one is a lookup: a handful is what SPs send (one per session they hold).
    session_indexes.sort_unstable();
    session_indexes.dedup();
    if session_indexes.len() > MAX_SESSION_INDEXES {
        return Err(SamlError::InvalidValue {
            what: "SessionIndex",
            value: format!(
                "{} distinct values (at most {MAX_SESSION_INDEXES})",
                session_indexes.len()
            ),
        });
    }
    Ok(LogoutRequest {
        header,
        not_on_or_after: attr_instant(root, "NotOnOrAfter")?,
        reason: root.attribute("Reason").map(str::to_owned),
        name_id,
        session_indexes,
    })
}

/// Parses a `<samlp:LogoutResponse>` an SP sent back (core §3.7.2), unsigned or Redirect-signed.
///
/// # Errors
/// Strict-reading errors, `UnexpectedMessage`, missing elements, an unknown top-level status.
pub fn parse_logout_response(xml: &str) -> Result<StatusResponse> {
    let doc = sesame_xmlsec::strict::parse(xml, &Limits::default())?;
    let root = doc.root_element();
    if !is(root, ns::PROTOCOL, "LogoutResponse") {
        return Err(unexpected("LogoutResponse", root));
    }
    read_status_response(root)
}

/// Verifies a POSTed LogoutResponse's enveloped signature and parses the signed element only.
///
/// # Errors
/// `XmlSec` naming the signature rule, then those of [`parse_logout_response`].
pub fn verify_logout_response_post(
    xml: &str,
    trusted: &TrustedKeys,
    allowed: &AllowedAlgorithms,
) -> Result<Verified<StatusResponse>> {
    verify_message_at(
        xml,
        &ElementPath::root(ns::PROTOCOL, "LogoutResponse"),
        trusted,
        allowed,
        read_status_response,
    )
}

/// A LogoutRequest we send to an SP of the session (core §3.7.1).
#[derive(Debug, Clone)]
pub struct LogoutRequestParams<'a> {
    /// `ID` (from the caller's id generator).
    pub id: &'a str,
    /// `IssueInstant` (now).
    pub issue_instant: OffsetDateTime,
    /// Our entityID.
    pub issuer: &'a str,
    /// The SP's SingleLogoutService location.
    pub destination: &'a str,
    /// The NameID we issued to that SP.
    pub name_id: &'a NameId,
    /// The SessionIndex values we issued to that SP for the sessions to end (none: every
    /// session of the NameID, core §3.7.3.2).
    pub session_indexes: &'a [&'a str],
    /// `NotOnOrAfter`.
    pub not_on_or_after: Option<OffsetDateTime>,
    /// `Reason`, e.g. `urn:oasis:names:tc:SAML:2.0:logout:user`.
    pub reason: Option<&'a str>,
}

/// Builds a LogoutRequest, with an enveloped signature when `sign` is given (HTTP-POST); for
/// HTTP-Redirect pass `None` and sign the query with [`crate::bindings::encode_redirect`].
///
/// # Errors
/// `InvalidInput` for a bad ID, `XmlSec` when signing fails.
pub fn build_logout_request(
    params: &LogoutRequestParams<'_>,
    sign: Option<&SignWith<'_>>,
) -> Result<String> {
    check_id("LogoutRequest ID", params.id)?;
    let mut w = Writer::new();
    w.start("samlp:LogoutRequest")
        .attr("xmlns:samlp", ns::PROTOCOL)
        .attr("xmlns:saml", ns::ASSERTION)
        .attr("ID", params.id)
        .attr("Version", "2.0")
        .attr("IssueInstant", &format_instant(params.issue_instant))
        .attr("Destination", params.destination)
        .attr_opt(
            "NotOnOrAfter",
            params.not_on_or_after.map(format_instant).as_deref(),
        )
        .attr_opt("Reason", params.reason)
        .open_end();
    w.text_element("saml:Issuer", params.issuer);
    params.name_id.write(&mut w);
    for index in params.session_indexes {
        w.text_element("samlp:SessionIndex", index);
    }
    w.end("samlp:LogoutRequest");
    let xml = w.finish();
    match sign {
        None => Ok(xml),
        Some(with) => sign_at(
            &xml,
            &ElementPath::root(ns::PROTOCOL, "LogoutRequest"),
            with,
        ),
    }
}

/// The LogoutResponse we answer an SP's LogoutRequest with (core §3.7.2).
#[derive(Debug, Clone)]
pub struct LogoutResponseParams<'a> {
    /// `ID`.
    pub id: &'a str,
    /// `IssueInstant` (now).
    pub issue_instant: OffsetDateTime,
    /// Our entityID.
    pub issuer: &'a str,
    /// The SP's SingleLogoutService ResponseLocation (or Location); `None` over SOAP, whose
    /// answer goes back on the connection that brought the request.
    pub destination: Option<&'a str>,
    /// The LogoutRequest's ID.
    pub in_response_to: &'a str,
    /// `Success`, or `Status::of(StatusCode::PartialLogout, …)` when some SP could not be
    /// logged out (core §3.7.3.2).
    pub status: Status,
}

/// Builds a LogoutResponse, enveloped-signed when `sign` is given (HTTP-POST).
///
/// # Errors
/// `InvalidInput` for a bad ID, `XmlSec` when signing fails.
pub fn build_logout_response(
    params: &LogoutResponseParams<'_>,
    sign: Option<&SignWith<'_>>,
) -> Result<String> {
    let mut w = Writer::new();
    ResponseHeader {
        qname: "samlp:LogoutResponse",
        id: params.id,
        issue_instant: params.issue_instant,
        destination: params.destination,
        in_response_to: Some(params.in_response_to),
        issuer: params.issuer,
    }
    .write_start(&mut w)?;
    params.status.write(&mut w);
    w.end("samlp:LogoutResponse");
    let xml = w.finish();
    match sign {
        None => Ok(xml),
        Some(with) => sign_at(
            &xml,
            &ElementPath::root(ns::PROTOCOL, "LogoutResponse"),
            with,
        ),
    }
}
