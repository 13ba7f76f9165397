//! SCIM filters (RFC 7644 §3.4.2.2): the syntax tree, its parser and its evaluation.
//!
//! [`Filter::parse`] turns the `filter` query parameter into a [`Filter`]; [`Filter::validate`]
//! checks it against a resource type (operators the RFC forbids for an attribute's type);
//! [`Filter::matches`] evaluates it against a resource held as JSON. The store can translate
//! the common shapes to indexed queries through [`Filter::as_simple_comparison`].

pub(crate) mod eval;
mod parse;

use serde_json::Value;

use crate::error::ScimError;
use crate::path::AttrPath;
use crate::schema::ResourceType;

pub use parse::{MAX_FILTER_DEPTH, MAX_FILTER_LEN, PatchPath};

/// `compareOp` (RFC 7644 §3.4.2.2, table 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    /// The operator for a keyword, compared case-insensitively (RFC 7644 §3.4.2.2: "attribute
    /// names and attribute operators used in filters are case insensitive").
    pub fn from_keyword(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "co" => Self::Co,
            "sw" => Self::Sw,
            "ew" => Self::Ew,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "lt" => Self::Lt,
            "le" => Self::Le,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Co => "co",
            Self::Sw => "sw",
            Self::Ew => "ew",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }

    /// `gt ge lt le`: the operators RFC 7644 forbids on boolean and binary attributes.
    pub fn is_ordering(self) -> bool {
        matches!(self, Self::Gt | Self::Ge | Self::Lt | Self::Le)
    }
}

/// A parsed filter. Inside a [`Filter::ValuePath`] the paths of the inner filter name
/// sub-attributes of the complex attribute (`emails[type eq "work"]`: `type` is
/// `emails.type`).
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attrPath compareOp compValue`; the value is a JSON string, number, boolean or null.
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: Value,
    },
    /// `attrPath pr`.
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attrPath "[" valFilter "]"`: some value of the multi-valued (or complex) attribute
    /// satisfies the inner filter. `emails[type eq "work"].value co "x"` is parsed as
    /// `emails[type eq "work" and value co "x"]`, which means the same.
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

impl Filter {
    /// Parses a filter expression. Errors are `invalidFilter` and name the position (1-based
    /// character index) of the problem.
    pub fn parse(text: &str) -> Result<Filter, ScimError> {
        parse::parse_filter(text)
    }

    /// Parses and validates against `rt`: the usual entry point of a list endpoint.
    pub fn parse_for(text: &str, rt: &ResourceType) -> Result<Filter, ScimError> {
        let f = Self::parse(text)?;
        f.validate(rt)?;
        Ok(f)
    }

    /// Rejects what RFC 7644 §3.4.2.2 says must fail with `invalidFilter` once types are
    /// known: `gt ge lt le` on boolean or binary attributes, and value filters on attributes
    /// that are not complex. Unknown attributes are not errors: they match nothing.
    pub fn validate(&self, rt: &ResourceType) -> Result<(), ScimError> {
        eval::validate(self, rt)
    }

    /// Whether `resource` (a SCIM resource as JSON) satisfies the filter.
    pub fn matches(&self, resource: &Value, rt: &ResourceType) -> bool {
        eval::matches(self, resource, rt)
    }

    /// The filter as one comparison `path op value`, for stores that translate the common
    /// queries (`userName eq "x"`, `externalId eq "y"`, `displayName sw "z"`) to indexed
    /// lookups. Anything else returns `None` and the caller evaluates with [`Filter::matches`].
    pub fn as_simple_comparison(&self) -> Option<(&AttrPath, CompareOp, &Value)> {
        match self {
            Self::Compare { path, op, value } => Some((path, *op, value)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
