//! The SOAP binding (SAML bindings 2.0 §3.2) as Sésame uses it: the back channel of Single
//! Logout. Sésame POSTs a SOAP 1.1 envelope whose body is one signed LogoutRequest and reads
//! the LogoutResponse in the HTTP response's envelope (§3.2.3). No SOAP headers are sent, and
//! those received are ignored (§3.2.2.1 lets the SAML message stand alone) unless one meant
//! for Sésame is marked `mustUnderstand`: then the message is not processed (SOAP 1.1
//! §4.2.3). A SOAP fault is an answer of its own: the request failed (§3.2.3.3).

use roxmltree::Node;
use sesame_xmlsec::{AllowedAlgorithms, ElementPath, Limits, TrustedKeys, Verified};

use crate::error::{Result, SamlError, unexpected};
use crate::logout::LogoutRequest;
use crate::ns;
use crate::status::{StatusResponse, read_status_response};
use crate::xml::is;

/// The SOAP 1.1 envelope namespace (bindings §3.2.1: SAML uses SOAP 1.1).
pub const SOAP_ENVELOPE: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The `SOAPAction` header value bindings §3.2.3.1 asks senders to use.
pub const SOAP_ACTION: &str = "http://www.oasis-open.org/committees/security";
/// The HTTP content type of a SOAP 1.1 message.
pub const SOAP_CONTENT_TYPE: &str = "text/xml; charset=utf-8";
/// The largest SOAP answer read: a LogoutResponse with a signature and a certificate is a few
/// kilobytes.
pub const MAX_SOAP_BYTES: usize = 256 * 1024;

/// The most of a SOAP fault's code and reason kept for the logs.
const MAX_FAULT_CHARS: usize = 300;

/// `message` (a SAML protocol element, no XML declaration) as the body of a SOAP envelope. The
/// message's enveloped signature still verifies: exclusive C14N leaves the envelope's
/// namespace out of the signed element's canonical form.
#[must_use]
pub fn soap_envelope(message: &str) -> String {
    let body = message
        .strip_prefix("<?xml")
        .and_then(|rest| rest.split_once("?>"))
        .map_or(message, |(_, after)| after.trim_start());
    format!(
        "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{SOAP_ENVELOPE}\"><SOAP-ENV:Body>{body}</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
}

/// The `actor` of a header entry meant for its first recipient (SOAP 1.1 §4.2.2).
const SOAP_ACTOR_NEXT: &str = "http://schemas.xmlsoap.org/soap/actor/next";

/// The fault codes of SOAP 1.1 §4.4.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoapFaultCode {
    /// The envelope is not SOAP 1.1's.
    VersionMismatch,
    /// A mandatory header entry was not understood.
    MustUnderstand,
    /// The message is at fault.
    Client,
    /// The receiver failed.
    Server,
}

impl SoapFaultCode {
    /// The fault for a message that could not be read because of `error`.
    #[must_use]
    pub fn of(error: &SamlError) -> Self {
        match error {
            SamlError::SoapVersionMismatch(_) => Self::VersionMismatch,
            SamlError::SoapMustUnderstand(_) => Self::MustUnderstand,
            _ => Self::Client,
        }
    }

    fn local_name(self) -> &'static str {
        match self {
            Self::VersionMismatch => "VersionMismatch",
            Self::MustUnderstand => "MustUnderstand",
            Self::Client => "Client",
            Self::Server => "Server",
        }
    }
}

/// A SOAP fault (SOAP 1.1 §4.4) for a request that cannot be answered with a SAML message;
/// `reason` is escaped.
#[must_use]
pub fn soap_fault(code: SoapFaultCode, reason: &str) -> String {
    let mut escaped = String::with_capacity(reason.len());
    crate::xml::escape_text_into(reason, &mut escaped);
    let code = code.local_name();
    format!(
        "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{SOAP_ENVELOPE}\"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:{code}</faultcode><faultstring>{escaped}</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
}

/// The element the body of `envelope` carries: a SOAP fault becomes `SoapFault` with its
/// `faultstring`.
fn body_message<'a, 'i>(envelope: Node<'a, 'i>) -> Result<Node<'a, 'i>> {
    if !is(envelope, SOAP_ENVELOPE, "Envelope") {
        let tag = envelope.tag_name();
        return Err(match tag.namespace() {
            Some(other) if tag.name() == "Envelope" => {
                SamlError::SoapVersionMismatch(printable(other))
            }
            _ => unexpected("Envelope", envelope),
        });
    }
    refuse_mandatory_headers(envelope, &|_| false)?;
    let mut bodies = envelope
        .children()
        .filter(|n| is(*n, SOAP_ENVELOPE, "Body"));
    let body = bodies.next().ok_or(SamlError::MissingElement("Body"))?;
    if bodies.next().is_some() {
        return Err(SamlError::Binding("a SOAP envelope with two bodies"));
    }
    let mut elements = body.children().filter(Node::is_element);
    let message = elements
        .next()
        .ok_or(SamlError::Binding("an empty SOAP body"))?;
    if elements.next().is_some() {
        return Err(SamlError::Binding("a SOAP body with more than one element"));
    }
    if is(message, SOAP_ENVELOPE, "Fault") {
        let text = |name: &str| {
            message
                .children()
                .find(|n| n.is_element() && n.tag_name().name() == name)
                .and_then(|n| n.text())
                .map(str::trim)
                .unwrap_or_default()
        };
        let reason = format!("{} {}", text("faultcode"), text("faultstring"));
        return Err(SamlError::SoapFault(printable(reason.trim())));
    }
    Ok(message)
}

/// Refuses a header entry the receiver must understand (`mustUnderstand` 1): Sésame
/// processes no header, so it must not process the message (SOAP 1.1 §4.2.3). An entry is
/// meant for the receiver without `actor`, with the "next" actor, or with the URL it was
/// received at, which `is_endpoint` recognises (§4.2.2).
fn refuse_mandatory_headers(
    envelope: Node<'_, '_>,
    is_endpoint: &dyn Fn(&str) -> bool,
) -> Result<()> {
    let entries = envelope
        .children()
        .filter(|n| is(*n, SOAP_ENVELOPE, "Header"))
        .flat_map(|header| header.children().filter(Node::is_element));
    for entry in entries {
        let mandatory = matches!(
            entry.attribute((SOAP_ENVELOPE, "mustUnderstand")),
            Some("1" | "true")
        );
        let for_us = entry
            .attribute((SOAP_ENVELOPE, "actor"))
            .is_none_or(|actor| actor == SOAP_ACTOR_NEXT || is_endpoint(actor));
        if mandatory && for_us {
            let tag = entry.tag_name();
            return Err(SamlError::SoapMustUnderstand(printable(&format!(
                "{{{}}}{}",
                tag.namespace().unwrap_or_default(),
                tag.name()
            ))));
        }
    }
    Ok(())
}

/// Checks the header entries of a SOAP request: one meant for Sésame that it must understand
/// is refused. `is_endpoint` tells whether an `actor` URL names the endpoint that received
/// it (the reading functions know only the "next" actor).
///
/// # Errors
/// Strict-reading errors, and `SoapMustUnderstand`.
pub fn check_soap_request_headers(
    envelope: &str,
    is_endpoint: &dyn Fn(&str) -> bool,
) -> Result<()> {
    let doc = sesame_xmlsec::strict::parse(envelope, &Limits::default())?;
    let root = doc.root_element();
    if !is(root, SOAP_ENVELOPE, "Envelope") {
        // Another shape: the reading functions say which.
        return Ok(());
    }
    refuse_mandatory_headers(root, is_endpoint)
}

/// What the other side wrote, for logs and answers: printable characters only, and not all of
/// a long stack trace.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_FAULT_CHARS)
        .collect()
}

/// Reads the LogoutResponse of a SOAP answer, signed or not; its signature, if any, is not
/// checked: see [`verify_soap_logout_response`].
///
/// # Errors
/// `SoapFault`, strict-reading errors, `Binding` for an envelope of another shape,
/// `UnexpectedMessage`, and the errors of reading a status response.
pub fn parse_soap_logout_response(envelope: &str) -> Result<StatusResponse> {
    let doc = sesame_xmlsec::strict::parse(envelope, &Limits::default())?;
    let message = body_message(doc.root_element())?;
    if !is(message, ns::PROTOCOL, "LogoutResponse") {
        return Err(unexpected("LogoutResponse", message));
    }
    read_status_response(message)
}

/// Verifies the enveloped signature of the LogoutResponse in a SOAP answer and reads the
/// signed element only.
///
/// # Errors
/// `SoapFault`, `XmlSec` naming the signature rule (`MissingSignature` when unsigned), then
/// those of [`parse_soap_logout_response`].
pub fn verify_soap_logout_response(
    envelope: &str,
    trusted: &TrustedKeys,
    allowed: &AllowedAlgorithms,
) -> Result<Verified<StatusResponse>> {
    // A fault is reported as such, not as a missing element.
    {
        let doc = sesame_xmlsec::strict::parse(envelope, &Limits::default())?;
        body_message(doc.root_element())?;
    }
    crate::logout::verify_message_at(
        envelope,
        &in_body(ns::PROTOCOL, "LogoutResponse"),
        trusted,
        allowed,
        read_status_response,
    )
}

/// Reads the LogoutRequest an SP POSTed over SOAP; its signature, if any, is not checked: see
/// [`verify_soap_logout_request`].
///
/// # Errors
/// Strict-reading errors, `Binding` for an envelope of another shape, `UnexpectedMessage`,
/// and the errors of reading a LogoutRequest.
pub fn parse_soap_logout_request(envelope: &str) -> Result<LogoutRequest> {
    let doc = sesame_xmlsec::strict::parse(envelope, &Limits::default())?;
    let message = body_message(doc.root_element())?;
    crate::logout::read_logout_request(message)
}

/// The `ID` of the LogoutRequest a readable envelope carries, even when the request itself
/// cannot be read (another version, a missing element): what a SAML error status answers
/// (bindings §3.2.3.3). `None` for a SOAP-level problem, or an ID we would not write back.
#[must_use]
pub fn soap_logout_request_id(envelope: &str) -> Option<String> {
    let doc = sesame_xmlsec::strict::parse(envelope, &Limits::default()).ok()?;
    let message = body_message(doc.root_element()).ok()?;
    if !is(message, ns::PROTOCOL, "LogoutRequest") {
        return None;
    }
    let id = message.attribute("ID")?;
    (id.len() <= crate::authn_request::MAX_ID_BYTES && crate::xml::check_id("ID", id).is_ok())
        .then(|| id.to_owned())
}

/// Verifies the enveloped signature of the LogoutRequest in a SOAP envelope and reads the
/// signed element only.
///
/// # Errors
/// `XmlSec` naming the signature rule (`MissingSignature` when unsigned), then those of
/// [`parse_soap_logout_request`].
pub fn verify_soap_logout_request(
    envelope: &str,
    trusted: &TrustedKeys,
    allowed: &AllowedAlgorithms,
) -> Result<Verified<LogoutRequest>> {
    // The envelope's shape first (one body, one message): nothing beside the signed element.
    {
        let doc = sesame_xmlsec::strict::parse(envelope, &Limits::default())?;
        body_message(doc.root_element())?;
    }
    crate::logout::verify_message_at(
        envelope,
        &in_body(ns::PROTOCOL, "LogoutRequest"),
        trusted,
        allowed,
        crate::logout::read_logout_request,
    )
}

/// The path of a message in a SOAP envelope's body.
fn in_body<'a>(ns: &'a str, local: &'a str) -> ElementPath<'a> {
    ElementPath::root(SOAP_ENVELOPE, "Envelope")
        .child(SOAP_ENVELOPE, "Body")
        .child(ns, local)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StatusCode;

    const RESPONSE: &str = r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2026-11-22T10:00:00Z" InResponseTo="_q1"><saml:Issuer>https://sp.example/sp</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>"#;

    const REQUEST: &str = r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_q1" Version="2.0" IssueInstant="2026-11-22T10:00:00Z"><saml:Issuer>https://sp.example/sp</saml:Issuer><saml:NameID>alice</saml:NameID><samlp:SessionIndex>_s1</samlp:SessionIndex></samlp:LogoutRequest>"#;

    #[test]
    fn envelope_round_trips_a_message() {
        let env = soap_envelope(&format!("<?xml version=\"1.0\"?>\n{RESPONSE}"));
        assert!(!env.contains("<?xml"), "{env}");
        let r = parse_soap_logout_response(&env).unwrap();
        assert!(r.status.is_success());
        assert_eq!(r.in_response_to.as_deref(), Some("_q1"));
        assert_eq!(r.issuer, "https://sp.example/sp");
    }

    #[test]
    fn envelopes_of_other_prefixes_and_with_headers_read() {
        let env = format!(
            r#"<s:Envelope xmlns:s="{SOAP_ENVELOPE}"><s:Header><x:y xmlns:x="urn:x"/></s:Header><s:Body>{RESPONSE}</s:Body></s:Envelope>"#
        );
        assert!(parse_soap_logout_response(&env).is_ok());
    }

    #[test]
    fn other_soap_versions_and_mandatory_headers_are_not_processed() {
        let soap12 = format!(
            r#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>{RESPONSE}</e:Body></e:Envelope>"#
        );
        let error = parse_soap_logout_response(&soap12).unwrap_err();
        assert_eq!(
            error,
            SamlError::SoapVersionMismatch("http://www.w3.org/2003/05/soap-envelope".into())
        );
        assert_eq!(SoapFaultCode::of(&error), SoapFaultCode::VersionMismatch);
        // Not an envelope at all is the client's fault, not a version.
        let error = parse_soap_logout_response(RESPONSE).unwrap_err();
        assert_eq!(SoapFaultCode::of(&error), SoapFaultCode::Client);

        let with_header = |attributes: &str| {
            format!(
                r#"<s:Envelope xmlns:s="{SOAP_ENVELOPE}"><s:Header><x:a xmlns:x="urn:x"/><x:y xmlns:x="urn:x" {attributes}/></s:Header><s:Body>{RESPONSE}</s:Body></s:Envelope>"#
            )
        };
        for mandatory in [
            r#"s:mustUnderstand="1""#,
            r#"s:mustUnderstand="true""#,
            r#"s:mustUnderstand="1" s:actor="http://schemas.xmlsoap.org/soap/actor/next""#,
        ] {
            let error = parse_soap_logout_response(&with_header(mandatory)).unwrap_err();
            assert_eq!(
                error,
                SamlError::SoapMustUnderstand("{urn:x}y".into()),
                "{mandatory}"
            );
            assert_eq!(SoapFaultCode::of(&error), SoapFaultCode::MustUnderstand);
            let request = with_header(mandatory).replace(RESPONSE, REQUEST);
            assert!(
                matches!(
                    parse_soap_logout_request(&request),
                    Err(SamlError::SoapMustUnderstand(_))
                ),
                "{mandatory}"
            );
            assert_eq!(soap_logout_request_id(&request), None, "{mandatory}");
        }
        for optional in [
            r#"s:mustUnderstand="0""#,
            r#"mustUnderstand="1""#,
            r#"s:mustUnderstand="1" s:actor="urn:someone-else""#,
        ] {
            assert!(
                parse_soap_logout_response(&with_header(optional)).is_ok(),
                "{optional}"
            );
        }

        // An entry addressed to the endpoint's own URL is meant for it too (§4.2.2).
        let endpoint = "https://idp.example/t/saml2/soap";
        let is_endpoint = |actor: &str| actor == endpoint;
        let request = with_header(&format!(r#"s:mustUnderstand="1" s:actor="{endpoint}""#))
            .replace(RESPONSE, REQUEST);
        assert_eq!(
            check_soap_request_headers(&request, &is_endpoint),
            Err(SamlError::SoapMustUnderstand("{urn:x}y".into()))
        );
        assert_eq!(check_soap_request_headers(&request, &|_| false), Ok(()));
        for fine in [
            with_header(r#"s:mustUnderstand="0""#).replace(RESPONSE, REQUEST),
            with_header(r#"s:actor="urn:someone-else" s:mustUnderstand="1""#)
                .replace(RESPONSE, REQUEST),
            REQUEST.to_owned(),
        ] {
            assert_eq!(
                check_soap_request_headers(&fine, &is_endpoint),
                Ok(()),
                "{fine}"
            );
        }
    }

    #[test]
    fn faults_and_malformed_envelopes_are_refused() {
        let fault = format!(
            r#"<S:Envelope xmlns:S="{SOAP_ENVELOPE}"><S:Body><S:Fault><faultcode>S:Server</faultcode><faultstring>no session</faultstring></S:Fault></S:Body></S:Envelope>"#
        );
        match parse_soap_logout_response(&fault) {
            Err(SamlError::SoapFault(reason)) => assert_eq!(reason, "S:Server no session"),
            other => panic!("{other:?}"),
        }
        // A long reason in multi-byte characters, with control characters: cut on a character,
        // printable.
        let long = fault.replace("no session", &format!("a\n\t{}", "é".repeat(400)));
        match parse_soap_logout_response(&long) {
            Err(SamlError::SoapFault(reason)) => {
                assert_eq!(reason.chars().count(), MAX_FAULT_CHARS);
                assert!(reason.starts_with("S:Server a  é"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            verify_soap_logout_response(&fault, &TrustedKeys::new(), &AllowedAlgorithms::default()),
            Err(SamlError::SoapFault(_))
        ));
        let cases = [
            // Not an envelope, or a SOAP 1.2 one.
            RESPONSE.to_string(),
            format!(
                r#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>{RESPONSE}</e:Body></e:Envelope>"#
            ),
            // No body, an empty one, two bodies, two messages.
            format!(r#"<e:Envelope xmlns:e="{SOAP_ENVELOPE}"/>"#),
            format!(r#"<e:Envelope xmlns:e="{SOAP_ENVELOPE}"><e:Body/></e:Envelope>"#),
            format!(
                r#"<e:Envelope xmlns:e="{SOAP_ENVELOPE}"><e:Body>{RESPONSE}</e:Body><e:Body/></e:Envelope>"#
            ),
            format!(
                r#"<e:Envelope xmlns:e="{SOAP_ENVELOPE}"><e:Body>{RESPONSE}{RESPONSE}</e:Body></e:Envelope>"#
            ),
            // Another message.
            format!(
                r#"<e:Envelope xmlns:e="{SOAP_ENVELOPE}"><e:Body><samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/></e:Body></e:Envelope>"#
            ),
            // A DTD.
            format!(
                r#"<!DOCTYPE e [<!ENTITY x "y">]><e:Envelope xmlns:e="{SOAP_ENVELOPE}"><e:Body>{RESPONSE}</e:Body></e:Envelope>"#
            ),
        ];
        for case in &cases {
            assert!(parse_soap_logout_response(case).is_err(), "{case}");
        }
    }

    #[test]
    fn a_signed_answer_verifies_inside_its_envelope_and_tampering_fails() {
        let key = test_key();
        let trusted = test_trusted();
        let signed = crate::build_logout_response(
            &crate::LogoutResponseParams {
                id: "_r1",
                issue_instant: time::OffsetDateTime::UNIX_EPOCH,
                issuer: "https://sp.example/sp",
                destination: None,
                in_response_to: "_q1",
                status: crate::Status::success(),
            },
            Some(&crate::SignWith {
                key: &key,
                algorithm: sesame_xmlsec::SignatureAlgorithm::RsaSha256,
                digest: sesame_xmlsec::DigestAlgorithm::Sha256,
            }),
        )
        .unwrap();
        let env = soap_envelope(&signed);
        let allowed = AllowedAlgorithms::default();
        // The signed answer moved to a header, a forged unsigned one in the body: the body's
        // is the one read, and it is unsigned.
        let wrapped = format!(
            r#"<S:Envelope xmlns:S="{SOAP_ENVELOPE}"><S:Header>{signed}</S:Header><S:Body>{}</S:Body></S:Envelope>"#,
            RESPONSE.replace("_q1", "_forged").replace("_r1", "_r2")
        );
        assert!(matches!(
            verify_soap_logout_response(&wrapped, &trusted, &allowed),
            Err(SamlError::XmlSec(
                sesame_xmlsec::XmlSecError::MissingSignature
            ))
        ));
        let verified = verify_soap_logout_response(&env, &trusted, &allowed).unwrap();
        assert_eq!(verified.get().in_response_to.as_deref(), Some("_q1"));
        // Another answer put in the signed one's place fails its digest.
        let forged = env.replace("_q1", "_q2");
        assert!(verify_soap_logout_response(&forged, &trusted, &allowed).is_err());
        // Signed by someone else.
        assert!(verify_soap_logout_response(&env, &TrustedKeys::new(), &allowed).is_err());
    }

    #[test]
    fn faults_we_write_read_back_escaped() {
        match parse_soap_logout_response(&soap_fault(
            SoapFaultCode::Client,
            "SESAME-3004: <bad> & \"worse\"",
        )) {
            Err(SamlError::SoapFault(reason)) => {
                assert_eq!(reason, "SOAP-ENV:Client SESAME-3004: <bad> & \"worse\"");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn logout_requests_read_from_an_envelope_signed_or_not() {
        let request = REQUEST;
        // Namespaces declared on the envelope only still read.
        let on_envelope = format!(
            r#"<S:Envelope xmlns:S="{SOAP_ENVELOPE}" xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><S:Body>{}</S:Body></S:Envelope>"#,
            request.replace(
                r#" xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion""#,
                ""
            )
        );
        for env in [soap_envelope(request), on_envelope] {
            let r = parse_soap_logout_request(&env).unwrap();
            assert_eq!(r.name_id.value, "alice");
            assert_eq!(r.session_indexes, vec!["_s1".to_string()]);
            assert!(matches!(
                verify_soap_logout_request(
                    &env,
                    &TrustedKeys::new(),
                    &AllowedAlgorithms::default()
                ),
                Err(SamlError::XmlSec(
                    sesame_xmlsec::XmlSecError::MissingSignature
                ))
            ));
        }
        let signed = crate::sign::sign_at(
            request,
            &ElementPath::root(ns::PROTOCOL, "LogoutRequest"),
            &crate::SignWith::rsa_sha256(&test_key()),
        )
        .unwrap();
        let env = soap_envelope(&signed);
        let verified =
            verify_soap_logout_request(&env, &test_trusted(), &AllowedAlgorithms::default())
                .unwrap();
        assert_eq!(verified.get().header.id, "_q1");
        let forged = env.replace(">alice<", ">bob<");
        assert!(
            verify_soap_logout_request(&forged, &test_trusted(), &AllowedAlgorithms::default())
                .is_err()
        );
        // A response where a request belongs: refused.
        assert!(parse_soap_logout_request(&soap_envelope(RESPONSE)).is_err());
        // The signed request beside a forged one in the body: refused before any signature.
        let two = format!(
            r#"<S:Envelope xmlns:S="{SOAP_ENVELOPE}"><S:Body>{signed}{}</S:Body></S:Envelope>"#,
            request.replace("_q1", "_q2")
        );
        assert!(matches!(
            verify_soap_logout_request(&two, &test_trusted(), &AllowedAlgorithms::default()),
            Err(SamlError::Binding(_))
        ));
        // The ID to answer, even when the request cannot be read; none without a request.
        let v1 = soap_envelope(&request.replace("Version=\"2.0\"", "Version=\"1.1\""));
        assert!(parse_soap_logout_request(&v1).is_err());
        assert_eq!(soap_logout_request_id(&v1).as_deref(), Some("_q1"));
        assert_eq!(soap_logout_request_id(&soap_envelope(RESPONSE)), None);
        assert_eq!(soap_logout_request_id(&two), None);
        let bad_id = soap_envelope(&request.replace("ID=\"_q1\"", "ID=\"1x\""));
        assert_eq!(soap_logout_request_id(&bad_id), None);
    }

    fn test_key() -> sesame_xmlsec::SigningKey {
        sesame_xmlsec::SigningKey::from_pem(
            include_str!("../../../sesame-xmlsec/testdata/keys/rsa.key.pem"),
            include_str!("../../../sesame-xmlsec/testdata/keys/rsa.cert.pem"),
        )
        .unwrap()
    }

    fn test_trusted() -> TrustedKeys {
        let mut trusted = TrustedKeys::new();
        trusted
            .add_certificate_pem(include_str!(
                "../../../sesame-xmlsec/testdata/keys/rsa.cert.pem"
            ))
            .unwrap();
        trusted
    }

    #[test]
    fn an_unsigned_answer_is_a_missing_signature_to_the_verifier() {
        let env = soap_envelope(RESPONSE);
        match verify_soap_logout_response(&env, &TrustedKeys::new(), &AllowedAlgorithms::default())
        {
            Err(SamlError::XmlSec(sesame_xmlsec::XmlSecError::MissingSignature)) => {}
            other => panic!("{other:?}"),
        }
        let r = parse_soap_logout_response(&env).unwrap();
        assert_ne!(r.status.sub_code, Some(StatusCode::PartialLogout));
    }
}
