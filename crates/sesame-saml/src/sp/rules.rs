//! The SP-side rules for a `<samlp:Response>` received at our ACS, one function per concern,
//! each citing the section of SAML 2.0 it implements (core = SAML core 2.0, profiles = SAML
//! profiles 2.0 §4.1 Web Browser SSO, bindings = SAML bindings 2.0). Every rule is mandatory;
//! each failure is a [`SamlError::SpRule`] whose [`SpRule`] names it.
//!
//! The structural rules ([`one_assertion_only`], [`text_not_split`]) take `roxmltree` nodes; the
//! signature rule lives in [`super::signed`] (it needs the whole document); the others take the
//! models of [`super::model`], read from verified bytes, plus `now` and the expectations.

use roxmltree::Node;
use sesame_xmlsec::{XmlSecError, element_text};
use time::{Duration, OffsetDateTime};

use super::model::{AssertionModel, ResponseEnvelope};
use crate::error::{Result, SamlError, StatusCode};
use crate::ns;
use crate::xml::is;

/// The named rules of SP-side Response validation, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SpRule {
    /// Strict XML reading: size, depth, no DOCTYPE or entities, no PIs.
    StrictXml,
    /// The Response and Assertion have the elements and attributes the schema requires.
    ResponseStructure,
    /// [`status_is_success`].
    StatusIsSuccess,
    /// [`text_not_split`].
    TextNotSplit,
    /// [`one_assertion_only`].
    OneAssertionOnly,
    /// The EncryptedAssertion decrypts with one of our keys and allowed algorithms.
    AssertionDecrypts,
    /// [`super::signed`]: the Assertion, or the Response covering it, is signed by a trusted key.
    AssertionSignedByTrustedKey,
    /// [`version_is_2_0`].
    VersionIs20,
    /// [`issue_instant_not_in_future`].
    IssueInstantNotInFuture,
    /// [`response_destination_matches`].
    ResponseDestinationMatches,
    /// [`issuer_matches`].
    IssuerMatches,
    /// [`in_response_to_matches`].
    InResponseToMatches,
    /// [`audience_restriction_includes_sp`].
    AudienceRestrictionIncludesSp,
    /// [`conditions_time_window`].
    ConditionsTimeWindow,
    /// [`bearer_subject_confirmation`].
    BearerSubjectConfirmation,
    /// [`name_id_format_is_persistent`].
    NameIdFormatIsPersistent,
}

impl SpRule {
    /// Every rule, in the order they run.
    pub const ALL: [Self; 16] = [
        Self::StrictXml,
        Self::ResponseStructure,
        Self::StatusIsSuccess,
        Self::TextNotSplit,
        Self::OneAssertionOnly,
        Self::AssertionDecrypts,
        Self::AssertionSignedByTrustedKey,
        Self::VersionIs20,
        Self::IssueInstantNotInFuture,
        Self::ResponseDestinationMatches,
        Self::IssuerMatches,
        Self::InResponseToMatches,
        Self::AudienceRestrictionIncludesSp,
        Self::ConditionsTimeWindow,
        Self::BearerSubjectConfirmation,
        Self::NameIdFormatIsPersistent,
    ];

    /// Stable kebab-case name (logs, error pages, the SSO test tool).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::StrictXml => "strict-xml",
            Self::ResponseStructure => "response-structure",
            Self::StatusIsSuccess => "status-is-success",
            Self::TextNotSplit => "text-not-split",
            Self::OneAssertionOnly => "one-assertion-only",
            Self::AssertionDecrypts => "assertion-decrypts",
            Self::AssertionSignedByTrustedKey => "assertion-signed-by-trusted-key",
            Self::VersionIs20 => "version-is-2-0",
            Self::IssueInstantNotInFuture => "issue-instant-not-in-future",
            Self::ResponseDestinationMatches => "response-destination-matches",
            Self::IssuerMatches => "issuer-matches",
            Self::InResponseToMatches => "in-response-to-matches",
            Self::AudienceRestrictionIncludesSp => "audience-restriction-includes-sp",
            Self::ConditionsTimeWindow => "conditions-time-window",
            Self::BearerSubjectConfirmation => "bearer-subject-confirmation",
            Self::NameIdFormatIsPersistent => "name-id-format-is-persistent",
        }
    }
}

impl std::fmt::Display for SpRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an SP-side rule refused a Response: the rule, the values compared, and for the XML
/// security rules (strict reading, signature, decryption) the `sesame-xmlsec` cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpRuleFailure {
    /// The rule that failed.
    pub rule: SpRule,
    /// What was compared (never a whole assertion, never a secret).
    pub detail: String,
    /// The XML security error underneath, when there is one.
    pub cause: Option<XmlSecError>,
}

impl std::fmt::Display for SpRuleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.rule, self.detail)?;
        if let Some(cause) = &self.cause {
            write!(f, " ({})", cause.rule())?;
        }
        Ok(())
    }
}

/// A failure of `rule` with a description of the values compared.
pub(crate) fn fail(rule: SpRule, detail: impl Into<String>) -> SamlError {
    SamlError::SpRule(Box::new(SpRuleFailure {
        rule,
        detail: detail.into(),
        cause: None,
    }))
}

/// A failure of `rule` caused by the XML security layer.
pub(crate) fn fail_xmlsec(rule: SpRule, cause: XmlSecError) -> SamlError {
    SamlError::SpRule(Box::new(SpRuleFailure {
        rule,
        detail: cause.to_string(),
        cause: Some(cause),
    }))
}

/// Files any other error (schema-level reading errors) under `rule`, keeping an XML security
/// cause when there is one.
pub(crate) fn under(rule: SpRule, e: SamlError) -> SamlError {
    match e {
        SamlError::SpRule(_) => e,
        SamlError::XmlSec(cause) => fail_xmlsec(rule, cause),
        other => fail(rule, other.to_string()),
    }
}

fn show(v: Option<&str>) -> &str {
    v.unwrap_or("(absent)")
}

/// Core §3.2.2.2: only a top-level `Success` status carries an answer we act on; any other code
/// (with whatever second-level code) is a refusal from the IdP.
///
/// # Errors
/// [`SpRule::StatusIsSuccess`].
pub fn status_is_success(response: &ResponseEnvelope) -> Result<()> {
    if response.status_code == StatusCode::Success.uri() {
        Ok(())
    } else {
        Err(fail(
            SpRule::StatusIsSuccess,
            format!(
                "StatusCode {} (second level {}, message {:?})",
                response.status_code,
                show(response.status_sub_code.as_deref()),
                response.status_message.as_deref().unwrap_or("")
            ),
        ))
    }
}

/// Core §2.4.1 and §2.2.3 (values are strings) read with the comment-safe getter: a text value
/// split by an XML comment anywhere under `root` is refused. The signed canonical form drops
/// comments, so `user@evil.example<!---->.example.com` verifies as
/// `user@evil.example.example.com`; we read the whole value, and refuse the message anyway
/// because a split value is never legitimate (the CVE-2017-11427 family).
///
/// # Errors
/// [`SpRule::TextNotSplit`].
pub fn text_not_split(root: Node<'_, '_>) -> Result<()> {
    for node in root.descendants().filter(Node::is_element) {
        if node.children().any(|c| c.is_element()) {
            continue;
        }
        element_text(node).map_err(|e| fail_xmlsec(SpRule::TextNotSplit, e))?;
    }
    Ok(())
}

/// Profiles §4.1.4.2 and §4.1.4.3: we consume exactly one assertion, which must be the single
/// `saml:Assertion` or `saml:EncryptedAssertion` child of `root` (the Response, or the wrapper
/// of a decrypted assertion). Any other assertion anywhere in the document, at any depth
/// (Extensions, Status, Advice, inside another assertion, inside a Signature's Object), is
/// refused: every signature-wrapping attack needs a second one. Returns that child.
///
/// # Errors
/// [`SpRule::OneAssertionOnly`].
pub fn one_assertion_only<'a, 'i>(root: Node<'a, 'i>) -> Result<Node<'a, 'i>> {
    let is_assertion = |n: &Node<'_, '_>| {
        is(*n, ns::ASSERTION, "Assertion") || is(*n, ns::ASSERTION, "EncryptedAssertion")
    };
    let mut all = root.descendants().filter(|n| *n != root && is_assertion(n));
    match (all.next(), all.next()) {
        (Some(one), None) if one.parent() == Some(root) => Ok(one),
        (Some(one), None) => Err(fail(
            SpRule::OneAssertionOnly,
            format!(
                "the only {} is not a child of the {}",
                one.tag_name().name(),
                root.tag_name().name()
            ),
        )),
        (None, _) => Err(fail(SpRule::OneAssertionOnly, "no assertion")),
        (Some(_), Some(_)) => Err(fail(
            SpRule::OneAssertionOnly,
            format!("{} assertions in the document", 2 + all.count()),
        )),
    }
}

/// Core §3.2.2 (`Version` of the Response) and §2.3.3 (of the Assertion); core §4.1.2: only 2.0.
///
/// # Errors
/// [`SpRule::VersionIs20`].
pub fn version_is_2_0(response: &ResponseEnvelope, assertion: &AssertionModel) -> Result<()> {
    if response.version == "2.0" && assertion.version == "2.0" {
        Ok(())
    } else {
        Err(fail(
            SpRule::VersionIs20,
            format!(
                "Response Version {:?}, Assertion Version {:?}",
                response.version, assertion.version
            ),
        ))
    }
}

/// Core §1.3.3 and §3.2.2 / §2.3.3 (`IssueInstant`): neither the Response nor the Assertion was
/// issued after `now + skew`.
///
/// # Errors
/// [`SpRule::IssueInstantNotInFuture`].
pub fn issue_instant_not_in_future(
    response: &ResponseEnvelope,
    assertion: &AssertionModel,
    now: OffsetDateTime,
    skew: Duration,
) -> Result<()> {
    for (what, instant) in [
        ("Response", response.issue_instant),
        ("Assertion", assertion.issue_instant),
    ] {
        if instant > now + skew {
            return Err(fail(
                SpRule::IssueInstantNotInFuture,
                format!("{what} IssueInstant {instant} is after now {now} + skew {skew}"),
            ));
        }
    }
    Ok(())
}

/// Core §3.2.2 (`Destination`) and bindings §3.5.5.2: the Response names the URL it was posted
/// to, compared exactly. Mandatory here (a signed Response must carry it, and we fail closed for
/// unsigned ones too).
///
/// # Errors
/// [`SpRule::ResponseDestinationMatches`].
pub fn response_destination_matches(response: &ResponseEnvelope, acs_url: &str) -> Result<()> {
    match response.destination.as_deref() {
        Some(d) if d == acs_url => Ok(()),
        other => Err(fail(
            SpRule::ResponseDestinationMatches,
            format!("Destination {} is not {acs_url}", show(other)),
        )),
    }
}

/// Core §2.2.5 and profiles §4.1.4.2: the Assertion's `Issuer` (and the Response's, when
/// present) is the federated IdP's entityID, exactly, with `Format` absent or `entity`.
///
/// # Errors
/// [`SpRule::IssuerMatches`].
pub fn issuer_matches(
    response: &ResponseEnvelope,
    assertion: &AssertionModel,
    idp_entity_id: &str,
) -> Result<()> {
    let issuers = std::iter::once(("Assertion", &assertion.issuer))
        .chain(response.issuer.as_ref().map(|i| ("Response", i)));
    for (what, issuer) in issuers {
        let format_ok = issuer
            .format
            .as_deref()
            .is_none_or(|f| f == ns::nameid::ENTITY);
        if issuer.value != idp_entity_id || !format_ok {
            return Err(fail(
                SpRule::IssuerMatches,
                format!(
                    "{what} Issuer {:?} (Format {}) is not {idp_entity_id:?}",
                    issuer.value,
                    show(issuer.format.as_deref())
                ),
            ));
        }
    }
    Ok(())
}

/// Core §3.2.2 (`InResponseTo`), profiles §4.1.4.2 and §4.1.4.3 (the bearer
/// SubjectConfirmationData's `InResponseTo` matches the request's ID) and §4.1.5 (unsolicited
/// responses carry none): with an outstanding request, both the Response's and every bearer
/// confirmation's `InResponseTo` must equal its ID; without one, the response must be
/// unsolicited, unsolicited responses must be allowed, and no `InResponseTo` may appear.
///
/// # Errors
/// [`SpRule::InResponseToMatches`].
pub fn in_response_to_matches(
    response: &ResponseEnvelope,
    assertion: &AssertionModel,
    outstanding_request_id: Option<&str>,
    allow_unsolicited: bool,
) -> Result<()> {
    let bearer_values = assertion
        .confirmations
        .iter()
        .filter(|c| c.method == ns::CM_BEARER)
        .map(|c| c.data.as_ref().and_then(|d| d.in_response_to.as_deref()));
    let values = std::iter::once(("Response", response.in_response_to.as_deref()))
        .chain(bearer_values.map(|v| ("SubjectConfirmationData", v)));
    match outstanding_request_id {
        Some(expected) => {
            for (what, value) in values {
                if value != Some(expected) {
                    return Err(fail(
                        SpRule::InResponseToMatches,
                        format!(
                            "{what} InResponseTo {} is not the outstanding request {expected}",
                            show(value)
                        ),
                    ));
                }
            }
            Ok(())
        }
        None if !allow_unsolicited => Err(fail(
            SpRule::InResponseToMatches,
            format!(
                "no outstanding request (Response InResponseTo {}) and unsolicited responses are not allowed",
                show(response.in_response_to.as_deref())
            ),
        )),
        None => {
            for (what, value) in values {
                if let Some(v) = value {
                    return Err(fail(
                        SpRule::InResponseToMatches,
                        format!("unsolicited response, but {what} InResponseTo is {v}"),
                    ));
                }
            }
            Ok(())
        }
    }
}

/// Core §2.5.1.4 (every `AudienceRestriction` must be satisfied: one of its `Audience`s is us)
/// and profiles §4.1.4.2 (the assertion MUST carry an AudienceRestriction naming the SP).
///
/// # Errors
/// [`SpRule::AudienceRestrictionIncludesSp`].
pub fn audience_restriction_includes_sp(
    assertion: &AssertionModel,
    sp_entity_id: &str,
) -> Result<()> {
    let restrictions = assertion
        .conditions
        .as_ref()
        .map(|c| c.audience_restrictions.as_slice())
        .unwrap_or_default();
    if restrictions.is_empty() {
        return Err(fail(
            SpRule::AudienceRestrictionIncludesSp,
            "no AudienceRestriction",
        ));
    }
    match restrictions
        .iter()
        .find(|r| !r.iter().any(|a| a == sp_entity_id))
    {
        None => Ok(()),
        Some(r) => Err(fail(
            SpRule::AudienceRestrictionIncludesSp,
            format!("AudienceRestriction {r:?} does not include {sp_entity_id:?}"),
        )),
    }
}

/// Core §2.5.1.2: valid from `NotBefore` (not later than `now + skew`) until `NotOnOrAfter`
/// (`now - skew` is before it), each when present.
///
/// # Errors
/// [`SpRule::ConditionsTimeWindow`].
pub fn conditions_time_window(
    assertion: &AssertionModel,
    now: OffsetDateTime,
    skew: Duration,
) -> Result<()> {
    let Some(c) = &assertion.conditions else {
        return Ok(());
    };
    if let Some(nb) = c.not_before
        && nb > now + skew
    {
        return Err(fail(
            SpRule::ConditionsTimeWindow,
            format!("NotBefore {nb} is after now {now} + skew {skew}"),
        ));
    }
    if let Some(noa) = c.not_on_or_after
        && now - skew >= noa
    {
        return Err(fail(
            SpRule::ConditionsTimeWindow,
            format!("NotOnOrAfter {noa} has passed (now {now}, skew {skew})"),
        ));
    }
    Ok(())
}

/// Profiles §4.1.4.2 and §4.1.4.3, core §2.4.1.2: at least one `SubjectConfirmation` with
/// `Method` bearer, and every bearer confirmation has `SubjectConfirmationData` with
/// `Recipient` = our ACS URL, a `NotOnOrAfter` still in the future (with skew) and no
/// `NotBefore`. (Stricter than "at least one valid": a second, invalid bearer confirmation is
/// refused rather than ignored.)
///
/// # Errors
/// [`SpRule::BearerSubjectConfirmation`].
pub fn bearer_subject_confirmation(
    assertion: &AssertionModel,
    acs_url: &str,
    now: OffsetDateTime,
    skew: Duration,
) -> Result<()> {
    let rule = SpRule::BearerSubjectConfirmation;
    let mut bearer = assertion
        .confirmations
        .iter()
        .filter(|c| c.method == ns::CM_BEARER)
        .peekable();
    if bearer.peek().is_none() {
        let methods: Vec<&str> = assertion
            .confirmations
            .iter()
            .map(|c| c.method.as_str())
            .collect();
        return Err(fail(
            rule,
            format!("no bearer SubjectConfirmation (methods {methods:?})"),
        ));
    }
    for c in bearer {
        let Some(data) = &c.data else {
            return Err(fail(
                rule,
                "bearer SubjectConfirmation without SubjectConfirmationData",
            ));
        };
        if data.recipient.as_deref() != Some(acs_url) {
            return Err(fail(
                rule,
                format!(
                    "Recipient {} is not {acs_url}",
                    show(data.recipient.as_deref())
                ),
            ));
        }
        match data.not_on_or_after {
            None => return Err(fail(rule, "SubjectConfirmationData without NotOnOrAfter")),
            Some(noa) if now - skew >= noa => {
                return Err(fail(
                    rule,
                    format!(
                        "SubjectConfirmationData NotOnOrAfter {noa} has passed (now {now}, skew {skew})"
                    ),
                ));
            }
            Some(_) => {}
        }
        if let Some(nb) = data.not_before {
            return Err(fail(
                rule,
                format!("bearer SubjectConfirmationData carries NotBefore {nb}"),
            ));
        }
    }
    Ok(())
}

/// Core §8.3.7 (persistent identifiers) and §3.4.1.1 (we asked for this format in the
/// NameIDPolicy): when a format is required, the NameID's `Format` is exactly it.
///
/// # Errors
/// [`SpRule::NameIdFormatIsPersistent`].
pub fn name_id_format_is_persistent(
    assertion: &AssertionModel,
    required_format: Option<&str>,
) -> Result<()> {
    match required_format {
        Some(required) if assertion.name_id.format.as_deref() != Some(required) => Err(fail(
            SpRule::NameIdFormatIsPersistent,
            format!(
                "NameID Format {} is not {required}",
                show(assertion.name_id.format.as_deref())
            ),
        )),
        _ => Ok(()),
    }
}
