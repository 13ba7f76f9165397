//! Our IdP's metadata (SAML metadata 2.0 §2.3.2 EntityDescriptor, §2.4.3 IDPSSODescriptor):
//! every published signing certificate (rollover: the next one is published before it is
//! used), SSO and SLO endpoints for HTTP-Redirect and HTTP-POST, NameID formats, `validUntil`
//! and `cacheDuration`, the signature algorithms we accept (the algorithm-support profile, so
//! that SPs which choose by metadata sign with one of them), signed when a key is given.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sesame_xmlsec::{AllowedAlgorithms, ElementPath};
use time::{Duration, OffsetDateTime};

use crate::error::{Result, SamlError};
use crate::ns;
use crate::sign::{SignWith, sign_at};
use crate::xml::{Writer, check_id, format_duration, format_instant};

/// What our IdP metadata says.
#[derive(Debug, Clone)]
pub struct IdpMetadataParams<'a> {
    /// `ID` of the EntityDescriptor (needed for its signature; from the caller's id generator).
    pub id: &'a str,
    /// Our entityID (the Issuer of our messages).
    pub entity_id: &'a str,
    /// `validUntil` (metadata §2.3.2): relying parties stop trusting this copy after it.
    pub valid_until: OffsetDateTime,
    /// `cacheDuration`: how long a relying party may cache it before re-reading.
    pub cache_duration: Duration,
    /// `WantAuthnRequestsSigned` (metadata §2.4.3).
    pub want_authn_requests_signed: bool,
    /// DER certificates, each published in a `KeyDescriptor use="signing"`.
    pub signing_certificates: &'a [Vec<u8>],
    /// SingleSignOnService location (both bindings).
    pub sso_url: &'a str,
    /// SingleLogoutService location (both bindings); `None` publishes none.
    pub slo_url: Option<&'a str>,
    /// SingleLogoutService location for the SOAP binding (SPs' back-channel LogoutRequests).
    pub slo_soap_url: Option<&'a str>,
    /// NameID formats, in order of preference (some SPs take the first).
    pub name_id_formats: &'a [&'a str],
    /// The algorithms we accept in the SP's signatures, the preferred first: published as
    /// `alg:DigestMethod` and `alg:SigningMethod` (SAML V2.0 Metadata Profile for Algorithm
    /// Support 1.0 §2.3, §2.4), which SPs such as Shibboleth choose their algorithm from.
    pub accepted_algorithms: &'a AllowedAlgorithms,
}

/// Builds the EntityDescriptor, signed with an enveloped signature when `sign` is given.
///
/// # Errors
/// `InvalidInput` for an ID that is not an NCName or no certificate; `XmlSec` when signing fails.
pub fn idp_metadata(params: &IdpMetadataParams<'_>, sign: Option<&SignWith<'_>>) -> Result<String> {
    check_id("EntityDescriptor ID", params.id)?;
    if params.signing_certificates.is_empty() {
        return Err(SamlError::InvalidInput {
            what: "signing_certificates",
            reason: "at least one certificate must be published",
        });
    }
    let mut w = Writer::new();
    w.start("md:EntityDescriptor")
        .attr("xmlns:md", ns::METADATA)
        .attr("xmlns:ds", ns::DSIG)
        .attr("ID", params.id)
        .attr("entityID", params.entity_id)
        .attr("validUntil", &format_instant(params.valid_until))
        .attr("cacheDuration", &format_duration(params.cache_duration))
        .open_end();
    // Extensions come first (metadata §2.3.2; the signature goes before them).
    w.start("md:Extensions")
        .attr("xmlns:alg", ns::ALGSUPPORT)
        .open_end();
    for digest in params.accepted_algorithms.digests() {
        w.start("alg:DigestMethod")
            .attr("Algorithm", digest.uri())
            .empty_end();
    }
    for signature in params.accepted_algorithms.signatures() {
        w.start("alg:SigningMethod")
            .attr("Algorithm", signature.uri())
            .empty_end();
    }
    w.end("md:Extensions");
    w.start("md:IDPSSODescriptor")
        .attr(
            "WantAuthnRequestsSigned",
            if params.want_authn_requests_signed {
                "true"
            } else {
                "false"
            },
        )
        .attr("protocolSupportEnumeration", ns::PROTOCOL)
        .open_end();
    // RoleDescriptorType (§2.4.1): KeyDescriptor* first; then SSODescriptorType (§2.4.2):
    // SingleLogoutService*, NameIDFormat*; then IDPSSODescriptorType: SingleSignOnService+.
    for cert in params.signing_certificates {
        w.start("md:KeyDescriptor")
            .attr("use", "signing")
            .open_end();
        w.start("ds:KeyInfo").open_end();
        w.start("ds:X509Data").open_end();
        w.text_element("ds:X509Certificate", &B64.encode(cert));
        w.end("ds:X509Data")
            .end("ds:KeyInfo")
            .end("md:KeyDescriptor");
    }
    let front = [ns::BINDING_HTTP_REDIRECT, ns::BINDING_HTTP_POST];
    let slo = params
        .slo_url
        .into_iter()
        .flat_map(|url| front.map(|binding| (binding, url)))
        .chain(params.slo_soap_url.map(|url| (ns::BINDING_SOAP, url)));
    for (binding, url) in slo {
        w.start("md:SingleLogoutService")
            .attr("Binding", binding)
            .attr("Location", url)
            .empty_end();
    }
    for format in params.name_id_formats {
        w.text_element("md:NameIDFormat", format);
    }
    for binding in [ns::BINDING_HTTP_REDIRECT, ns::BINDING_HTTP_POST] {
        w.start("md:SingleSignOnService")
            .attr("Binding", binding)
            .attr("Location", params.sso_url)
            .empty_end();
    }
    w.end("md:IDPSSODescriptor").end("md:EntityDescriptor");
    let xml = w.finish();
    match sign {
        None => Ok(xml),
        Some(with) => sign_at(
            &xml,
            &ElementPath::root(ns::METADATA, "EntityDescriptor"),
            with,
        ),
    }
}
