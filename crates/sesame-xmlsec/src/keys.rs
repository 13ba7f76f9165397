//! Keys: loaded once (PKCS#8 / X.509, DER or PEM), parsed into aws-lc-rs objects, and reused for
//! every signature, verification and decryption — never re-parsed per message.
//!
//! Certificates are only unwrapped to reach their SubjectPublicKeyInfo: this crate does no path
//! validation, no expiry check (it never reads the clock) and no revocation. Trust is "this exact
//! public key was configured by the administrator".

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey,
};
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, ParsedPublicKey, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sesame_rsa_sha1::Sha1RsaSigner;

use crate::algorithms::SignatureAlgorithm;
use crate::error::{Result, XmlSecError};

/// The kind of a public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA (2048 to 8192 bits).
    Rsa,
    /// ECDSA on P-256.
    EcP256,
}

const OID_RSA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];

/// Decodes the first PEM block labelled `label` (e.g. `CERTIFICATE`, `PRIVATE KEY`).
///
/// # Errors
/// `InvalidKey` when no such block is present or its body is not base64.
pub fn pem_decode(pem: &str, label: &str) -> Result<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem
        .find(&begin)
        .ok_or(XmlSecError::InvalidKey("PEM block not found"))?
        + begin.len();
    let body = pem
        .get(start..)
        .ok_or(XmlSecError::InvalidKey("PEM block not found"))?;
    let stop = body
        .find(&end)
        .ok_or(XmlSecError::InvalidKey("PEM block not terminated"))?;
    let b64: String = body
        .get(..stop)
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    B64.decode(b64)
        .map_err(|_| XmlSecError::InvalidKey("PEM body is not base64"))
}

/// A minimal DER reader: just enough to walk an X.509 certificate to its public key.
struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    /// Reads one TLV; returns (tag, whole TLV, contents).
    fn next(&mut self) -> Option<(u8, &'a [u8], &'a [u8])> {
        let all = self.rest;
        let (&tag, after_tag) = all.split_first()?;
        let (&first, mut after_len) = after_tag.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7F);
            if n == 0 || n > 4 {
                return None;
            }
            let (bytes, tail) = after_len.split_at_checked(n)?;
            after_len = tail;
            bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        };
        let header = all.len() - after_len.len();
        let (contents, tail) = after_len.split_at_checked(len)?;
        let whole = all.get(..header + len)?;
        self.rest = tail;
        Some((tag, whole, contents))
    }
}

/// A public key as found in a SubjectPublicKeyInfo.
#[derive(Debug, Clone)]
pub(crate) struct Spki {
    /// The whole SubjectPublicKeyInfo DER.
    pub der: Vec<u8>,
    /// The BIT STRING contents without the unused-bits byte (RSAPublicKey or EC point).
    pub key: Vec<u8>,
    pub kind: KeyKind,
}

/// Parses a SubjectPublicKeyInfo DER.
pub(crate) fn parse_spki(der: &[u8]) -> Result<Spki> {
    let bad = XmlSecError::InvalidKey("malformed SubjectPublicKeyInfo");
    let (tag, whole, contents) = Der { rest: der }.next().ok_or(bad.clone())?;
    if tag != 0x30 {
        return Err(bad);
    }
    let mut seq = Der { rest: contents };
    let (_, _, alg) = seq.next().ok_or(bad.clone())?;
    let (bit_tag, _, bits) = seq.next().ok_or(bad.clone())?;
    if bit_tag != 0x03 {
        return Err(bad);
    }
    let mut alg = Der { rest: alg };
    let (_, _, oid) = alg.next().ok_or(bad.clone())?;
    let kind = if oid == OID_RSA {
        KeyKind::Rsa
    } else if oid == OID_EC {
        match alg.next() {
            Some((0x06, _, curve)) if curve == OID_P256 => KeyKind::EcP256,
            _ => return Err(XmlSecError::InvalidKey("EC curve is not P-256")),
        }
    } else {
        return Err(XmlSecError::InvalidKey("public key is neither RSA nor EC"));
    };
    let key = bits.get(1..).ok_or(bad)?.to_vec();
    Ok(Spki {
        der: whole.to_vec(),
        key,
        kind,
    })
}

/// The SubjectPublicKeyInfo of an X.509 certificate (RFC 5280 §4.1).
pub(crate) fn certificate_spki(cert_der: &[u8]) -> Result<Spki> {
    let bad = XmlSecError::InvalidKey("malformed certificate");
    let (_, _, cert) = Der { rest: cert_der }.next().ok_or(bad.clone())?;
    let (_, _, tbs) = Der { rest: cert }.next().ok_or(bad.clone())?;
    let mut tbs = Der { rest: tbs };
    let first = tbs.next().ok_or(bad.clone())?;
    if first.0 == 0xA0 {
        // [0] EXPLICIT version, then serialNumber.
        tbs.next().ok_or(bad.clone())?;
    }
    // Then signature, issuer, validity, subject, subjectPublicKeyInfo.
    for _ in 0..4 {
        tbs.next().ok_or(bad.clone())?;
    }
    let (_, spki, _) = tbs.next().ok_or(bad)?;
    parse_spki(spki)
}

enum SignerInner {
    Rsa {
        pair: RsaKeyPair,
        /// RSA-SHA1, which aws-lc-rs does not sign: the same key, parsed once at load time by
        /// `sesame-rsa-sha1` (aws-lc's C API). `None` only if that parser refused a key
        /// aws-lc-rs accepted; RSA-SHA1 signing then fails with `Crypto`.
        sha1: Option<Sha1RsaSigner>,
    },
    Ec(EcdsaKeyPair),
}

/// Wraps a PKCS#1 `RSAPrivateKey` in a PKCS#8 `PrivateKeyInfo` (RFC 5208 §5), version 0,
/// algorithm rsaEncryption with NULL parameters.
fn pkcs1_to_pkcs8(pkcs1: &[u8]) -> Vec<u8> {
    fn tlv(tag: u8, contents: &[u8], out: &mut Vec<u8>) {
        out.push(tag);
        let len = contents.len();
        if len < 0x80 {
            out.push(len.to_be_bytes().last().copied().unwrap_or_default());
        } else {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|&&b| b == 0).count();
            let significant = bytes.get(skip..).unwrap_or_default();
            let count = significant.len().to_be_bytes();
            out.push(0x80 | count.last().copied().unwrap_or_default());
            out.extend_from_slice(significant);
        }
        out.extend_from_slice(contents);
    }
    let mut algorithm = Vec::with_capacity(13);
    tlv(0x06, OID_RSA, &mut algorithm);
    tlv(0x05, &[], &mut algorithm);
    let mut body = Vec::with_capacity(pkcs1.len() + 32);
    tlv(0x02, &[0], &mut body);
    tlv(0x30, &algorithm, &mut body);
    tlv(0x04, pkcs1, &mut body);
    let mut out = Vec::with_capacity(body.len() + 6);
    tlv(0x30, &body, &mut out);
    out
}

/// A private key with its certificate, ready to sign many documents.
pub struct SigningKey {
    inner: SignerInner,
    cert_der: Vec<u8>,
    cert_b64: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kind", &self.kind())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads a PKCS#8 private key (RSA or P-256) and the DER certificate carrying its public key.
    ///
    /// # Errors
    /// `InvalidKey` when the key does not parse or does not match the certificate.
    pub fn from_pkcs8_der(key_der: &[u8], cert_der: &[u8]) -> Result<Self> {
        let spki = certificate_spki(cert_der)?;
        let inner = match spki.kind {
            KeyKind::Rsa => {
                let (pair, sha1) = match RsaKeyPair::from_pkcs8(key_der) {
                    Ok(pair) => (pair, Sha1RsaSigner::from_pkcs8_der(key_der).ok()),
                    Err(_) => {
                        let pair = RsaKeyPair::from_der(key_der)
                            .map_err(|_| XmlSecError::InvalidKey("RSA private key"))?;
                        let pkcs8 = pkcs1_to_pkcs8(key_der);
                        (pair, Sha1RsaSigner::from_pkcs8_der(&pkcs8).ok())
                    }
                };
                if pair.public_key().as_ref() != spki.key.as_slice() {
                    return Err(XmlSecError::InvalidKey(
                        "certificate does not match the key",
                    ));
                }
                SignerInner::Rsa { pair, sha1 }
            }
            KeyKind::EcP256 => {
                let pair =
                    EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, key_der)
                        .map_err(|_| XmlSecError::InvalidKey("P-256 private key"))?;
                if pair.public_key().as_ref() != spki.key.as_slice() {
                    return Err(XmlSecError::InvalidKey(
                        "certificate does not match the key",
                    ));
                }
                SignerInner::Ec(pair)
            }
        };
        Ok(Self {
            inner,
            cert_der: cert_der.to_vec(),
            cert_b64: B64.encode(cert_der),
            rng: SystemRandom::new(),
        })
    }

    /// Same as [`Self::from_pkcs8_der`], from PEM (`PRIVATE KEY` or `RSA PRIVATE KEY`, and
    /// `CERTIFICATE`).
    ///
    /// # Errors
    /// `InvalidKey`.
    pub fn from_pem(key_pem: &str, cert_pem: &str) -> Result<Self> {
        let key = pem_decode(key_pem, "PRIVATE KEY")
            .or_else(|_| pem_decode(key_pem, "RSA PRIVATE KEY"))?;
        let cert = pem_decode(cert_pem, "CERTIFICATE")?;
        Self::from_pkcs8_der(&key, &cert)
    }

    /// RSA or P-256.
    #[must_use]
    pub fn kind(&self) -> KeyKind {
        match self.inner {
            SignerInner::Rsa { .. } => KeyKind::Rsa,
            SignerInner::Ec(_) => KeyKind::EcP256,
        }
    }

    /// The certificate, DER.
    #[must_use]
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    pub(crate) fn certificate_b64(&self) -> &str {
        &self.cert_b64
    }

    /// Signs arbitrary octets with `alg` and returns the raw signature value (PKCS#1 v1.5 for
    /// RSA, r‖s for ECDSA): for detached signatures such as the SAML HTTP-Redirect binding's
    /// (SAML bindings 2.0 §3.4.4.1), where the signed octets are a query string, not XML.
    ///
    /// RSA-SHA1 is made by `sesame-rsa-sha1` (aws-lc's C API: aws-lc-rs verifies SHA-1 but does
    /// not sign with it); the caller decides when SHA-1 is acceptable.
    ///
    /// # Errors
    /// `InvalidKey` when the algorithm does not fit the key; `Crypto` when the primitive fails.
    pub fn sign_raw(&self, alg: SignatureAlgorithm, data: &[u8]) -> Result<Vec<u8>> {
        self.sign(alg, data)
    }

    /// Signs `data` (already canonical SignedInfo bytes) with `alg`.
    pub(crate) fn sign(&self, alg: SignatureAlgorithm, data: &[u8]) -> Result<Vec<u8>> {
        match (&self.inner, alg) {
            (SignerInner::Rsa { sha1, .. }, SignatureAlgorithm::RsaSha1) => sha1
                .as_ref()
                .ok_or(XmlSecError::Crypto("RSA-SHA1 signing is not available"))?
                .sign(data)
                .map_err(|_| XmlSecError::Crypto("RSA signing")),
            (SignerInner::Rsa { pair, .. }, SignatureAlgorithm::RsaSha256) => {
                self.sign_rsa(pair, &signature::RSA_PKCS1_SHA256, data)
            }
            (SignerInner::Rsa { pair, .. }, SignatureAlgorithm::RsaSha512) => {
                self.sign_rsa(pair, &signature::RSA_PKCS1_SHA512, data)
            }
            (SignerInner::Ec(pair), SignatureAlgorithm::EcdsaSha256) => pair
                .sign(&self.rng, data)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| XmlSecError::Crypto("ECDSA signing")),
            _ => Err(XmlSecError::InvalidKey(
                "signature algorithm does not fit the key",
            )),
        }
    }

    fn sign_rsa(
        &self,
        pair: &RsaKeyPair,
        padding: &'static dyn signature::RsaEncoding,
        data: &[u8],
    ) -> Result<Vec<u8>> {
        let mut sig = vec![0u8; pair.public_modulus_len()];
        pair.sign(padding, &self.rng, data, &mut sig)
            .map_err(|_| XmlSecError::Crypto("RSA signing"))?;
        Ok(sig)
    }
}

/// One trusted public key, parsed once per algorithm it can verify.
struct TrustedKey {
    spki_der: Vec<u8>,
    verifiers: Vec<(SignatureAlgorithm, ParsedPublicKey)>,
    /// The certificates this key was configured from, base64 (standard alphabet, padded, no
    /// whitespace): a KeyInfo certificate written exactly so is that certificate, hence selects
    /// this key without being decoded and walked again for every message.
    certificates_b64: Vec<String>,
}

/// The caller's trusted signing keys (a partner's configured certificates, for instance).
/// KeyInfo in a message may select among them, never add one.
#[derive(Default)]
pub struct TrustedKeys {
    keys: Vec<TrustedKey>,
}

impl std::fmt::Debug for TrustedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedKeys")
            .field("count", &self.keys.len())
            .finish()
    }
}

impl TrustedKeys {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts the public key of a DER certificate.
    ///
    /// # Errors
    /// `InvalidKey`.
    pub fn add_certificate_der(&mut self, cert_der: &[u8]) -> Result<&mut Self> {
        let spki = certificate_spki(cert_der)?;
        self.add_spki(spki, Some(B64.encode(cert_der)))
    }

    /// Trusts the public key of every `CERTIFICATE` block in `pem` (at least one).
    ///
    /// # Errors
    /// `InvalidKey`.
    pub fn add_certificate_pem(&mut self, pem: &str) -> Result<&mut Self> {
        let mut rest = pem;
        let mut added = 0;
        while let Some(pos) = rest.find("-----BEGIN CERTIFICATE-----") {
            let block = rest.get(pos..).unwrap_or_default();
            let der = pem_decode(block, "CERTIFICATE")?;
            self.add_certificate_der(&der)?;
            added += 1;
            rest = block.get(27..).unwrap_or_default();
        }
        if added == 0 {
            return Err(XmlSecError::InvalidKey("no certificate in PEM"));
        }
        Ok(self)
    }

    /// Trusts a bare SubjectPublicKeyInfo (DER).
    ///
    /// # Errors
    /// `InvalidKey`.
    pub fn add_public_key_der(&mut self, spki_der: &[u8]) -> Result<&mut Self> {
        let spki = parse_spki(spki_der)?;
        self.add_spki(spki, None)
    }

    fn add_spki(&mut self, spki: Spki, certificate_b64: Option<String>) -> Result<&mut Self> {
        let mut verifiers = Vec::with_capacity(3);
        match spki.kind {
            KeyKind::Rsa => {
                let algs: [(
                    SignatureAlgorithm,
                    &'static dyn signature::VerificationAlgorithm,
                ); 3] = [
                    (
                        SignatureAlgorithm::RsaSha256,
                        &signature::RSA_PKCS1_2048_8192_SHA256,
                    ),
                    (
                        SignatureAlgorithm::RsaSha1,
                        &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
                    ),
                    (
                        SignatureAlgorithm::RsaSha512,
                        &signature::RSA_PKCS1_2048_8192_SHA512,
                    ),
                ];
                for (alg, v) in algs {
                    let key = ParsedPublicKey::new(v, &spki.der)
                        .map_err(|_| XmlSecError::InvalidKey("RSA public key (2048-8192 bits)"))?;
                    verifiers.push((alg, key));
                }
            }
            KeyKind::EcP256 => {
                let key = ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &spki.der)
                    .map_err(|_| XmlSecError::InvalidKey("P-256 public key"))?;
                verifiers.push((SignatureAlgorithm::EcdsaSha256, key));
            }
        }
        match self.keys.iter_mut().find(|k| k.spki_der == spki.der) {
            Some(known) => {
                // Another certificate for a key already trusted: remember its text too.
                if let Some(b64) = certificate_b64
                    && !known.certificates_b64.contains(&b64)
                {
                    known.certificates_b64.push(b64);
                }
            }
            None => self.keys.push(TrustedKey {
                spki_der: spki.der,
                verifiers,
                certificates_b64: certificate_b64.into_iter().collect(),
            }),
        }
        Ok(self)
    }

    /// Number of distinct trusted keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is trusted (every verification then fails).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Index of the trusted key with this SubjectPublicKeyInfo.
    pub(crate) fn position(&self, spki_der: &[u8]) -> Option<usize> {
        self.keys.iter().position(|k| k.spki_der == spki_der)
    }

    /// Index of the trusted key configured from the certificate whose base64 text is exactly
    /// `text` (a byte-for-byte comparison: equal text is the same DER, hence the same key as
    /// [`Self::position`] would find after decoding and unwrapping it).
    pub(crate) fn position_by_certificate_b64(&self, text: &str) -> Option<usize> {
        self.keys
            .iter()
            .position(|k| k.certificates_b64.iter().any(|c| c == text))
    }

    /// Verifies a detached signature value `signature` over arbitrary octets `data` with any
    /// trusted key fitting `alg`; returns the index (insertion order) of the key that verified.
    /// For the SAML HTTP-Redirect binding (SAML bindings 2.0 §3.4.4.1). The caller checks `alg`
    /// against its [`crate::AllowedAlgorithms`] first ([`crate::AllowedAlgorithms::allows_signature`]).
    ///
    /// # Errors
    /// `NoTrustedKey` when no trusted key fits `alg`, `SignatureInvalid` when none verifies.
    pub fn verify_raw(
        &self,
        alg: SignatureAlgorithm,
        data: &[u8],
        signature: &[u8],
    ) -> Result<usize> {
        self.verify(None, alg, data, signature)
    }

    /// Verifies `sig` over `data` with key `index` (or every key when `None`); returns the index
    /// of the key that verified.
    pub(crate) fn verify(
        &self,
        index: Option<usize>,
        alg: SignatureAlgorithm,
        data: &[u8],
        sig: &[u8],
    ) -> Result<usize> {
        let mut any_fit = false;
        for (i, key) in self.keys.iter().enumerate() {
            if index.is_some_and(|want| want != i) {
                continue;
            }
            if let Some((_, parsed)) = key.verifiers.iter().find(|(a, _)| *a == alg) {
                any_fit = true;
                if parsed.verify_sig(data, sig).is_ok() {
                    return Ok(i);
                }
            }
        }
        Err(if any_fit {
            XmlSecError::SignatureInvalid
        } else {
            XmlSecError::NoTrustedKey
        })
    }
}

/// A recipient's RSA public key for XML-Enc key transport, with its certificate for KeyInfo.
pub struct EncryptionRecipient {
    pub(crate) key: OaepPublicEncryptingKey,
    pub(crate) cert_b64: Option<String>,
}

impl std::fmt::Debug for EncryptionRecipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptionRecipient")
            .finish_non_exhaustive()
    }
}

impl EncryptionRecipient {
    /// From the recipient's DER certificate (an SP's encryption certificate from metadata).
    ///
    /// # Errors
    /// `InvalidKey` unless the certificate carries an RSA key.
    pub fn from_certificate_der(cert_der: &[u8]) -> Result<Self> {
        let spki = certificate_spki(cert_der)?;
        if spki.kind != KeyKind::Rsa {
            return Err(XmlSecError::InvalidKey("encryption certificate is not RSA"));
        }
        let public = PublicEncryptingKey::from_der(&spki.der)
            .map_err(|_| XmlSecError::InvalidKey("RSA public key"))?;
        let key = OaepPublicEncryptingKey::new(public)
            .map_err(|_| XmlSecError::InvalidKey("RSA public key"))?;
        Ok(Self {
            key,
            cert_b64: Some(B64.encode(cert_der)),
        })
    }

    /// From a PEM certificate.
    ///
    /// # Errors
    /// `InvalidKey`.
    pub fn from_certificate_pem(pem: &str) -> Result<Self> {
        Self::from_certificate_der(&pem_decode(pem, "CERTIFICATE")?)
    }
}

/// Our RSA private key for XML-Enc key transport.
pub struct DecryptionKey {
    pub(crate) key: OaepPrivateDecryptingKey,
}

impl std::fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecryptionKey").finish_non_exhaustive()
    }
}

impl DecryptionKey {
    /// From a PKCS#8 DER RSA private key.
    ///
    /// # Errors
    /// `InvalidKey`.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let private = PrivateDecryptingKey::from_pkcs8(der)
            .map_err(|_| XmlSecError::InvalidKey("RSA private key"))?;
        let key = OaepPrivateDecryptingKey::new(private)
            .map_err(|_| XmlSecError::InvalidKey("RSA private key"))?;
        Ok(Self { key })
    }

    /// From a PEM `PRIVATE KEY` (PKCS#8).
    ///
    /// # Errors
    /// `InvalidKey`.
    pub fn from_pem(pem: &str) -> Result<Self> {
        Self::from_pkcs8_der(&pem_decode(pem, "PRIVATE KEY")?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const RSA_KEY: &str = include_str!("../testdata/keys/rsa.key.pem");
    const RSA_CERT: &str = include_str!("../testdata/keys/rsa.cert.pem");
    const RSA2_KEY: &str = include_str!("../testdata/keys/rsa2.key.pem");
    const RSA2_CERT: &str = include_str!("../testdata/keys/rsa2.cert.pem");
    const EC_KEY: &str = include_str!("../testdata/keys/ec.key.pem");
    const EC_CERT: &str = include_str!("../testdata/keys/ec.cert.pem");

    fn trusted(certs: &[&str]) -> TrustedKeys {
        let mut keys = TrustedKeys::new();
        for cert in certs {
            keys.add_certificate_pem(cert).unwrap();
        }
        keys
    }

    #[test]
    fn raw_signatures_round_trip_per_algorithm() {
        let rsa = SigningKey::from_pem(RSA_KEY, RSA_CERT).unwrap();
        let ec = SigningKey::from_pem(EC_KEY, EC_CERT).unwrap();
        let keys = trusted(&[RSA2_CERT, RSA_CERT, EC_CERT]);
        let data = b"SAMLRequest=abc&RelayState=xyz&SigAlg=alg";
        for (key, alg, index) in [
            (&rsa, SignatureAlgorithm::RsaSha256, 1),
            (&rsa, SignatureAlgorithm::RsaSha1, 1),
            (&rsa, SignatureAlgorithm::RsaSha512, 1),
            (&ec, SignatureAlgorithm::EcdsaSha256, 2),
        ] {
            let sig = key.sign_raw(alg, data).unwrap();
            assert_eq!(keys.verify_raw(alg, data, &sig), Ok(index), "{alg:?}");
            let mut other = data.to_vec();
            other.push(b'x');
            assert_eq!(
                keys.verify_raw(alg, &other, &sig),
                Err(XmlSecError::SignatureInvalid),
                "{alg:?} over changed data"
            );
        }
    }

    #[test]
    fn allow_lists_answer_for_detached_signatures() {
        use crate::algorithms::AllowedAlgorithms;
        let default = AllowedAlgorithms::default();
        assert!(default.allows_signature(SignatureAlgorithm::RsaSha256));
        assert!(!default.allows_signature(SignatureAlgorithm::RsaSha1));
        assert!(
            default
                .with_sha1()
                .allows_signature(SignatureAlgorithm::RsaSha1)
        );
    }

    #[test]
    fn raw_verification_refuses_untrusted_and_mismatched_keys() {
        let untrusted = SigningKey::from_pem(RSA2_KEY, RSA2_CERT).unwrap();
        let keys = trusted(&[RSA_CERT]);
        let sig = untrusted
            .sign_raw(SignatureAlgorithm::RsaSha256, b"data")
            .unwrap();
        assert_eq!(
            keys.verify_raw(SignatureAlgorithm::RsaSha256, b"data", &sig),
            Err(XmlSecError::SignatureInvalid)
        );
        // An RSA signature presented as ECDSA: no trusted key fits the algorithm.
        assert_eq!(
            keys.verify_raw(SignatureAlgorithm::EcdsaSha256, b"data", &sig),
            Err(XmlSecError::NoTrustedKey)
        );
        assert_eq!(
            TrustedKeys::new().verify_raw(SignatureAlgorithm::RsaSha256, b"data", &sig),
            Err(XmlSecError::NoTrustedKey)
        );
    }

    #[test]
    fn raw_signing_refuses_algorithms_the_key_cannot_do() {
        let ec = SigningKey::from_pem(EC_KEY, EC_CERT).unwrap();
        let rsa = SigningKey::from_pem(RSA_KEY, RSA_CERT).unwrap();
        assert_eq!(
            ec.sign_raw(SignatureAlgorithm::RsaSha256, b"d")
                .err()
                .map(|e| e.rule()),
            Some("invalid-key")
        );
        assert_eq!(
            rsa.sign_raw(SignatureAlgorithm::EcdsaSha256, b"d")
                .err()
                .map(|e| e.rule()),
            Some("invalid-key")
        );
        assert_eq!(
            ec.sign_raw(SignatureAlgorithm::RsaSha1, b"d")
                .err()
                .map(|e| e.rule()),
            Some("invalid-key")
        );
    }

    /// RSA-SHA1 goes through `sesame-rsa-sha1`; the signature is PKCS#1 v1.5 over SHA-1 of the
    /// data, checked by aws-lc-rs's own RSA-SHA1 verifier, and no other digest verifies it.
    #[test]
    fn rsa_sha1_signatures_are_made_and_verify_only_as_sha1() {
        let rsa = SigningKey::from_pem(RSA_KEY, RSA_CERT).unwrap();
        assert!(matches!(&rsa.inner, SignerInner::Rsa { sha1: Some(_), .. }));
        let keys = trusted(&[RSA_CERT]);
        let data =
            b"SAMLResponse=abc&SigAlg=http%3A%2F%2Fwww.w3.org%2F2000%2F09%2Fxmldsig%23rsa-sha1";
        let sig = rsa.sign_raw(SignatureAlgorithm::RsaSha1, data).unwrap();
        assert_eq!(sig.len(), 256);
        // PKCS#1 v1.5 is deterministic.
        assert_eq!(
            rsa.sign_raw(SignatureAlgorithm::RsaSha1, data).unwrap(),
            sig
        );
        assert_eq!(
            keys.verify_raw(SignatureAlgorithm::RsaSha1, data, &sig),
            Ok(0)
        );
        for other in [SignatureAlgorithm::RsaSha256, SignatureAlgorithm::RsaSha512] {
            assert_eq!(
                keys.verify_raw(other, data, &sig),
                Err(XmlSecError::SignatureInvalid),
                "{other:?}"
            );
        }
    }

    /// A PKCS#1 `RSA PRIVATE KEY` signs every RSA algorithm too (wrapped in PKCS#8 for the
    /// RSA-SHA1 signer), with the same signatures as the PKCS#8 form of the key.
    #[test]
    fn pkcs1_keys_sign_every_rsa_algorithm() {
        let pkcs1 = include_str!("../testdata/keys/rsa.pkcs1.key.pem");
        assert!(pkcs1.contains("BEGIN RSA PRIVATE KEY"));
        let from_pkcs1 = SigningKey::from_pem(pkcs1, RSA_CERT).unwrap();
        let from_pkcs8 = SigningKey::from_pem(RSA_KEY, RSA_CERT).unwrap();
        let keys = trusted(&[RSA_CERT]);
        for alg in [
            SignatureAlgorithm::RsaSha1,
            SignatureAlgorithm::RsaSha256,
            SignatureAlgorithm::RsaSha512,
        ] {
            let sig = from_pkcs1.sign_raw(alg, b"data").unwrap();
            assert_eq!(sig, from_pkcs8.sign_raw(alg, b"data").unwrap(), "{alg:?}");
            assert_eq!(keys.verify_raw(alg, b"data", &sig), Ok(0), "{alg:?}");
        }
    }

    #[test]
    fn pkcs1_wrapping_is_the_pkcs8_der_openssl_writes() {
        let pkcs1 = pem_decode(
            include_str!("../testdata/keys/rsa.pkcs1.key.pem"),
            "RSA PRIVATE KEY",
        )
        .unwrap();
        let pkcs8 = pem_decode(RSA_KEY, "PRIVATE KEY").unwrap();
        assert_eq!(pkcs1_to_pkcs8(&pkcs1), pkcs8);
        // Short contents use the one-byte length form.
        assert_eq!(
            pkcs1_to_pkcs8(&[0xAA]),
            [
                0x30, 0x15, 0x02, 0x01, 0x00, 0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7,
                0x0D, 0x01, 0x01, 0x01, 0x05, 0x00, 0x04, 0x01, 0xAA
            ]
        );
    }
}
