//! `<samlp:AuthnRequest>` from a service provider (SAML core 2.0 §3.4.1), read strictly, and the
//! common header every request carries (RequestAbstractType, core §3.2.1).
//!
//! Two entry points: [`parse_authn_request`] for an unsigned request (or one whose signature
//! travelled in the Redirect binding's query, checked by
//! [`crate::bindings::verify_redirect_signature`]), and [`verify_authn_request_post`] for an
//! enveloped signature, which parses *only* the element the signature covers.

use roxmltree::Node;
use sesame_xmlsec::{AllowedAlgorithms, ElementPath, Limits, TrustedKeys, Verified, VerifyPolicy};
use time::OffsetDateTime;

use crate::error::{Result, SamlError, unexpected};
use crate::ns;
use crate::rules;
use crate::xml::{
    attr_bool, attr_instant, attr_u16, children, is, opt_child, req_attr, text_trimmed,
};

/// The fields of RequestAbstractType (SAML core 2.0 §3.2.1) that every request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHeader {
    /// `ID`.
    pub id: String,
    /// `Version` (checked to be `2.0` by [`rules::request_version_is_2_0`]).
    pub version: String,
    /// `IssueInstant`.
    pub issue_instant: OffsetDateTime,
    /// `Destination`, when present.
    pub destination: Option<String>,
    /// `<saml:Issuer>`: required by the profiles we implement (profiles 2.0 §4.1.4.1 and
    /// §4.4.4.1).
    pub issuer: String,
}

/// The longest request ID accepted.
pub const MAX_ID_BYTES: usize = 256;

/// Reads the header of a request element and checks its version.
pub(crate) fn read_request_header(root: Node<'_, '_>) -> Result<RequestHeader> {
    let version = req_attr(root, "Version")?.to_owned();
    rules::request_version_is_2_0(&version)?;
    let id = req_attr(root, "ID")?.to_owned();
    // Echoed in InResponseTo, kept in the replay cache and sealed into cookies: bounded (IDs are
    // 128–160 random bits, core §1.3.4; 256 bytes leaves room for any encoding of them).
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Err(SamlError::InvalidValue {
            what: "ID",
            value: format!("{} bytes (1 to {MAX_ID_BYTES} expected)", id.len()),
        });
    }
    let issue_instant =
        attr_instant(root, "IssueInstant")?.ok_or(SamlError::MissingAttribute("IssueInstant"))?;
    let issuer_node =
        opt_child(root, ns::ASSERTION, "Issuer")?.ok_or(SamlError::MissingElement("Issuer"))?;
    // Profiles 2.0 §4.1.4.1: the Issuer's Format, if any, is the entity format.
    if let Some(format) = issuer_node.attribute("Format")
        && format != ns::nameid::ENTITY
    {
        return Err(SamlError::InvalidValue {
            what: "Issuer Format",
            value: format.to_owned(),
        });
    }
    let issuer = text_trimmed(issuer_node)?;
    if issuer.is_empty() {
        return Err(SamlError::MissingElement("Issuer"));
    }
    Ok(RequestHeader {
        id,
        version,
        issue_instant,
        destination: root.attribute("Destination").map(str::to_owned),
        issuer,
    })
}

/// `<samlp:NameIDPolicy>` (core §3.4.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameIdPolicy {
    /// Requested NameID format.
    pub format: Option<String>,
    /// Requested SPNameQualifier.
    pub sp_name_qualifier: Option<String>,
    /// Whether the IdP may create a new identifier (absent means false, core §3.4.1.1).
    pub allow_create: bool,
}

/// The `Comparison` of a RequestedAuthnContext (core §3.3.2.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthnContextComparison {
    /// The default.
    #[default]
    Exact,
    /// At least as strong as one of the classes.
    Minimum,
    /// At most as strong as one of the classes.
    Maximum,
    /// Stronger than any of the classes.
    Better,
}

/// `<samlp:RequestedAuthnContext>` (core §3.3.2.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestedAuthnContext {
    /// `Comparison`.
    pub comparison: AuthnContextComparison,
    /// `AuthnContextClassRef` values, in order.
    pub class_refs: Vec<String>,
    /// `AuthnContextDeclRef` values, in order (we never satisfy these; kept for the answer).
    pub decl_refs: Vec<String>,
}

/// A parsed `<samlp:AuthnRequest>` (core §3.4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    /// ID, Version, IssueInstant, Destination, Issuer.
    pub header: RequestHeader,
    /// `AssertionConsumerServiceURL`: must match a registered URL exactly
    /// ([`rules::acs_url_is_registered`]).
    pub assertion_consumer_service_url: Option<String>,
    /// `AssertionConsumerServiceIndex`.
    pub assertion_consumer_service_index: Option<u16>,
    /// `ProtocolBinding` for the Response.
    pub protocol_binding: Option<String>,
    /// `ForceAuthn` (absent = false).
    pub force_authn: bool,
    /// `IsPassive` (absent = false).
    pub is_passive: bool,
    /// `<samlp:NameIDPolicy>`.
    pub name_id_policy: Option<NameIdPolicy>,
    /// `<samlp:RequestedAuthnContext>`.
    pub requested_authn_context: Option<RequestedAuthnContext>,
    /// `ProviderName`, for display only.
    pub provider_name: Option<String>,
    /// The `<saml:NameID>` of `<saml:Subject>`: the principal the SP asks about (core
    /// §3.4.1); the assertion must be about that one.
    pub subject: Option<crate::NameId>,
}

impl AuthnRequest {
    /// The request ID (the Response's `InResponseTo`).
    #[must_use]
    pub fn id(&self) -> &str {
        &self.header.id
    }

    /// The SP's entityID.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.header.issuer
    }
}

/// Parses an AuthnRequest whose signature, if any, is checked elsewhere (Redirect binding) or
/// not required.
///
/// # Errors
/// Strict-reading errors (`XmlSec`), `UnexpectedMessage`, `VersionMismatch`, missing or invalid
/// attributes and elements.
pub fn parse_authn_request(xml: &str) -> Result<AuthnRequest> {
    let doc = sesame_xmlsec::strict::parse(xml, &Limits::default())?;
    read_authn_request(doc.root_element())
}

/// Verifies the enveloped signature of a POSTed AuthnRequest (core §5.4) with the SP's trusted
/// keys and parses the signed element only.
///
/// # Errors
/// `XmlSec` naming the signature rule that failed (`missing-signature`, `digest-mismatch`…), then
/// the errors of [`parse_authn_request`].
pub fn verify_authn_request_post(
    xml: &str,
    trusted: &TrustedKeys,
    allowed: &AllowedAlgorithms,
) -> Result<Verified<AuthnRequest>> {
    let policy = VerifyPolicy {
        algorithms: allowed.clone(),
        limits: Limits::default(),
    };
    let verified = sesame_xmlsec::verify_enveloped(
        xml,
        &ElementPath::root(ns::PROTOCOL, "AuthnRequest"),
        trusted,
        &policy,
    )?;
    verified.try_map(|element| {
        let doc = element.document()?;
        read_authn_request(doc.root_element())
    })
}

fn read_authn_request(root: Node<'_, '_>) -> Result<AuthnRequest> {
    if !is(root, ns::PROTOCOL, "AuthnRequest") {
        return Err(unexpected("AuthnRequest", root));
    }
    let header = read_request_header(root)?;
    let name_id_policy = opt_child(root, ns::PROTOCOL, "NameIDPolicy")?
        .map(|n| -> Result<NameIdPolicy> {
            Ok(NameIdPolicy {
                format: n.attribute("Format").map(str::to_owned),
                sp_name_qualifier: n.attribute("SPNameQualifier").map(str::to_owned),
                allow_create: attr_bool(n, "AllowCreate")?.unwrap_or(false),
            })
        })
        .transpose()?;
    let requested_authn_context = opt_child(root, ns::PROTOCOL, "RequestedAuthnContext")?
        .map(read_requested_authn_context)
        .transpose()?;
    let subject = opt_child(root, ns::ASSERTION, "Subject")?
        .map(|s| -> Result<Option<crate::NameId>> {
            // A BaseID or EncryptedID names someone Sésame could not compare with.
            for other in ["BaseID", "EncryptedID"] {
                if opt_child(s, ns::ASSERTION, other)?.is_some() {
                    return Err(SamlError::InvalidValue {
                        what: "Subject",
                        value: format!("{other} is not supported"),
                    });
                }
            }
            // Core §3.4.1: a Subject without an identifier (confirmations only) names no one.
            opt_child(s, ns::ASSERTION, "NameID")?
                .map(crate::NameId::read)
                .transpose()
        })
        .transpose()?
        .flatten();
    Ok(AuthnRequest {
        header,
        assertion_consumer_service_url: root
            .attribute("AssertionConsumerServiceURL")
            .map(str::to_owned),
        assertion_consumer_service_index: attr_u16(root, "AssertionConsumerServiceIndex")?,
        protocol_binding: root.attribute("ProtocolBinding").map(str::to_owned),
        force_authn: attr_bool(root, "ForceAuthn")?.unwrap_or(false),
        is_passive: attr_bool(root, "IsPassive")?.unwrap_or(false),
        name_id_policy,
        requested_authn_context,
        provider_name: root.attribute("ProviderName").map(str::to_owned),
        subject,
    })
}

fn read_requested_authn_context(node: Node<'_, '_>) -> Result<RequestedAuthnContext> {
    let comparison = match node.attribute("Comparison") {
        None | Some("exact") => AuthnContextComparison::Exact,
        Some("minimum") => AuthnContextComparison::Minimum,
        Some("maximum") => AuthnContextComparison::Maximum,
        Some("better") => AuthnContextComparison::Better,
        Some(other) => {
            return Err(SamlError::InvalidValue {
                what: "Comparison",
                value: other.to_owned(),
            });
        }
    };
    let class_refs = children(node, ns::ASSERTION, "AuthnContextClassRef")
        .map(text_trimmed)
        .collect::<Result<Vec<_>>>()?;
    let decl_refs = children(node, ns::ASSERTION, "AuthnContextDeclRef")
        .map(text_trimmed)
        .collect::<Result<Vec<_>>>()?;
    if class_refs.is_empty() && decl_refs.is_empty() {
        return Err(SamlError::MissingElement("AuthnContextClassRef"));
    }
    Ok(RequestedAuthnContext {
        comparison,
        class_refs,
        decl_refs,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn request(attrs: &str, body: &str) -> String {
        format!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2026-11-02T10:00:00Z" {attrs}><saml:Issuer>https://sp.example/shibboleth</saml:Issuer>{body}</samlp:AuthnRequest>"#
        )
    }

    #[test]
    fn reads_every_field() {
        let xml = request(
            r#"Destination="https://idp/saml2" AssertionConsumerServiceURL="https://sp/acs" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" ForceAuthn="true" IsPassive="0" ProviderName="SP""#,
            r#"<samlp:NameIDPolicy AllowCreate="1" Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" SPNameQualifier="q"/><samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef> urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport </saml:AuthnContextClassRef></samlp:RequestedAuthnContext>"#,
        );
        let r = parse_authn_request(&xml).unwrap();
        assert_eq!(r.id(), "_r1");
        assert_eq!(r.issuer(), "https://sp.example/shibboleth");
        assert_eq!(r.header.issue_instant, datetime!(2026-11-02 10:00 UTC));
        assert_eq!(r.header.destination.as_deref(), Some("https://idp/saml2"));
        assert_eq!(
            r.assertion_consumer_service_url.as_deref(),
            Some("https://sp/acs")
        );
        assert_eq!(r.protocol_binding.as_deref(), Some(ns::BINDING_HTTP_POST));
        assert!(r.force_authn);
        assert!(!r.is_passive);
        let p = r.name_id_policy.unwrap();
        assert!(p.allow_create);
        assert_eq!(p.format.as_deref(), Some(ns::nameid::PERSISTENT));
        assert_eq!(p.sp_name_qualifier.as_deref(), Some("q"));
        let c = r.requested_authn_context.unwrap();
        assert_eq!(c.comparison, AuthnContextComparison::Minimum);
        assert_eq!(c.class_refs, [ns::AC_PASSWORD_PROTECTED_TRANSPORT]);
        assert_eq!(r.provider_name.as_deref(), Some("SP"));
    }

    #[test]
    fn minimal_request_defaults() {
        let r = parse_authn_request(&request(r#"AssertionConsumerServiceIndex="3""#, "")).unwrap();
        assert_eq!(r.assertion_consumer_service_index, Some(3));
        assert!(!r.force_authn && !r.is_passive);
        assert!(r.name_id_policy.is_none() && r.requested_authn_context.is_none());
    }

    #[test]
    fn refusals_name_their_rule() {
        let ok = request("", "");
        let cases: Vec<(String, &str)> = vec![
            (
                ok.replace("Version=\"2.0\"", "Version=\"1.1\""),
                "version-mismatch",
            ),
            (ok.replace("Version=\"2.0\"", ""), "missing-attribute"),
            (ok.replace("ID=\"_r1\"", ""), "missing-attribute"),
            (
                ok.replace(
                    "IssueInstant=\"2026-11-02T10:00:00Z\"",
                    "IssueInstant=\"soon\"",
                ),
                "invalid-value",
            ),
            (
                ok.replace(
                    "<saml:Issuer>https://sp.example/shibboleth</saml:Issuer>",
                    "",
                ),
                "missing-element",
            ),
            (
                ok.replace(
                    "<saml:Issuer>",
                    "<saml:Issuer Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\">",
                ),
                "invalid-value",
            ),
            (
                ok.replace(
                    "https://sp.example/shibboleth</saml:Issuer>",
                    "https://sp.<!---->example</saml:Issuer>",
                ),
                "text-split-by-comment",
            ),
            (request("ForceAuthn=\"yes\"", ""), "invalid-value"),
            (
                request("AssertionConsumerServiceIndex=\"-1\"", ""),
                "invalid-value",
            ),
            (
                request("", "<samlp:NameIDPolicy/><samlp:NameIDPolicy/>"),
                "invalid-value",
            ),
            (
                request(
                    "",
                    "<samlp:RequestedAuthnContext Comparison=\"most\"><saml:AuthnContextClassRef>x</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>",
                ),
                "invalid-value",
            ),
            (
                request("", "<samlp:RequestedAuthnContext/>"),
                "missing-element",
            ),
            (
                ok.replace("samlp:AuthnRequest", "samlp:LogoutRequest"),
                "unexpected-message",
            ),
            (
                format!("<!DOCTYPE x [<!ENTITY e \"e\">]>{ok}"),
                "doctype-refused",
            ),
            ("<a".to_owned(), "malformed"),
        ];
        for (xml, rule) in cases {
            assert_eq!(
                parse_authn_request(&xml).map_err(|e| e.rule()).err(),
                Some(rule),
                "{xml}"
            );
        }
    }
}
