//! The one error type of the crate, [`SamlError`], and the SAML status codes it maps to.
//!
//! Every variant names a rule ([`SamlError::rule`], stable kebab-case for logs and the SSO test
//! tool) and the StatusCode an IdP answers with when it answers at all
//! ([`SamlError::status_code`]). Errors from `sesame-xmlsec` keep their own rule name.

use sesame_xmlsec::XmlSecError;

use crate::ns;

/// A SAML status code (SAML core 2.0 §3.2.2.2): the four top-level codes and the second-level
/// codes an IdP uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusCode {
    /// The request succeeded.
    Success,
    /// The request could not be performed due to an error on the part of the requester.
    Requester,
    /// The request could not be performed due to an error on the part of the responder.
    Responder,
    /// The SAML responder could not process the request because the version was incorrect.
    VersionMismatch,
    /// The responder was unable to successfully authenticate the principal.
    AuthnFailed,
    /// The responder cannot authenticate the principal passively (IsPassive).
    NoPassive,
    /// The responder chooses not to respond (e.g. the user is not assigned to the application).
    RequestDenied,
    /// The responder does not support the requested protocol binding.
    UnsupportedBinding,
    /// The responder cannot support the requested NameIDPolicy.
    InvalidNameIdPolicy,
    /// The requested authentication context cannot be satisfied.
    NoAuthnContext,
    /// Logout did not reach every session participant.
    PartialLogout,
    /// The responder does not recognize the principal.
    UnknownPrincipal,
    /// The request is not supported.
    RequestUnsupported,
}

impl StatusCode {
    /// The status code URI.
    #[must_use]
    pub fn uri(self) -> &'static str {
        match self {
            Self::Success => "urn:oasis:names:tc:SAML:2.0:status:Success",
            Self::Requester => "urn:oasis:names:tc:SAML:2.0:status:Requester",
            Self::Responder => "urn:oasis:names:tc:SAML:2.0:status:Responder",
            Self::VersionMismatch => "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch",
            Self::AuthnFailed => "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed",
            Self::NoPassive => "urn:oasis:names:tc:SAML:2.0:status:NoPassive",
            Self::RequestDenied => "urn:oasis:names:tc:SAML:2.0:status:RequestDenied",
            Self::UnsupportedBinding => "urn:oasis:names:tc:SAML:2.0:status:UnsupportedBinding",
            Self::InvalidNameIdPolicy => "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy",
            Self::NoAuthnContext => "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext",
            Self::PartialLogout => "urn:oasis:names:tc:SAML:2.0:status:PartialLogout",
            Self::UnknownPrincipal => "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal",
            Self::RequestUnsupported => "urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported",
        }
    }

    /// The code with this URI.
    #[must_use]
    pub fn from_uri(uri: &str) -> Option<Self> {
        [
            Self::Success,
            Self::Requester,
            Self::Responder,
            Self::VersionMismatch,
            Self::AuthnFailed,
            Self::NoPassive,
            Self::RequestDenied,
            Self::UnsupportedBinding,
            Self::InvalidNameIdPolicy,
            Self::NoAuthnContext,
            Self::PartialLogout,
            Self::UnknownPrincipal,
            Self::RequestUnsupported,
        ]
        .into_iter()
        .find(|c| c.uri() == uri)
    }

    /// Whether this is one of the four top-level codes (SAML core 2.0 §3.2.2.2).
    #[must_use]
    pub fn is_top_level(self) -> bool {
        matches!(
            self,
            Self::Success | Self::Requester | Self::Responder | Self::VersionMismatch
        )
    }

    /// The top-level code a second-level code is sent under: `Requester` when the request was
    /// at fault, `Responder` when we decline, `Success` for a partial logout.
    #[must_use]
    pub fn top_level(self) -> Self {
        match self {
            Self::Success | Self::Requester | Self::Responder | Self::VersionMismatch => self,
            Self::UnsupportedBinding
            | Self::InvalidNameIdPolicy
            | Self::RequestUnsupported
            | Self::UnknownPrincipal => Self::Requester,
            Self::PartialLogout => Self::Success,
            Self::AuthnFailed | Self::NoPassive | Self::RequestDenied | Self::NoAuthnContext => {
                Self::Responder
            }
        }
    }
}

/// Why a SAML operation refused its input or could not build a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SamlError {
    /// The XML security layer refused the document (strict reading, signature, encryption);
    /// [`XmlSecError::rule`] names its rule.
    #[error("XML security: {0}")]
    XmlSec(#[from] XmlSecError),
    /// A binding-level encoding problem (query string, base64, DEFLATE, form).
    #[error("binding: {0}")]
    Binding(&'static str),
    /// The decompressed message is larger than allowed (DEFLATE bomb guard).
    #[error("inflated message exceeds {limit} bytes")]
    InflatedTooLarge {
        /// The bound.
        limit: usize,
    },
    /// The binding or its parameters are not ones we support (SAMLEncoding, ProtocolBinding).
    #[error("unsupported binding: {0}")]
    UnsupportedBinding(String),
    /// The document element is not the expected message.
    #[error("expected {expected}, found {found}")]
    UnexpectedMessage {
        /// Expected local name.
        expected: &'static str,
        /// What was found (`{ns}local`).
        found: String,
    },
    /// A required element is missing.
    #[error("missing element {0}")]
    MissingElement(&'static str),
    /// A required attribute is missing.
    #[error("missing attribute {0}")]
    MissingAttribute(&'static str),
    /// An attribute or text value does not have the type the schema requires.
    #[error("invalid value for {what}: {value:?}")]
    InvalidValue {
        /// Which attribute or element.
        what: &'static str,
        /// The value found.
        value: String,
    },
    /// Version is not 2.0 (SAML core 2.0 §3.2.2.1 / §4.1.2).
    #[error("unsupported SAML version {0:?}")]
    VersionMismatch(String),
    /// IssueInstant is outside the accepted window around `now`.
    #[error("IssueInstant outside the allowed clock skew")]
    IssueInstantOutOfRange,
    /// The message has expired (NotOnOrAfter passed).
    #[error("message expired")]
    Expired,
    /// Destination differs from the endpoint that received the message (SAML core §3.2.1).
    #[error("Destination {found:?} is not this endpoint {expected:?}")]
    DestinationMismatch {
        /// Our endpoint.
        expected: String,
        /// The Destination attribute.
        found: String,
    },
    /// The requested AssertionConsumerServiceURL is not registered for the SP.
    #[error("AssertionConsumerServiceURL {0:?} is not registered")]
    AcsNotRegistered(String),
    /// The requested AssertionConsumerServiceIndex is not registered for the SP.
    #[error("AssertionConsumerServiceIndex {0} is not registered")]
    AcsIndexNotRegistered(u16),
    /// Both an ACS index and an ACS URL/ProtocolBinding (SAML core 2.0 §3.4.1: exclusive).
    #[error("AssertionConsumerServiceIndex and AssertionConsumerServiceURL are both present")]
    AcsIndexAndUrl,
    /// The SP has no ACS endpoint usable with the bindings we send.
    #[error("no usable AssertionConsumerService endpoint")]
    NoUsableAcs,
    /// IsPassive was requested and the user has no usable session (core §3.4.1).
    #[error("passive authentication impossible: no session")]
    NoPassive,
    /// The requested NameID format cannot be issued for this SP (core §3.4.1.1).
    #[error("NameID format {0:?} cannot be issued")]
    InvalidNameIdPolicy(String),
    /// A signature was required but the message carries none.
    #[error("the message is not signed")]
    MissingSignature,
    /// The HTTP-Redirect signature does not verify or uses a refused algorithm.
    #[error("redirect signature: {0}")]
    RedirectSignature(XmlSecError),
    /// A caller-provided value cannot be used to build a message (an ID that is not an NCName…).
    #[error("invalid input for {what}: {reason}")]
    InvalidInput {
        /// Which parameter.
        what: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// Metadata does not have the shape we can use.
    #[error("metadata: {0}")]
    Metadata(String),
    /// A SOAP answer is a fault (bindings §3.2.3.3): its code and reason.
    #[error("SOAP fault: {0}")]
    SoapFault(String),
    /// The envelope element is in another namespace than SOAP 1.1's (SOAP 1.1 §4.4.1: a
    /// `VersionMismatch` fault); the namespace found.
    #[error("binding: a SOAP envelope of another version ({0})")]
    SoapVersionMismatch(String),
    /// A SOAP header entry meant for Sésame is marked `mustUnderstand` (SOAP 1.1 §4.2.3): Sésame
    /// processes no header, so the message must not be (a `MustUnderstand` fault); its name.
    #[error("binding: a mandatory SOAP header Sésame does not process ({0})")]
    SoapMustUnderstand(String),
    /// An SP-side rule refused a Response from a federated IdP ([`crate::sp`]): the failure
    /// names the rule, the values compared and any XML security cause.
    #[error("{0}")]
    SpRule(Box<crate::sp::SpRuleFailure>),
}

impl SamlError {
    /// A stable kebab-case rule name; XML security errors keep theirs (`xmlsec:digest-mismatch`
    /// style is left to the caller: this returns the bare xmlsec rule).
    #[must_use]
    pub fn rule(&self) -> &'static str {
        match self {
            Self::XmlSec(e) | Self::RedirectSignature(e) => e.rule(),
            Self::Binding(_) => "binding",
            Self::InflatedTooLarge { .. } => "inflated-too-large",
            Self::UnsupportedBinding(_) => "unsupported-binding",
            Self::UnexpectedMessage { .. } => "unexpected-message",
            Self::MissingElement(_) => "missing-element",
            Self::MissingAttribute(_) => "missing-attribute",
            Self::InvalidValue { .. } => "invalid-value",
            Self::VersionMismatch(_) => "version-mismatch",
            Self::IssueInstantOutOfRange => "issue-instant-out-of-range",
            Self::Expired => "expired",
            Self::DestinationMismatch { .. } => "destination-mismatch",
            Self::AcsNotRegistered(_) => "acs-not-registered",
            Self::AcsIndexNotRegistered(_) => "acs-index-not-registered",
            Self::AcsIndexAndUrl => "acs-index-and-url",
            Self::NoUsableAcs => "no-usable-acs",
            Self::NoPassive => "no-passive",
            Self::InvalidNameIdPolicy(_) => "invalid-name-id-policy",
            Self::MissingSignature => "missing-signature",
            Self::InvalidInput { .. } => "invalid-input",
            Self::Metadata(_) => "metadata",
            Self::SoapFault(_) => "soap-fault",
            Self::SoapVersionMismatch(_) => "soap-version-mismatch",
            Self::SoapMustUnderstand(_) => "soap-must-understand",
            Self::SpRule(f) => f.rule.name(),
        }
    }

    /// The StatusCode to answer with, when the error is answered with a SAML Response at all.
    /// Note: an unregistered ACS URL or an unknown issuer is answered with an error page, never
    /// a Response (there is nowhere safe to send one); the code is given for logs.
    #[must_use]
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::VersionMismatch(_) => StatusCode::VersionMismatch,
            Self::NoPassive => StatusCode::NoPassive,
            Self::InvalidNameIdPolicy(_) => StatusCode::InvalidNameIdPolicy,
            Self::UnsupportedBinding(_) | Self::NoUsableAcs => StatusCode::UnsupportedBinding,
            Self::XmlSec(XmlSecError::Crypto(_)) | Self::InvalidInput { .. } => {
                StatusCode::Responder
            }
            Self::MissingSignature | Self::RedirectSignature(_) => StatusCode::RequestDenied,
            _ => StatusCode::Requester,
        }
    }
}

/// Result alias of the crate.
pub type Result<T, E = SamlError> = std::result::Result<T, E>;

/// Builds an `UnexpectedMessage` from a node's expanded name.
pub(crate) fn unexpected(expected: &'static str, node: roxmltree::Node<'_, '_>) -> SamlError {
    let tag = node.tag_name();
    SamlError::UnexpectedMessage {
        expected,
        found: format!("{{{}}}{}", tag.namespace().unwrap_or(ns::NONE), tag.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_code_uris_round_trip() {
        for code in [
            StatusCode::Success,
            StatusCode::NoPassive,
            StatusCode::InvalidNameIdPolicy,
            StatusCode::PartialLogout,
        ] {
            assert_eq!(StatusCode::from_uri(code.uri()), Some(code));
        }
        assert_eq!(StatusCode::from_uri("urn:x"), None);
    }

    #[test]
    fn second_level_codes_sit_under_a_top_level_code() {
        assert_eq!(StatusCode::NoPassive.top_level(), StatusCode::Responder);
        assert_eq!(
            StatusCode::UnsupportedBinding.top_level(),
            StatusCode::Requester
        );
        assert_eq!(StatusCode::PartialLogout.top_level(), StatusCode::Success);
        assert!(StatusCode::Requester.top_level().is_top_level());
    }

    #[test]
    fn errors_name_their_rule_and_status() {
        let e = SamlError::from(XmlSecError::DigestMismatch);
        assert_eq!(e.rule(), "digest-mismatch");
        assert_eq!(e.status_code(), StatusCode::Requester);
        assert_eq!(
            SamlError::VersionMismatch("1.1".into()).status_code(),
            StatusCode::VersionMismatch
        );
        assert_eq!(
            SamlError::MissingSignature.status_code(),
            StatusCode::RequestDenied
        );
    }
}
