//! Sésame's vocabulary: identifiers, directory records and their validation rules.
//!
//! This crate owns the shapes every layer agrees on. It knows nothing of storage, HTTP or
//! protocols, never reads the clock and never generates identifiers: callers pass them in.

mod directory;
mod federation;
mod ids;
mod provisioning;
mod saml;
mod scim;
mod security;
mod validate;

pub use directory::*;
pub use federation::*;
pub use ids::*;
pub use provisioning::*;
pub use saml::*;
pub use scim::*;
pub use security::*;
pub use validate::*;

/// A page of results in a keyset pagination: `next` is the cursor of the following page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// Which page to read: at most `limit` items after the cursor `after` (exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<String>,
}

impl PageRequest {
    /// Largest page any list endpoint returns, whatever the caller asks.
    pub const MAX_LIMIT: u32 = 1000;
    pub const DEFAULT_LIMIT: u32 = 100;

    pub fn new(limit: Option<u32>, after: Option<String>) -> Self {
        let limit = limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT);
        PageRequest { limit, after }
    }
}
