//! Namespace and URI constants of SAML 2.0 (core §1.2, bindings §3, metadata §2.1): one place for
//! every URN the crate reads or writes.

/// Placeholder used in messages for "no namespace".
pub(crate) const NONE: &str = "";
/// SAML 2.0 assertion namespace (`saml:`).
pub const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// SAML 2.0 protocol namespace (`samlp:`).
pub const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// SAML 2.0 metadata namespace (`md:`).
pub const METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// Metadata profile for algorithm support (`alg:`, SAML V2.0 Metadata Profile for Algorithm
/// Support 1.0 §2).
pub const ALGSUPPORT: &str = "urn:oasis:names:tc:SAML:metadata:algsupport";
/// XML-DSig namespace (`ds:`).
pub const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// HTTP-Redirect binding (SAML bindings 2.0 §3.4).
pub const BINDING_HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// HTTP-POST binding (SAML bindings 2.0 §3.5).
pub const BINDING_HTTP_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
/// SOAP binding (bindings §3.2): Single Logout's back channel.
pub const BINDING_SOAP: &str = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP";
/// HTTP-Artifact binding (bindings §3.6): recognised in metadata, never used by us.
pub const BINDING_HTTP_ARTIFACT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact";
/// The DEFLATE encoding of the Redirect binding (bindings §3.4.4.1).
pub const ENCODING_DEFLATE: &str = "urn:oasis:names:tc:SAML:2.0:bindings:URL-Encoding:DEFLATE";

/// Bearer subject confirmation (profiles §3.3).
pub const CM_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
/// `PasswordProtectedTransport` authentication context class (authn-context §3.4.7).
pub const AC_PASSWORD_PROTECTED_TRANSPORT: &str =
    "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";

/// NameID formats (core §8.3).
pub mod nameid {
    /// Unspecified.
    pub const UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
    /// E-mail address.
    pub const EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
    /// Persistent (pairwise, opaque).
    pub const PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
    /// Transient.
    pub const TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
    /// Entity identifier (the Issuer's format).
    pub const ENTITY: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
}

/// Attribute name formats (core §8.2).
pub mod attrname {
    /// URI reference.
    pub const URI: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";
    /// Basic.
    pub const BASIC: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";
    /// Unspecified.
    pub const UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified";
}
