//! SCIM 2.0 protocol logic (RFC 7643, RFC 7644) for Sésame, without I/O.
//!
//! What this crate owns: the schemas Sésame serves and their discovery documents
//! ([`schema`], [`discovery`]), attribute paths ([`path`]), the filter grammar and its
//! evaluation ([`filter`]), the PATCH engine ([`patch`]), attribute selection ([`select`]),
//! sorting, pagination and `ListResponse` ([`list`]), Bulk request parsing ([`bulk`]) and the
//! protocol's errors ([`ScimError`], carrying the HTTP status and `scimType` of RFC 7644 §3.12).
//! Resources are plain `serde_json::Value` objects: core attributes at the top level,
//! extension attributes under their schema URN (RFC 7643 §3.3).
//!
//! What it must not touch: HTTP, storage, the clock, randomness and identifiers. It has no
//! tokio, axum, sqlx or reqwest; the server (`sesame-web`, `sesame-core`) decodes requests,
//! calls these functions, runs Bulk operations, assigns ids and timestamps (`meta`), checks
//! ETags and stores the results.

// Tests may unwrap: a panic there is a failed test, which is what we want.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod bulk;
pub mod discovery;
pub mod error;
pub mod filter;
pub mod list;
pub mod patch;
pub mod path;
pub mod schema;
pub mod select;

pub use bulk::{
    BULK_REQUEST_SCHEMA, BULK_RESPONSE_SCHEMA, BulkLimits, BulkMethod, BulkOperation,
    BulkOperationResult, BulkRequest, bulk_response,
};
pub use discovery::{
    ServiceProviderConfig, find_resource_type, find_schema, resource_type_json,
    resource_types_json, schema_json, schemas_json, service_provider_config_json,
};
pub use error::{ERROR_SCHEMA, ScimError, error_response};
pub use filter::{CompareOp, Filter, PatchPath};
pub use list::{LIST_RESPONSE_SCHEMA, Page, SortOrder, SortSpec, list_response};
pub use patch::{PATCH_OP_SCHEMA, PatchOpKind, PatchOperation, PatchRequest};
pub use path::AttrPath;
pub use schema::{
    AttrType, AttributeDef, ENTERPRISE_USER_SCHEMA, GROUP_RESOURCE, GROUP_SCHEMA, Mutability,
    ResourceType, Returned, Schema, USER_RESOURCE, USER_SCHEMA, Uniqueness,
};
pub use select::AttributeSelection;
