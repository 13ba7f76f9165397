//! # sesame-saml: SAML 2.0 protocol logic, sans-I/O
//!
//! **Owns**: the SAML 2.0 message model Sésame reads and writes, the HTTP-Redirect and HTTP-POST
//! bindings as codecs ([`bindings`]), AuthnRequest and LogoutRequest parsing with signature
//! checks, Response / LogoutResponse / LogoutRequest issuance, IdP metadata generation and SP
//! metadata import ([`metadata`]), and the IdP-side validation rules as small named functions
//! ([`rules`]), each citing the section of the specification it implements; and the SP side
//! ([`sp`]): validating Responses from federated IdPs through named rules.
//!
//! **Must not touch**: I/O (no sockets, files, tokio, HTTP framework, database), the clock (`now`
//! is always an argument), randomness for identifiers (IDs come from the caller), and XML
//! cryptography, which is `sesame-xmlsec`'s alone: every untrusted document is read through
//! `sesame_xmlsec::strict::parse`, and signed content is read only from the [`Verified`]
//! element the signature check returns.
//!
//! **Layers** (as simplesamlphp/saml2): message types and their readers/writers
//! ([`authn_request`], [`logout`], [`response`], [`status`]), bindings as codecs, and rules that
//! take a parsed message, `now` and the caller's expectations.

pub mod authn_request;
pub mod bindings;
mod error;
pub mod logout;
pub mod metadata;
pub mod ns;
pub mod response;
pub mod rules;
mod sign;
pub mod sp;
pub mod status;
mod xml;

pub use authn_request::{
    AuthnContextComparison, AuthnRequest, NameIdPolicy, RequestHeader, RequestedAuthnContext,
    parse_authn_request, verify_authn_request_post,
};
pub use bindings::{
    AutoSubmit, Binding, MAX_RELAY_STATE_BYTES, MessageKind, RedirectMessage, decode_post,
    decode_redirect, encode_redirect, parse_soap_logout_request, parse_soap_logout_response,
    post_form, soap_envelope, verify_redirect_signature, verify_soap_logout_request,
    verify_soap_logout_response,
};
pub use error::{Result, SamlError, StatusCode};
pub use logout::{
    LogoutRequest, LogoutRequestParams, LogoutResponseParams, NameId, build_logout_request,
    build_logout_response, parse_logout_request, parse_logout_response, verify_logout_request_post,
    verify_logout_response_post,
};
pub use metadata::{
    Endpoint, IdpMetadataParams, IndexedEndpoint, SpMetadata, idp_metadata, parse_sp_metadata,
    verify_sp_metadata,
};
pub use response::{
    AssertionEncryption, Attribute, ResponseParams, Signer, SigningMode, StatusResponseParams,
    build_response, build_status_response,
};
pub use sesame_xmlsec::Verified;
pub use sign::SignWith;
pub use sp::{
    Protection, RuleOutcome, SpExpectations, SpRule, SpRuleFailure, ValidatedAssertion,
    ValidationReport, inspect_response, unverified_in_response_to, validate_response,
};
pub use status::{Status, StatusResponse};
