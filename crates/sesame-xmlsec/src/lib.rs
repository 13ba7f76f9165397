//! # sesame-xmlsec: Sésame's narrow XML security core
//!
//! **Owns**: strict reading of untrusted XML ([`strict`]), exclusive XML canonicalization of one
//! element ([`c14n`]), enveloped XML-DSig signing ([`sign_enveloped`]) and verification
//! ([`verify_enveloped`]) with an allow-list of algorithms and a caller-given set of trusted keys,
//! and XML-Enc encryption/decryption of one element ([`encrypt_element`], [`decrypt_element`]).
//! It is the only place in Sésame that computes or checks an XML signature.
//!
//! **Shape of the API**: the caller always says *which element* it will consume, by structure
//! ([`ElementPath`]: "the document element", "the single `Assertion` child of it"), never by ID;
//! verification returns a [`Verified`] that owns the canonical bytes of exactly that element,
//! which is all a caller may read afterwards. Errors ([`XmlSecError`]) name the rule that failed.
//!
//! **Must not touch**: I/O of any kind (no files, sockets, tokio, HTTP, database), the clock
//! (certificate expiry and SAML validity windows are the caller's business), SAML semantics
//! (Issuer, Audience, conditions live in `sesame-saml`), and `unsafe` code. Randomness comes only
//! from aws-lc-rs (nonces, session keys, OAEP seeds). Keys are parsed once into aws-lc-rs objects
//! ([`SigningKey`], [`TrustedKeys`], [`DecryptionKey`], [`EncryptionRecipient`]) and reused; the
//! one primitive aws-lc-rs lacks, RSA-SHA1 signing, comes from the tiny `sesame-rsa-sha1` crate
//! (aws-lc's C API, where the FFI `unsafe` lives), its signer also built once per key.
//!
//! **Deliberately narrow**: exclusive C14N only (no inclusive C14N, no XPath, no XSLT, no
//! external references, no `Object`, no HMAC, no manifests); one Reference per Signature;
//! RSA (2048–8192 bits) and ECDSA P-256 only.

pub mod algorithms;
pub mod c14n;
mod enc;
mod error;
mod keys;
mod select;
mod sign;
pub mod strict;
mod verify;

pub use algorithms::{
    AllowedAlgorithms, AllowedEncryption, ContentEncryption, DigestAlgorithm, KeyTransport,
    SignatureAlgorithm,
};
pub use enc::{DECRYPTED_NS, Decrypted, EncryptOptions, decrypt_element, encrypt_element};
pub use error::{Result, XmlSecError};
pub use keys::{DecryptionKey, EncryptionRecipient, KeyKind, SigningKey, TrustedKeys, pem_decode};
pub use select::ElementPath;
pub use sign::{Placement, SignOptions, sign_enveloped};
pub use strict::{Limits, element_text};
pub use verify::{
    ID_ATTRIBUTES, SignatureInfo, SignedElement, Verified, VerifyPolicy, verify_enveloped,
};
