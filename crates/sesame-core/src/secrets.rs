//! Random secrets and their digests. Tokens and session ids are 256-bit random values handed
//! out once; only their SHA-256 digest is stored, and digests are compared in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A new 256-bit secret, URL-safe base64 without padding, behind `prefix` (e.g. `sesame_`).
pub fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Lower-case hex SHA-256 of the secret: what the store keeps.
pub fn digest(secret: &str) -> String {
    let d = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in d {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Constant-time equality of two secrets or digests.
pub fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A short random value for DNS verification tokens and CSRF tokens (128 bits).
pub fn new_short_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A SAML SessionIndex: 128 bits from the thread's CSPRNG (seeded from the OS, no system call
/// per value), hex behind `_` (an xs:ID-like token).
pub fn new_session_index() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    let mut out = String::with_capacity(33);
    out.push('_');
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_prefixed() {
        let a = new_token("sesame_");
        let b = new_token("sesame_");
        assert!(a.starts_with("sesame_"));
        assert_ne!(a, b);
        assert_eq!(a.len(), "sesame_".len() + 43);
    }

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(equal(&digest("x"), &digest("x")));
        assert!(!equal(&digest("x"), &digest("y")));
        assert!(!equal("a", "ab"));
    }
}
