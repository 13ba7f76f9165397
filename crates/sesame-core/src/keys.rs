//! Keys at rest: the master key that seals private keys (AES-256-GCM), and the generation of
//! applications' self-signed SAML signing certificates (RSA-2048, three years).

use crate::{CoreError, CoreResult};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use time::{Duration, OffsetDateTime};

/// The installation's master key. Anything sealed with it is bound to an associated label, so
/// a sealed value cannot be moved to another record.
pub struct MasterKey {
    aead: LessSafeKey,
    /// Derives per-application pseudonyms (pairwise NameIDs) that only this installation can compute.
    pairwise: aws_lc_rs::hmac::Key,
}

/// Prefix of sealed values: a format version, so keys can rotate later.
const SEALED_V1: u8 = 1;

impl MasterKey {
    pub fn from_bytes(bytes: &[u8]) -> CoreResult<Self> {
        if bytes.len() != 32 {
            return Err(CoreError::invalid("master key", "must be 32 bytes"));
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| CoreError::Internal("master key rejected by AES-256-GCM".into()))?;
        let pairwise = aws_lc_rs::hmac::Key::new(
            aws_lc_rs::hmac::HMAC_SHA256,
            &[b"pairwise".as_slice(), bytes].concat(),
        );
        Ok(MasterKey {
            aead: LessSafeKey::new(key),
            pairwise,
        })
    }

    /// 32 fresh random bytes for a new master key.
    pub fn generate_bytes() -> CoreResult<[u8; 32]> {
        let mut b = [0u8; 32];
        SystemRandom::new()
            .fill(&mut b)
            .map_err(|_| CoreError::Internal("no randomness for the master key".into()))?;
        Ok(b)
    }

    /// `version || nonce || ciphertext+tag`.
    pub fn seal(&self, label: &str, plaintext: &[u8]) -> CoreResult<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| CoreError::Internal("no randomness for a nonce".into()))?;
        let mut data = plaintext.to_vec();
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(label.as_bytes()),
                &mut data,
            )
            .map_err(|_| CoreError::Internal("sealing failed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + data.len());
        out.push(SEALED_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&data);
        Ok(out)
    }

    pub fn open(&self, label: &str, sealed: &[u8]) -> CoreResult<Vec<u8>> {
        let bad = || {
            CoreError::Internal("a sealed secret could not be opened (wrong master key?)".into())
        };
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != SEALED_V1 {
            return Err(bad());
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&sealed[1..1 + NONCE_LEN]);
        let mut data = sealed[1 + NONCE_LEN..].to_vec();
        let plain = self
            .aead
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(label.as_bytes()),
                &mut data,
            )
            .map_err(|_| bad())?;
        Ok(plain.to_vec())
    }
}

impl MasterKey {
    /// A stable pseudonym of `subject` for `audience`: HMAC-SHA256 under a key derived from the
    /// master key, base64url. The same user gets the same value in one app and unlinkable
    /// values across apps.
    pub fn pairwise(&self, audience: &str, subject: &str) -> String {
        use base64::Engine;
        let tag =
            aws_lc_rs::hmac::sign(&self.pairwise, format!("{audience}\n{subject}").as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
    }
}

/// A freshly generated key pair and its self-signed certificate.
pub struct GeneratedCertificate {
    pub certificate_der: Vec<u8>,
    pub private_key_pkcs8: Vec<u8>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

/// RSA-2048 self-signed certificate for SAML signing, valid three years from `now`, with the
/// subject `CN=<common_name>` (Entra uses `CN=Microsoft Azure Federated SSO Certificate`).
pub fn generate_signing_certificate(
    common_name: &str,
    now: OffsetDateTime,
) -> CoreResult<GeneratedCertificate> {
    let internal = |e: rcgen::Error| CoreError::Internal(format!("certificate generation: {e}"));
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .map_err(internal)?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(internal)?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, common_name);
    params.distinguished_name = dn;
    // Whole seconds: X.509 times have no fractions.
    let not_before = now.replace_nanosecond(0).unwrap_or(now) - Duration::minutes(5);
    let not_after = not_before + Duration::days(3 * 365);
    params.not_before = not_before;
    params.not_after = not_after;
    let mut serial = [0u8; 16];
    SystemRandom::new()
        .fill(&mut serial)
        .map_err(|_| CoreError::Internal("no randomness for a serial".into()))?;
    serial[0] &= 0x7f;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let cert = params.self_signed(&key).map_err(internal)?;
    Ok(GeneratedCertificate {
        certificate_der: cert.der().to_vec(),
        private_key_pkcs8: key.serialize_der(),
        not_before,
        not_after,
    })
}

/// SHA-1 thumbprint of a DER certificate, upper-case hex (how Entra and AD FS show it).
pub fn thumbprint(der: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    d.as_ref().iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_label_binding() {
        let key = MasterKey::from_bytes(&[7u8; 32]).unwrap();
        let sealed = key.seal("app/1", b"secret").unwrap();
        assert_eq!(key.open("app/1", &sealed).unwrap(), b"secret");
        assert!(key.open("app/2", &sealed).is_err(), "bound to its label");
        let other = MasterKey::from_bytes(&[8u8; 32]).unwrap();
        assert!(other.open("app/1", &sealed).is_err(), "wrong key");
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(key.open("app/1", &tampered).is_err());
        assert!(key.open("app/1", &[1, 2, 3]).is_err());
        assert!(MasterKey::from_bytes(&[0u8; 16]).is_err());
    }

    #[test]
    fn generated_certificate_is_three_years_rsa() {
        let now = time::macros::datetime!(2026-11-21 10:00:00.5 UTC);
        let c = generate_signing_certificate("Sésame SSO", now).unwrap();
        assert_eq!(c.not_after - c.not_before, Duration::days(1095));
        assert!(c.certificate_der.len() > 600);
        assert_eq!(thumbprint(&c.certificate_der).len(), 40);
        // The key is usable by aws-lc-rs as an RSA signing key.
        aws_lc_rs::rsa::KeyPair::from_pkcs8(&c.private_key_pkcs8).unwrap();
    }
}
