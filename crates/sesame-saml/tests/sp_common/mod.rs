//! Helpers of the SP-side tests (`sp_accept.rs`, `sp_attacks.rs`): a federated test IdP whose
//! Responses are built with the crate's own `build_response` (signed with `testdata/keys/idp`),
//! text surgery on them, re-signing, and `xmlsec1 --sign` as an independent signer.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use sesame_saml::{
    AssertionEncryption, Attribute, NameId, ResponseParams, SignWith, Signer, SigningMode,
    SpExpectations, build_response, ns,
};
use sesame_xmlsec::{
    AllowedAlgorithms, AllowedEncryption, DecryptionKey, DigestAlgorithm, ElementPath,
    EncryptionRecipient, SignOptions, SignatureAlgorithm, SigningKey, TrustedKeys,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

#[path = "../common/mod.rs"]
mod common;
pub use common::{TempDir, key_path, read, run, signing_key, tool, trusted};

pub const IDP: &str = "https://idp.partner.example/idp";
pub const SP: &str = "https://login.sesame.example/t1";
pub const ACS: &str = "https://login.sesame.example/t1/saml2/acs";
pub const REQ: &str = "_req-7f3a";
pub const RESPONSE_ID: &str = "_resp-1";
pub const ASSERTION_ID: &str = "_assert-1";
pub const NOW: OffsetDateTime = datetime!(2026-11-02 10:00 UTC);
pub const IMMUTABLE_ID: &str = "ABCDEG1234567890";

/// Keys and settings the expectations borrow.
pub struct Fixture {
    pub trusted: TrustedKeys,
    pub allowed: AllowedAlgorithms,
    pub encryption: AllowedEncryption,
    pub decryption: Vec<DecryptionKey>,
}

impl Fixture {
    pub fn new() -> Self {
        Self {
            trusted: trusted(&["idp"]),
            allowed: AllowedAlgorithms::default(),
            encryption: AllowedEncryption::default(),
            decryption: vec![DecryptionKey::from_pem(&read("keys/sp.key.pem")).unwrap()],
        }
    }

    pub fn with_sha1(mut self) -> Self {
        self.allowed = AllowedAlgorithms::default().with_sha1();
        self
    }

    /// Expectations of the ACS for the outstanding request `REQ`, persistent NameID.
    pub fn exp(&self) -> SpExpectations<'_> {
        SpExpectations {
            idp_entity_id: IDP,
            trusted: &self.trusted,
            allowed: &self.allowed,
            encryption: &self.encryption,
            sp_entity_id: SP,
            acs_url: ACS,
            outstanding_request_id: Some(REQ),
            allow_unsolicited: false,
            now: NOW,
            clock_skew: Duration::minutes(3),
            required_name_id_format: Some(ns::nameid::PERSISTENT),
            decryption_keys: &self.decryption,
        }
    }
}

pub fn name_id(value: &str) -> NameId {
    NameId {
        value: value.to_owned(),
        format: Some(ns::nameid::PERSISTENT.to_owned()),
        name_qualifier: None,
        sp_name_qualifier: None,
    }
}

pub fn attributes(email: &str) -> Vec<Attribute> {
    vec![Attribute {
        name: "IDPEmail".into(),
        name_format: None,
        friendly_name: None,
        values: vec![email.to_owned()],
    }]
}

/// A Response the way the federated IdP sends it; `edit` adjusts the parameters.
pub fn build_with(
    mode: SigningMode,
    encrypt: bool,
    key: &SigningKey,
    edit: impl FnOnce(&mut ResponseParams<'_>),
) -> String {
    let nid = name_id(IMMUTABLE_ID);
    let attrs = attributes("alice@contoso.example");
    let mut p = ResponseParams {
        response_id: RESPONSE_ID,
        assertion_id: ASSERTION_ID,
        issue_instant: NOW - Duration::seconds(5),
        issuer: IDP,
        destination: ACS,
        in_response_to: Some(REQ),
        audience: SP,
        name_id: &nid,
        subject_not_on_or_after: NOW + Duration::minutes(5),
        not_before: NOW - Duration::seconds(5),
        not_on_or_after: NOW + Duration::hours(1),
        authn_instant: NOW - Duration::seconds(30),
        session_index: Some("_session-1"),
        session_not_on_or_after: None,
        authn_context_class_ref: ns::AC_PASSWORD_PROTECTED_TRANSPORT,
        attributes: &attrs,
    };
    edit(&mut p);
    let recipient = EncryptionRecipient::from_certificate_pem(&read("keys/sp.cert.pem")).unwrap();
    let signer = Signer {
        sign: SignWith::rsa_sha256(key),
        mode,
        encryption: encrypt.then(|| AssertionEncryption::new(&recipient)),
    };
    build_response(&p, &signer).unwrap()
}

/// The baseline: assertion signed by the trusted IdP key.
pub fn build(mode: SigningMode) -> String {
    build_with(mode, false, &signing_key("idp"), |_| {})
}

/// Removes every `<ds:Signature>…</ds:Signature>`.
pub fn strip_signatures(xml: &str) -> String {
    let mut out = xml.to_owned();
    while let Some(start) = out.find("<ds:Signature") {
        let end = out[start..].find("</ds:Signature>").unwrap() + start + "</ds:Signature>".len();
        out.replace_range(start..end, "");
    }
    out
}

pub fn assertion_path() -> ElementPath<'static> {
    ElementPath::root(ns::PROTOCOL, "Response").child(ns::ASSERTION, "Assertion")
}

pub fn response_path() -> ElementPath<'static> {
    ElementPath::root(ns::PROTOCOL, "Response")
}

/// Signs the element at `path` with our signer (RSA-SHA256 unless `digest` says otherwise).
pub fn sign(
    xml: &str,
    path: &ElementPath<'_>,
    key: &SigningKey,
    digest: DigestAlgorithm,
) -> String {
    let options = SignOptions {
        signature: SignatureAlgorithm::RsaSha256,
        digest,
        ..SignOptions::default()
    };
    sesame_xmlsec::sign_enveloped(xml, path, key, &options).unwrap()
}

/// The baseline, unsigned, edited as text, then the assertion signed again by the IdP key: a
/// Response the IdP really signed, saying what `edit` made it say.
pub fn resigned(edit: impl FnOnce(String) -> String) -> String {
    let xml = edit(strip_signatures(&build(SigningMode::Assertion)));
    sign(
        &xml,
        &assertion_path(),
        &signing_key("idp"),
        DigestAlgorithm::Sha256,
    )
}

/// Replaces exactly one occurrence of `from`.
pub fn replace_once(xml: &str, from: &str, to: &str) -> String {
    assert_eq!(xml.matches(from).count(), 1, "{from:?} in {xml}");
    xml.replacen(from, to, 1)
}

/// The text of the first `<saml:Assertion …>…</saml:Assertion>`.
pub fn assertion_text(xml: &str) -> &str {
    let start = xml.find("<saml:Assertion").unwrap();
    let end = xml.rfind("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    &xml[start..end]
}

/// A signature template for xmlsec1 (which fills DigestValue, SignatureValue, certificate).
pub fn xmlsec1_template(id: &str, sig: SignatureAlgorithm, digest: DigestAlgorithm) -> String {
    format!(
        concat!(
            r#"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>"#,
            r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
            r##"<ds:SignatureMethod Algorithm="{sig}"/><ds:Reference URI="#{id}"><ds:Transforms>"##,
            r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#,
            r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
            r#"</ds:Transforms><ds:DigestMethod Algorithm="{digest}"/><ds:DigestValue></ds:DigestValue>"#,
            r#"</ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue>"#,
            r#"<ds:KeyInfo><ds:X509Data></ds:X509Data></ds:KeyInfo></ds:Signature>"#
        ),
        sig = sig.uri(),
        digest = digest.uri(),
        id = id,
    )
}

/// Inserts `text` right after the Issuer of the Response's Assertion child.
pub fn after_assertion_issuer(xml: &str, text: &str) -> String {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let assertion = doc
        .root_element()
        .children()
        .find(|c| c.has_tag_name((ns::ASSERTION, "Assertion")))
        .unwrap();
    let issuer = assertion
        .children()
        .find(|c| c.has_tag_name((ns::ASSERTION, "Issuer")))
        .unwrap();
    let at = issuer.range().end;
    format!("{}{}{}", &xml[..at], text, &xml[at..])
}

/// Signs the Response's Assertion with `xmlsec1 --sign` from a template (the independent
/// signer), with the IdP key. None when xmlsec1 is missing (and not required).
pub fn xmlsec1_sign_assertion(
    unsigned: &str,
    id: &str,
    sig: SignatureAlgorithm,
    digest: DigestAlgorithm,
) -> Option<String> {
    let bin = tool("xmlsec1", "SESAME_REQUIRE_XMLSEC1")?;
    let tmpl = after_assertion_issuer(unsigned, &xmlsec1_template(id, sig, digest));
    let dir = TempDir::new("sp-xmlsec1");
    let file = dir.write("tmpl.xml", &tmpl);
    let out = dir.0.join("signed.xml").display().to_string();
    let keyspec = format!("{},{}", key_path("idp.key.pem"), key_path("idp.cert.pem"));
    let node = format!("{}:Assertion", ns::ASSERTION);
    let (ok, o, e) = run(
        Path::new(&bin),
        &[
            "--sign",
            "--id-attr:ID",
            &node,
            "--privkey-pem",
            &keyspec,
            "--output",
            &out,
            &file,
        ],
    );
    assert!(ok, "xmlsec1 --sign failed: {o}{e}\n{tmpl}");
    Some(std::fs::read_to_string(&out).unwrap())
}
