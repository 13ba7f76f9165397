//! The parts of a `<samlp:Response>` and its `<saml:Assertion>` the SP-side rules look at, read
//! from a `roxmltree` node (SAML core 2.0 §3.2.2 StatusResponseType, §2.3.3 Assertion, §2.4
//! Subject, §2.5 Conditions, §2.7.2 AuthnStatement, §2.7.3 AttributeStatement).
//!
//! The readers only read: they check presence and types the schema requires, and leave every
//! comparison with our expectations to [`super::rules`]. The assertion reader is only ever given
//! a node of a *verified* document (the canonical bytes a signature check returned, or the
//! decryption of verified bytes); the envelope reader reads the Response as received when the
//! Response itself is not signed (its fields then only ever cause rejections, never trust).

use roxmltree::Node;
use sesame_xmlsec::{XmlSecError, element_text};
use time::OffsetDateTime;

use crate::error::{Result, SamlError, unexpected};
use crate::logout::NameId;
use crate::ns;
use crate::response::Attribute;
use crate::xml::{
    attr_instant, children, is, one_child, opt_child, req_attr, text_exact, text_trimmed,
};

/// An `<saml:Issuer>` (core §2.2.5): its value and optional `Format`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerValue {
    /// The entity identifier, trimmed of XML whitespace.
    pub value: String,
    /// `Format` (absent or [`ns::nameid::ENTITY`] for an IdP, profiles §4.1.4.2).
    pub format: Option<String>,
}

/// The protocol-level fields of a `<samlp:Response>` (core §3.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseEnvelope {
    /// `ID`.
    pub id: String,
    /// `Version`.
    pub version: String,
    /// `IssueInstant`.
    pub issue_instant: OffsetDateTime,
    /// `Destination`.
    pub destination: Option<String>,
    /// `InResponseTo`.
    pub in_response_to: Option<String>,
    /// `<saml:Issuer>` (optional on a Response, core §3.2.2).
    pub issuer: Option<IssuerValue>,
    /// Top-level `StatusCode` URI.
    pub status_code: String,
    /// Second-level `StatusCode` URI.
    pub status_sub_code: Option<String>,
    /// `StatusMessage`.
    pub status_message: Option<String>,
}

/// `<saml:SubjectConfirmationData>` (core §2.4.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfirmationData {
    /// `NotBefore` (must be absent for bearer, profiles §4.1.4.2).
    pub not_before: Option<OffsetDateTime>,
    /// `NotOnOrAfter`.
    pub not_on_or_after: Option<OffsetDateTime>,
    /// `Recipient`.
    pub recipient: Option<String>,
    /// `InResponseTo`.
    pub in_response_to: Option<String>,
}

/// `<saml:SubjectConfirmation>` (core §2.4.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectConfirmation {
    /// `Method` (e.g. [`ns::CM_BEARER`]).
    pub method: String,
    /// The `SubjectConfirmationData`, when present.
    pub data: Option<ConfirmationData>,
}

/// `<saml:Conditions>` (core §2.5.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Conditions {
    /// `NotBefore`.
    pub not_before: Option<OffsetDateTime>,
    /// `NotOnOrAfter`.
    pub not_on_or_after: Option<OffsetDateTime>,
    /// One list of `Audience` values per `AudienceRestriction`.
    pub audience_restrictions: Vec<Vec<String>>,
}

/// The assertion as read from verified bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionModel {
    /// `ID`.
    pub id: String,
    /// `Version`.
    pub version: String,
    /// `IssueInstant`.
    pub issue_instant: OffsetDateTime,
    /// `<saml:Issuer>` (required on an assertion, core §2.3.3).
    pub issuer: IssuerValue,
    /// The subject's `NameID`.
    pub name_id: NameId,
    /// Every `SubjectConfirmation`.
    pub confirmations: Vec<SubjectConfirmation>,
    /// `Conditions`, when present.
    pub conditions: Option<Conditions>,
    /// `AuthnStatement/@AuthnInstant`.
    pub authn_instant: OffsetDateTime,
    /// `AuthnStatement/@SessionIndex`.
    pub session_index: Option<String>,
    /// `AuthnStatement/@SessionNotOnOrAfter`.
    pub session_not_on_or_after: Option<OffsetDateTime>,
    /// Every `Attribute` of every `AttributeStatement`.
    pub attributes: Vec<Attribute>,
}

fn issuer(node: Node<'_, '_>) -> Result<IssuerValue> {
    Ok(IssuerValue {
        value: text_trimmed(node)?,
        format: node.attribute("Format").map(str::to_owned),
    })
}

fn required_instant(node: Node<'_, '_>, name: &'static str) -> Result<OffsetDateTime> {
    attr_instant(node, name)?.ok_or(SamlError::MissingAttribute(name))
}

/// Reads the Response element (core §3.2.2): `ID`, `Version`, `IssueInstant` required,
/// `Status` with a `StatusCode` required.
///
/// # Errors
/// `UnexpectedMessage` when `root` is not a `samlp:Response`; missing or mistyped fields.
pub fn read_envelope(root: Node<'_, '_>) -> Result<ResponseEnvelope> {
    if !is(root, ns::PROTOCOL, "Response") {
        return Err(unexpected("Response", root));
    }
    let status = one_child(root, ns::PROTOCOL, "Status")?;
    let code = one_child(status, ns::PROTOCOL, "StatusCode")?;
    let sub = opt_child(code, ns::PROTOCOL, "StatusCode")?;
    Ok(ResponseEnvelope {
        id: req_attr(root, "ID")?.to_owned(),
        version: req_attr(root, "Version")?.to_owned(),
        issue_instant: required_instant(root, "IssueInstant")?,
        destination: root.attribute("Destination").map(str::to_owned),
        in_response_to: root.attribute("InResponseTo").map(str::to_owned),
        issuer: opt_child(root, ns::ASSERTION, "Issuer")?
            .map(issuer)
            .transpose()?,
        status_code: req_attr(code, "Value")?.to_owned(),
        status_sub_code: sub
            .map(|s| req_attr(s, "Value").map(str::to_owned))
            .transpose()?,
        status_message: opt_child(status, ns::PROTOCOL, "StatusMessage")?
            .map(text_trimmed)
            .transpose()?,
    })
}

fn name_id(subject: Node<'_, '_>) -> Result<NameId> {
    let Some(node) = opt_child(subject, ns::ASSERTION, "NameID")? else {
        // Core §2.4.1: BaseID, NameID or EncryptedID. We consume a clear NameID only.
        return Err(
            if opt_child(subject, ns::ASSERTION, "EncryptedID")?.is_some() {
                SamlError::InvalidValue {
                    what: "Subject",
                    value: "EncryptedID is not supported".into(),
                }
            } else {
                SamlError::MissingElement("NameID")
            },
        );
    };
    Ok(NameId {
        value: text_exact(node)?,
        format: node.attribute("Format").map(str::to_owned),
        name_qualifier: node.attribute("NameQualifier").map(str::to_owned),
        sp_name_qualifier: node.attribute("SPNameQualifier").map(str::to_owned),
    })
}

fn confirmation(node: Node<'_, '_>) -> Result<SubjectConfirmation> {
    let data = opt_child(node, ns::ASSERTION, "SubjectConfirmationData")?
        .map(|d| -> Result<ConfirmationData> {
            Ok(ConfirmationData {
                not_before: attr_instant(d, "NotBefore")?,
                not_on_or_after: attr_instant(d, "NotOnOrAfter")?,
                recipient: d.attribute("Recipient").map(str::to_owned),
                in_response_to: d.attribute("InResponseTo").map(str::to_owned),
            })
        })
        .transpose()?;
    Ok(SubjectConfirmation {
        method: req_attr(node, "Method")?.to_owned(),
        data,
    })
}

fn conditions(node: Node<'_, '_>) -> Result<Conditions> {
    let mut audience_restrictions = Vec::new();
    for restriction in children(node, ns::ASSERTION, "AudienceRestriction") {
        audience_restrictions.push(
            children(restriction, ns::ASSERTION, "Audience")
                .map(text_trimmed)
                .collect::<Result<Vec<_>>>()?,
        );
    }
    Ok(Conditions {
        not_before: attr_instant(node, "NotBefore")?,
        not_on_or_after: attr_instant(node, "NotOnOrAfter")?,
        audience_restrictions,
    })
}

fn attribute(node: Node<'_, '_>) -> Result<Attribute> {
    let mut values = Vec::new();
    for value in children(node, ns::ASSERTION, "AttributeValue") {
        match element_text(value) {
            Ok(text) => values.push(text.to_owned()),
            // A structured value (an eduPersonTargetedID's NameID, say) is not a string: it is
            // left out rather than flattened.
            Err(XmlSecError::UnexpectedElementInText) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Attribute {
        name: req_attr(node, "Name")?.to_owned(),
        name_format: node.attribute("NameFormat").map(str::to_owned),
        friendly_name: node.attribute("FriendlyName").map(str::to_owned),
        values,
    })
}

/// Reads an Assertion element (core §2.3.3) of verified bytes: `Issuer` and `Subject/NameID`
/// required, exactly one `AuthnStatement` (profiles §4.1.4.2 requires one at least; a second
/// would be a second answer to one question).
///
/// # Errors
/// `UnexpectedMessage` when `node` is not a `saml:Assertion`; missing or mistyped fields.
pub fn read_assertion(node: Node<'_, '_>) -> Result<AssertionModel> {
    if !is(node, ns::ASSERTION, "Assertion") {
        return Err(unexpected("Assertion", node));
    }
    let subject = one_child(node, ns::ASSERTION, "Subject")?;
    let authn = one_child(node, ns::ASSERTION, "AuthnStatement")?;
    let mut attributes = Vec::new();
    for statement in children(node, ns::ASSERTION, "AttributeStatement") {
        for a in children(statement, ns::ASSERTION, "Attribute") {
            attributes.push(attribute(a)?);
        }
    }
    Ok(AssertionModel {
        id: req_attr(node, "ID")?.to_owned(),
        version: req_attr(node, "Version")?.to_owned(),
        issue_instant: required_instant(node, "IssueInstant")?,
        issuer: issuer(one_child(node, ns::ASSERTION, "Issuer")?)?,
        name_id: name_id(subject)?,
        confirmations: children(subject, ns::ASSERTION, "SubjectConfirmation")
            .map(confirmation)
            .collect::<Result<Vec<_>>>()?,
        conditions: opt_child(node, ns::ASSERTION, "Conditions")?
            .map(conditions)
            .transpose()?,
        authn_instant: required_instant(authn, "AuthnInstant")?,
        session_index: authn.attribute("SessionIndex").map(str::to_owned),
        session_not_on_or_after: attr_instant(authn, "SessionNotOnOrAfter")?,
        attributes,
    })
}
