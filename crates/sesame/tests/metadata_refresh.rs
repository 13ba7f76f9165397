//! Metadata refresh (issue 5 build point 6, SAML-SP-5) through the real binary: a partner IdP's
//! metadata is served on loopback; the IdP switches to a new signing certificate and publishes
//! it; the refresh job of `sesame serve` picks it up and the guest's sign-in keeps working
//! with the new key (and no longer with the old one); a failed refresh keeps the last good
//! certificates and records why. With a metadata signing certificate (a federation operator's),
//! only documents signed by it are taken.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ADMIN: &str = "sesame_at_metadata-refresh-test-admin-token-0000";
const BIN: &str = env!("CARGO_BIN_EXE_sesame");
const IDP: &str = "https://sts.partner.example/idp";
const EMAIL_CLAIM: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress";

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn key(name: &str) -> (String, String) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../sesame-saml/testdata/keys");
    (
        std::fs::read_to_string(format!("{dir}/{name}.key.pem")).unwrap(),
        std::fs::read_to_string(format!("{dir}/{name}.cert.pem")).unwrap(),
    )
}

fn cert_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

fn metadata(entity_id: &str, cert_pem: &str, port: u16) -> String {
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="_metadata" entityID="{entity_id}" cacheDuration="PT1S"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://127.0.0.1:{port}/slo"/><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="http://127.0.0.1:{port}/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#,
        cert_body(cert_pem)
    )
}

/// `xml` signed (enveloped, on the EntityDescriptor) with test key `name`.
fn signed_by(name: &str, xml: &str) -> String {
    let (k, c) = key(name);
    sesame_xmlsec::sign_enveloped(
        xml,
        &sesame_xmlsec::ElementPath::root(sesame_saml::ns::METADATA, "EntityDescriptor"),
        &sesame_xmlsec::SigningKey::from_pem(&k, &c).unwrap(),
        &sesame_xmlsec::SignOptions::default(),
    )
    .unwrap()
}

/// The partner's metadata endpoint: a plain HTTP/1.1 server on loopback answering every GET
/// with the current document.
fn serve_metadata(listener: TcpListener, doc: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let body = doc.lock().unwrap().clone();
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/samlmetadata+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
}

struct Sesame {
    url: String,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
    tenant: String,
}

impl Sesame {
    fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.rt.block_on(async {
            let mut req = self
                .http
                .request(method, format!("{}/api/v1{path}", self.url))
                .bearer_auth(ADMIN);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json().await.unwrap_or(Value::Null))
        })
    }

    /// Starts the guest's sign-in (the redemption link) and answers it with a Response signed
    /// by `key_name`; the ACS's status and page.
    fn sign_in(&self, key_name: &str, n: u32) -> (u16, String) {
        let b64 = base64::engine::general_purpose::STANDARD;
        let page = self.rt.block_on(async {
            self.http
                .get(format!(
                    "{}/{}/login?login_hint=ann%40partner.example",
                    self.url, self.tenant
                ))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        });
        let value = page
            .split("name=\"SAMLRequest\" value=\"")
            .nth(1)
            .unwrap_or_else(|| panic!("no AuthnRequest: {page}"))
            .split('"')
            .next()
            .unwrap();
        let request = sesame_saml::parse_authn_request(
            &String::from_utf8(b64.decode(value).unwrap()).unwrap(),
        )
        .unwrap();
        let acs = request.assertion_consumer_service_url.clone().unwrap();
        let (k, c) = key(key_name);
        let signing = sesame_xmlsec::SigningKey::from_pem(&k, &c).unwrap();
        let now = time::OffsetDateTime::now_utc();
        let nid = sesame_saml::NameId {
            value: "PERSIST-ANN".into(),
            format: Some(sesame_saml::ns::nameid::PERSISTENT.into()),
            name_qualifier: None,
            sp_name_qualifier: None,
        };
        let attrs = vec![sesame_saml::Attribute {
            name: EMAIL_CLAIM.into(),
            name_format: None,
            friendly_name: None,
            values: vec!["ann@partner.example".into()],
        }];
        let assertion_id = format!("_a{n}");
        let xml = sesame_saml::build_response(
            &sesame_saml::ResponseParams {
                response_id: "_r",
                assertion_id: &assertion_id,
                issue_instant: now,
                issuer: IDP,
                destination: &acs,
                in_response_to: Some(request.id()),
                audience: request.issuer(),
                name_id: &nid,
                subject_not_on_or_after: now + time::Duration::minutes(5),
                not_before: now - time::Duration::seconds(5),
                not_on_or_after: now + time::Duration::minutes(5),
                authn_instant: now,
                session_index: None,
                session_not_on_or_after: None,
                authn_context_class_ref: sesame_saml::ns::AC_PASSWORD_PROTECTED_TRANSPORT,
                attributes: &attrs,
            },
            &sesame_saml::Signer {
                sign: sesame_saml::SignWith::rsa_sha256(&signing),
                mode: sesame_saml::SigningMode::Assertion,
                encryption: None,
            },
        )
        .unwrap();
        self.rt.block_on(async {
            let res = self
                .http
                .post(&acs)
                .form(&[("SAMLResponse", b64.encode(&xml))])
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        })
    }

    fn federation(&self) -> Value {
        self.api(
            reqwest::Method::GET,
            &format!("/tenants/{}/directfederations/partner.example", self.tenant),
            None,
        )
        .1
    }

    /// Waits (bounded) until the refresh job has left the federation in the state `done` wants.
    fn until(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let f = self.federation();
            if done(&f) {
                return f;
            }
            assert!(Instant::now() < deadline, "{what}: {f:#}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[test]
fn the_refresh_job_picks_up_a_new_signing_certificate() {
    let md_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let md_port = md_listener.local_addr().unwrap().port();
    let (_, cert_a) = key("idp");
    let (_, cert_b) = key("idp2");
    let doc = Arc::new(Mutex::new(metadata(IDP, &cert_a, md_port)));
    serve_metadata(md_listener, doc.clone());

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = std::env::temp_dir().join(format!("sesame-md-{}", uuid::Uuid::new_v4()));
    let _server = Kill(
        Command::new(BIN)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--direct-federation-hosts",
                "127.0.0.1",
                "--metadata-refresh-max-secs",
                "1",
                "--metadata-refresh-check-secs",
                "1",
            ])
            .arg("--data-dir")
            .arg(&data)
            .env("SESAME_ADMIN_TOKEN", ADMIN)
            .env("SESAME_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut s = Sesame {
        url: format!("http://127.0.0.1:{port}"),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        rt: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        tenant: String::new(),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let tenant = loop {
        let ready = s.rt.block_on(async {
            s.http
                .get(format!("{}/readyz", s.url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        });
        if ready {
            let (status, t) = s.api(
                reqwest::Method::POST,
                "/tenants",
                Some(json!({ "name": "Contoso", "initialDomain": "contoso.example" })),
            );
            assert_eq!(status, 201, "{t}");
            break t["id"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "server not ready");
        std::thread::sleep(Duration::from_millis(100));
    };
    s.tenant = tenant;

    // Direct federation created from the metadata URL's current document; a guest invited.
    let md_url = format!("http://127.0.0.1:{md_port}/metadata.xml");
    let current = doc.lock().unwrap().clone();
    let (status, f) = s.api(
        reqwest::Method::PUT,
        &format!("/tenants/{}/directfederations/partner.example", s.tenant),
        Some(json!({ "metadataXml": current, "metadataUrl": md_url, "allowSha1": false })),
    );
    assert_eq!(status, 200, "{f}");
    let (status, g) = s.api(
        reqwest::Method::POST,
        &format!("/tenants/{}/guests", s.tenant),
        Some(json!({ "email": "ann@partner.example" })),
    );
    assert_eq!(status, 201, "{g}");

    // Key A signs in; key B is not trusted yet.
    assert_eq!(s.sign_in("idp", 1).0, 303);
    let (status, page) = s.sign_in("idp2", 2);
    assert_eq!(status, 403);
    assert!(page.contains("SESAME-4004"), "{page}");
    s.until("a first successful refresh", |f| {
        f["metadataRefresh"]["lastSuccessAt"].is_string()
    });

    // The IdP rolls over to key B and publishes only its certificate.
    *doc.lock().unwrap() = metadata(IDP, &cert_b, md_port);
    let body_b = cert_body(&cert_b);
    let f = s.until("certificate B picked up", |f| {
        let certs = f["signingCertificates"].as_array().unwrap();
        certs.len() == 1 && cert_body(certs[0].as_str().unwrap()) == body_b
    });
    assert!(f["metadataRefresh"]["lastError"].is_null(), "{f:#}");
    assert_eq!(
        s.sign_in("idp2", 3).0,
        303,
        "the guest signs in with the new key"
    );
    let (status, page) = s.sign_in("idp", 4);
    assert_eq!(status, 403, "the old key is no longer trusted");
    assert!(page.contains("SESAME-4004"), "{page}");

    // A document for another entity (or a broken one): the refresh fails, the certificates of
    // the last good read stay, and sign-in with them keeps working.
    *doc.lock().unwrap() = metadata("https://impostor.example/idp", &cert_a, md_port);
    let f = s.until("the failed refresh recorded", |f| {
        f["metadataRefresh"]["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("impostor"))
    });
    let certs = f["signingCertificates"].as_array().unwrap();
    assert_eq!(certs.len(), 1);
    assert_eq!(cert_body(certs[0].as_str().unwrap()), body_b);
    assert_eq!(s.sign_in("idp2", 5).0, 303);
    *doc.lock().unwrap() = "<not metadata".into();
    s.until("the broken document recorded", |f| {
        f["metadataRefresh"]["lastError"]
            .as_str()
            .is_some_and(|e| !e.contains("impostor"))
    });
    assert_eq!(s.sign_in("idp2", 6).0, 303);

    // The federation operator's metadata key (the `sp` test key) is set with the CLI: the
    // metadata given must be signed by it, and so must every document read afterwards.
    let (_, operator) = key("sp");
    let dir = std::env::temp_dir().join(format!("sesame-md-files-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let operator_file = dir.join("operator.pem");
    std::fs::write(&operator_file, &operator).unwrap();
    let federate = |metadata: &str| {
        let file = dir.join("metadata.xml");
        std::fs::write(&file, metadata).unwrap();
        Command::new(BIN)
            .args([
                "guest",
                "federate",
                "partner.example",
                "--allow-sha1",
                "false",
            ])
            .args(["--tenant", &s.tenant, "--metadata-url", &md_url])
            .arg("--metadata-file")
            .arg(&file)
            .arg("--metadata-signing-cert-file")
            .arg(&operator_file)
            .env("SESAME_SERVER", &s.url)
            .env("SESAME_TOKEN", ADMIN)
            .output()
            .unwrap()
    };
    let unsigned = federate(&metadata(IDP, &cert_b, md_port));
    assert!(!unsigned.status.success());
    let said = String::from_utf8_lossy(&unsigned.stderr);
    assert!(
        said.contains("metadataXml") && said.contains("signature"),
        "{said}"
    );
    let by_operator = federate(&signed_by("sp", &metadata(IDP, &cert_b, md_port)));
    assert!(
        by_operator.status.success(),
        "{}",
        String::from_utf8_lossy(&by_operator.stderr)
    );
    assert_eq!(
        cert_body(
            s.federation()["metadataSigningCertificate"]
                .as_str()
                .unwrap()
        ),
        cert_body(&operator)
    );

    // Unsigned, or signed by the IdP's own key rather than the operator's: refused, the last
    // good certificates stay.
    for (n, signer, what) in [
        (7, None, "unsigned"),
        (8, Some("idp"), "signed by another key"),
    ] {
        let doc_a = metadata(IDP, &cert_a, md_port);
        *doc.lock().unwrap() = match signer {
            Some(k) => signed_by(k, &doc_a),
            None => doc_a,
        };
        let f = s.until(what, |f| {
            f["metadataRefresh"]["lastError"].as_str().is_some_and(|e| {
                e.contains("signature") && e.contains("missing-signature") == signer.is_none()
            })
        });
        let certs = f["signingCertificates"].as_array().unwrap();
        assert_eq!(cert_body(certs[0].as_str().unwrap()), body_b, "{what}");
        assert_eq!(s.sign_in("idp", n).0, 403, "{what}: key A not trusted");
    }
    // Signed by the operator: taken.
    *doc.lock().unwrap() = signed_by("sp", &metadata(IDP, &cert_a, md_port));
    let body_a = cert_body(&cert_a);
    s.until("certificate A from signed metadata", |f| {
        let certs = f["signingCertificates"].as_array().unwrap();
        certs.len() == 1 && cert_body(certs[0].as_str().unwrap()) == body_a
    });
    assert_eq!(s.sign_in("idp", 9).0, 303);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&data);
}
