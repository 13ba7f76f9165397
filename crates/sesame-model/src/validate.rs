//! Validation rules for directory values, shared by the API, the CLI import and SCIM.

use crate::UserId;
use base64_light::encode_standard;

/// Longest immutableId the directory accepts (DIR-2).
pub const IMMUTABLE_ID_MAX: usize = 64;
/// Longest UPN accepted: 113 characters in Entra (64 before the `@`, 48 after).
pub const UPN_MAX: usize = 113;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidValue {
    #[error("userPrincipalName must look like name@domain.example (got {0:?})")]
    Upn(String),
    #[error("immutableId must be 1 to 64 printable characters")]
    ImmutableId,
    #[error("domain name {0:?} is not a valid DNS name")]
    DomainName(String),
    #[error("{field} must be between 1 and {max} characters")]
    Length { field: &'static str, max: usize },
}

/// The default immutableId: base64 of the object id's 16 bytes (DIR-2).
pub fn default_immutable_id(id: UserId) -> String {
    encode_standard(id.0.as_bytes())
}

/// Normalises and checks a UPN: `local@domain`, local part of e-mail-safe characters, a valid
/// domain. Returns the lower-cased form used for uniqueness.
pub fn normalize_upn(upn: &str) -> Result<String, InvalidValue> {
    let bad = || InvalidValue::Upn(upn.chars().take(120).collect());
    let upn = upn.trim();
    if upn.is_empty() || upn.len() > UPN_MAX {
        return Err(bad());
    }
    let (local, domain) = upn.split_once('@').ok_or_else(bad)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    if !local_ok {
        return Err(bad());
    }
    let domain = normalize_domain(domain).map_err(|_| bad())?;
    Ok(format!("{}@{}", local.to_ascii_lowercase(), domain))
}

/// Normalises and checks a DNS domain name: lower-case, at least two labels, LDH labels.
pub fn normalize_domain(name: &str) -> Result<String, InvalidValue> {
    let lower = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let bad = || InvalidValue::DomainName(name.chars().take(260).collect());
    if lower.is_empty() || lower.len() > 253 {
        return Err(bad());
    }
    let labels: Vec<&str> = lower.split('.').collect();
    if labels.len() < 2 {
        return Err(bad());
    }
    for label in &labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !ok {
            return Err(bad());
        }
    }
    Ok(lower)
}

pub fn check_immutable_id(value: &str) -> Result<(), InvalidValue> {
    let ok = !value.is_empty()
        && value.chars().count() <= IMMUTABLE_ID_MAX
        && value.chars().all(|c| !c.is_control());
    if ok {
        Ok(())
    } else {
        Err(InvalidValue::ImmutableId)
    }
}

/// Checks a free-text display value (names, descriptions) for length and control characters.
pub fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), InvalidValue> {
    let n = value.chars().count();
    if n == 0 || n > max || value.chars().any(|c| c.is_control()) {
        return Err(InvalidValue::Length { field, max });
    }
    Ok(())
}

/// A dependency-free standard base64 encoder, so the model crate stays small.
mod base64_light {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode_standard(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for (i, shift) in [18u32, 12, 6, 0].iter().enumerate() {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn upn_cases() {
        let cases: &[(&str, Option<&str>)] = &[
            ("Alice@Contoso.COM", Some("alice@contoso.com")),
            ("a.b+c@x.example", Some("a.b+c@x.example")),
            ("  bob@x.example ", Some("bob@x.example")),
            ("nodomain", None),
            ("@x.example", None),
            ("a@b", None),
            ("a..b@x.example", None),
            (".a@x.example", None),
            ("a b@x.example", None),
            ("a@-x.example", None),
            ("a@x..example", None),
            ("a@@x.example", None),
            ("é@x.example", None),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_upn(input).ok().as_deref(), *expected, "{input}");
        }
    }

    #[test]
    fn immutable_id_default_is_base64_of_id() {
        let id = UserId(Uuid::from_bytes([0u8; 16]));
        assert_eq!(default_immutable_id(id), "AAAAAAAAAAAAAAAAAAAAAA==");
        let id = UserId(Uuid::from_bytes([0xff; 16]));
        assert_eq!(default_immutable_id(id), "/////////////////////w==");
    }

    #[test]
    fn immutable_id_bounds() {
        assert!(check_immutable_id("x").is_ok());
        assert!(check_immutable_id(&"x".repeat(64)).is_ok());
        assert!(check_immutable_id(&"x".repeat(65)).is_err());
        assert!(check_immutable_id("").is_err());
        assert!(check_immutable_id("a\nb").is_err());
    }
}
