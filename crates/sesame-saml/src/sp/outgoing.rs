//! What Sésame sends as the service provider of a federated IdP: the `<samlp:AuthnRequest>`
//! (SAML core 2.0 §3.4.1, posted with the HTTP-POST binding as seed 001 requires), its SP
//! metadata (metadata 2.0 §2.4.4 SPSSODescriptor), and the reading of an IdP's metadata
//! (§2.4.3 IDPSSODescriptor) that a federation can be created from.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use time::OffsetDateTime;

use crate::error::{Result, SamlError};
use crate::ns;
use crate::xml::{Writer, attr_instant, check_id, children, format_instant, is, req_attr};

/// An AuthnRequest to a federated IdP.
#[derive(Debug, Clone)]
pub struct SpAuthnRequestParams<'a> {
    /// `ID` (from the caller's id generator; the Response's `InResponseTo`).
    pub id: &'a str,
    /// `IssueInstant` (now).
    pub issue_instant: OffsetDateTime,
    /// The IdP's passive logon URL (`Destination`, bindings §3.5.5.2).
    pub destination: &'a str,
    /// Our SP entityID.
    pub issuer: &'a str,
    /// Our ACS URL, posted to with HTTP-POST.
    pub acs_url: &'a str,
    /// The NameID format asked for (persistent for domain federation, seed 001).
    pub name_id_format: &'a str,
}

/// Builds an unsigned AuthnRequest (core §3.4.1; profiles §4.1.4.1: Issuer required,
/// `AssertionConsumerServiceURL` with `ProtocolBinding` HTTP-POST).
///
/// # Errors
/// `InvalidInput` for a bad ID.
pub fn build_sp_authn_request(p: &SpAuthnRequestParams<'_>) -> Result<String> {
    check_id("AuthnRequest ID", p.id)?;
    let mut w = Writer::new();
    w.start("samlp:AuthnRequest")
        .attr("xmlns:samlp", ns::PROTOCOL)
        .attr("xmlns:saml", ns::ASSERTION)
        .attr("ID", p.id)
        .attr("Version", "2.0")
        .attr("IssueInstant", &format_instant(p.issue_instant))
        .attr("Destination", p.destination)
        .attr("AssertionConsumerServiceURL", p.acs_url)
        .attr("ProtocolBinding", ns::BINDING_HTTP_POST)
        .open_end();
    w.text_element("saml:Issuer", p.issuer);
    w.start("samlp:NameIDPolicy")
        .attr("Format", p.name_id_format)
        .attr("AllowCreate", "true")
        .empty_end();
    w.end("samlp:AuthnRequest");
    Ok(w.finish())
}

/// Our SP metadata for partner IdPs.
#[derive(Debug, Clone)]
pub struct SpMetadataParams<'a> {
    /// The EntityDescriptor's `ID` (an NCName): the Reference of its signature.
    pub id: &'a str,
    /// Our SP entityID.
    pub entity_id: &'a str,
    /// The ACS (HTTP-POST).
    pub acs_url: &'a str,
    /// Where the IdP sends LogoutResponses/Requests (HTTP-Redirect).
    pub slo_url: &'a str,
    /// DER certificates published for signing, if any.
    pub signing_certificates: &'a [Vec<u8>],
}

/// Builds an EntityDescriptor with one SPSSODescriptor (metadata §2.4.4):
/// `AuthnRequestsSigned="false"` (our requests are not signed), `WantAssertionsSigned="true"`,
/// persistent NameID format, the ACS (POST) and SLO (Redirect) endpoints.
/// Signed (enveloped, metadata §3.1) when `sign` is given.
///
/// # Errors
/// `InvalidInput` for an ID that is not an NCName; `XmlSec` when signing fails.
pub fn sp_metadata(p: &SpMetadataParams<'_>, sign: Option<&crate::SignWith<'_>>) -> Result<String> {
    check_id("EntityDescriptor ID", p.id)?;
    let mut w = Writer::new();
    w.start("md:EntityDescriptor")
        .attr("xmlns:md", ns::METADATA)
        .attr("xmlns:ds", ns::DSIG)
        .attr("ID", p.id)
        .attr("entityID", p.entity_id)
        .open_end();
    w.start("md:SPSSODescriptor")
        .attr("protocolSupportEnumeration", ns::PROTOCOL)
        .attr("AuthnRequestsSigned", "false")
        .attr("WantAssertionsSigned", "true")
        .open_end();
    for der in p.signing_certificates {
        w.start("md:KeyDescriptor")
            .attr("use", "signing")
            .open_end();
        w.start("ds:KeyInfo").open_end();
        w.start("ds:X509Data").open_end();
        w.text_element("ds:X509Certificate", &B64.encode(der));
        w.end("ds:X509Data")
            .end("ds:KeyInfo")
            .end("md:KeyDescriptor");
    }
    w.start("md:SingleLogoutService")
        .attr("Binding", ns::BINDING_HTTP_REDIRECT)
        .attr("Location", p.slo_url)
        .empty_end();
    w.text_element("md:NameIDFormat", ns::nameid::PERSISTENT);
    w.start("md:AssertionConsumerService")
        .attr("Binding", ns::BINDING_HTTP_POST)
        .attr("Location", p.acs_url)
        .attr("index", "0")
        .attr("isDefault", "true")
        .empty_end();
    w.end("md:SPSSODescriptor").end("md:EntityDescriptor");
    let xml = w.finish();
    match sign {
        None => Ok(xml),
        Some(with) => crate::sign::sign_at(
            &xml,
            &sesame_xmlsec::ElementPath::root(ns::METADATA, "EntityDescriptor"),
            with,
        ),
    }
}

/// What a federation takes from an IdP's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpMetadata {
    /// `entityID` (the issuer URI).
    pub entity_id: String,
    /// The SingleSignOnService for HTTP-POST, else HTTP-Redirect.
    pub sso_url: String,
    /// The SingleLogoutService for HTTP-Redirect, if any.
    pub slo_url: Option<String>,
    /// DER certificates of KeyDescriptors for signing (or with no `use`).
    pub signing_certificates: Vec<Vec<u8>>,
    /// `validUntil`.
    pub valid_until: Option<OffsetDateTime>,
    /// `cacheDuration`, as written.
    pub cache_duration: Option<String>,
}

/// Metadata elements carry more attributes and namespace declarations than protocol messages.
fn metadata_limits() -> sesame_xmlsec::Limits {
    sesame_xmlsec::Limits {
        max_attributes: 128,
        ..sesame_xmlsec::Limits::default()
    }
}

/// Verifies the enveloped signature of an IdP's EntityDescriptor — made with the metadata key
/// a federation operator or the IdP publishes it under (metadata §3; its Reference names the
/// element's ID, SAML core §5.4.2) — and reads the signed element only: nothing outside the
/// signature's scope is used.
///
/// # Errors
/// `XmlSec` naming the signature rule (`MissingSignature` when unsigned), then those of
/// [`parse_idp_metadata`].
pub fn verify_idp_metadata(
    xml: &str,
    trusted: &sesame_xmlsec::TrustedKeys,
    allowed: &sesame_xmlsec::AllowedAlgorithms,
) -> Result<IdpMetadata> {
    let policy = sesame_xmlsec::VerifyPolicy {
        algorithms: allowed.clone(),
        limits: metadata_limits(),
    };
    let verified = sesame_xmlsec::verify_enveloped(
        xml,
        &sesame_xmlsec::ElementPath::root(ns::METADATA, "EntityDescriptor"),
        trusted,
        &policy,
    )?;
    parse_idp_metadata(verified.get().canonical_xml())
}

/// Reads an IdP's EntityDescriptor (metadata §2.3.2, §2.4.3), strictly.
///
/// # Errors
/// Strict-reading errors; `Metadata` when there is no SAML 2.0 IDPSSODescriptor, no
/// SingleSignOnService we speak, or no signing certificate.
pub fn parse_idp_metadata(xml: &str) -> Result<IdpMetadata> {
    let doc = sesame_xmlsec::strict::parse(xml, &metadata_limits())?;
    let root = doc.root_element();
    if !is(root, ns::METADATA, "EntityDescriptor") {
        return Err(SamlError::Metadata(
            "document element is not an EntityDescriptor".into(),
        ));
    }
    let idp = children(root, ns::METADATA, "IDPSSODescriptor")
        .find(|d| {
            d.attribute("protocolSupportEnumeration")
                .is_some_and(|p| p.split_ascii_whitespace().any(|u| u == ns::PROTOCOL))
        })
        .ok_or_else(|| SamlError::Metadata("no IDPSSODescriptor supporting SAML 2.0".into()))?;
    let endpoint = |local: &str, binding: &str| -> Result<Option<String>> {
        for n in children(idp, ns::METADATA, local) {
            if req_attr(n, "Binding")? == binding {
                return Ok(Some(req_attr(n, "Location")?.to_owned()));
            }
        }
        Ok(None)
    };
    let sso_url = match endpoint("SingleSignOnService", ns::BINDING_HTTP_POST)? {
        Some(u) => u,
        None => endpoint("SingleSignOnService", ns::BINDING_HTTP_REDIRECT)?.ok_or_else(|| {
            SamlError::Metadata("no SingleSignOnService for HTTP-POST or HTTP-Redirect".into())
        })?,
    };
    let slo_url = endpoint("SingleLogoutService", ns::BINDING_HTTP_REDIRECT)?;
    let mut signing_certificates = Vec::new();
    for kd in children(idp, ns::METADATA, "KeyDescriptor") {
        if kd.attribute("use").is_some_and(|u| u != "signing") {
            continue;
        }
        for cert in kd
            .descendants()
            .filter(|n| is(*n, ns::DSIG, "X509Certificate"))
        {
            let text: String = cert
                .text()
                .unwrap_or_default()
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            let der = B64
                .decode(text.as_bytes())
                .map_err(|_| SamlError::Metadata("X509Certificate is not base64".into()))?;
            signing_certificates.push(der);
        }
    }
    if signing_certificates.is_empty() {
        return Err(SamlError::Metadata("no signing certificate".into()));
    }
    Ok(IdpMetadata {
        entity_id: req_attr(root, "entityID")?.to_owned(),
        sso_url,
        slo_url,
        signing_certificates,
        valid_until: attr_instant(root, "validUntil")?,
        cache_duration: root.attribute("cacheDuration").map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Metadata signed by `xmlsec1 --sign` with the `idp` test key (see testdata/metadata).
    const SIGNED_METADATA: &str =
        include_str!("../../testdata/metadata/partner_idp_signed_by_xmlsec1.xml");

    fn trusting(name: &str) -> sesame_xmlsec::TrustedKeys {
        let pem = std::fs::read_to_string(format!(
            "{}/testdata/keys/{name}.cert.pem",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let mut keys = sesame_xmlsec::TrustedKeys::new();
        keys.add_certificate_pem(&pem).unwrap();
        keys
    }

    #[test]
    fn metadata_signed_by_xmlsec1_verifies_and_reads_from_the_signed_element() {
        let allowed = sesame_xmlsec::AllowedAlgorithms::default();
        let m = verify_idp_metadata(SIGNED_METADATA, &trusting("idp"), &allowed).unwrap();
        assert_eq!(m.entity_id, "https://idp.partner.example/idp");
        assert_eq!(m.sso_url, "https://idp.partner.example/sso");
        assert_eq!(m.cache_duration.as_deref(), Some("PT6H"));
        assert_eq!(m.signing_certificates.len(), 1);
        assert_eq!(m, parse_idp_metadata(SIGNED_METADATA).unwrap());

        let refused = |xml: &str, trusted: &sesame_xmlsec::TrustedKeys| {
            verify_idp_metadata(xml, trusted, &allowed).unwrap_err()
        };
        // Another metadata key.
        assert!(matches!(
            refused(SIGNED_METADATA, &trusting("idp2")),
            SamlError::XmlSec(_)
        ));
        // An endpoint or a certificate changed after signing.
        for (from, to) in [
            (
                "https://idp.partner.example/sso",
                "https://evil.example/sso",
            ),
            ("PT6H", "P30D"),
        ] {
            let tampered = SIGNED_METADATA.replace(from, to);
            assert!(
                matches!(refused(&tampered, &trusting("idp")), SamlError::XmlSec(_)),
                "{to}"
            );
        }
        // Unsigned.
        let start = SIGNED_METADATA.find("<ds:Signature").unwrap();
        let end = SIGNED_METADATA.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
        let unsigned = format!("{}{}", &SIGNED_METADATA[..start], &SIGNED_METADATA[end..]);
        assert!(parse_idp_metadata(&unsigned).is_ok());
        assert_eq!(
            refused(&unsigned, &trusting("idp")),
            SamlError::XmlSec(sesame_xmlsec::XmlSecError::MissingSignature)
        );
    }

    #[test]
    fn authn_request_reads_back() {
        let xml = build_sp_authn_request(&SpAuthnRequestParams {
            id: "_r1",
            issue_instant: time::macros::datetime!(2026-11-02 10:00 UTC),
            destination: "https://idp.example/sso",
            issuer: "https://sesame.example/t/sp",
            acs_url: "https://sesame.example/t/saml2/acs",
            name_id_format: ns::nameid::PERSISTENT,
        })
        .unwrap();
        let r = crate::parse_authn_request(&xml).unwrap();
        assert_eq!(r.id(), "_r1");
        assert_eq!(r.issuer(), "https://sesame.example/t/sp");
        assert!(xml.contains("Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\""));
    }

    #[test]
    fn sp_metadata_round_trips_through_idp_metadata_reader_shape() {
        let xml = sp_metadata(
            &SpMetadataParams {
                id: "_md1",
                entity_id: "https://sesame.example/t/sp",
                acs_url: "https://sesame.example/t/saml2/acs",
                slo_url: "https://sesame.example/t/saml2",
                signing_certificates: &[],
            },
            None,
        )
        .unwrap();
        let md = crate::parse_sp_metadata(&xml).unwrap();
        assert_eq!(md.entity_id, "https://sesame.example/t/sp");
        assert!(md.want_assertions_signed);
        assert!(!md.authn_requests_signed);
        assert_eq!(
            md.default_acs().unwrap().location,
            "https://sesame.example/t/saml2/acs"
        );
    }

    #[test]
    fn idp_metadata_prefers_post_and_needs_a_certificate() {
        let md = |kd: &str| {
            format!(
                "<md:EntityDescriptor xmlns:md=\"{}\" xmlns:ds=\"{}\" entityID=\"https://idp/\">\
<md:IDPSSODescriptor protocolSupportEnumeration=\"{}\">{kd}\
<md:SingleLogoutService Binding=\"{}\" Location=\"https://idp/slo\"/>\
<md:SingleSignOnService Binding=\"{}\" Location=\"https://idp/redirect\"/>\
<md:SingleSignOnService Binding=\"{}\" Location=\"https://idp/post\"/>\
</md:IDPSSODescriptor></md:EntityDescriptor>",
                ns::METADATA,
                ns::DSIG,
                ns::PROTOCOL,
                ns::BINDING_HTTP_REDIRECT,
                ns::BINDING_HTTP_REDIRECT,
                ns::BINDING_HTTP_POST
            )
        };
        let ok = parse_idp_metadata(&md(
            "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>AAEC\n</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\
<md:KeyDescriptor use=\"encryption\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>AwQF</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
        ))
        .unwrap();
        assert_eq!(ok.entity_id, "https://idp/");
        assert_eq!(ok.sso_url, "https://idp/post");
        assert_eq!(ok.slo_url.as_deref(), Some("https://idp/slo"));
        assert_eq!(ok.signing_certificates, vec![vec![0u8, 1, 2]]);
        assert!(parse_idp_metadata(&md("")).is_err());
    }
}

/// An `xs:duration` (XML Schema 2 §3.2.6; metadata `cacheDuration`, metadata §2.3.2), such as
/// `PT1H`, `P1DT12H` or `PT0.5S`: a year counts 365 days and a month 30, as a cache lifetime
/// needs no calendar. `None` for negative, empty or malformed values (the caller then uses its
/// default).
#[must_use]
pub fn parse_xs_duration(value: &str) -> Option<time::Duration> {
    let rest = value.trim().strip_prefix('P')?;
    let (date, clock) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    if date.is_empty() && clock.is_none() {
        return None;
    }
    let mut seconds = 0f64;
    let mut take = |part: &str, units: &[(char, f64)], fractional_last: bool| -> Option<()> {
        let mut number = String::new();
        let mut next_unit = 0;
        for c in part.chars() {
            if c.is_ascii_digit() || (c == '.' && fractional_last) {
                number.push(c);
                continue;
            }
            let at = units[next_unit..].iter().position(|(u, _)| *u == c)? + next_unit;
            if number.is_empty() || (number.contains('.') && units[at].0 != 'S') {
                return None;
            }
            seconds += number.parse::<f64>().ok()? * units[at].1;
            number.clear();
            next_unit = at + 1;
        }
        number.is_empty().then_some(())
    };
    take(
        date,
        &[
            ('Y', 365.0 * 86400.0),
            ('M', 30.0 * 86400.0),
            ('D', 86400.0),
        ],
        false,
    )?;
    if let Some(t) = clock {
        take(t, &[('H', 3600.0), ('M', 60.0), ('S', 1.0)], true)?;
    }
    if !seconds.is_finite() || seconds > 100.0 * 365.0 * 86400.0 {
        return None;
    }
    Some(time::Duration::seconds_f64(seconds))
}

#[cfg(test)]
mod duration_tests {
    use super::parse_xs_duration;
    use time::Duration;

    #[test]
    fn xs_durations() {
        let check = |v: &str, want: Option<Duration>| assert_eq!(parse_xs_duration(v), want, "{v}");
        check("PT1H", Some(Duration::hours(1)));
        check("P1DT12H", Some(Duration::hours(36)));
        check("PT30M", Some(Duration::minutes(30)));
        check("PT0.5S", Some(Duration::milliseconds(500)));
        check("P1Y", Some(Duration::days(365)));
        check("P2M", Some(Duration::days(60)));
        check(" PT10S ", Some(Duration::seconds(10)));
        check("P1DT1H1M1S", Some(Duration::seconds(86400 + 3661)));
        for bad in [
            "",
            "P",
            "PT",
            "-PT1H",
            "1H",
            "PT1",
            "PTH",
            "PT1S1H",
            "P1H",
            "PT1.5H",
            "P1.5D",
            "PT1HX",
            "P99999999999Y",
        ] {
            check(bad, None);
        }
    }
}
