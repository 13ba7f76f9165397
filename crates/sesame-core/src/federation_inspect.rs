//! The SSO test tool, offline part (OPS-3, issue 5 build point 7): runs exactly the rules the
//! ACS ([`crate::federation_acs`]) runs on a Response, for one federated domain, and reports
//! every verdict with the values compared — without changing anything. The outstanding
//! request and the replay cache are **read** (never consumed or written), no session is
//! opened and no sign-in log entry is written, so a Response inspected first still signs in.
//!
//! The report's verdict is the refusal the ACS would answer (same code, same rule name), in the
//! same order: reading, federation, outstanding request, message rules, replay cache, user
//! matching, account enabled. Unlike the ACS, inspection goes on after the first failure where
//! there is something left to check, so that one run shows every problem.
//! **Must not touch**: HTTP, SQL, XML parsing (all reading is `sesame-saml`'s).

use serde::Serialize;
use sesame_model::{DomainFederation, TenantId};
use sesame_store::StoreError;
use utoipa::ToSchema;

use crate::Core;
use crate::federation_acs::{
    Federation, FederationFailure, IDP_EMAIL, codes, disabled, not_federated, replayed,
    rule_failure, unknown_request, unreadable, unsolicited_refused,
};

/// What a check was compared against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum CheckedAgainst {
    /// The message alone (and the federation's settings).
    Message,
    /// Stored state, read only (the outstanding request, the replay cache, the directory).
    Store,
}

/// One check's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InspectCheck {
    /// The rule's name, as the ACS names it on its error page and in the sign-in log.
    pub rule: String,
    pub passed: bool,
    pub against: CheckedAgainst,
    /// The values compared (never a whole assertion, never a secret).
    pub detail: Option<String>,
    /// On failure, the code the ACS answers for it.
    pub code: Option<String>,
}

/// What the ACS would answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InspectVerdict {
    /// `SESAME-40xx` (or `SESAME-1500` when the store failed).
    pub code: String,
    /// The rule the ACS names.
    pub rule: String,
    /// The HTTP status of the ACS's error page.
    pub status: u16,
}

/// The SSO test tool's report on one Response.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InspectReport {
    pub domain: String,
    /// True only when the ACS would accept this Response now (every check passed).
    pub passed: bool,
    /// The ACS's refusal, when it would refuse.
    pub verdict: Option<InspectVerdict>,
    /// Every check that ran, in the ACS's order.
    pub checks: Vec<InspectCheck>,
    /// Checks that did not run, and why.
    pub not_checked: Vec<String>,
}

struct Builder {
    checks: Vec<InspectCheck>,
    verdict: Option<FederationFailure>,
    not_checked: Vec<String>,
}

impl Builder {
    fn pass(&mut self, rule: &str, against: CheckedAgainst, detail: impl Into<String>) {
        let detail = detail.into();
        self.checks.push(InspectCheck {
            rule: rule.to_owned(),
            passed: true,
            against,
            detail: (!detail.is_empty()).then_some(detail),
            code: None,
        });
    }

    /// Records a failure; the first one is the ACS's verdict.
    fn fail(&mut self, f: FederationFailure, against: CheckedAgainst, detail: impl Into<String>) {
        self.checks.push(InspectCheck {
            rule: f.rule.to_owned(),
            passed: false,
            against,
            detail: Some(detail.into()),
            code: Some(f.code.to_owned()),
        });
        if self.verdict.is_none() {
            self.verdict = Some(f);
        }
    }

    fn skip(&mut self, what: &str) {
        self.not_checked.push(what.to_owned());
    }

    fn report(self, domain: String) -> InspectReport {
        InspectReport {
            domain,
            passed: self.verdict.is_none(),
            verdict: self.verdict.map(|f| InspectVerdict {
                code: f.code.to_owned(),
                rule: f.rule.to_owned(),
                status: f.status,
            }),
            checks: self.checks,
            not_checked: self.not_checked,
        }
    }
}

fn store_failure(e: &StoreError) -> FederationFailure {
    tracing::error!(error = %e, "store failure in the SSO test tool");
    FederationFailure {
        code: codes::UNAVAILABLE,
        status: 503,
        message: "The store is unavailable.".into(),
        rule: "store",
    }
}

const NOTHING_VERIFIED: &str = "nothing verified to run it on";

impl Core {
    /// Inspects `saml_response` (the POST binding's base64, as the ACS receives it) against the
    /// federation of `domain`, reading stored state without changing it.
    pub async fn inspect_federated_response(
        &self,
        tenant: TenantId,
        domain: &str,
        saml_response: &str,
    ) -> InspectReport {
        use CheckedAgainst::{Message, Store};
        let domain = domain.trim().to_ascii_lowercase();
        let mut b = Builder {
            checks: Vec::new(),
            verdict: None,
            not_checked: Vec::new(),
        };
        let later = [
            "federation",
            "in-response-to-matches",
            "SAML rules",
            "replay-cache",
            "user-matching",
            "account-enabled",
        ];

        // Bindings §3.5.4, as the ACS decodes it (base64, never DEFLATE).
        let xml = match sesame_saml::decode_post(saml_response) {
            Ok(x) => x,
            Err(e) => {
                b.fail(unreadable(&e), Message, e.to_string());
                for what in later {
                    b.skip(&format!("{what}: the Response could not be read"));
                }
                return b.report(domain);
            }
        };
        let in_response_to = match sesame_saml::unverified_in_response_to(&xml) {
            Ok(v) => v,
            Err(e) => {
                b.fail(unreadable(&e), Message, e.to_string());
                for what in later {
                    b.skip(&format!("{what}: the Response could not be read"));
                }
                return b.report(domain);
            }
        };
        b.pass("readable", Message, "a samlp:Response in the POST binding");

        let federation = match self.federation_of(tenant, &domain).await {
            Ok(Some(f)) => {
                let kind = match f {
                    Federation::Domain(_) => "a domain of the tenant",
                    Federation::Direct(_) => "a partner's domain, direct federation (guests)",
                };
                b.pass(
                    "federation",
                    Store,
                    format!(
                        "{domain} ({kind}) is federated with {}",
                        f.settings().issuer_uri
                    ),
                );
                f
            }
            Ok(None) => {
                b.fail(not_federated(), Store, format!("{domain} is not federated"));
                for what in &later[1..] {
                    b.skip(&format!("{what}: no federation to check against"));
                }
                return b.report(domain);
            }
            Err(e) => {
                b.fail(store_failure(&e), Store, "the store failed");
                return b.report(domain);
            }
        };

        let f = federation.settings();
        let request_id = self.inspect_request(f, in_response_to, &mut b).await;
        let Some(a) = self.inspect_rules(f, request_id.as_deref(), &xml, &mut b) else {
            for what in ["replay-cache", "user-matching", "account-enabled"] {
                b.skip(&format!("{what}: {NOTHING_VERIFIED}"));
            }
            return b.report(domain);
        };
        self.inspect_subject(&federation, &a, &mut b).await;
        b.report(domain)
    }

    /// The outstanding request the Response answers (read, not consumed): its ID when it is
    /// one the ACS would accept for this domain.
    async fn inspect_request(
        &self,
        f: &DomainFederation,
        in_response_to: Option<String>,
        b: &mut Builder,
    ) -> Option<String> {
        use CheckedAgainst::Store;
        let Some(id) = in_response_to else {
            if f.allow_unsolicited {
                b.pass(
                    "in-response-to-matches",
                    Store,
                    "unsolicited response; the federation accepts unsolicited responses",
                );
            } else {
                b.fail(
                    unsolicited_refused(),
                    Store,
                    "unsolicited response (no InResponseTo); the federation does not accept them",
                );
            }
            return None;
        };
        match self.store.find_authn_request(f.tenant_id, &id).await {
            Ok(r) if r.expires_at <= self.now() => {
                b.fail(
                    unknown_request(),
                    Store,
                    format!("request {id} expired at {}", r.expires_at),
                );
                None
            }
            Ok(r) if r.domain != f.domain => {
                b.fail(
                    unknown_request(),
                    Store,
                    format!(
                        "request {id} was sent for domain {}, not {}: the ACS checks it against that federation",
                        r.domain, f.domain
                    ),
                );
                None
            }
            Ok(r) => {
                b.pass(
                    "in-response-to-matches",
                    Store,
                    format!(
                        "InResponseTo {id} is an outstanding request for {} (until {}); not consumed",
                        r.domain, r.expires_at
                    ),
                );
                Some(id)
            }
            Err(StoreError::NotFound(_)) => {
                b.fail(
                    unknown_request(),
                    Store,
                    format!("InResponseTo {id} names no outstanding request (unknown, already answered or purged)"),
                );
                None
            }
            Err(e) => {
                b.fail(store_failure(&e), Store, "the store failed");
                None
            }
        }
    }

    /// The message rules, exactly as the ACS runs them (`sesame_saml::inspect_response` is
    /// `validate_response` reporting every verdict).
    fn inspect_rules(
        &self,
        f: &DomainFederation,
        request_id: Option<&str>,
        xml: &str,
        b: &mut Builder,
    ) -> Option<sesame_saml::ValidatedAssertion> {
        use CheckedAgainst::Message;
        let owned = match self.acs_expectations(f) {
            Ok(o) => o,
            Err(failure) => {
                b.fail(
                    failure,
                    Message,
                    "the federation's signing certificates cannot be used",
                );
                return None;
            }
        };
        let report = sesame_saml::inspect_response(xml, &owned.for_request(request_id));
        for o in &report.outcomes {
            let detail = o.detail.clone().unwrap_or_default();
            if o.passed {
                b.pass(o.rule.name(), Message, detail);
            } else {
                b.fail(rule_failure_for(o.rule), Message, detail);
            }
        }
        match report.result {
            Ok(v) => Some(v.get().clone()),
            Err(e) => {
                // A failure the outcomes did not record (there is none today): still the verdict.
                if report.outcomes.iter().all(|o| o.passed) {
                    b.fail(rule_failure(&e), Message, e.to_string());
                }
                None
            }
        }
    }

    /// Replay cache, user matching and account state, read only.
    async fn inspect_subject(
        &self,
        federation: &Federation,
        a: &sesame_saml::ValidatedAssertion,
        b: &mut Builder,
    ) {
        use CheckedAgainst::Store;
        let f = federation.settings();
        let tenant = f.tenant_id;
        match self.store.assertion_seen(tenant, &a.issuer, &a.id).await {
            Ok(false) => b.pass(
                "replay-cache",
                Store,
                format!("assertion {} not used before; not recorded", a.id),
            ),
            Ok(true) => b.fail(
                replayed(),
                Store,
                format!("assertion {} of {} was already used", a.id, a.issuer),
            ),
            Err(e) => b.fail(store_failure(&e), Store, "the store failed"),
        }
        let email = a
            .attribute_values(federation.email_attribute())
            .first()
            .cloned()
            .unwrap_or_default();
        let matched = match federation {
            Federation::Domain(f) => self.match_user(tenant, f, &a.name_id.value, &email).await,
            // Compared with the invitation's binding; a first redemption is not made.
            Federation::Direct(f) => {
                self.match_guest(f, &a.issuer, &a.name_id.value, &email, false)
                    .await
            }
        };
        let compared = match federation {
            Federation::Domain(_) => format!(
                "NameID {:?} = immutableId, {IDP_EMAIL} {:?} = UPN in {}",
                a.name_id.value, email, f.domain
            ),
            Federation::Direct(_) => format!(
                "emailaddress {:?} = an invitation for {}, NameID {:?} = its binding (or none yet; not bound)",
                email, f.domain, a.name_id.value
            ),
        };
        match matched {
            Ok(user) => {
                b.pass(
                    "user-matching",
                    Store,
                    format!("{compared}: {}", user.user_principal_name),
                );
                if user.account_enabled {
                    b.pass("account-enabled", Store, "enabled");
                } else {
                    b.fail(
                        disabled(),
                        Store,
                        format!("{} is disabled", user.user_principal_name),
                    );
                }
            }
            Err(failure) => {
                b.fail(failure, Store, compared);
                b.skip("account-enabled: no matched account");
            }
        }
    }
}

/// The ACS's refusal for a message rule (code and status; the rule is the caller's).
fn rule_failure_for(rule: sesame_saml::SpRule) -> FederationFailure {
    FederationFailure {
        code: codes::RULE_FAILED,
        status: 403,
        message: format!(
            "The identity provider's answer was refused by the rule {}.",
            rule.name()
        ),
        rule: rule.name(),
    }
}
