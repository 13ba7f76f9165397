//! How the messages we issue are signed: which key and algorithms ([`SignWith`]), and the one
//! helper that puts an enveloped signature after the Issuer of an element (SAML core 2.0 §5.4;
//! the schemas place ds:Signature right after saml:Issuer, or first when there is none).

use sesame_xmlsec::{
    DigestAlgorithm, ElementPath, Placement, SignOptions, SignatureAlgorithm, SigningKey,
};

use crate::error::Result;

/// A signing key with the algorithms to use with it.
#[derive(Debug, Clone, Copy)]
pub struct SignWith<'k> {
    /// The private key and its certificate (sent in KeyInfo).
    pub key: &'k SigningKey,
    /// SignatureMethod (RSA-SHA256 by default; RSA-SHA1 only for SPs that need it).
    pub algorithm: SignatureAlgorithm,
    /// DigestMethod, matching the algorithm.
    pub digest: DigestAlgorithm,
}

impl<'k> SignWith<'k> {
    /// RSA-SHA256 with SHA-256 digests: the default.
    #[must_use]
    pub fn rsa_sha256(key: &'k SigningKey) -> Self {
        Self {
            key,
            algorithm: SignatureAlgorithm::RsaSha256,
            digest: DigestAlgorithm::Sha256,
        }
    }

    /// `algorithm` with its matching digest (SHA-1 for RSA-SHA1, SHA-512 for RSA-SHA512,
    /// SHA-256 otherwise).
    #[must_use]
    pub fn with_algorithm(key: &'k SigningKey, algorithm: SignatureAlgorithm) -> Self {
        let digest = match algorithm {
            SignatureAlgorithm::RsaSha1 => DigestAlgorithm::Sha1,
            SignatureAlgorithm::RsaSha512 => DigestAlgorithm::Sha512,
            SignatureAlgorithm::RsaSha256 | SignatureAlgorithm::EcdsaSha256 => {
                DigestAlgorithm::Sha256
            }
        };
        Self {
            key,
            algorithm,
            digest,
        }
    }

    pub(crate) fn options(&self) -> SignOptions {
        SignOptions {
            signature: self.algorithm,
            digest: self.digest,
            placement: Placement::AfterIssuer,
            ..SignOptions::default()
        }
    }
}

/// Signs the element at `path` of `xml` (enveloped, after its Issuer).
pub(crate) fn sign_at(xml: &str, path: &ElementPath<'_>, with: &SignWith<'_>) -> Result<String> {
    Ok(sesame_xmlsec::sign_enveloped(
        xml,
        path,
        with.key,
        &with.options(),
    )?)
}
