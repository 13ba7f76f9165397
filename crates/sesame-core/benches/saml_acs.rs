//! `cargo xtask bench saml-acs` (issue 5): validated Responses per second at the federation
//! ACS, per core — parse, signature verification, every SP rule, and the replay-cache write in
//! the SQLite store — with the raw RSA-2048 verify rate of the same run for scale.
//! Target ≥ 5,000/s/core. Written to `target/bench/saml-acs.json`; a MISS does not fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sesame_model::{Tenant, TenantId};
use sesame_saml::{
    Attribute, NameId, ResponseParams, SignWith, Signer, SigningMode, SpExpectations,
    build_response, ns, validate_response,
};
use sesame_store::Store;
use sesame_xmlsec::{AllowedAlgorithms, AllowedEncryption, SigningKey, TrustedKeys};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

const IDP: &str = "https://idp.partner.example/idp";
const SP: &str = "http://127.0.0.1:8080/t/";
const ACS: &str = "http://127.0.0.1:8080/t/saml2/acs";
const RESPONSES: usize = 20_000;
const TARGET_PER_CORE: f64 = 5_000.0;

fn responses(key: &SigningKey, now: OffsetDateTime) -> Vec<(String, String)> {
    let nid = NameId {
        value: "AAAAAAAAAAAAAAAAAAAAAA==".into(),
        format: Some(ns::nameid::PERSISTENT.into()),
        name_qualifier: None,
        sp_name_qualifier: None,
    };
    let attrs = vec![Attribute {
        name: "IDPEmail".into(),
        name_format: None,
        friendly_name: None,
        values: vec!["alice@contoso.example".into()],
    }];
    (0..RESPONSES)
        .map(|i| {
            let (rid, aid, req) = (format!("_r{i}"), format!("_a{i}"), format!("_q{i}"));
            let p = ResponseParams {
                response_id: &rid,
                assertion_id: &aid,
                issue_instant: now,
                issuer: IDP,
                destination: ACS,
                in_response_to: Some(&req),
                audience: SP,
                name_id: &nid,
                subject_not_on_or_after: now + time::Duration::minutes(5),
                not_before: now - time::Duration::seconds(5),
                not_on_or_after: now + time::Duration::hours(1),
                authn_instant: now,
                session_index: Some("_s"),
                session_not_on_or_after: None,
                authn_context_class_ref: ns::AC_PASSWORD_PROTECTED_TRANSPORT,
                attributes: &attrs,
            };
            let signer = Signer {
                sign: SignWith::rsa_sha256(key),
                mode: SigningMode::Assertion,
                encryption: None,
            };
            (build_response(&p, &signer).unwrap(), req)
        })
        .collect()
}

/// Raw RSA-2048 PKCS#1 SHA-256 verifications per second on one core (aws-lc-rs).
fn raw_verify_rate() -> f64 {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{self, KeyPair, RsaKeyPair};
    let generated =
        sesame_core::keys::generate_signing_certificate("raw", OffsetDateTime::now_utc()).unwrap();
    let pair = RsaKeyPair::from_pkcs8(&generated.private_key_pkcs8).unwrap();
    let msg = [7u8; 32];
    let mut sig = vec![0; pair.public_modulus_len()];
    pair.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        &msg,
        &mut sig,
    )
    .unwrap();
    let public = signature::UnparsedPublicKey::new(
        &signature::RSA_PKCS1_2048_8192_SHA256,
        pair.public_key().as_ref().to_vec(),
    );
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < Duration::from_secs(2) {
        for _ in 0..100 {
            public.verify(&msg, &sig).unwrap();
        }
        n += 100;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn expectations<'a>(
    trusted: &'a TrustedKeys,
    allowed: &'a AllowedAlgorithms,
    encryption: &'a AllowedEncryption,
    req: &'a str,
    now: OffsetDateTime,
) -> SpExpectations<'a> {
    SpExpectations {
        idp_entity_id: IDP,
        trusted,
        allowed,
        encryption,
        sp_entity_id: SP,
        acs_url: ACS,
        outstanding_request_id: Some(req),
        allow_unsolicited: false,
        now,
        clock_skew: time::Duration::minutes(3),
        required_name_id_format: Some(ns::nameid::PERSISTENT),
        decryption_keys: &[],
    }
}

/// Parse, verify and rules only, on one thread: the CPU part of the ACS.
fn validate_only_rate(
    docs: &[(String, String)],
    trusted: &TrustedKeys,
    now: OffsetDateTime,
) -> f64 {
    let (allowed, encryption) = (AllowedAlgorithms::default(), AllowedEncryption::default());
    let started = Instant::now();
    let n = docs.len().min(5_000);
    for (xml, req) in &docs[..n] {
        validate_response(xml, &expectations(trusted, &allowed, &encryption, req, now)).unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let now = OffsetDateTime::now_utc();
    let generated = sesame_core::keys::generate_signing_certificate("idp", now).unwrap();
    let key = SigningKey::from_pkcs8_der(&generated.private_key_pkcs8, &generated.certificate_der)
        .unwrap();
    let mut trusted = TrustedKeys::new();
    trusted
        .add_certificate_der(&generated.certificate_der)
        .unwrap();
    let trusted = Arc::new(trusted);
    println!("signing {RESPONSES} IdP Responses…");
    let docs = Arc::new(responses(&key, now));
    let raw = raw_verify_rate();
    println!("raw RSA-2048 verify (aws-lc-rs): {raw:.0}/s per core");
    let cpu_only = validate_only_rate(&docs, &trusted, now);
    println!(
        "parse + verify + rules alone: {cpu_only:.0}/s on one core ({:.2} × raw verify)",
        cpu_only / raw
    );

    let dir = std::env::temp_dir().join(format!("sesame-bench-acs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()
        .unwrap();
    let per_s = rt.block_on(async {
        let url = format!("sqlite://{}/acs.db", dir.display());
        let store: Arc<dyn Store> = sesame_store_sql::open(&url).await.unwrap();
        let tenant = Tenant {
            id: TenantId(uuid::Uuid::now_v7()),
            name: "Bench".into(),
            initial_domain: "bench.example".into(),
            created_at: now,
        };
        store.create_tenant(&tenant).await.unwrap();
        let t = Instant::now();
        for i in 0..5_000 {
            store
                .remember_assertion(tenant.id, "probe", &format!("_p{i}"), now)
                .await
                .unwrap();
        }
        println!(
            "replay-cache writes alone, one at a time: {:.0}/s",
            5_000.0 / t.elapsed().as_secs_f64()
        );
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        // An HTTP front end has many requests in flight; their replay writes commit together.
        let tasks_n = cores * 8;
        for worker in 0..tasks_n {
            let (docs, trusted, store) = (docs.clone(), trusted.clone(), store.clone());
            tasks.spawn(async move {
                let allowed = AllowedAlgorithms::default();
                let encryption = AllowedEncryption::default();
                for (xml, req) in docs.iter().skip(worker).step_by(tasks_n) {
                    let exp = expectations(&trusted, &allowed, &encryption, req, now);
                    let verified = validate_response(xml, &exp).unwrap();
                    let a = &*verified;
                    store
                        .remember_assertion(
                            tenant.id,
                            &a.issuer,
                            &a.id,
                            now + time::Duration::hours(1),
                        )
                        .await
                        .unwrap();
                }
            });
        }
        while let Some(r) = tasks.join_next().await {
            r.unwrap();
        }
        RESPONSES as f64 / started.elapsed().as_secs_f64()
    });
    let _ = std::fs::remove_dir_all(&dir);
    let per_core = per_s / cores as f64;
    let pass = per_core >= TARGET_PER_CORE;
    println!(
        "ACS: {per_s:.0} validated Responses/s on {cores} cores = {per_core:.0}/s/core ({:.2} × raw verify)  [{} target ≥ 5,000/s/core]",
        per_core / raw,
        if pass { "PASS" } else { "MISS" }
    );
    let report = serde_json::json!({
        "responses": RESPONSES,
        "cores": cores,
        "validated_per_s": per_s,
        "validated_per_s_per_core": per_core,
        "raw_rsa2048_verify_per_s_per_core": raw,
        "ratio_to_raw_verify": per_core / raw,
        "validate_only_per_s_one_core": cpu_only,
        "target_per_core": TARGET_PER_CORE,
        "pass": pass,
        "store": "sqlite",
    });
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&out).unwrap();
    let file = out.join("saml-acs.json");
    std::fs::write(&file, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("written to {}", file.display());
}
