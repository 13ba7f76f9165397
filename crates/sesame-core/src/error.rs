//! `CoreError`: what can go wrong in the identity provider, each with a stable code that users
//! see in problem+json and on error pages (`SESAME-xxxx`).

use sesame_model::InvalidValue;
use sesame_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// A value broke a directory rule; `field` names the offending input.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{} not found", sesame_store::in_words(.0))]
    NotFound(&'static str),
    #[error("{} already exists", sesame_store::in_words(.0))]
    Conflict(&'static str),
    /// The bearer token is missing, malformed or unknown.
    #[error("a valid admin token is required")]
    Unauthenticated,
    /// The token is valid but limited to another tenant, or the action needs a global token.
    #[error("this token may not act on that resource")]
    Forbidden,
    #[error("domain {domain} is not verified: {reason}")]
    DomainVerification { domain: String, reason: String },
    #[error("storage failure")]
    Storage(#[source] StoreError),
    #[error("internal failure: {0}")]
    Internal(String),
    /// A SCIM protocol error (RFC 7644 §3.12), with its own status and `scimType`.
    #[error("{0}")]
    Scim(#[from] sesame_scim::ScimError),
}

pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        CoreError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The stable code shown to users and written to logs.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::Invalid { .. } => "SESAME-1400",
            CoreError::NotFound(_) => "SESAME-1404",
            CoreError::Conflict(_) => "SESAME-1409",
            CoreError::Unauthenticated => "SESAME-1401",
            CoreError::Forbidden => "SESAME-1403",
            CoreError::DomainVerification { .. } => "SESAME-1422",
            CoreError::Storage(StoreError::NotFound(_)) => "SESAME-1404",
            CoreError::Storage(StoreError::Conflict(_)) => "SESAME-1409",
            CoreError::Storage(StoreError::Aborted(_)) => "SESAME-1400",
            CoreError::Storage(StoreError::Backend(_)) => "SESAME-1500",
            CoreError::Internal(_) => "SESAME-1500",
            CoreError::Scim(e) => match e.status() {
                404 => "SESAME-1404",
                409 => "SESAME-1409",
                _ => "SESAME-1400",
            },
        }
    }
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => CoreError::NotFound(what),
            StoreError::Conflict(what) => CoreError::Conflict(what),
            StoreError::Aborted(msg) => CoreError::invalid("request", msg),
            other => CoreError::Storage(other),
        }
    }
}

impl From<InvalidValue> for CoreError {
    fn from(e: InvalidValue) -> Self {
        let field = match &e {
            InvalidValue::Upn(_) => "userPrincipalName".to_string(),
            InvalidValue::ImmutableId => "immutableId".to_string(),
            InvalidValue::DomainName(_) => "domain".to_string(),
            InvalidValue::Length { field, .. } => (*field).to_string(),
        };
        CoreError::Invalid {
            field,
            message: e.to_string(),
        }
    }
}
