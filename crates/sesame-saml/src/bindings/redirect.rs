//! HTTP-Redirect binding (SAML bindings 2.0 §3.4): DEFLATE + base64 + URL-encoding of the
//! message in a query string, and the detached signature over the exact query octets
//! (§3.4.4.1).

use std::io::{Read as _, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sesame_xmlsec::{AllowedAlgorithms, SignatureAlgorithm, SigningKey, TrustedKeys, XmlSecError};

use super::MessageKind;
use crate::error::{Result, SamlError};
use crate::ns;

/// Bound on the raw query string we decode (a browser URL is rarely above 8 KB).
pub const MAX_QUERY_BYTES: usize = 64 * 1024;
/// Bound on the inflated message: DEFLATE reaches ratios above 1000:1, so the compressed size
/// says nothing; we stop inflating past this many bytes.
pub const MAX_INFLATED_BYTES: usize = 256 * 1024;
/// Bound on RelayState. Bindings §3.4.3 says 80 bytes; real SPs send more (URLs), so we accept
/// up to this and no further (a length-bounded, opaque value).
pub const MAX_RELAY_STATE_BYTES: usize = 1024;

/// Unreserved characters of RFC 3986 §2.3 stay; everything else is percent-encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The Redirect binding's signature parameters, with the octets they sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectSignature {
    /// `SigAlg`, URL-decoded (an algorithm URI).
    pub sig_alg: String,
    /// `Signature`, URL- and base64-decoded.
    pub signature: Vec<u8>,
    /// `SAMLRequest=…[&RelayState=…]&SigAlg=…` built from the parameters *as they appeared in the
    /// query*, still URL-encoded (bindings §3.4.4.1): re-encoding would break signatures of
    /// senders that encode differently (lower-case hex, `+` for space…).
    pub signed_octets: String,
}

/// A decoded HTTP-Redirect message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectMessage {
    /// `SAMLRequest` or `SAMLResponse`.
    pub kind: MessageKind,
    /// The inflated message XML (unparsed, untrusted).
    pub xml: String,
    /// `RelayState`, URL-decoded, when present.
    pub relay_state: Option<String>,
    /// The signature, when the query carried one.
    pub signature: Option<RedirectSignature>,
}

/// Which key and algorithm verified a Redirect signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedirectSignatureInfo {
    /// The algorithm of `SigAlg`.
    pub algorithm: SignatureAlgorithm,
    /// Index (insertion order) of the trusted key that verified.
    pub key_index: usize,
}

#[derive(Default)]
struct Raw<'q> {
    message: Option<(MessageKind, &'q str)>,
    relay_state: Option<&'q str>,
    sig_alg: Option<&'q str>,
    signature: Option<&'q str>,
    encoding: Option<&'q str>,
}

fn set<'q>(slot: &mut Option<&'q str>, value: &'q str) -> Result<()> {
    if slot.replace(value).is_some() {
        return Err(SamlError::Binding("a parameter occurs twice in the query"));
    }
    Ok(())
}

/// URL-decodes a query value. `+` is kept for base64 values (a sender that did not encode it
/// meant `+`; base64 has no spaces) and turned into a space for text values.
fn url_decode(raw: &str, plus_is_space: bool) -> Result<String> {
    let replaced;
    let raw = if plus_is_space && raw.contains('+') {
        replaced = raw.replace('+', " ");
        replaced.as_str()
    } else {
        raw
    };
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| SamlError::Binding("query value is not UTF-8"))
}

fn b64_decode(value: &str, what: &'static str) -> Result<Vec<u8>> {
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    B64.decode(compact).map_err(|_| SamlError::Binding(what))
}

/// Raw-inflates (RFC 1951, no zlib header: bindings §3.4.4.1) at most `limit` bytes.
pub(crate) fn inflate(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len().saturating_mul(4).min(limit));
    let bound = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::DeflateDecoder::new(data)
        .take(bound)
        .read_to_end(&mut out)
        .map_err(|_| SamlError::Binding("message is not raw DEFLATE data"))?;
    if out.len() > limit {
        return Err(SamlError::InflatedTooLarge { limit });
    }
    Ok(out)
}

fn deflate(data: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = flate2::write::DeflateEncoder::new(
        Vec::with_capacity(data.len() / 2),
        flate2::Compression::default(),
    );
    encoder
        .write_all(data)
        .and_then(|()| encoder.finish())
        .map_err(|_| SamlError::Binding("DEFLATE failed"))
}

/// Decodes an HTTP-Redirect query string (without the leading `?`).
///
/// # Errors
/// `Binding` for a malformed query (duplicate or missing parameters, bad base64 or DEFLATE, a
/// signature without SigAlg), `InflatedTooLarge`, `UnsupportedBinding` for a `SAMLEncoding`
/// other than DEFLATE.
pub fn decode_redirect(query: &str) -> Result<RedirectMessage> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(SamlError::Binding("query string too long"));
    }
    let mut raw = Raw::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "SAMLRequest" | "SAMLResponse" => {
                let kind = if key == "SAMLRequest" {
                    MessageKind::Request
                } else {
                    MessageKind::Response
                };
                if raw.message.replace((kind, value)).is_some() {
                    return Err(SamlError::Binding(
                        "more than one SAMLRequest/SAMLResponse parameter",
                    ));
                }
            }
            "RelayState" => set(&mut raw.relay_state, value)?,
            "SigAlg" => set(&mut raw.sig_alg, value)?,
            "Signature" => set(&mut raw.signature, value)?,
            "SAMLEncoding" => set(&mut raw.encoding, value)?,
            // Other parameters belong to the endpoint's URL, not to the binding.
            _ => {}
        }
    }
    let (kind, message) = raw.message.ok_or(SamlError::Binding(
        "no SAMLRequest or SAMLResponse parameter",
    ))?;

    // Bindings §3.4.4: absent SAMLEncoding means DEFLATE; any other is not supported by us.
    if let Some(encoding) = raw.encoding {
        let encoding = url_decode(encoding, true)?;
        if encoding != ns::ENCODING_DEFLATE {
            return Err(SamlError::UnsupportedBinding(encoding));
        }
    }

    let compressed = b64_decode(&url_decode(message, false)?, "message is not base64")?;
    let xml = String::from_utf8(inflate(&compressed, MAX_INFLATED_BYTES)?)
        .map_err(|_| SamlError::Binding("inflated message is not UTF-8"))?;

    let relay_state = raw.relay_state.map(|r| url_decode(r, true)).transpose()?;
    if relay_state
        .as_ref()
        .is_some_and(|r| r.len() > MAX_RELAY_STATE_BYTES)
    {
        return Err(SamlError::Binding("RelayState too long"));
    }

    let signature = match (raw.signature, raw.sig_alg) {
        (None, None) => None,
        (Some(sig), Some(alg)) => {
            // Bindings §3.4.4.1: the octets are the parameters in this order, as received.
            let mut signed_octets = String::with_capacity(message.len() + 200);
            signed_octets.push_str(kind.parameter());
            signed_octets.push('=');
            signed_octets.push_str(message);
            if let Some(relay) = raw.relay_state {
                signed_octets.push_str("&RelayState=");
                signed_octets.push_str(relay);
            }
            signed_octets.push_str("&SigAlg=");
            signed_octets.push_str(alg);
            Some(RedirectSignature {
                sig_alg: url_decode(alg, true)?,
                signature: b64_decode(&url_decode(sig, false)?, "Signature is not base64")?,
                signed_octets,
            })
        }
        (Some(_), None) => return Err(SamlError::Binding("Signature without SigAlg")),
        (None, Some(_)) => return Err(SamlError::Binding("SigAlg without Signature")),
    };
    Ok(RedirectMessage {
        kind,
        xml,
        relay_state,
        signature,
    })
}

/// Verifies the Redirect binding's signature with a trusted key (bindings §3.4.4.1).
///
/// # Errors
/// `MissingSignature` when the query had none; `RedirectSignature` naming the xmlsec rule
/// (`disallowed-algorithm`, `no-trusted-key`, `signature-invalid`).
pub fn verify_redirect_signature(
    message: &RedirectMessage,
    trusted: &TrustedKeys,
    allowed: &AllowedAlgorithms,
) -> Result<RedirectSignatureInfo> {
    let sig = message
        .signature
        .as_ref()
        .ok_or(SamlError::MissingSignature)?;
    let algorithm = SignatureAlgorithm::from_uri(&sig.sig_alg)
        .filter(|a| allowed.allows_signature(*a))
        .ok_or_else(|| {
            SamlError::RedirectSignature(XmlSecError::DisallowedAlgorithm {
                role: "SigAlg",
                uri: sig.sig_alg.clone(),
            })
        })?;
    let key_index = trusted
        .verify_raw(algorithm, sig.signed_octets.as_bytes(), &sig.signature)
        .map_err(SamlError::RedirectSignature)?;
    Ok(RedirectSignatureInfo {
        algorithm,
        key_index,
    })
}

/// Encodes `xml` for the Redirect binding and returns the query string (no leading `?`),
/// signed when `sign` is given (bindings §3.4.4.1). Append it with [`append_query`].
///
/// # Errors
/// `Binding` if DEFLATE fails; `XmlSec` when the key cannot make the algorithm (an EC key with
/// an RSA algorithm, or the reverse).
pub fn encode_redirect(
    xml: &str,
    kind: MessageKind,
    relay_state: Option<&str>,
    sign: Option<(&SigningKey, SignatureAlgorithm)>,
) -> Result<String> {
    let encoded = B64.encode(deflate(xml.as_bytes())?);
    let mut query = String::with_capacity(encoded.len() * 3 / 2 + 600);
    query.push_str(kind.parameter());
    query.push('=');
    query.extend(utf8_percent_encode(&encoded, COMPONENT));
    if let Some(relay) = relay_state {
        query.push_str("&RelayState=");
        query.extend(utf8_percent_encode(relay, COMPONENT));
    }
    if let Some((key, alg)) = sign {
        query.push_str("&SigAlg=");
        query.extend(utf8_percent_encode(alg.uri(), COMPONENT));
        let signature = key.sign_raw(alg, query.as_bytes())?;
        query.push_str("&Signature=");
        query.extend(utf8_percent_encode(&B64.encode(signature), COMPONENT));
    }
    Ok(query)
}

/// Appends a query string to an endpoint URL that may already carry one (bindings §3.4.4: the
/// endpoint's own parameters are kept).
#[must_use]
pub fn append_query(endpoint: &str, query: &str) -> String {
    let (base, fragment) = endpoint.split_once('#').unwrap_or((endpoint, ""));
    let sep = if base.contains('?') { '&' } else { '?' };
    let _ = fragment; // A fragment is never sent to the server: drop it.
    format!("{base}{sep}{query}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const REQ: &str = "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_1\" Version=\"2.0\"/>";

    fn key() -> SigningKey {
        SigningKey::from_pem(
            include_str!("../../../sesame-xmlsec/testdata/keys/rsa.key.pem"),
            include_str!("../../../sesame-xmlsec/testdata/keys/rsa.cert.pem"),
        )
        .unwrap()
    }

    fn trusted(cert: &str) -> TrustedKeys {
        let mut t = TrustedKeys::new();
        t.add_certificate_pem(cert).unwrap();
        t
    }

    #[test]
    fn round_trip_unsigned_with_relay_state() {
        let q = encode_redirect(REQ, MessageKind::Request, Some("a b&c=d/é"), None).unwrap();
        let m = decode_redirect(&q).unwrap();
        assert_eq!(m.kind, MessageKind::Request);
        assert_eq!(m.xml, REQ);
        assert_eq!(m.relay_state.as_deref(), Some("a b&c=d/é"));
        assert!(m.signature.is_none());
        assert_eq!(
            verify_redirect_signature(&m, &TrustedKeys::new(), &AllowedAlgorithms::default()),
            Err(SamlError::MissingSignature)
        );
    }

    #[test]
    fn round_trip_signed_and_tampering() {
        let k = key();
        let q = encode_redirect(
            REQ,
            MessageKind::Response,
            Some("rs"),
            Some((&k, SignatureAlgorithm::RsaSha256)),
        )
        .unwrap();
        let keys = trusted(include_str!(
            "../../../sesame-xmlsec/testdata/keys/rsa.cert.pem"
        ));
        let allowed = AllowedAlgorithms::default();
        let m = decode_redirect(&q).unwrap();
        assert_eq!(m.kind, MessageKind::Response);
        let info = verify_redirect_signature(&m, &keys, &allowed).unwrap();
        assert_eq!(info.algorithm, SignatureAlgorithm::RsaSha256);
        assert_eq!(info.key_index, 0);

        // RelayState changed after signing.
        let tampered = q.replace("RelayState=rs", "RelayState=rt");
        let m = decode_redirect(&tampered).unwrap();
        assert_eq!(
            verify_redirect_signature(&m, &keys, &allowed).map_err(|e| e.rule()),
            Err("signature-invalid")
        );
        // RelayState removed.
        let m = decode_redirect(&q.replace("&RelayState=rs", "")).unwrap();
        assert!(verify_redirect_signature(&m, &keys, &allowed).is_err());
        // A key we do not trust.
        let other = trusted(include_str!(
            "../../../sesame-xmlsec/testdata/keys/rsa2.cert.pem"
        ));
        let m = decode_redirect(&q).unwrap();
        assert_eq!(
            verify_redirect_signature(&m, &other, &allowed).map_err(|e| e.rule()),
            Err("signature-invalid")
        );
        // An algorithm not allowed.
        let only_512 = AllowedAlgorithms::only(&[SignatureAlgorithm::RsaSha512], &[]);
        assert_eq!(
            verify_redirect_signature(&m, &keys, &only_512).map_err(|e| e.rule()),
            Err("disallowed-algorithm")
        );
    }

    /// RSA-SHA1 on request (SAML-IDP-4): signed, and accepted only where SHA-1 is allowed.
    #[test]
    fn rsa_sha1_round_trip_when_sha1_is_allowed() {
        let k = key();
        let q = encode_redirect(
            REQ,
            MessageKind::Response,
            Some("rs"),
            Some((&k, SignatureAlgorithm::RsaSha1)),
        )
        .unwrap();
        assert!(q.contains("&SigAlg=http%3A%2F%2Fwww.w3.org%2F2000%2F09%2Fxmldsig%23rsa-sha1&"));
        let keys = trusted(include_str!(
            "../../../sesame-xmlsec/testdata/keys/rsa.cert.pem"
        ));
        let m = decode_redirect(&q).unwrap();
        assert_eq!(
            verify_redirect_signature(&m, &keys, &AllowedAlgorithms::default())
                .map_err(|e| e.rule()),
            Err("disallowed-algorithm")
        );
        let sha1 = AllowedAlgorithms::default().with_sha1();
        let info = verify_redirect_signature(&m, &keys, &sha1).unwrap();
        assert_eq!(info.algorithm, SignatureAlgorithm::RsaSha1);
        let tampered = decode_redirect(&q.replace("RelayState=rs", "RelayState=rt")).unwrap();
        assert_eq!(
            verify_redirect_signature(&tampered, &keys, &sha1).map_err(|e| e.rule()),
            Err("signature-invalid")
        );
    }

    #[test]
    fn signed_octets_are_the_received_encoding() {
        // Lower-case percent escapes, as some senders produce, must be kept as received.
        let k = key();
        let q = encode_redirect(
            REQ,
            MessageKind::Request,
            None,
            Some((&k, SignatureAlgorithm::RsaSha256)),
        )
        .unwrap();
        let m = decode_redirect(&q).unwrap();
        let sig = m.signature.unwrap();
        assert!(q.starts_with(&sig.signed_octets));
        assert_eq!(sig.sig_alg, SignatureAlgorithm::RsaSha256.uri());
    }

    #[test]
    fn malformed_queries_are_refused() {
        let ok = encode_redirect(REQ, MessageKind::Request, None, None).unwrap();
        let value = ok.strip_prefix("SAMLRequest=").unwrap();
        for (query, rule) in [
            ("", "binding"),
            ("RelayState=x", "binding"),
            (&format!("{ok}&{ok}") as &str, "binding"),
            (&format!("{ok}&SAMLResponse={value}"), "binding"),
            (&format!("{ok}&Signature=AAAA"), "binding"),
            (&format!("{ok}&SigAlg=x"), "binding"),
            ("SAMLRequest=%%%", "binding"),
            ("SAMLRequest=PHNhbWw%2B", "binding"), // base64 of "<saml>", not deflated
            (
                &format!("{ok}&SAMLEncoding=urn%3Aother"),
                "unsupported-binding",
            ),
            (
                &format!("{ok}&RelayState={}", "x".repeat(MAX_RELAY_STATE_BYTES + 1)),
                "binding",
            ),
        ] {
            assert_eq!(
                decode_redirect(query).map_err(|e| e.rule()).err(),
                Some(rule),
                "{query}"
            );
        }
        let explicit = format!(
            "{ok}&SAMLEncoding=urn%3Aoasis%3Anames%3Atc%3ASAML%3A2.0%3Abindings%3AURL-Encoding%3ADEFLATE"
        );
        assert!(decode_redirect(&explicit).is_ok());
    }

    #[test]
    fn deflate_bombs_are_stopped() {
        let bomb = deflate(&vec![b'<'; MAX_INFLATED_BYTES + 10]).unwrap();
        assert!(bomb.len() < 2048);
        let q = format!(
            "SAMLRequest={}",
            utf8_percent_encode(&B64.encode(bomb), COMPONENT)
        );
        assert_eq!(
            decode_redirect(&q).err(),
            Some(SamlError::InflatedTooLarge {
                limit: MAX_INFLATED_BYTES
            })
        );
    }

    #[test]
    fn unencoded_plus_in_base64_is_kept() {
        let encoded = B64.encode(deflate(REQ.as_bytes()).unwrap());
        // A sender that forgot to encode '+' and '/' (they are legal in a query).
        let m = decode_redirect(&format!("SAMLRequest={encoded}")).unwrap();
        assert_eq!(m.xml, REQ);
    }

    #[test]
    fn endpoint_query_is_kept() {
        assert_eq!(append_query("https://sp/slo", "a=1"), "https://sp/slo?a=1");
        assert_eq!(
            append_query("https://sp/slo?x=y#f", "a=1"),
            "https://sp/slo?x=y&a=1"
        );
    }
}
