//! The algorithms this crate implements, their URIs, and the caller's allow-lists.
//!
//! Anything not named here is refused with `DisallowedAlgorithm`: there is no "other" variant.

use aws_lc_rs::digest;

use crate::error::{Result, XmlSecError};

/// XML-DSig namespace (XML-DSig 1.1 §4).
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// XML-Enc namespace.
pub const XENC_NS: &str = "http://www.w3.org/2001/04/xmlenc#";
/// XML-Enc 1.1 namespace (MGF, GCM and the generic RSA-OAEP identifier).
pub const XENC11_NS: &str = "http://www.w3.org/2009/xmlenc11#";
/// Exclusive C14N 1.0, without comments.
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// Exclusive C14N 1.0, with comments.
pub const EXC_C14N_WITH_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
/// Enveloped-signature transform (XML-DSig 1.1 §6.6.4).
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// XML-Enc `Type` of an encrypted element.
pub const XENC_ELEMENT_TYPE: &str = "http://www.w3.org/2001/04/xmlenc#Element";

/// A SignatureMethod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 6931 §2.3.2). The default.
    RsaSha256,
    /// RSASSA-PKCS1-v1_5 with SHA-1: compatibility only, never allowed by default.
    RsaSha1,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RsaSha512,
    /// ECDSA P-256 with SHA-256, signature as r‖s (XML-DSig 1.1 §6.4.3).
    EcdsaSha256,
}

impl SignatureAlgorithm {
    /// Every algorithm this crate implements.
    pub const ALL: [Self; 4] = [
        Self::RsaSha256,
        Self::RsaSha1,
        Self::RsaSha512,
        Self::EcdsaSha256,
    ];

    /// The algorithm URI.
    #[must_use]
    pub fn uri(self) -> &'static str {
        match self {
            Self::RsaSha256 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            Self::RsaSha1 => "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
            Self::RsaSha512 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
            Self::EcdsaSha256 => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        }
    }

    /// The algorithm with this URI, if implemented.
    #[must_use]
    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.uri() == uri)
    }

    /// Whether the algorithm uses an RSA key (otherwise P-256).
    #[must_use]
    pub fn is_rsa(self) -> bool {
        !matches!(self, Self::EcdsaSha256)
    }
}

/// A DigestMethod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// SHA-256. The default.
    Sha256,
    /// SHA-1: compatibility only, never allowed by default.
    Sha1,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// Every digest this crate implements.
    pub const ALL: [Self; 3] = [Self::Sha256, Self::Sha1, Self::Sha512];

    /// The algorithm URI.
    #[must_use]
    pub fn uri(self) -> &'static str {
        match self {
            Self::Sha256 => "http://www.w3.org/2001/04/xmlenc#sha256",
            Self::Sha1 => "http://www.w3.org/2000/09/xmldsig#sha1",
            Self::Sha512 => "http://www.w3.org/2001/04/xmlenc#sha512",
        }
    }

    /// The algorithm with this URI, if implemented.
    #[must_use]
    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.uri() == uri)
    }

    pub(crate) fn digest(self, data: &[u8]) -> digest::Digest {
        let alg = match self {
            Self::Sha256 => &digest::SHA256,
            Self::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Self::Sha512 => &digest::SHA512,
        };
        digest::digest(alg, data)
    }
}

/// The signature and digest algorithms a verifier accepts. SHA-1 only when the caller says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedAlgorithms {
    signature: Vec<SignatureAlgorithm>,
    digest: Vec<DigestAlgorithm>,
}

impl Default for AllowedAlgorithms {
    /// RSA-SHA256, RSA-SHA512, ECDSA-SHA256; SHA-256 and SHA-512 digests. No SHA-1.
    fn default() -> Self {
        Self {
            signature: vec![
                SignatureAlgorithm::RsaSha256,
                SignatureAlgorithm::RsaSha512,
                SignatureAlgorithm::EcdsaSha256,
            ],
            digest: vec![DigestAlgorithm::Sha256, DigestAlgorithm::Sha512],
        }
    }
}

impl AllowedAlgorithms {
    /// Exactly these algorithms.
    #[must_use]
    pub fn only(signature: &[SignatureAlgorithm], digest: &[DigestAlgorithm]) -> Self {
        Self {
            signature: signature.to_vec(),
            digest: digest.to_vec(),
        }
    }

    /// The defaults plus RSA-SHA1 and the SHA-1 digest, for peers that still need them.
    #[must_use]
    pub fn with_sha1(mut self) -> Self {
        if !self.signature.contains(&SignatureAlgorithm::RsaSha1) {
            self.signature.push(SignatureAlgorithm::RsaSha1);
        }
        if !self.digest.contains(&DigestAlgorithm::Sha1) {
            self.digest.push(DigestAlgorithm::Sha1);
        }
        self
    }

    /// The signature algorithms allowed, the preferred first.
    #[must_use]
    pub fn signatures(&self) -> &[SignatureAlgorithm] {
        &self.signature
    }

    /// The digest algorithms allowed, the preferred first.
    #[must_use]
    pub fn digests(&self) -> &[DigestAlgorithm] {
        &self.digest
    }

    /// Whether `alg` is allowed as a signature algorithm (for detached signatures verified with
    /// [`crate::TrustedKeys::verify_raw`]).
    #[must_use]
    pub fn allows_signature(&self, alg: SignatureAlgorithm) -> bool {
        self.signature.contains(&alg)
    }

    pub(crate) fn signature(&self, uri: &str) -> Result<SignatureAlgorithm> {
        SignatureAlgorithm::from_uri(uri)
            .filter(|a| self.signature.contains(a))
            .ok_or_else(|| XmlSecError::DisallowedAlgorithm {
                role: "SignatureMethod",
                uri: uri.to_owned(),
            })
    }

    pub(crate) fn digest(&self, uri: &str) -> Result<DigestAlgorithm> {
        DigestAlgorithm::from_uri(uri)
            .filter(|a| self.digest.contains(a))
            .ok_or_else(|| XmlSecError::DisallowedAlgorithm {
                role: "DigestMethod",
                uri: uri.to_owned(),
            })
    }
}

/// A content (block) encryption algorithm of XML-Enc.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentEncryption {
    /// AES-256-GCM (XML-Enc 1.1 §5.2.4). The default.
    Aes256Gcm,
    /// AES-128-GCM.
    Aes128Gcm,
    /// AES-256-CBC (XML-Enc 1.1 §5.2.2); no integrity, opt-in only when decrypting.
    Aes256Cbc,
    /// AES-128-CBC; no integrity, opt-in only when decrypting.
    Aes128Cbc,
}

impl ContentEncryption {
    /// Every content algorithm this crate implements.
    pub const ALL: [Self; 4] = [
        Self::Aes256Gcm,
        Self::Aes128Gcm,
        Self::Aes256Cbc,
        Self::Aes128Cbc,
    ];

    /// The algorithm URI.
    #[must_use]
    pub fn uri(self) -> &'static str {
        match self {
            Self::Aes256Gcm => "http://www.w3.org/2009/xmlenc11#aes256-gcm",
            Self::Aes128Gcm => "http://www.w3.org/2009/xmlenc11#aes128-gcm",
            Self::Aes256Cbc => "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
            Self::Aes128Cbc => "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
        }
    }

    /// The algorithm with this URI, if implemented.
    #[must_use]
    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.uri() == uri)
    }

    /// Key length in bytes.
    #[must_use]
    pub fn key_len(self) -> usize {
        match self {
            Self::Aes256Gcm | Self::Aes256Cbc => 32,
            Self::Aes128Gcm | Self::Aes128Cbc => 16,
        }
    }

    pub(crate) fn is_gcm(self) -> bool {
        matches!(self, Self::Aes256Gcm | Self::Aes128Gcm)
    }
}

/// An RSA-OAEP key transport algorithm of XML-Enc.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyTransport {
    /// `xmlenc#rsa-oaep-mgf1p`: SHA-1 digest, MGF1 with SHA-1. The form most SPs read. Default.
    RsaOaepMgf1pSha1,
    /// `xmlenc11#rsa-oaep` with SHA-256 digest and MGF1 with SHA-256 (both stated explicitly).
    RsaOaepSha256,
}

impl KeyTransport {
    /// The algorithm URI.
    #[must_use]
    pub fn uri(self) -> &'static str {
        match self {
            Self::RsaOaepMgf1pSha1 => RSA_OAEP_MGF1P,
            Self::RsaOaepSha256 => RSA_OAEP_11,
        }
    }
}

/// `xmlenc#rsa-oaep-mgf1p` URI.
pub const RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
/// `xmlenc11#rsa-oaep` URI.
pub const RSA_OAEP_11: &str = "http://www.w3.org/2009/xmlenc11#rsa-oaep";
/// MGF1 with SHA-1 (XML-Enc 1.1 §5.5.2), the default MGF.
pub const MGF1_SHA1: &str = "http://www.w3.org/2009/xmlenc11#mgf1sha1";
/// MGF1 with SHA-256.
pub const MGF1_SHA256: &str = "http://www.w3.org/2009/xmlenc11#mgf1sha256";

/// The content algorithms a decryptor accepts (key transport is always RSA-OAEP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedEncryption {
    content: Vec<ContentEncryption>,
}

impl Default for AllowedEncryption {
    /// AES-GCM only: CBC has no integrity and XML-Enc CBC is open to padding-oracle attacks
    /// (Jager & Somorovsky, 2011), so a caller opts in per partner with [`Self::with_cbc`].
    fn default() -> Self {
        Self {
            content: vec![ContentEncryption::Aes256Gcm, ContentEncryption::Aes128Gcm],
        }
    }
}

impl AllowedEncryption {
    /// The defaults plus AES-CBC, for peers that only produce CBC.
    #[must_use]
    pub fn with_cbc(mut self) -> Self {
        for alg in [ContentEncryption::Aes256Cbc, ContentEncryption::Aes128Cbc] {
            if !self.content.contains(&alg) {
                self.content.push(alg);
            }
        }
        self
    }

    pub(crate) fn content(&self, uri: &str) -> Result<ContentEncryption> {
        ContentEncryption::from_uri(uri)
            .filter(|a| self.content.contains(a))
            .ok_or_else(|| XmlSecError::DisallowedAlgorithm {
                role: "EncryptionMethod",
                uri: uri.to_owned(),
            })
    }
}
