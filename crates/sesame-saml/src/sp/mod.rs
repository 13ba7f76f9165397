//! # SP side: validating a `<samlp:Response>` from a federated IdP (pure, sans-I/O)
//!
//! Sésame is the service provider of the identity providers federated with a domain (issue 5):
//! their Responses arrive at our ACS. [`validate_response`] turns the posted XML into a
//! [`Verified<ValidatedAssertion>`] or an error naming the rule that refused it;
//! [`inspect_response`] runs the same rules and reports each one's verdict (the SSO test tool).
//! The replay cache (each assertion ID accepted once, until [`ValidatedAssertion::not_on_or_after`]
//! plus skew) and the lookup of outstanding requests are the caller's, in the store.
//!
//! Order of the rules ([`SpRule::ALL`]): strict reading → Response structure → Status →
//! no split text values → exactly one assertion, the Response's single Assertion or
//! EncryptedAssertion child → signature ([`signed`]: the Assertion, or the Response covering
//! it, signed by a configured key; decryption) → the assertion read from the **verified bytes
//! only** → Version, IssueInstant, Destination, Issuer, InResponseTo, Audience, Conditions
//! window, bearer SubjectConfirmation, NameID format. Every rule is mandatory (fail closed).
//!
//! **Must not touch**: I/O, the clock (`now` is an expectation), the replay cache.

pub mod model;
pub mod outgoing;
pub mod rules;
mod signed;

use sesame_xmlsec::{
    AllowedAlgorithms, AllowedEncryption, DecryptionKey, Limits, TrustedKeys, Verified, strict,
};
use time::{Duration, OffsetDateTime};

pub use model::{AssertionModel, ResponseEnvelope};
pub use outgoing::{
    IdpMetadata, SpAuthnRequestParams, SpMetadataParams, build_sp_authn_request,
    parse_idp_metadata, parse_xs_duration, sp_metadata, verify_idp_metadata,
};
pub use rules::{SpRule, SpRuleFailure};
pub use signed::Protection;

use crate::error::{Result, SamlError};
use crate::logout::NameId;
use crate::ns;
use crate::response::Attribute;
use rules::{fail_xmlsec, under};
use signed::At;

/// What Sésame expects of a Response from one federated IdP, for one ACS hit.
#[derive(Debug, Clone)]
pub struct SpExpectations<'a> {
    /// The federation's issuer URI (Issuer of Response and Assertion).
    pub idp_entity_id: &'a str,
    /// The federation's signing certificates; KeyInfo selects among them, never adds one.
    pub trusted: &'a TrustedKeys,
    /// Signature algorithms: [`AllowedAlgorithms::default`], or `.with_sha1()` when the
    /// federation allows SHA-1 (then [`Protection::sha1`] says when it was used).
    pub allowed: &'a AllowedAlgorithms,
    /// Content encryption accepted for an EncryptedAssertion (AES-GCM by default).
    pub encryption: &'a AllowedEncryption,
    /// Our SP entityID (the Audience).
    pub sp_entity_id: &'a str,
    /// This ACS URL (Destination and Recipient).
    pub acs_url: &'a str,
    /// The ID of the AuthnRequest we sent and have not yet seen answered; `None` only for an
    /// unsolicited (IdP-initiated) response, accepted only with `allow_unsolicited`.
    pub outstanding_request_id: Option<&'a str>,
    /// Whether unsolicited responses are accepted (off by default in federations).
    pub allow_unsolicited: bool,
    /// The current instant.
    pub now: OffsetDateTime,
    /// Tolerated clock skew ([`crate::rules::DEFAULT_CLOCK_SKEW`] is 3 minutes).
    pub clock_skew: Duration,
    /// The NameID format required, typically [`ns::nameid::PERSISTENT`]; `None` accepts any.
    pub required_name_id_format: Option<&'a str>,
    /// Our keys for EncryptedAssertion (empty: encrypted assertions fail `assertion-decrypts`).
    pub decryption_keys: &'a [DecryptionKey],
}

/// The assertion a Response carried, every rule passed, read from verified bytes only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedAssertion {
    /// Assertion `ID`: the replay-cache key.
    pub id: String,
    /// The IdP's entityID.
    pub issuer: String,
    /// The subject.
    pub name_id: NameId,
    /// `AuthnStatement/@SessionIndex` (for Single Logout).
    pub session_index: Option<String>,
    /// `AuthnStatement/@AuthnInstant`.
    pub authn_instant: OffsetDateTime,
    /// Every attribute of every AttributeStatement (string values only).
    pub attributes: Vec<Attribute>,
    /// Until when this assertion could be accepted (the earliest of the bearer
    /// SubjectConfirmationData and Conditions `NotOnOrAfter`): keep its ID in the replay cache
    /// at least until this instant plus the clock skew.
    pub not_on_or_after: OffsetDateTime,
    /// Response `ID`.
    pub response_id: String,
    /// Which signatures and whether encryption covered it.
    pub protection: Protection,
}

impl ValidatedAssertion {
    /// The values of the attribute named `name` (empty when absent).
    #[must_use]
    pub fn attribute_values(&self, name: &str) -> &[String] {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .map_or(&[], |a| a.values.as_slice())
    }
}

/// One rule's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleOutcome {
    /// The rule.
    pub rule: SpRule,
    /// Whether it passed.
    pub passed: bool,
    /// What was compared: the values that failed, or on success the values that matched
    /// (never a whole assertion, never a secret).
    pub detail: Option<String>,
}

/// Every rule that could run, in order, and the final result (the first failure, if any).
/// Rules after a failed structural or signature rule do not run: there is nothing verified to
/// run them on.
#[derive(Debug, Clone)]
pub struct ValidationReport {
    /// The verdicts, in the order the rules ran.
    pub outcomes: Vec<RuleOutcome>,
    /// What [`validate_response`] returns.
    pub result: Result<Verified<ValidatedAssertion>>,
}

impl ValidationReport {
    /// Whether every rule passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.result.is_ok()
    }
}

#[derive(Default)]
struct Recorder {
    outcomes: Vec<RuleOutcome>,
    first: Option<SamlError>,
}

impl Recorder {
    /// Records the verdict of `rule` (a failure is filed under the rule its error names), with
    /// `compared` describing the values that matched on success.
    fn check_compared<T>(
        &mut self,
        rule: SpRule,
        result: Result<T>,
        compared: impl FnOnce(&T) -> String,
    ) -> Option<T> {
        match result {
            Ok(v) => {
                let detail = compared(&v);
                self.outcomes.push(RuleOutcome {
                    rule,
                    passed: true,
                    detail: (!detail.is_empty()).then_some(detail),
                });
                Some(v)
            }
            Err(e) => {
                let e = under(rule, e);
                let (rule, detail) = match &e {
                    SamlError::SpRule(f) => (f.rule, f.to_string()),
                    other => (rule, other.to_string()),
                };
                self.outcomes.push(RuleOutcome {
                    rule,
                    passed: false,
                    detail: Some(detail),
                });
                if self.first.is_none() {
                    self.first = Some(e);
                }
                None
            }
        }
    }

    fn stop(&mut self) -> SamlError {
        self.first
            .take()
            .unwrap_or_else(|| rules::fail(SpRule::ResponseStructure, "validation stopped"))
    }
}

/// Validates a Response posted to our ACS (the XML, after the POST binding's base64).
///
/// # Errors
/// [`SamlError::SpRule`] naming the first rule that failed ([`SamlError::rule`]).
pub fn validate_response(
    xml: &str,
    exp: &SpExpectations<'_>,
) -> Result<Verified<ValidatedAssertion>> {
    inspect_response(xml, exp).result
}

/// Runs every rule it can and reports each verdict (the SSO test tool); `result` is what
/// [`validate_response`] returns.
#[must_use]
pub fn inspect_response(xml: &str, exp: &SpExpectations<'_>) -> ValidationReport {
    let mut r = Recorder::default();
    let result = run(xml, exp, &mut r);
    ValidationReport {
        outcomes: r.outcomes,
        result,
    }
}

/// The Response's `InResponseTo`, unverified: only a key for the caller to look up its
/// outstanding request (whose ID then goes in [`SpExpectations::outstanding_request_id`], where
/// the rules compare it with the verified values).
///
/// # Errors
/// Strict-reading errors, or `UnexpectedMessage` when the document is not a Response.
pub fn unverified_in_response_to(xml: &str) -> Result<Option<String>> {
    let doc = strict::parse(xml, &Limits::default())?;
    let root = doc.root_element();
    if !crate::xml::is(root, ns::PROTOCOL, "Response") {
        return Err(crate::error::unexpected("Response", root));
    }
    Ok(root.attribute("InResponseTo").map(str::to_owned))
}

fn run(
    xml: &str,
    exp: &SpExpectations<'_>,
    r: &mut Recorder,
) -> Result<Verified<ValidatedAssertion>> {
    let limits = Limits::default();
    let parsed = strict::parse(xml, &limits).map_err(|e| fail_xmlsec(SpRule::StrictXml, e));
    let Some(doc) = r.check_compared(SpRule::StrictXml, parsed, |_| {
        "no DOCTYPE, entity or processing instruction; within size and depth limits".to_owned()
    }) else {
        return Err(r.stop());
    };
    let root = doc.root_element();
    let Some(raw_envelope) = r.check_compared(
        SpRule::ResponseStructure,
        model::read_envelope(root),
        |_| "samlp:Response with the required elements and attributes (as received)".to_owned(),
    ) else {
        return Err(r.stop());
    };
    r.check_compared(
        SpRule::StatusIsSuccess,
        rules::status_is_success(&raw_envelope),
        |_| format!("StatusCode {}", raw_envelope.status_code),
    );
    r.check_compared(SpRule::TextNotSplit, rules::text_not_split(root), |_| {
        "no text value split by a comment".to_owned()
    });
    let Some(child) = r.check_compared(
        SpRule::OneAssertionOnly,
        rules::one_assertion_only(root),
        |c| format!("one {}, a child of the Response", c.tag_name().name()),
    ) else {
        return Err(r.stop());
    };
    let verified = signed::verify(xml, root, child, exp, &limits);
    let Some(signed) = r.check_compared(SpRule::AssertionSignedByTrustedKey, verified, |s| {
        let p = &s.protection;
        format!(
            "verified with a configured certificate: Response signed {}, Assertion signed {}, encrypted {}, SHA-1 {}",
            p.response_signed, p.assertion_signed, p.encrypted, p.sha1
        )
    }) else {
        return Err(r.stop());
    };

    // From here on, only verified bytes are read (the envelope as received only when the
    // Response is unsigned: its fields can then only cause rejections).
    let envelope = match &signed.envelope_xml {
        None => Ok(raw_envelope),
        Some(text) => strict::parse(text, &limits)
            .map_err(SamlError::from)
            .and_then(|d| model::read_envelope(d.root_element())),
    };
    let assertion = strict::parse(&signed.xml, &limits)
        .map_err(SamlError::from)
        .and_then(|d| {
            let root = d.root_element();
            let node = match signed.at {
                At::Root => root,
                At::Child => rules::one_assertion_only(root)?,
            };
            model::read_assertion(node)
        });
    let parsed = envelope.and_then(|e| assertion.map(|a| (e, a)));
    let Some((envelope, a)) = r.check_compared(SpRule::ResponseStructure, parsed, |_| {
        "Response and Assertion read again from the verified bytes only".to_owned()
    }) else {
        return Err(r.stop());
    };

    let (now, skew) = (exp.now, exp.clock_skew);
    r.check_compared(
        SpRule::VersionIs20,
        rules::version_is_2_0(&envelope, &a),
        |_| {
            format!(
                "Response Version {:?}, Assertion Version {:?}",
                envelope.version, a.version
            )
        },
    );
    r.check_compared(
        SpRule::IssueInstantNotInFuture,
        rules::issue_instant_not_in_future(&envelope, &a, now, skew),
        |_| {
            format!(
                "Response {}, Assertion {} not after now {now} + skew {skew}",
                envelope.issue_instant, a.issue_instant
            )
        },
    );
    r.check_compared(
        SpRule::ResponseDestinationMatches,
        rules::response_destination_matches(&envelope, exp.acs_url),
        |_| format!("Destination = {}", exp.acs_url),
    );
    r.check_compared(
        SpRule::IssuerMatches,
        rules::issuer_matches(&envelope, &a, exp.idp_entity_id),
        |_| format!("Issuer = {:?}", exp.idp_entity_id),
    );
    r.check_compared(
        SpRule::InResponseToMatches,
        rules::in_response_to_matches(
            &envelope,
            &a,
            exp.outstanding_request_id,
            exp.allow_unsolicited,
        ),
        |_| match exp.outstanding_request_id {
            Some(id) => format!("InResponseTo = outstanding request {id}"),
            None => "unsolicited, and unsolicited responses are allowed".to_owned(),
        },
    );
    r.check_compared(
        SpRule::AudienceRestrictionIncludesSp,
        rules::audience_restriction_includes_sp(&a, exp.sp_entity_id),
        |_| format!("Audience includes {:?}", exp.sp_entity_id),
    );
    r.check_compared(
        SpRule::ConditionsTimeWindow,
        rules::conditions_time_window(&a, now, skew),
        |_| {
            let c = a.conditions.as_ref();
            let show =
                |t: Option<OffsetDateTime>| t.map_or("(absent)".to_owned(), |t| t.to_string());
            format!(
                "NotBefore {} <= now {now} + skew {skew} < NotOnOrAfter {} + skew",
                show(c.and_then(|c| c.not_before)),
                show(c.and_then(|c| c.not_on_or_after))
            )
        },
    );
    r.check_compared(
        SpRule::BearerSubjectConfirmation,
        rules::bearer_subject_confirmation(&a, exp.acs_url, now, skew),
        |_| {
            format!(
                "bearer, Recipient = {}, NotOnOrAfter in the future",
                exp.acs_url
            )
        },
    );
    r.check_compared(
        SpRule::NameIdFormatIsPersistent,
        rules::name_id_format_is_persistent(&a, exp.required_name_id_format),
        |_| {
            format!(
                "NameID Format {}",
                a.name_id.format.as_deref().unwrap_or("(absent)")
            )
        },
    );
    if let Some(e) = r.first.take() {
        return Err(e);
    }

    let not_on_or_after = a
        .confirmations
        .iter()
        .filter(|c| c.method == ns::CM_BEARER)
        .filter_map(|c| c.data.as_ref().and_then(|d| d.not_on_or_after))
        .chain(a.conditions.as_ref().and_then(|c| c.not_on_or_after))
        .min()
        .unwrap_or(now);
    let validated = ValidatedAssertion {
        id: a.id,
        issuer: a.issuer.value,
        name_id: a.name_id,
        session_index: a.session_index,
        authn_instant: a.authn_instant,
        attributes: a.attributes,
        not_on_or_after,
        response_id: envelope.id,
        protection: signed.protection,
    };
    signed.proof.try_map(|()| Ok::<_, SamlError>(validated))
}
