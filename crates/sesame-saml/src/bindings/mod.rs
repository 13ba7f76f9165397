//! The SAML 2.0 bindings Sésame speaks, as codecs (SAML bindings 2.0 §3.4 HTTP-Redirect, §3.5
//! HTTP-POST, §3.2 SOAP for the logout back channel): they turn a query string, a form field or
//! a SOAP envelope into the message XML and back, and check or make the Redirect binding's
//! detached signature. They know nothing of message semantics and never touch HTTP themselves:
//! the caller hands in the raw query string, form value or SOAP answer and sends what comes
//! back.

mod post;
mod redirect;
mod soap;

pub use post::{AutoSubmit, MAX_POST_BYTES, decode_post, post_form};
pub use redirect::{
    MAX_INFLATED_BYTES, MAX_QUERY_BYTES, MAX_RELAY_STATE_BYTES, RedirectMessage, RedirectSignature,
    RedirectSignatureInfo, append_query, decode_redirect, encode_redirect,
    verify_redirect_signature,
};
pub use soap::{
    MAX_SOAP_BYTES, SOAP_ACTION, SOAP_CONTENT_TYPE, SOAP_ENVELOPE, SoapFaultCode,
    check_soap_request_headers, parse_soap_logout_request, parse_soap_logout_response,
    soap_envelope, soap_fault, soap_logout_request_id, verify_soap_logout_request,
    verify_soap_logout_response,
};

/// Whether a binding carries a request or a response: it decides the parameter name
/// (`SAMLRequest` or `SAMLResponse`, bindings §3.4.4 and §3.5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// AuthnRequest, LogoutRequest…
    Request,
    /// Response, LogoutResponse…
    Response,
}

impl MessageKind {
    /// The form or query parameter name.
    #[must_use]
    pub fn parameter(self) -> &'static str {
        match self {
            Self::Request => "SAMLRequest",
            Self::Response => "SAMLResponse",
        }
    }
}

/// The binding of an endpoint, as named in metadata and in `ProtocolBinding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// HTTP-Redirect (bindings §3.4).
    HttpRedirect,
    /// HTTP-POST (bindings §3.5).
    HttpPost,
}

impl Binding {
    /// The binding URI.
    #[must_use]
    pub fn uri(self) -> &'static str {
        match self {
            Self::HttpRedirect => crate::ns::BINDING_HTTP_REDIRECT,
            Self::HttpPost => crate::ns::BINDING_HTTP_POST,
        }
    }

    /// The binding with this URI, if we speak it.
    #[must_use]
    pub fn from_uri(uri: &str) -> Option<Self> {
        match uri {
            crate::ns::BINDING_HTTP_REDIRECT => Some(Self::HttpRedirect),
            crate::ns::BINDING_HTTP_POST => Some(Self::HttpPost),
            _ => None,
        }
    }
}
