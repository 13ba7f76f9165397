//! Import of a service provider's metadata (SAML metadata 2.0 §2.3.2 EntityDescriptor, §2.4.4
//! SPSSODescriptor): what `sesame app saml create --metadata-file` fills an application from.
//!
//! Certificates are returned as DER and not judged here: the core turns them into trusted keys
//! or encryption recipients and reports keys it cannot use.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use roxmltree::Node;
use sesame_xmlsec::{AllowedAlgorithms, ElementPath, Limits, TrustedKeys, Verified, VerifyPolicy};
use time::OffsetDateTime;

use super::{Endpoint, IndexedEndpoint};
use crate::error::{Result, SamlError};
use crate::ns;
use crate::xml::{attr_bool, attr_instant, attr_u16, children, is, req_attr, text_trimmed};

/// What we keep from an SP's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpMetadata {
    /// `entityID`: the SP's Issuer and our Audience.
    pub entity_id: String,
    /// `validUntil` of the EntityDescriptor (or of an enclosing EntitiesDescriptor).
    pub valid_until: Option<OffsetDateTime>,
    /// `cacheDuration`, as written (xs:duration).
    pub cache_duration: Option<String>,
    /// Every AssertionConsumerService, in document order.
    pub assertion_consumer_services: Vec<IndexedEndpoint>,
    /// Every SingleLogoutService, in document order.
    pub single_logout_services: Vec<Endpoint>,
    /// DER certificates for verifying the SP's signatures (`use="signing"` or no `use`).
    pub signing_certificates: Vec<Vec<u8>>,
    /// DER certificates for encrypting to the SP (`use="encryption"` or no `use`).
    pub encryption_certificates: Vec<Vec<u8>>,
    /// `Algorithm` of the `EncryptionMethod`s those keys list (metadata §2.4.1.1), in order:
    /// what the SP can decrypt, when it says.
    pub encryption_methods: Vec<String>,
    /// NameIDFormat values, in order.
    pub name_id_formats: Vec<String>,
    /// `AuthnRequestsSigned` (absent = false).
    pub authn_requests_signed: bool,
    /// `WantAssertionsSigned` (absent = false).
    pub want_assertions_signed: bool,
}

impl SpMetadata {
    /// The default ACS among the HTTP-POST ones (metadata §2.2.3).
    #[must_use]
    pub fn default_acs(&self) -> Option<&IndexedEndpoint> {
        crate::rules::default_endpoint(
            self.assertion_consumer_services
                .iter()
                .filter(|e| e.binding == ns::BINDING_HTTP_POST),
        )
    }
}

/// Parses an SP's metadata: an EntityDescriptor, or an EntitiesDescriptor holding exactly one
/// entity with an SPSSODescriptor. A signature, if any, is not checked here (see
/// [`verify_sp_metadata`]).
///
/// # Errors
/// Strict-reading errors, `Metadata` for a shape we cannot use (no or several SP entities, no
/// SAML 2.0 SPSSODescriptor, no ACS), missing attributes, bad base64 in a certificate.
pub fn parse_sp_metadata(xml: &str) -> Result<SpMetadata> {
    let doc = sesame_xmlsec::strict::parse(xml, &metadata_limits())?;
    read_sp_metadata(doc.root_element())
}

/// Verifies the enveloped signature on the metadata's document element (an EntityDescriptor or
/// EntitiesDescriptor) with the keys configured for it, then parses the signed element only.
///
/// # Errors
/// `XmlSec` naming the signature rule, then those of [`parse_sp_metadata`].
pub fn verify_sp_metadata(
    xml: &str,
    trusted: &TrustedKeys,
    allowed: &AllowedAlgorithms,
) -> Result<Verified<SpMetadata>> {
    let policy = VerifyPolicy {
        algorithms: allowed.clone(),
        limits: metadata_limits(),
    };
    let doc = sesame_xmlsec::strict::parse(xml, &policy.limits)?;
    let local = if is(doc.root_element(), ns::METADATA, "EntitiesDescriptor") {
        "EntitiesDescriptor"
    } else {
        "EntityDescriptor"
    };
    let verified = sesame_xmlsec::verify_enveloped(
        xml,
        &ElementPath::root(ns::METADATA, local),
        trusted,
        &policy,
    )?;
    verified.try_map(|element| {
        let doc = element.document()?;
        read_sp_metadata(doc.root_element())
    })
}

/// Metadata files may be large aggregates, but we only take a single entity: keep the default
/// bounds, with more room for namespace declarations.
fn metadata_limits() -> Limits {
    Limits {
        max_attributes: 128,
        ..Limits::default()
    }
}

fn read_sp_metadata(root: Node<'_, '_>) -> Result<SpMetadata> {
    let (entity, outer_valid_until) = if is(root, ns::METADATA, "EntityDescriptor") {
        (root, None)
    } else if is(root, ns::METADATA, "EntitiesDescriptor") {
        let mut found = root
            .descendants()
            .filter(|n| is(*n, ns::METADATA, "EntityDescriptor"))
            .filter(|n| {
                children(*n, ns::METADATA, "SPSSODescriptor")
                    .next()
                    .is_some()
            });
        let entity = found
            .next()
            .ok_or_else(|| SamlError::Metadata("no entity with an SPSSODescriptor".into()))?;
        if found.next().is_some() {
            return Err(SamlError::Metadata(
                "more than one entity with an SPSSODescriptor".into(),
            ));
        }
        (entity, attr_instant(root, "validUntil")?)
    } else {
        return Err(SamlError::Metadata(format!(
            "document element is {}, not EntityDescriptor",
            root.tag_name().name()
        )));
    };
    let entity_id = req_attr(entity, "entityID")?.to_owned();
    if entity_id.is_empty() {
        return Err(SamlError::MissingAttribute("entityID"));
    }

    // Metadata §2.4.1: protocolSupportEnumeration is a space-separated list of URIs.
    let mut descriptors = children(entity, ns::METADATA, "SPSSODescriptor").filter(|d| {
        d.attribute("protocolSupportEnumeration")
            .is_some_and(|p| p.split_ascii_whitespace().any(|u| u == ns::PROTOCOL))
    });
    let sp = descriptors
        .next()
        .ok_or_else(|| SamlError::Metadata("no SPSSODescriptor supporting SAML 2.0".into()))?;
    if descriptors.next().is_some() {
        return Err(SamlError::Metadata(
            "more than one SAML 2.0 SPSSODescriptor".into(),
        ));
    }

    let (signing_certificates, encryption_certificates) = read_keys(sp)?;
    let encryption_methods = children(sp, ns::METADATA, "KeyDescriptor")
        .filter(|kd| kd.attribute("use") != Some("signing"))
        .flat_map(|kd| children(kd, ns::METADATA, "EncryptionMethod"))
        .map(|m| req_attr(m, "Algorithm").map(str::to_owned))
        .collect::<Result<Vec<_>>>()?;
    let assertion_consumer_services = children(sp, ns::METADATA, "AssertionConsumerService")
        .map(|n| -> Result<IndexedEndpoint> {
            Ok(IndexedEndpoint {
                binding: req_attr(n, "Binding")?.to_owned(),
                location: req_attr(n, "Location")?.to_owned(),
                index: attr_u16(n, "index")?.ok_or(SamlError::MissingAttribute("index"))?,
                is_default: attr_bool(n, "isDefault")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if assertion_consumer_services.is_empty() {
        return Err(SamlError::Metadata("no AssertionConsumerService".into()));
    }
    let single_logout_services = children(sp, ns::METADATA, "SingleLogoutService")
        .map(|n| -> Result<Endpoint> {
            Ok(Endpoint {
                binding: req_attr(n, "Binding")?.to_owned(),
                location: req_attr(n, "Location")?.to_owned(),
                response_location: n.attribute("ResponseLocation").map(str::to_owned),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let name_id_formats = children(sp, ns::METADATA, "NameIDFormat")
        .map(text_trimmed)
        .collect::<Result<Vec<_>>>()?;

    Ok(SpMetadata {
        entity_id,
        valid_until: attr_instant(entity, "validUntil")?.or(outer_valid_until),
        cache_duration: entity.attribute("cacheDuration").map(str::to_owned),
        assertion_consumer_services,
        single_logout_services,
        signing_certificates,
        encryption_certificates,
        encryption_methods,
        name_id_formats,
        authn_requests_signed: attr_bool(sp, "AuthnRequestsSigned")?.unwrap_or(false),
        want_assertions_signed: attr_bool(sp, "WantAssertionsSigned")?.unwrap_or(false),
    })
}

type Certificates = Vec<Vec<u8>>;

/// KeyDescriptors (metadata §2.4.1.1): `use` signing, encryption, or absent for both.
fn read_keys(sp: Node<'_, '_>) -> Result<(Certificates, Certificates)> {
    let mut signing = Vec::new();
    let mut encryption = Vec::new();
    for kd in children(sp, ns::METADATA, "KeyDescriptor") {
        let (for_signing, for_encryption) = match kd.attribute("use") {
            None => (true, true),
            Some("signing") => (true, false),
            Some("encryption") => (false, true),
            Some(other) => {
                return Err(SamlError::InvalidValue {
                    what: "KeyDescriptor use",
                    value: other.to_owned(),
                });
            }
        };
        for cert in kd
            .descendants()
            .filter(|n| is(*n, ns::DSIG, "X509Certificate"))
        {
            let text = text_trimmed(cert)?;
            let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            let der = B64
                .decode(compact)
                .map_err(|_| SamlError::Metadata("X509Certificate is not base64".into()))?;
            if for_signing && !signing.contains(&der) {
                signing.push(der.clone());
            }
            if for_encryption && !encryption.contains(&der) {
                encryption.push(der);
            }
        }
    }
    Ok((signing, encryption))
}
