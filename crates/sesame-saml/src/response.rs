//! Issuing the `<samlp:Response>` of Web Browser SSO (SAML core 2.0 §3.2.2, §2.3.3 Assertion,
//! §2.7.2 AuthnStatement, §2.7.3 AttributeStatement; profiles 2.0 §4.1.4.2), signed as the
//! application says (assertion, response or both) and optionally with the assertion encrypted
//! for the SP (§2.3.4 EncryptedAssertion); and error responses carrying only a Status.

use sesame_xmlsec::{
    ContentEncryption, ElementPath, EncryptOptions, EncryptionRecipient, KeyTransport,
};
use time::OffsetDateTime;

use crate::error::{Result, SamlError};
use crate::logout::NameId;
use crate::ns;
use crate::sign::{SignWith, sign_at};
use crate::status::{ResponseHeader, Status};
use crate::xml::{Writer, check_id, format_instant};

/// One `<saml:Attribute>` (core §2.7.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// `Name`.
    pub name: String,
    /// `NameFormat` (e.g. [`ns::attrname::URI`]); absent means unspecified.
    pub name_format: Option<String>,
    /// `FriendlyName`.
    pub friendly_name: Option<String>,
    /// One `<saml:AttributeValue>` per value (an empty list writes the attribute without
    /// values).
    pub values: Vec<String>,
}

/// Everything a successful Response says.
#[derive(Debug, Clone)]
pub struct ResponseParams<'a> {
    /// Response `ID` (from the caller's id generator).
    pub response_id: &'a str,
    /// Assertion `ID`.
    pub assertion_id: &'a str,
    /// `IssueInstant` of both (now).
    pub issue_instant: OffsetDateTime,
    /// Our entityID (Issuer of Response and Assertion).
    pub issuer: &'a str,
    /// The ACS URL: Response `Destination` and SubjectConfirmationData `Recipient`
    /// (profiles §4.1.4.2).
    pub destination: &'a str,
    /// The AuthnRequest's ID; `None` for IdP-initiated (unsolicited) responses.
    pub in_response_to: Option<&'a str>,
    /// The SP's entityID (AudienceRestriction).
    pub audience: &'a str,
    /// The subject.
    pub name_id: &'a NameId,
    /// SubjectConfirmationData `NotOnOrAfter` (bearer, profiles §4.1.4.2).
    pub subject_not_on_or_after: OffsetDateTime,
    /// Conditions `NotBefore`.
    pub not_before: OffsetDateTime,
    /// Conditions `NotOnOrAfter`.
    pub not_on_or_after: OffsetDateTime,
    /// AuthnStatement `AuthnInstant`: when the user authenticated.
    pub authn_instant: OffsetDateTime,
    /// `SessionIndex` (for Single Logout).
    pub session_index: Option<&'a str>,
    /// `SessionNotOnOrAfter`.
    pub session_not_on_or_after: Option<OffsetDateTime>,
    /// AuthnContextClassRef, e.g. [`ns::AC_PASSWORD_PROTECTED_TRANSPORT`].
    pub authn_context_class_ref: &'a str,
    /// The AttributeStatement (omitted when empty: core §2.7.3 needs one attribute at least).
    pub attributes: &'a [Attribute],
}

/// Which elements carry a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SigningMode {
    /// The Assertion only (the usual choice; Entra's default).
    #[default]
    Assertion,
    /// The Response only.
    Response,
    /// Both: the Assertion first, then the Response over it.
    Both,
}

/// How to encrypt the assertion for the SP.
#[derive(Debug, Clone, Copy)]
pub struct AssertionEncryption<'k> {
    /// The SP's encryption certificate.
    pub recipient: &'k EncryptionRecipient,
    /// AES-256-GCM (default) or AES-128-CBC for SPs that only read CBC.
    pub content: ContentEncryption,
    /// RSA-OAEP-MGF1P (default).
    pub key_transport: KeyTransport,
}

impl<'k> AssertionEncryption<'k> {
    /// AES-256-GCM content, RSA-OAEP-MGF1P key transport.
    #[must_use]
    pub fn new(recipient: &'k EncryptionRecipient) -> Self {
        Self {
            recipient,
            content: ContentEncryption::Aes256Gcm,
            key_transport: KeyTransport::RsaOaepMgf1pSha1,
        }
    }
}

/// How the Response is protected.
#[derive(Debug, Clone, Copy)]
pub struct Signer<'k> {
    /// Key and algorithms.
    pub sign: SignWith<'k>,
    /// What to sign.
    pub mode: SigningMode,
    /// Encrypt the (signed) assertion into an EncryptedAssertion.
    pub encryption: Option<AssertionEncryption<'k>>,
}

/// Builds, signs and optionally encrypts a successful Response.
///
/// Order of operations: the Assertion is signed (modes Assertion and Both), then encrypted
/// (when asked), then the Response is signed (modes Response and Both), so that a Response
/// signature covers the EncryptedAssertion as sent.
///
/// # Errors
/// `InvalidInput` for IDs that are not NCNames or equal; `XmlSec` when signing or encryption
/// fails (e.g. an algorithm that does not fit the key).
pub fn build_response(params: &ResponseParams<'_>, signer: &Signer<'_>) -> Result<String> {
    check_id("assertion ID", params.assertion_id)?;
    if params.assertion_id == params.response_id {
        return Err(SamlError::InvalidInput {
            what: "assertion ID",
            reason: "must differ from the response ID",
        });
    }
    let mut w = Writer::new();
    ResponseHeader {
        qname: "samlp:Response",
        id: params.response_id,
        issue_instant: params.issue_instant,
        destination: Some(params.destination),
        in_response_to: params.in_response_to,
        issuer: params.issuer,
    }
    .write_start(&mut w)?;
    Status::success().write(&mut w);
    write_assertion(&mut w, params);
    w.end("samlp:Response");
    let mut xml = w.finish();

    let response_path = ElementPath::root(ns::PROTOCOL, "Response");
    let assertion_path = response_path.clone().child(ns::ASSERTION, "Assertion");
    if matches!(signer.mode, SigningMode::Assertion | SigningMode::Both) {
        xml = sign_at(&xml, &assertion_path, &signer.sign)?;
    }
    if let Some(enc) = &signer.encryption {
        let options = EncryptOptions {
            content: enc.content,
            key_transport: enc.key_transport,
            wrap_in: Some("EncryptedAssertion"),
            ..EncryptOptions::default()
        };
        xml = sesame_xmlsec::encrypt_element(&xml, &assertion_path, enc.recipient, &options)?;
    }
    if matches!(signer.mode, SigningMode::Response | SigningMode::Both) {
        xml = sign_at(&xml, &response_path, &signer.sign)?;
    }
    Ok(xml)
}

fn write_assertion(w: &mut Writer, p: &ResponseParams<'_>) {
    // Core §2.3.3: Issuer, Signature?, Subject, Conditions, statements.
    w.start("saml:Assertion")
        .attr("ID", p.assertion_id)
        .attr("Version", "2.0")
        .attr("IssueInstant", &format_instant(p.issue_instant))
        .open_end();
    w.text_element("saml:Issuer", p.issuer);

    // Core §2.4.1; profiles §4.1.4.2: a bearer SubjectConfirmation with Recipient (the ACS),
    // NotOnOrAfter and, when answering a request, InResponseTo.
    w.start("saml:Subject").open_end();
    p.name_id.write(w);
    w.start("saml:SubjectConfirmation")
        .attr("Method", ns::CM_BEARER)
        .open_end();
    w.start("saml:SubjectConfirmationData")
        .attr_opt("InResponseTo", p.in_response_to)
        .attr("NotOnOrAfter", &format_instant(p.subject_not_on_or_after))
        .attr("Recipient", p.destination)
        .empty_end();
    w.end("saml:SubjectConfirmation").end("saml:Subject");

    // Core §2.5.1; profiles §4.1.4.2: an AudienceRestriction naming the SP.
    w.start("saml:Conditions")
        .attr("NotBefore", &format_instant(p.not_before))
        .attr("NotOnOrAfter", &format_instant(p.not_on_or_after))
        .open_end();
    w.start("saml:AudienceRestriction").open_end();
    w.text_element("saml:Audience", p.audience);
    w.end("saml:AudienceRestriction").end("saml:Conditions");

    // Core §2.7.2.
    w.start("saml:AuthnStatement")
        .attr("AuthnInstant", &format_instant(p.authn_instant))
        .attr_opt("SessionIndex", p.session_index)
        .attr_opt(
            "SessionNotOnOrAfter",
            p.session_not_on_or_after.map(format_instant).as_deref(),
        )
        .open_end();
    w.start("saml:AuthnContext").open_end();
    w.text_element("saml:AuthnContextClassRef", p.authn_context_class_ref);
    w.end("saml:AuthnContext").end("saml:AuthnStatement");

    // Core §2.7.3.
    if !p.attributes.is_empty() {
        w.start("saml:AttributeStatement").open_end();
        for a in p.attributes {
            w.start("saml:Attribute")
                .attr("Name", &a.name)
                .attr_opt("NameFormat", a.name_format.as_deref())
                .attr_opt("FriendlyName", a.friendly_name.as_deref());
            if a.values.is_empty() {
                w.empty_end();
                continue;
            }
            w.open_end();
            for v in &a.values {
                w.text_element("saml:AttributeValue", v);
            }
            w.end("saml:Attribute");
        }
        w.end("saml:AttributeStatement");
    }
    w.end("saml:Assertion");
}

/// An error Response: a Status and no assertion (core §3.2.2; profiles §4.1.4.2).
#[derive(Debug, Clone)]
pub struct StatusResponseParams<'a> {
    /// Response `ID`.
    pub response_id: &'a str,
    /// `IssueInstant` (now).
    pub issue_instant: OffsetDateTime,
    /// Our entityID.
    pub issuer: &'a str,
    /// The ACS URL.
    pub destination: &'a str,
    /// The AuthnRequest's ID.
    pub in_response_to: Option<&'a str>,
    /// e.g. `Status::of(StatusCode::NoPassive, None)`.
    pub status: Status,
}

/// Builds an error Response, enveloped-signed when `sign` is given.
///
/// # Errors
/// `InvalidInput` for a bad ID or a Success status (use [`build_response`]), `XmlSec` when
/// signing fails.
pub fn build_status_response(
    params: &StatusResponseParams<'_>,
    sign: Option<&SignWith<'_>>,
) -> Result<String> {
    if params.status.is_success() && params.status.sub_code.is_none() {
        return Err(SamlError::InvalidInput {
            what: "status",
            reason: "a Success Response carries an assertion: use build_response",
        });
    }
    let mut w = Writer::new();
    ResponseHeader {
        qname: "samlp:Response",
        id: params.response_id,
        issue_instant: params.issue_instant,
        destination: Some(params.destination),
        in_response_to: params.in_response_to,
        issuer: params.issuer,
    }
    .write_start(&mut w)?;
    params.status.write(&mut w);
    w.end("samlp:Response");
    let xml = w.finish();
    match sign {
        None => Ok(xml),
        Some(with) => sign_at(&xml, &ElementPath::root(ns::PROTOCOL, "Response"), with),
    }
}
