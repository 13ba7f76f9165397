//! SAML 2.0 metadata (SAML metadata 2.0): our IdP's EntityDescriptor ([`idp_metadata`]) and the
//! import of a service provider's ([`parse_sp_metadata`]). Endpoint types are shared with the
//! rules that choose where to answer.

mod idp;
mod sp;

pub use idp::{IdpMetadataParams, idp_metadata};
pub use sp::{SpMetadata, parse_sp_metadata, verify_sp_metadata};

/// An endpoint (metadata 2.0 §2.2.2, EndpointType).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `Binding` URI.
    pub binding: String,
    /// `Location`.
    pub location: String,
    /// `ResponseLocation`, where responses go when it differs from `Location`.
    pub response_location: Option<String>,
}

/// An indexed endpoint (metadata 2.0 §2.2.3, IndexedEndpointType): AssertionConsumerService.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedEndpoint {
    /// `Binding` URI.
    pub binding: String,
    /// `Location`.
    pub location: String,
    /// `index`.
    pub index: u16,
    /// `isDefault` (absent is not the same as false: metadata §2.2.3).
    pub is_default: Option<bool>,
}
