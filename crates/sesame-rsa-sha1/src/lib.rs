//! # sesame-rsa-sha1: RSA PKCS#1 v1.5 signing with SHA-1, and nothing else
//!
//! **Why this crate exists**: a SAML IdP must sign with RSA-SHA1 when a legacy SP asks for it
//! (requirement SAML-IDP-4, "RSA-SHA1 on request", and WS-Federation peers), but aws-lc-rs offers
//! RSA-SHA1 for *verification* only. RustCrypto's `rsa` crate is ruled out (RUSTSEC-2023-0071:
//! its private-key operations are not constant-time). So this crate reaches the one missing
//! operation — `EVP_DigestSign` with `EVP_sha1()` and PKCS#1 v1.5 padding — through aws-lc's C
//! API in `aws-lc-sys`, the very aws-lc that aws-lc-rs links: one copy, one version
//! (`tests/one_aws_lc.rs` fails when Cargo.lock holds two).
//!
//! **Owns**: [`Sha1RsaSigner`], built once from a PKCS#8 RSA private key (2048–8192 bits) and
//! reused for every signature.
//!
//! **Must stay tiny**: this is the only Sésame crate with `unsafe` code. Every unsafe block holds
//! one FFI call and a `// SAFETY:` comment (clippy enforces both). Do not add algorithms,
//! verification, key generation, other key formats or anything aws-lc-rs already does safely —
//! RSA-SHA1 *verification* stays in aws-lc-rs. Depends on no Sésame crate; `sesame-xmlsec` (and
//! through it the protocol crates) uses it.

use std::fmt;
use std::ptr::{self, NonNull};

use aws_lc_sys as ffi;

/// Smallest modulus accepted, as for every other RSA key in Sésame.
const MIN_BITS: u32 = 2048;
/// Largest modulus accepted (the bound aws-lc-rs applies to RSA verification keys).
const MAX_BITS: u32 = 8192;

/// Why a key was refused or a signature could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The input is not one DER PKCS#8 PrivateKeyInfo (or has bytes after it).
    MalformedKey,
    /// The key is not an `rsaEncryption` key (EC, RSA-PSS, …).
    NotRsa,
    /// The modulus is outside 2048–8192 bits.
    KeySize {
        /// The key's modulus size.
        bits: u32,
    },
    /// aws-lc failed to sign (allocation or internal failure).
    Signing,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedKey => f.write_str("not a DER PKCS#8 private key"),
            Self::NotRsa => f.write_str("not an RSA (rsaEncryption) private key"),
            Self::KeySize { bits } => {
                write!(
                    f,
                    "RSA key of {bits} bits; {MIN_BITS} to {MAX_BITS} are accepted"
                )
            }
            Self::Signing => f.write_str("RSA-SHA1 signing failed"),
        }
    }
}

impl std::error::Error for Error {}

/// An RSA private key ready to make RSA PKCS#1 v1.5 signatures with SHA-1
/// (`http://www.w3.org/2000/09/xmldsig#rsa-sha1`, `sha1WithRSAEncryption`).
///
/// Parsed once, shared freely between threads; each [`Sha1RsaSigner::sign`] uses a fresh digest
/// context.
pub struct Sha1RsaSigner {
    /// Owned: one reference, released in `Drop`.
    pkey: NonNull<ffi::EVP_PKEY>,
    bits: u32,
    signature_len: usize,
}

// SAFETY: `Sha1RsaSigner` owns its `EVP_PKEY` (no other Rust value refers to it) and exposes it
// only through `&self` methods that never mutate it from Rust. aws-lc's `EVP_PKEY` is safe to use
// from several threads at once for signing: `EVP_DigestSignInit` only takes a new reference
// (an atomic reference count) into a per-call `EVP_PKEY_CTX`, and the RSA private-key operation
// guards its lazily built caches (Montgomery contexts, blinding) with the RSA object's own lock.
// aws-lc-rs relies on the same guarantee for its `Send + Sync` `RsaKeyPair`, which wraps the same
// `EVP_PKEY` type. Freeing happens once, in `Drop`, which has exclusive access.
unsafe impl Send for Sha1RsaSigner {}
// SAFETY: see the `Send` implementation above: concurrent `sign` calls share the `EVP_PKEY`
// read-only apart from aws-lc's internally synchronised reference count and caches.
unsafe impl Sync for Sha1RsaSigner {}

impl fmt::Debug for Sha1RsaSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sha1RsaSigner")
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}

impl Drop for Sha1RsaSigner {
    fn drop(&mut self) {
        // SAFETY: `self.pkey` came from `EVP_parse_private_key`, which returned one reference that
        // this value owns; `drop` runs once, and nothing uses the pointer afterwards.
        unsafe { ffi::EVP_PKEY_free(self.pkey.as_ptr()) };
    }
}

impl Sha1RsaSigner {
    /// Parses a DER PKCS#8 `PrivateKeyInfo` holding an `rsaEncryption` key of 2048 to 8192 bits.
    ///
    /// # Errors
    /// [`Error::MalformedKey`] when the bytes are not exactly one PKCS#8 structure (aws-lc also
    /// checks the RSA key's consistency while parsing), [`Error::NotRsa`] for any other key type
    /// (RSA-PSS keys included), [`Error::KeySize`] outside 2048–8192 bits.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Error> {
        let mut cbs = ffi::CBS {
            data: ptr::null(),
            len: 0,
        };
        // SAFETY: `CBS_init` only records the pointer and length of `der`, which is alive and
        // unmodified for as long as `cbs` is used (this function).
        unsafe { ffi::CBS_init(&mut cbs, der.as_ptr(), der.len()) };
        // SAFETY: `cbs` describes `der` (see above); aws-lc reads only within it, advances `cbs`
        // past the parsed element, and returns a new `EVP_PKEY` owned by the caller, or null.
        let parsed = unsafe { ffi::EVP_parse_private_key(&mut cbs) };
        let Some(pkey) = NonNull::new(parsed) else {
            clear_errors();
            return Err(Error::MalformedKey);
        };
        // Owned from here on: every early return below frees the key through `Drop`.
        let mut signer = Self {
            pkey,
            bits: 0,
            signature_len: 0,
        };
        // SAFETY: `cbs` is still valid (see above); `CBS_len` only reads it.
        let trailing = unsafe { ffi::CBS_len(&cbs) };
        if trailing != 0 {
            return Err(Error::MalformedKey);
        }
        // SAFETY: `signer.pkey` is a valid `EVP_PKEY` we own; `EVP_PKEY_id` only reads it.
        let id = unsafe { ffi::EVP_PKEY_id(signer.pkey.as_ptr()) };
        if id != ffi::EVP_PKEY_RSA {
            return Err(Error::NotRsa);
        }
        // SAFETY: as above; `EVP_PKEY_bits` only reads the key.
        let bits = unsafe { ffi::EVP_PKEY_bits(signer.pkey.as_ptr()) };
        let bits = u32::try_from(bits).map_err(|_| Error::MalformedKey)?;
        if !(MIN_BITS..=MAX_BITS).contains(&bits) {
            return Err(Error::KeySize { bits });
        }
        // SAFETY: as above; `EVP_PKEY_size` only reads the key (the modulus length in bytes).
        let size = unsafe { ffi::EVP_PKEY_size(signer.pkey.as_ptr()) };
        signer.signature_len = usize::try_from(size).map_err(|_| Error::MalformedKey)?;
        signer.bits = bits;
        Ok(signer)
    }

    /// The modulus size in bits.
    #[must_use]
    pub fn modulus_bits(&self) -> u32 {
        self.bits
    }

    /// The length of every signature, in bytes (the modulus length).
    #[must_use]
    pub fn signature_len(&self) -> usize {
        self.signature_len
    }

    /// Signs `message`: SHA-1 digest, PKCS#1 v1.5 padding (RFC 8017 §8.2), raw signature value of
    /// [`Self::signature_len`] bytes. Deterministic: the same key and message give the same bytes.
    ///
    /// # Errors
    /// [`Error::Signing`] when aws-lc fails (memory allocation, internal error).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let ctx = MdCtx::new()?;
        // SAFETY: `EVP_sha1` has no preconditions and returns a pointer to a static `EVP_MD`.
        let sha1 = unsafe { ffi::EVP_sha1() };
        let mut pctx: *mut ffi::EVP_PKEY_CTX = ptr::null_mut();
        // SAFETY: `ctx` is a fresh, owned `EVP_MD_CTX`; `sha1` is static; no engine; `self.pkey`
        // is a valid key that aws-lc does not modify beyond taking its own (atomic) reference for
        // the `EVP_PKEY_CTX` it stores in `pctx`, which `ctx` owns and frees.
        let init = unsafe {
            ffi::EVP_DigestSignInit(
                ctx.as_ptr(),
                &mut pctx,
                sha1,
                ptr::null_mut(),
                self.pkey.as_ptr(),
            )
        };
        if init != 1 || pctx.is_null() {
            return Err(signing_failed());
        }
        // PKCS#1 v1.5 is aws-lc's default for RSA keys; set it anyway so no default can change it.
        // SAFETY: `pctx` is the non-null `EVP_PKEY_CTX` just created inside `ctx`, alive as long
        // as `ctx`.
        let padded = unsafe { ffi::EVP_PKEY_CTX_set_rsa_padding(pctx, ffi::RSA_PKCS1_PADDING) };
        if padded != 1 {
            return Err(signing_failed());
        }
        let mut signature = vec![0u8; self.signature_len];
        let mut written = signature.len();
        // SAFETY: `ctx` is initialised for signing (above); `signature` is writable for `written`
        // bytes, which is `EVP_PKEY_size`, the most aws-lc writes; `message` is readable for
        // `message.len()` bytes (a dangling but non-null pointer when empty, never read).
        let signed = unsafe {
            ffi::EVP_DigestSign(
                ctx.as_ptr(),
                signature.as_mut_ptr(),
                &mut written,
                message.as_ptr(),
                message.len(),
            )
        };
        if signed != 1 || written != self.signature_len {
            return Err(signing_failed());
        }
        Ok(signature)
    }
}

/// An owned `EVP_MD_CTX`, freed (with the `EVP_PKEY_CTX` it holds) on drop.
struct MdCtx(NonNull<ffi::EVP_MD_CTX>);

impl MdCtx {
    fn new() -> Result<Self, Error> {
        // SAFETY: `EVP_MD_CTX_new` has no preconditions; it returns an owned context or null.
        let raw = unsafe { ffi::EVP_MD_CTX_new() };
        NonNull::new(raw).map(Self).ok_or_else(signing_failed)
    }

    fn as_ptr(&self) -> *mut ffi::EVP_MD_CTX {
        self.0.as_ptr()
    }
}

impl Drop for MdCtx {
    fn drop(&mut self) {
        // SAFETY: the context is owned by this value and freed exactly once, here.
        unsafe { ffi::EVP_MD_CTX_free(self.0.as_ptr()) };
    }
}

/// Clears aws-lc's error queue for this thread (so a failure here leaves nothing behind for the
/// next aws-lc-rs call to trip over) and returns [`Error::Signing`].
fn signing_failed() -> Error {
    clear_errors();
    Error::Signing
}

fn clear_errors() {
    // SAFETY: `ERR_clear_error` has no preconditions; it empties the calling thread's queue.
    unsafe { ffi::ERR_clear_error() };
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{
        RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey,
    };
    use std::sync::Arc;

    const KEY: &[u8] = include_bytes!("../testdata/rsa2048.pk8.der");
    const SPKI: &[u8] = include_bytes!("../testdata/rsa2048.spki.der");
    const MESSAGE: &[u8] = include_bytes!("../testdata/message.txt");
    /// `openssl dgst -sha1 -sign rsa2048.pk8.der -keyform DER message.txt`.
    const OPENSSL_SIGNATURE: &[u8] = include_bytes!("../testdata/rsa2048.message.sha1.sig");

    fn verify_sha1(message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, SPKI)
            .verify(message, signature)
            .is_ok()
    }

    #[test]
    fn signature_equals_openssl_known_answer() {
        let signer = Sha1RsaSigner::from_pkcs8_der(KEY).unwrap();
        assert_eq!(signer.modulus_bits(), 2048);
        assert_eq!(signer.signature_len(), 256);
        let signature = signer.sign(MESSAGE).unwrap();
        assert_eq!(signature, OPENSSL_SIGNATURE);
        // Deterministic, and the context is not reused between calls.
        assert_eq!(signer.sign(MESSAGE).unwrap(), signature);
    }

    #[test]
    fn aws_lc_rs_verifies_as_rsa_sha1_only() {
        let signer = Sha1RsaSigner::from_pkcs8_der(KEY).unwrap();
        for message in [&b""[..], b"a", MESSAGE, &[0u8; 100_000][..]] {
            let signature = signer.sign(message).unwrap();
            assert!(verify_sha1(message, &signature), "{} bytes", message.len());
        }
        let signature = signer.sign(MESSAGE).unwrap();
        let mut changed = MESSAGE.to_vec();
        changed.push(b'x');
        assert!(!verify_sha1(&changed, &signature));
        // The digest really is SHA-1: the same signature is not RSA-SHA256.
        assert!(
            UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, SPKI)
                .verify(MESSAGE, &signature)
                .is_err()
        );
    }

    #[test]
    fn refuses_keys_that_are_not_pkcs8_rsa_2048_to_8192() {
        let small = include_bytes!("../testdata/rsa1024.pk8.der");
        let ec = include_bytes!("../testdata/p256.pk8.der");
        let pss = include_bytes!("../testdata/rsapss2048.pk8.der");
        let from = |der: &[u8]| Sha1RsaSigner::from_pkcs8_der(der).err();
        assert_eq!(from(small), Some(Error::KeySize { bits: 1024 }));
        assert_eq!(from(ec), Some(Error::NotRsa));
        assert_eq!(from(pss), Some(Error::NotRsa));
        assert_eq!(from(b""), Some(Error::MalformedKey));
        assert_eq!(from(b"not DER"), Some(Error::MalformedKey));
        assert_eq!(from(&KEY[..KEY.len() - 1]), Some(Error::MalformedKey));
        let mut trailing = KEY.to_vec();
        trailing.push(0);
        assert_eq!(from(&trailing), Some(Error::MalformedKey));
        // PKCS#1 `RSAPrivateKey` is not PKCS#8; the public key alone is no private key.
        let pkcs1 = include_bytes!("../testdata/rsa2048.pkcs1.der");
        assert_eq!(from(pkcs1), Some(Error::MalformedKey));
        assert_eq!(from(SPKI), Some(Error::MalformedKey));
        // Errors display without key material.
        assert_eq!(
            Error::KeySize { bits: 1024 }.to_string(),
            "RSA key of 1024 bits; 2048 to 8192 are accepted"
        );
    }

    #[test]
    fn one_signer_signs_from_many_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Sha1RsaSigner>();
        let signer = Arc::new(Sha1RsaSigner::from_pkcs8_der(KEY).unwrap());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let signer = Arc::clone(&signer);
                std::thread::spawn(move || {
                    (0..20)
                        .map(|_| signer.sign(MESSAGE).unwrap())
                        .all(|s| s == OPENSSL_SIGNATURE)
                })
            })
            .collect();
        for t in threads {
            assert!(t.join().unwrap());
        }
    }

    #[test]
    fn debug_shows_no_key_material() {
        let signer = Sha1RsaSigner::from_pkcs8_der(KEY).unwrap();
        assert_eq!(format!("{signer:?}"), "Sha1RsaSigner { bits: 2048, .. }");
    }
}
