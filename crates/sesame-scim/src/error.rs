//! The one error type of the crate. Every variant carries the SCIM protocol's own status
//! (RFC 7644 §3.12): the HTTP status as a number and, where the RFC defines one, the `scimType`.

use serde_json::{Value, json};

/// The schema URN of an error response (RFC 7644 §3.12).
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM protocol error. The text is the `detail` shown to the client; it never contains
/// secrets because this crate never sees any.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScimError {
    /// 400 `invalidFilter`: the filter syntax was invalid or the operator is not allowed for
    /// the attribute's type (RFC 7644 §3.4.2.2).
    #[error("{0}")]
    InvalidFilter(String),
    /// 400 `tooMany`: the filter yields more results than the server is willing to compute.
    #[error("{0}")]
    TooMany(String),
    /// 409 `uniqueness`: one or more attribute values are already in use or reserved.
    #[error("{0}")]
    Uniqueness(String),
    /// 400 `mutability`: the request tried to modify a readOnly or immutable attribute.
    #[error("{0}")]
    Mutability(String),
    /// 400 `invalidSyntax`: the request body is not a well-formed SCIM message.
    #[error("{0}")]
    InvalidSyntax(String),
    /// 400 `invalidPath`: the `path` attribute was invalid or malformed.
    #[error("{0}")]
    InvalidPath(String),
    /// 400 `noTarget`: the path did not yield an attribute or value that could be operated on.
    #[error("{0}")]
    NoTarget(String),
    /// 400 `invalidValue`: a required value was missing or a value was not compatible with
    /// the attribute's type.
    #[error("{0}")]
    InvalidValue(String),
    /// 400 `invalidVers`: the SCIM protocol version is not supported.
    #[error("{0}")]
    InvalidVersion(String),
    /// 403 `sensitive`: the request cannot be completed because of sensitive information in
    /// the URI (RFC 7644 §7.5.2).
    #[error("{0}")]
    Sensitive(String),
    /// 409 `invalidValue`: a `bulkId:` reference names no resource created in this Bulk
    /// request, or belongs to a reference cycle (RFC 7644 §3.7.3).
    #[error("{0}")]
    UnresolvedBulkId(String),
    /// 404: the resource or endpoint does not exist. No `scimType`.
    #[error("{0}")]
    NotFound(String),
    /// 412: an `If-Match` version did not match the resource's current version (§3.14).
    #[error("{0}")]
    PreconditionFailed(String),
    /// 413: the request is larger than the server accepts (Bulk limits, §3.7.4).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 501: the operation is not supported (e.g. sorting disabled).
    #[error("{0}")]
    NotImplemented(String),
}

impl ScimError {
    /// The HTTP status the RFC gives this error (RFC 7644 §3.12, table 9).
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidFilter(_)
            | Self::TooMany(_)
            | Self::Mutability(_)
            | Self::InvalidSyntax(_)
            | Self::InvalidPath(_)
            | Self::NoTarget(_)
            | Self::InvalidValue(_)
            | Self::InvalidVersion(_) => 400,
            Self::Sensitive(_) => 403,
            Self::NotFound(_) => 404,
            Self::Uniqueness(_) | Self::UnresolvedBulkId(_) => 409,
            Self::PreconditionFailed(_) => 412,
            Self::PayloadTooLarge(_) => 413,
            Self::NotImplemented(_) => 501,
        }
    }

    /// The `scimType` keyword, for the errors that have one (RFC 7644 §3.12, table 9).
    pub fn scim_type(&self) -> Option<&'static str> {
        Some(match self {
            Self::InvalidFilter(_) => "invalidFilter",
            Self::TooMany(_) => "tooMany",
            Self::Uniqueness(_) => "uniqueness",
            Self::Mutability(_) => "mutability",
            Self::InvalidSyntax(_) => "invalidSyntax",
            Self::InvalidPath(_) => "invalidPath",
            Self::NoTarget(_) => "noTarget",
            Self::InvalidValue(_) | Self::UnresolvedBulkId(_) => "invalidValue",
            Self::InvalidVersion(_) => "invalidVers",
            Self::Sensitive(_) => "sensitive",
            Self::NotFound(_)
            | Self::PreconditionFailed(_)
            | Self::PayloadTooLarge(_)
            | Self::NotImplemented(_) => return None,
        })
    }

    /// The human-readable `detail`.
    pub fn detail(&self) -> &str {
        match self {
            Self::InvalidFilter(d)
            | Self::TooMany(d)
            | Self::Uniqueness(d)
            | Self::Mutability(d)
            | Self::InvalidSyntax(d)
            | Self::InvalidPath(d)
            | Self::NoTarget(d)
            | Self::InvalidValue(d)
            | Self::InvalidVersion(d)
            | Self::Sensitive(d)
            | Self::UnresolvedBulkId(d)
            | Self::NotFound(d)
            | Self::PreconditionFailed(d)
            | Self::PayloadTooLarge(d)
            | Self::NotImplemented(d) => d,
        }
    }

    /// The error response body (RFC 7644 §3.12); `status` is a string there.
    pub fn to_response(&self) -> Value {
        error_response(self.status(), self.scim_type(), self.detail())
    }
}

/// Builds an error response body for any status, including ones this crate does not raise
/// (401 from the token check, 500 from the server).
pub fn error_response(status: u16, scim_type: Option<&str>, detail: &str) -> Value {
    let mut body = json!({
        "schemas": [ERROR_SCHEMA],
        "status": status.to_string(),
        "detail": detail,
    });
    if let (Some(t), Some(obj)) = (scim_type, body.as_object_mut()) {
        obj.insert("scimType".into(), Value::String(t.into()));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_has_string_status_and_type() {
        let e = ScimError::InvalidFilter("bad".into());
        assert_eq!(e.status(), 400);
        let body = e.to_response();
        assert_eq!(body["status"], "400");
        assert_eq!(body["scimType"], "invalidFilter");
        assert_eq!(body["detail"], "bad");
        assert_eq!(body["schemas"][0], ERROR_SCHEMA);
    }

    #[test]
    fn statuses_without_scim_type() {
        let e = ScimError::PreconditionFailed("etag".into());
        assert_eq!(e.status(), 412);
        assert!(e.to_response().get("scimType").is_none());
        assert_eq!(ScimError::Uniqueness("x".into()).status(), 409);
        assert_eq!(ScimError::PayloadTooLarge("x".into()).status(), 413);
        assert_eq!(error_response(401, None, "no token")["status"], "401");
    }
}
