//! The one error type of the crate. Every variant names the rule that failed, so that a caller (and
//! the SSO test tool) can report *why* a message was refused, and tests can assert the exact rule.

/// Why an XML security operation refused its input.
///
/// Variants are rules, not symptoms: `DuplicateId` means "an ID value occurs twice in the document",
/// `SignatureNotDirectChild` means "the element we consume has no ds:Signature child, but one sits
/// deeper", and so on. [`XmlSecError::rule`] gives a stable kebab-case name for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlSecError {
    // ---- strict reading -------------------------------------------------------------------------
    /// The input is larger than [`crate::Limits::max_bytes`].
    #[error("input is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// Elements are nested deeper than [`crate::Limits::max_depth`].
    #[error("elements nested deeper than {limit}")]
    TooDeep {
        /// The configured limit.
        limit: usize,
    },
    /// More nodes than [`crate::Limits::max_nodes`].
    #[error("more than {limit} nodes")]
    TooManyNodes {
        /// The configured limit.
        limit: usize,
    },
    /// An element carries more attributes or namespace declarations than allowed.
    #[error("an element has more than {limit} attributes")]
    TooManyAttributes {
        /// The configured limit.
        limit: usize,
    },
    /// A document type declaration (DTD) is present. Refused before any further parsing, which
    /// also rules out entity expansion attacks (billion laughs, external entities).
    #[error("DOCTYPE refused")]
    DoctypeRefused,
    /// An entity declaration is present.
    #[error("entity declaration refused")]
    EntityRefused,
    /// A processing instruction sits inside the document element (SAML content).
    #[error("processing instruction inside the document element refused")]
    ProcessingInstructionRefused,
    /// The input is not well-formed namespace-aware XML.
    #[error("malformed XML: {0}")]
    Malformed(String),
    /// A text value is split by a comment; reading only one piece would truncate it.
    #[error("text value split by a comment")]
    TextSplitByComment,
    /// An element whose text value was asked for has element children.
    #[error("element has element children where a text value was expected")]
    UnexpectedElementInText,

    // ---- choosing the element -------------------------------------------------------------------
    /// No element at the path the caller asked for.
    #[error("element {name} not found at the expected place")]
    ElementNotFound {
        /// Local name of the missing step.
        name: String,
    },
    /// More than one element matches a step of the path: two candidates.
    #[error("more than one {name} element at the expected place")]
    AmbiguousElement {
        /// Local name of the ambiguous step.
        name: String,
    },

    // ---- XML-DSig structure ---------------------------------------------------------------------
    /// The same ID value occurs on more than one element of the document.
    #[error("ID {id:?} occurs more than once in the document")]
    DuplicateId {
        /// The duplicated value.
        id: String,
    },
    /// The element to verify has no ID attribute (or more than one kind of ID attribute).
    #[error("the signed element has no single ID attribute")]
    MissingId,
    /// The element has no ds:Signature at all.
    #[error("no ds:Signature on the element")]
    MissingSignature,
    /// The element has no ds:Signature child, but a ds:Signature sits elsewhere below it.
    #[error("ds:Signature is not a direct child of the signed element")]
    SignatureNotDirectChild,
    /// The element has more than one ds:Signature child.
    #[error("more than one ds:Signature child")]
    MultipleSignatures,
    /// The ds:Signature element does not have the shape we accept.
    #[error("unexpected ds:Signature structure: {0}")]
    SignatureStructure(&'static str),
    /// SignedInfo has no Reference.
    #[error("no ds:Reference in SignedInfo")]
    MissingReference,
    /// SignedInfo has more than one Reference.
    #[error("more than one ds:Reference in SignedInfo")]
    MultipleReferences,
    /// The Reference URI is not `#` followed by the signed element's own ID.
    #[error("Reference URI {uri:?} does not point to the signed element")]
    ReferenceUriMismatch {
        /// The URI found.
        uri: String,
    },
    /// The transforms are not exactly enveloped-signature then exclusive C14N.
    #[error("transforms are not exactly enveloped-signature + exc-c14n")]
    TransformsNotExact,
    /// An algorithm is not in the caller's allow-list (or not one this crate implements).
    #[error("{role} algorithm {uri:?} not allowed")]
    DisallowedAlgorithm {
        /// Where the algorithm appeared (SignatureMethod, DigestMethod, …).
        role: &'static str,
        /// The algorithm URI.
        uri: String,
    },
    /// A base64 value does not decode.
    #[error("invalid base64 in {0}")]
    Base64(&'static str),
    /// KeyInfo carries a certificate that is not one of the trusted keys.
    #[error("the certificate in KeyInfo is not trusted")]
    UntrustedKey,
    /// No trusted key fits the signature algorithm.
    #[error("no trusted key for this signature algorithm")]
    NoTrustedKey,
    /// The recomputed digest differs from DigestValue: the element changed after signing.
    #[error("digest mismatch")]
    DigestMismatch,
    /// The signature value does not verify with the selected trusted key.
    #[error("signature value does not verify")]
    SignatureInvalid,

    // ---- keys -----------------------------------------------------------------------------------
    /// A key or certificate could not be loaded.
    #[error("invalid key or certificate: {0}")]
    InvalidKey(&'static str),
    /// A cryptographic primitive failed unexpectedly (signing, encryption).
    #[error("cryptographic operation failed: {0}")]
    Crypto(&'static str),

    // ---- XML-Enc --------------------------------------------------------------------------------
    /// The encrypted structure does not have the shape we accept.
    #[error("unexpected XML-Enc structure: {0}")]
    EncryptionStructure(&'static str),
    /// No EncryptedKey could be decrypted with our keys.
    #[error("no EncryptedKey decrypts with our keys")]
    NoDecryptableKey,
    /// The content does not decrypt (bad key, tag or padding). Deliberately one variant for all
    /// causes, so that a padding oracle gets no more detail than this.
    #[error("decryption failed")]
    DecryptionFailed,
    /// The decrypted content is not exactly one element.
    #[error("decrypted content is not exactly one element")]
    DecryptedNotSingleElement,
    /// RSA-OAEP parameters this crate cannot honour (e.g. SHA-256 digest with MGF1-SHA-1).
    #[error("unsupported RSA-OAEP parameters: {0}")]
    UnsupportedOaepParameters(&'static str),
}

impl XmlSecError {
    /// A stable, kebab-case name of the rule that failed, for logs, audit and tests.
    #[must_use]
    pub fn rule(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too-large",
            Self::TooDeep { .. } => "too-deep",
            Self::TooManyNodes { .. } => "too-many-nodes",
            Self::TooManyAttributes { .. } => "too-many-attributes",
            Self::DoctypeRefused => "doctype-refused",
            Self::EntityRefused => "entity-refused",
            Self::ProcessingInstructionRefused => "processing-instruction-refused",
            Self::Malformed(_) => "malformed",
            Self::TextSplitByComment => "text-split-by-comment",
            Self::UnexpectedElementInText => "unexpected-element-in-text",
            Self::ElementNotFound { .. } => "element-not-found",
            Self::AmbiguousElement { .. } => "ambiguous-element",
            Self::DuplicateId { .. } => "duplicate-id",
            Self::MissingId => "missing-id",
            Self::MissingSignature => "missing-signature",
            Self::SignatureNotDirectChild => "signature-not-direct-child",
            Self::MultipleSignatures => "multiple-signatures",
            Self::SignatureStructure(_) => "signature-structure",
            Self::MissingReference => "missing-reference",
            Self::MultipleReferences => "multiple-references",
            Self::ReferenceUriMismatch { .. } => "reference-uri-mismatch",
            Self::TransformsNotExact => "transforms-not-exact",
            Self::DisallowedAlgorithm { .. } => "disallowed-algorithm",
            Self::Base64(_) => "base64",
            Self::UntrustedKey => "untrusted-key",
            Self::NoTrustedKey => "no-trusted-key",
            Self::DigestMismatch => "digest-mismatch",
            Self::SignatureInvalid => "signature-invalid",
            Self::InvalidKey(_) => "invalid-key",
            Self::Crypto(_) => "crypto",
            Self::EncryptionStructure(_) => "encryption-structure",
            Self::NoDecryptableKey => "no-decryptable-key",
            Self::DecryptionFailed => "decryption-failed",
            Self::DecryptedNotSingleElement => "decrypted-not-single-element",
            Self::UnsupportedOaepParameters(_) => "unsupported-oaep-parameters",
        }
    }
}

/// Result alias of the crate.
pub type Result<T, E = XmlSecError> = std::result::Result<T, E>;
