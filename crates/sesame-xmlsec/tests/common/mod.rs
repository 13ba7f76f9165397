//! Shared test fixtures: keys, corpus, and the `xmlsec1` oracle.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use sesame_xmlsec::{
    DigestAlgorithm, ElementPath, ID_ATTRIBUTES, SignatureAlgorithm, SigningKey, TrustedKeys,
};

pub const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

pub fn read(rel: &str) -> String {
    std::fs::read_to_string(testdata().join(rel)).unwrap()
}

pub fn key_path(name: &str) -> String {
    testdata().join("keys").join(name).display().to_string()
}

pub fn rsa_key() -> SigningKey {
    SigningKey::from_pem(&read("keys/rsa.key.pem"), &read("keys/rsa.cert.pem")).unwrap()
}

pub fn ec_key() -> SigningKey {
    SigningKey::from_pem(&read("keys/ec.key.pem"), &read("keys/ec.cert.pem")).unwrap()
}

pub fn untrusted_rsa_key() -> SigningKey {
    SigningKey::from_pem(&read("keys/rsa2.key.pem"), &read("keys/rsa2.cert.pem")).unwrap()
}

/// Trusts the RSA and P-256 test keys (not rsa2).
pub fn trusted() -> TrustedKeys {
    let mut t = TrustedKeys::new();
    t.add_certificate_pem(&read("keys/rsa.cert.pem")).unwrap();
    t.add_certificate_pem(&read("keys/ec.cert.pem")).unwrap();
    t
}

/// Every corpus document: (file name, text).
pub fn corpus() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(testdata().join("corpus"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// An element of a corpus document to sign: its path, and its ID attribute name.
#[derive(Debug, Clone)]
pub struct Target {
    pub steps: Vec<(String, String)>,
    pub id_attr: String,
    pub id: String,
}

impl Target {
    pub fn path(&self) -> ElementPath<'_> {
        let mut steps = self.steps.iter();
        let (ns, local) = steps.next().unwrap();
        let mut path = ElementPath::root(ns, local);
        for (ns, local) in steps {
            path = path.child(ns, local);
        }
        path
    }

    pub fn ns(&self) -> &str {
        &self.steps.last().unwrap().0
    }

    pub fn local(&self) -> &str {
        &self.steps.last().unwrap().1
    }
}

/// The document element, plus its single Assertion child when there is one.
pub fn targets(xml: &str) -> Vec<Target> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let root = doc.root_element();
    let name = |n: roxmltree::Node| {
        (
            n.tag_name().namespace().unwrap_or("").to_owned(),
            n.tag_name().name().to_owned(),
        )
    };
    let id_of = |n: roxmltree::Node| {
        ID_ATTRIBUTES
            .iter()
            .find_map(|a| n.attribute(*a).map(|v| (a.to_string(), v.to_owned())))
    };
    let mut out = Vec::new();
    if let Some((id_attr, id)) = id_of(root) {
        out.push(Target {
            steps: vec![name(root)],
            id_attr,
            id,
        });
    }
    let assertions: Vec<_> = root
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == "Assertion")
        .collect();
    if let [a] = assertions.as_slice()
        && let Some((id_attr, id)) = id_of(*a)
    {
        out.push(Target {
            steps: vec![name(root), name(*a)],
            id_attr,
            id,
        });
    }
    out
}

/// The `xmlsec1` binary, or `None` (test skipped with a message) when it is missing and
/// `SESAME_REQUIRE_XMLSEC1` is unset. When that variable is set, a missing binary fails.
pub fn xmlsec1() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("xmlsec1"))
            .find(|p| p.is_file())
    });
    match found {
        Some(p) => Some(p),
        None if std::env::var_os("SESAME_REQUIRE_XMLSEC1").is_some() => {
            panic!("xmlsec1 not found but SESAME_REQUIRE_XMLSEC1 is set (apt-get install xmlsec1)")
        }
        None => {
            eprintln!(
                "SKIPPED: xmlsec1 not installed (apt-get install xmlsec1); set SESAME_REQUIRE_XMLSEC1=1 to make this a failure"
            );
            None
        }
    }
}

pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "sesame-xmlsec-{}-{}-{:?}",
            tag,
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn write(&self, name: &str, content: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs xmlsec1 and returns (success, stdout, stderr).
pub fn run(bin: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `xmlsec1 --verify` of `xml` with `cert` trusted and `id_attr` declared on `ns:local`.
pub fn xmlsec1_verify(bin: &Path, xml: &str, target: &Target, cert: &str) -> (bool, String) {
    let scratch = Scratch::new("verify");
    let file = scratch.write("doc.xml", xml);
    let id_arg = format!("--id-attr:{}", target.id_attr);
    let node = if target.ns().is_empty() {
        target.local().to_owned()
    } else {
        format!("{}:{}", target.ns(), target.local())
    };
    let (ok, out, err) = run(
        bin,
        &[
            "--verify",
            "--enabled-reference-uris",
            "same-doc",
            &id_arg,
            &node,
            "--pubkey-cert-pem",
            &key_path(cert),
            &file,
        ],
    );
    (ok, format!("{out}{err}"))
}

pub fn decryption_key() -> sesame_xmlsec::DecryptionKey {
    sesame_xmlsec::DecryptionKey::from_pem(&read("keys/rsa.key.pem")).unwrap()
}

pub fn other_decryption_key() -> sesame_xmlsec::DecryptionKey {
    sesame_xmlsec::DecryptionKey::from_pem(&read("keys/rsa2.key.pem")).unwrap()
}

pub fn recipient() -> sesame_xmlsec::EncryptionRecipient {
    sesame_xmlsec::EncryptionRecipient::from_certificate_pem(&read("keys/rsa.cert.pem")).unwrap()
}

/// A signature template for xmlsec1 and bergshamra, written into the original document text.
pub fn template(
    id: &str,
    sig: SignatureAlgorithm,
    digest: DigestAlgorithm,
    prefix_list: &str,
    key_info: bool,
) -> String {
    let inclusive = if prefix_list.is_empty() {
        String::new()
    } else {
        format!(
            r#"<ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="{prefix_list}"/>"#
        )
    };
    format!(
        concat!(
            r#"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>"#,
            r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
            r##"<ds:SignatureMethod Algorithm="{sig}"/><ds:Reference URI="#{id}"><ds:Transforms>"##,
            r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#,
            r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#">{inclusive}</ds:Transform>"#,
            r#"</ds:Transforms><ds:DigestMethod Algorithm="{digest}"/><ds:DigestValue></ds:DigestValue>"#,
            r#"</ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue>"#,
            r#"{key_info}</ds:Signature>"#
        ),
        sig = sig.uri(),
        digest = digest.uri(),
        id = id,
        inclusive = inclusive,
        key_info = if key_info {
            "<ds:KeyInfo><ds:X509Data></ds:X509Data></ds:KeyInfo>"
        } else {
            ""
        },
    )
}

/// Inserts `text` after the Issuer child of the target element, or after its start tag,
/// without touching anything else of the original text.
pub fn insert_into_original(xml: &str, target: &Target, text: &str) -> String {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let mut node = doc.root_element();
    for (_, local) in target.steps.iter().skip(1) {
        node = node
            .children()
            .find(|c| c.is_element() && c.tag_name().name() == local)
            .unwrap();
    }
    let at = match node.first_element_child() {
        Some(first) if first.tag_name().name() == "Issuer" => first.range().end,
        _ => {
            // After the start tag: the first child's start, or before the end tag.
            match node.first_child() {
                Some(child) => child.range().start,
                None => panic!("target without children"),
            }
        }
    };
    format!("{}{}{}", &xml[..at], text, &xml[at..])
}
