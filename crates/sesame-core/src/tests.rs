//! Core behaviour on an in-memory SQLite store with a fixed clock and a scripted DNS.

use crate::*;
use async_trait::async_trait;
use sesame_model::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::macros::datetime;

#[derive(Default)]
struct ScriptedDns(Mutex<HashMap<String, Vec<String>>>);

#[async_trait]
impl TxtResolver for ScriptedDns {
    async fn txt_records(&self, name: &str) -> Result<Vec<String>, String> {
        let map = self.0.lock().map_err(|e| e.to_string())?;
        Ok(map.get(name).cloned().unwrap_or_default())
    }
}

struct Fixture {
    core: Core,
    clock: Arc<FixedClock>,
    dns: Arc<ScriptedDns>,
    tenant: Tenant,
}

async fn fixture() -> Fixture {
    let store = sesame_store_sql::open("sqlite::memory:").await.unwrap();
    let clock = Arc::new(FixedClock::new(datetime!(2026-11-21 10:00:00 UTC)));
    let dns = Arc::new(ScriptedDns::default());
    let core = Core::new(
        store,
        clock.clone(),
        dns.clone(),
        PasswordHasher::with_params(256, 1, 1).unwrap(),
        CoreSettings::default(),
    );
    let tenant = core
        .create_tenant(NewTenant {
            name: "Contoso".into(),
            initial_domain: None,
        })
        .await
        .unwrap();
    Fixture {
        core,
        clock,
        dns,
        tenant,
    }
}

fn new_user(upn: &str, password: Option<&str>) -> NewUser {
    NewUser {
        user_principal_name: upn.into(),
        password: password.map(str::to_string),
        ..Default::default()
    }
}

fn attempt(f: &Fixture, upn: &str, password: &str) -> SignInAttempt {
    SignInAttempt {
        tenant: f.tenant.id,
        user_principal_name: upn.into(),
        password: password.into(),
        ip: Some("127.0.0.1".into()),
        correlation_id: uuid::Uuid::new_v4().to_string(),
    }
}

async fn outcome(f: &Fixture, upn: &str, password: &str) -> Result<String, SignInFailure> {
    match f
        .core
        .sign_in_with_password(attempt(f, upn, password))
        .await
        .unwrap()
    {
        SignInOutcome::Success(s) => Ok(s.session_secret),
        SignInOutcome::Failure(e) => Err(e),
    }
}

#[tokio::test]
async fn tenant_gets_slug_initial_domain_and_resolves_by_id_and_domain() {
    let f = fixture().await;
    assert_eq!(f.tenant.initial_domain, "contoso.sesame.local");
    assert_eq!(
        f.core
            .resolve_tenant(&f.tenant.id.to_string())
            .await
            .unwrap()
            .id,
        f.tenant.id
    );
    assert_eq!(
        f.core
            .resolve_tenant("CONTOSO.sesame.local")
            .await
            .unwrap()
            .id,
        f.tenant.id
    );
    assert!(matches!(
        f.core.resolve_tenant("nope.example").await,
        Err(CoreError::NotFound(_))
    ));
    assert!(matches!(
        f.core.resolve_tenant("../etc").await,
        Err(CoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn user_defaults_and_upn_rules() {
    let f = fixture().await;
    let u = f
        .core
        .create_user(f.tenant.id, new_user("Alice@Contoso.Sesame.Local", None))
        .await
        .unwrap();
    assert_eq!(u.user_principal_name, "alice@contoso.sesame.local");
    assert_eq!(u.immutable_id, default_immutable_id(u.id));
    assert!(u.account_enabled);
    // Same UPN differently cased: conflict.
    let dup = f
        .core
        .create_user(f.tenant.id, new_user("ALICE@contoso.sesame.local", None))
        .await;
    assert!(matches!(dup, Err(CoreError::Conflict(_))), "{dup:?}");
    // Unverified domain: refused.
    let other = f
        .core
        .create_user(f.tenant.id, new_user("bob@fabrikam.example", None))
        .await;
    assert!(matches!(other, Err(CoreError::Invalid { .. })));
    let bad = f
        .core
        .create_user(f.tenant.id, new_user("not an email", None))
        .await;
    assert!(
        matches!(bad, Err(CoreError::Invalid { ref field, .. }) if field == "userPrincipalName")
    );
    let weak = f
        .core
        .create_user(
            f.tenant.id,
            new_user("carol@contoso.sesame.local", Some("short")),
        )
        .await;
    assert!(matches!(weak, Err(CoreError::Invalid { ref field, .. }) if field == "password"));
}

#[tokio::test]
async fn domain_verification_needs_the_txt_record() {
    let f = fixture().await;
    let d = f
        .core
        .add_domain(
            f.tenant.id,
            NewDomain {
                name: "Fabrikam.Example".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(d.name, "fabrikam.example");
    assert_eq!(d.status, DomainStatus::Unverified);
    let err = f
        .core
        .verify_domain(f.tenant.id, "fabrikam.example")
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::DomainVerification { .. }));
    f.dns.0.lock().unwrap().insert(
        "fabrikam.example".into(),
        vec!["v=spf1 -all".into(), "sesame-verification=wrong".into()],
    );
    assert!(
        f.core
            .verify_domain(f.tenant.id, "fabrikam.example")
            .await
            .is_err()
    );
    f.dns.0.lock().unwrap().insert(
        "fabrikam.example".into(),
        vec![format!("{VERIFICATION_PREFIX}{}", d.verification_token)],
    );
    let v = f
        .core
        .verify_domain(f.tenant.id, "fabrikam.example")
        .await
        .unwrap();
    assert_eq!(v.status, DomainStatus::Verified);
    assert_eq!(v.verified_at, Some(f.core.now()));
    // Now users may live in it, and the tenant resolves by it.
    f.core
        .create_user(f.tenant.id, new_user("bob@fabrikam.example", None))
        .await
        .unwrap();
    assert_eq!(
        f.core.resolve_tenant("fabrikam.example").await.unwrap().id,
        f.tenant.id
    );
}

#[tokio::test]
async fn password_sign_in_success_failure_and_log() {
    let f = fixture().await;
    let u = f
        .core
        .create_user(
            f.tenant.id,
            new_user("alice@contoso.sesame.local", Some("Correct-Horse-1")),
        )
        .await
        .unwrap();
    let secret = outcome(&f, "ALICE@contoso.sesame.local", "Correct-Horse-1")
        .await
        .unwrap();
    let (session, user) = f
        .core
        .current_session(f.tenant.id, &secret)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.id, u.id);
    assert_eq!(session.expires_at, f.core.now() + time::Duration::hours(12));
    assert_eq!(
        outcome(&f, "alice@contoso.sesame.local", "wrong").await,
        Err(SignInFailure::InvalidCredentials)
    );
    assert_eq!(
        outcome(&f, "nobody@contoso.sesame.local", "x").await,
        Err(SignInFailure::InvalidCredentials)
    );
    assert_eq!(
        outcome(&f, "garbage", "x").await,
        Err(SignInFailure::InvalidCredentials)
    );
    let log = f
        .core
        .store()
        .list_sign_ins(
            f.tenant.id,
            &SignInQuery::default(),
            &PageRequest::new(None, None),
        )
        .await
        .unwrap();
    let results: Vec<_> = log
        .items
        .iter()
        .map(|e| (e.result, e.reason.clone()))
        .collect();
    assert_eq!(results.len(), 4);
    assert_eq!(results[3], (SignInResult::Success, None));
    assert_eq!(
        results[2],
        (
            SignInResult::Failure,
            Some("SESAME-2001 wrong password".into())
        )
    );
    assert_eq!(
        results[1],
        (
            SignInResult::Failure,
            Some("SESAME-2001 unknown user".into())
        )
    );
    assert!(
        log.items
            .iter()
            .all(|e| e.ip.as_deref() == Some("127.0.0.1"))
    );
    // Sessions end with sign-out and with expiry.
    f.core.sign_out(f.tenant.id, &secret).await.unwrap();
    assert!(
        f.core
            .current_session(f.tenant.id, &secret)
            .await
            .unwrap()
            .is_none()
    );
    let again = outcome(&f, "alice@contoso.sesame.local", "Correct-Horse-1")
        .await
        .unwrap();
    f.clock.advance(time::Duration::hours(13));
    assert!(
        f.core
            .current_session(f.tenant.id, &again)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn lockout_after_threshold_then_release() {
    let f = fixture().await;
    f.core
        .create_user(
            f.tenant.id,
            new_user("alice@contoso.sesame.local", Some("Correct-Horse-1")),
        )
        .await
        .unwrap();
    let upn = "alice@contoso.sesame.local";
    for _ in 0..4 {
        assert_eq!(
            outcome(&f, upn, "bad").await,
            Err(SignInFailure::InvalidCredentials)
        );
    }
    let until = f.core.now() + time::Duration::minutes(15);
    assert_eq!(
        outcome(&f, upn, "bad").await,
        Err(SignInFailure::Locked { until })
    );
    // Even the right password fails while locked.
    assert_eq!(
        outcome(&f, upn, "Correct-Horse-1").await,
        Err(SignInFailure::Locked { until })
    );
    f.clock.advance(time::Duration::minutes(16));
    assert!(outcome(&f, upn, "Correct-Horse-1").await.is_ok());
    // A success resets the counter: four more failures do not lock.
    for _ in 0..4 {
        assert_eq!(
            outcome(&f, upn, "bad").await,
            Err(SignInFailure::InvalidCredentials)
        );
    }
    assert!(outcome(&f, upn, "Correct-Horse-1").await.is_ok());
}

#[tokio::test]
async fn admin_reset_clears_lockout_and_disabled_accounts_cannot_sign_in() {
    let f = fixture().await;
    let u = f
        .core
        .create_user(
            f.tenant.id,
            new_user("alice@contoso.sesame.local", Some("Correct-Horse-1")),
        )
        .await
        .unwrap();
    let upn = "alice@contoso.sesame.local";
    for _ in 0..5 {
        let _ = outcome(&f, upn, "bad").await;
    }
    assert!(matches!(
        outcome(&f, upn, "Correct-Horse-1").await,
        Err(SignInFailure::Locked { .. })
    ));
    f.core
        .set_password(f.tenant.id, u.id, "New-Password-2".into())
        .await
        .unwrap();
    let secret = outcome(&f, upn, "New-Password-2").await.unwrap();
    let patch = UserPatch {
        account_enabled: Some(false),
        ..Default::default()
    };
    f.core.update_user(f.tenant.id, u.id, patch).await.unwrap();
    assert!(
        f.core
            .current_session(f.tenant.id, &secret)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        outcome(&f, upn, "New-Password-2").await,
        Err(SignInFailure::Disabled)
    );
}

#[tokio::test]
async fn admin_tokens_scope_and_bootstrap() {
    let f = fixture().await;
    let first = f.core.bootstrap_admin_token().await.unwrap().unwrap();
    assert!(f.core.bootstrap_admin_token().await.unwrap().is_none());
    assert_eq!(
        f.core.authenticate_admin(&first.secret).await.unwrap(),
        AdminScope::Global
    );
    let limited = f
        .core
        .create_admin_token("ops", Some(f.tenant.id))
        .await
        .unwrap();
    let scope = f.core.authenticate_admin(&limited.secret).await.unwrap();
    assert_eq!(scope, AdminScope::Tenant(f.tenant.id));
    assert!(scope.check_tenant(f.tenant.id).is_ok());
    assert!(matches!(
        scope.check_tenant(TenantId(uuid::Uuid::nil())),
        Err(CoreError::Forbidden)
    ));
    assert!(matches!(scope.require_global(), Err(CoreError::Forbidden)));
    assert!(matches!(
        f.core.authenticate_admin("sesame_at_nope").await,
        Err(CoreError::Unauthenticated)
    ));
    // Only the digest is stored.
    let stored = f.core.store().list_admin_tokens().await.unwrap();
    assert!(
        stored
            .iter()
            .all(|t| t.digest.len() == 64 && t.digest != first.secret)
    );
    assert!(
        f.core
            .install_admin_token("env", "too-short")
            .await
            .is_err()
    );
    let env_secret = "x".repeat(40);
    f.core
        .install_admin_token("env", &env_secret)
        .await
        .unwrap();
    f.core
        .install_admin_token("env", &env_secret)
        .await
        .unwrap();
    assert_eq!(
        f.core.authenticate_admin(&env_secret).await.unwrap(),
        AdminScope::Global
    );
}

#[tokio::test]
async fn assignment_directly_or_through_a_group() {
    let f = fixture().await;
    let t = f.tenant.id;
    let alice = f
        .core
        .create_user(t, new_user("alice@contoso.sesame.local", None))
        .await
        .unwrap();
    let bob = f
        .core
        .create_user(t, new_user("bob@contoso.sesame.local", None))
        .await
        .unwrap();
    let carol = f
        .core
        .create_user(t, new_user("carol@contoso.sesame.local", None))
        .await
        .unwrap();
    let app = f
        .core
        .create_app(
            t,
            NewApp {
                name: "AWS".into(),
                enabled: None,
            },
        )
        .await
        .unwrap();
    let sales = f
        .core
        .create_group(
            t,
            NewGroup {
                display_name: "Sales".into(),
                description: None,
            },
        )
        .await
        .unwrap();
    f.core
        .store()
        .add_member(t, sales.id, bob.id)
        .await
        .unwrap();
    let direct = NewAssignment {
        principal_type: PrincipalType::User,
        principal_id: alice.id.0,
        app_role: None,
    };
    f.core.assign_app(t, app.id, direct).await.unwrap();
    let group = NewAssignment {
        principal_type: PrincipalType::Group,
        principal_id: sales.id.0,
        app_role: None,
    };
    f.core.assign_app(t, app.id, group).await.unwrap();
    assert!(f.core.is_assigned(t, app.id, alice.id).await.unwrap());
    assert!(f.core.is_assigned(t, app.id, bob.id).await.unwrap());
    assert!(!f.core.is_assigned(t, app.id, carol.id).await.unwrap());
}

fn saml_settings() -> SamlAppSettings {
    SamlAppSettings {
        identifiers: vec!["https://sp.example/shibboleth".into()],
        reply_urls: vec![ReplyUrl {
            url: "https://sp.example/Shibboleth.sso/SAML2/POST".into(),
            index: 0,
            is_default: true,
        }],
        sign_on_url: None,
        logout_url: None,
        logout_response_url: None,
        logout_binding: Default::default(),
        back_channel_logout_url: None,
        relay_state: None,
        name_id: NameIdSettings::default(),
        attributes: default_attributes(),
        signing_mode: SigningMode::Assertion,
        signature_algorithm: SamlSignatureAlgorithm::RsaSha256,
        assertion_lifetime_secs: 3600,
        encryption_certificate: None,
        encryption_method: Default::default(),
        require_signed_requests: false,
        verification_certificates: vec![],
    }
}

#[tokio::test]
async fn saml_app_certificates_roll_over() {
    let f = fixture().await;
    let core = f
        .core
        .clone()
        .with_master_key(keys::MasterKey::from_bytes(&[9u8; 32]).unwrap());
    let t = f.tenant.id;
    let (app, first) = core
        .create_saml_app(t, "Shibboleth", saml_settings())
        .await
        .unwrap();
    assert!(first.active);
    let key = core.active_signing_key(t, app.id).await.unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&key, &core.active_signing_key(t, app.id).await.unwrap()),
        "parsed once, then cached"
    );
    let second = core.add_signing_certificate(t, app.id).await.unwrap();
    assert!(!second.active, "published first, activated later");
    assert!(
        core.remove_signing_certificate(t, app.id, first.id)
            .await
            .is_err(),
        "active one stays"
    );
    core.activate_signing_certificate(t, app.id, second.id)
        .await
        .unwrap();
    let now_key = core.active_signing_key(t, app.id).await.unwrap();
    assert_ne!(now_key.certificate_der(), key.certificate_der());
    core.remove_signing_certificate(t, app.id, first.id)
        .await
        .unwrap();
    let listed = core.list_signing_certificates(t, app.id).await.unwrap();
    assert_eq!(
        listed.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![second.id]
    );
    // Without the master key nothing can be unsealed.
    assert!(f.core.add_signing_certificate(t, app.id).await.is_err());
    // A certificate past its three years cannot be activated; the active one still signs.
    let third = core.add_signing_certificate(t, app.id).await.unwrap();
    f.clock.advance(time::Duration::days(3 * 365 + 1));
    let refused = core
        .activate_signing_certificate(t, app.id, third.id)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("expired"), "{refused}");
    let fresh = core.add_signing_certificate(t, app.id).await.unwrap();
    core.activate_signing_certificate(t, app.id, fresh.id)
        .await
        .unwrap();
    assert!(
        core.activate_signing_certificate(t, app.id, uuid::Uuid::nil())
            .await
            .is_err(),
        "unknown certificate"
    );
}

/// Tenants, apps and signing keys are served from memory: a change made through this node is
/// seen at once, one made by another node on the same store within `config_cache::MAX_AGE`.
#[tokio::test]
async fn configuration_changes_reach_this_node_at_once_and_others_within_max_age() {
    let f = fixture().await;
    let master = || keys::MasterKey::from_bytes(&[9u8; 32]).unwrap();
    let here = f.core.clone().with_master_key(master());
    let other = Core::new(
        f.core.store().clone(),
        f.clock.clone(),
        f.dns.clone(),
        PasswordHasher::with_params(256, 1, 1).unwrap(),
        CoreSettings::default(),
    )
    .with_master_key(master());
    let t = f.tenant.id;
    let entity = "https://sp.example/shibboleth";
    // The other node looks everything up once: now it remembers.
    assert!(other.find_saml_app(t, entity).await.unwrap().is_none());
    let (app, first) = here
        .create_saml_app(t, "Shib", saml_settings())
        .await
        .unwrap();
    assert_eq!(
        here.find_saml_app(t, entity).await.unwrap().unwrap().id,
        app.id
    );
    assert_eq!(other.tenant(t).await.unwrap().name, "Contoso");
    assert!(other.app(t, app.id).await.unwrap().enabled);
    let key = other.active_signing_key(t, app.id).await.unwrap();

    here.update_tenant(
        t,
        TenantPatch {
            name: Some("Contoso Ltd".into()),
        },
    )
    .await
    .unwrap();
    here.update_app(
        t,
        app.id,
        AppPatch {
            enabled: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let second = here.add_signing_certificate(t, app.id).await.unwrap();
    here.activate_signing_certificate(t, app.id, second.id)
        .await
        .unwrap();
    assert_eq!(here.tenant(t).await.unwrap().name, "Contoso Ltd");
    assert!(!here.app(t, app.id).await.unwrap().enabled);
    let new_key = here.active_signing_key(t, app.id).await.unwrap();
    assert_ne!(new_key.certificate_der(), key.certificate_der());

    // Within MAX_AGE the other node still answers what it read…
    f.clock
        .advance(config_cache::MAX_AGE - time::Duration::milliseconds(1));
    assert!(other.find_saml_app(t, entity).await.unwrap().is_none());
    assert_eq!(other.tenant(t).await.unwrap().name, "Contoso");
    assert!(other.app(t, app.id).await.unwrap().enabled);
    assert_eq!(
        other
            .active_signing_key(t, app.id)
            .await
            .unwrap()
            .certificate_der(),
        key.certificate_der()
    );
    // …and then reads again.
    f.clock.advance(time::Duration::milliseconds(1));
    assert_eq!(
        other.find_saml_app(t, entity).await.unwrap().unwrap().id,
        app.id
    );
    assert_eq!(other.tenant(t).await.unwrap().name, "Contoso Ltd");
    assert!(!other.app(t, app.id).await.unwrap().enabled);
    assert_eq!(
        other
            .active_signing_key(t, app.id)
            .await
            .unwrap()
            .certificate_der(),
        new_key.certificate_der()
    );
    // Deletions are seen at once here too.
    here.remove_signing_certificate(t, app.id, first.id)
        .await
        .unwrap();
    here.delete_app(t, app.id).await.unwrap();
    assert!(here.find_saml_app(t, entity).await.unwrap().is_none());
    assert!(matches!(
        here.app(t, app.id).await,
        Err(CoreError::NotFound(_))
    ));
    here.delete_tenant(t).await.unwrap();
    assert!(matches!(here.tenant(t).await, Err(CoreError::NotFound(_))));
}

#[tokio::test]
async fn saml_settings_are_validated() {
    let f = fixture().await;
    let core = f
        .core
        .clone()
        .with_master_key(keys::MasterKey::from_bytes(&[9u8; 32]).unwrap());
    type Mutation = Box<dyn Fn(&mut SamlAppSettings)>;
    let cases: Vec<(&str, Mutation)> = vec![
        ("identifiers", Box::new(|s| s.identifiers.clear())),
        (
            "identifiers",
            Box::new(|s| s.identifiers.push(s.identifiers[0].clone())),
        ),
        (
            "replyUrls",
            Box::new(|s| s.reply_urls[0].url = "http://sp.example/acs".into()),
        ),
        (
            "replyUrls",
            Box::new(|s| s.reply_urls[0].url = "not a url".into()),
        ),
        (
            "replyUrls",
            Box::new(|s| s.reply_urls[0].url = "https://sp.example/acs#frag".into()),
        ),
        (
            "replyUrls",
            Box::new(|s| {
                let dup = s.reply_urls[0].clone();
                s.reply_urls.push(dup);
            }),
        ),
        (
            "relayState",
            Box::new(|s| s.relay_state = Some("x".repeat(crate::RELAY_STATE_MAX + 1))),
        ),
        (
            "assertionLifetimeSecs",
            Box::new(|s| s.assertion_lifetime_secs = 5),
        ),
        (
            "encryptionCertificate",
            Box::new(|s| s.encryption_certificate = Some("garbage".into())),
        ),
        (
            "verificationCertificates",
            Box::new(|s| s.require_signed_requests = true),
        ),
        (
            "attributes",
            Box::new(|s| {
                let dup = s.attributes[0].clone();
                s.attributes.push(dup);
            }),
        ),
    ];
    for (field, mutate) in cases {
        let mut s = saml_settings();
        mutate(&mut s);
        match core.create_saml_app(f.tenant.id, "X", s).await {
            Err(CoreError::Invalid { field: got, .. }) => assert_eq!(got, field),
            other => panic!("{field}: expected Invalid, got {:?}", other.map(|_| ())),
        }
    }
    let mut loopback = saml_settings();
    loopback.reply_urls[0].url = "http://127.0.0.1:8081/acs".into();
    core.create_saml_app(f.tenant.id, "Local", loopback)
        .await
        .unwrap();
}

#[tokio::test]
async fn sealed_contexts_expire_and_resist_tampering() {
    let f = fixture().await;
    let core = f
        .core
        .clone()
        .with_master_key(keys::MasterKey::from_bytes(&[9u8; 32]).unwrap());
    let sealed = core
        .seal_context("saml", &("req-1".to_string(), 42u32))
        .unwrap();
    assert_eq!(
        core.open_context::<(String, u32)>("saml", &sealed),
        Some(("req-1".into(), 42))
    );
    assert_eq!(
        core.open_context::<(String, u32)>("other", &sealed),
        None,
        "bound to its purpose"
    );
    let mut chars: Vec<char> = sealed.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    assert_eq!(core.open_context::<(String, u32)>("saml", &tampered), None);
    f.clock.advance(time::Duration::minutes(16));
    assert_eq!(
        core.open_context::<(String, u32)>("saml", &sealed),
        None,
        "expired"
    );
}

#[tokio::test]
async fn logout_progress_fits_a_cookie() {
    let f = fixture().await;
    let core = f
        .core
        .clone()
        .with_master_key(keys::MasterKey::from_bytes(&[9u8; 32]).unwrap());
    let target = |i: u32| slo::SloTarget {
        app_id: AppId(uuid::Uuid::from_u128(u128::from(i) * 7_919)),
        name_id: format!("someone.with.a.long.name{i}@contoso.example"),
        name_id_format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into(),
        session_index: format!("_{:032x}", u128::from(i) * 104_729),
    };
    let progress = |n: u32| slo::SloState {
        origin: Some(slo::SloOrigin {
            app_id: AppId(uuid::Uuid::from_u128(1)),
            request_id: "_origin-request".into(),
            relay_state: Some("r".repeat(crate::RELAY_STATE_MAX)),
        }),
        remaining: (0..n).map(target).collect(),
        awaiting: Some("_awaiting".into()),
        awaiting_app: Some(AppId(uuid::Uuid::from_u128(2))),
        partial: false,
        then_idp_of: Some(UserId(uuid::Uuid::from_u128(3))),
        awaiting_idp_of: Some(UserId(uuid::Uuid::from_u128(4))),
        idp_unconfirmed: false,
    };
    // A session of a few applications goes whole.
    let mut few = progress(5);
    let sealed = core
        .seal_logout_progress(f.tenant.id, &mut few)
        .await
        .unwrap();
    assert_eq!(few, progress(5));
    assert_eq!(core.open_logout_progress(&sealed), Some(progress(5)));
    // One of many: the first applications that fit go on; the rest, which have no SOAP
    // endpoint (no such application even), make the logout partial.
    let mut many = progress(200);
    let sealed = core
        .seal_logout_progress(f.tenant.id, &mut many)
        .await
        .unwrap();
    assert!(sealed.len() <= slo::SLO_PROGRESS_MAX, "{}", sealed.len());
    assert!(many.partial);
    assert!(many.remaining.len() >= 5, "{}", many.remaining.len());
    assert_eq!(
        many.remaining[..],
        progress(200).remaining[..many.remaining.len()]
    );
    assert_eq!(core.open_logout_progress(&sealed), Some(many.clone()));
    // As many as fit: one more would not (counted before the logout was known partial:
    // `"partial":false` is the longer).
    let mut one_more = many.clone();
    one_more.partial = false;
    one_more.remaining.push(target(many.remaining.len() as u32));
    let sealed = core.seal_context(slo::SLO_PURPOSE, &one_more).unwrap();
    assert!(
        sealed.len() > slo::SLO_PROGRESS_MAX,
        "{}",
        many.remaining.len()
    );
    // The worst a logout carries beside its applications fits alone: the longest origin (its
    // ID of 256 characters JSON doubles, its RelayState), an awaited request, the IdP step
    // (and, to spare, its failure, which is never sealed: the origin is answered next).
    let mut worst = progress(0);
    worst.idp_unconfirmed = true;
    if let Some(origin) = worst.origin.as_mut() {
        origin.request_id = "\"".repeat(256);
        origin.relay_state = Some("\"".repeat(crate::RELAY_STATE_MAX));
    }
    worst.awaiting = Some(format!("_{}", "f".repeat(32)));
    let sealed = core
        .seal_logout_progress(f.tenant.id, &mut worst)
        .await
        .unwrap();
    assert!(sealed.len() <= slo::SLO_PROGRESS_MAX, "{}", sealed.len());
    assert!(core.open_logout_progress("not sealed").is_none());
    // Written short, read back whole: a format Sésame does not issue stays as it is, and
    // progress written before the short names still reads.
    let mut other = target(1);
    other.name_id_format = "urn:example:other".into();
    let json = serde_json::to_string(&other).unwrap();
    assert!(
        !json.contains("emailAddress") && json.contains("urn:example:other"),
        "{json}"
    );
    assert_eq!(
        serde_json::from_str::<slo::SloTarget>(&json).unwrap(),
        other
    );
    let json = serde_json::to_string(&target(2)).unwrap();
    assert!(json.contains(r#""f":"e""#), "{json}");
    let long = format!(
        r#"{{"app_id":"{}","name_id":"n","name_id_format":"{}","session_index":"s"}}"#,
        AppId(uuid::Uuid::from_u128(3)).0,
        NameIdFormat::Persistent.urn()
    );
    let read: slo::SloTarget = serde_json::from_str(&long).unwrap();
    assert_eq!(read.name_id_format, NameIdFormat::Persistent.urn());
}

/// A node of the version before awaited the user's IdP without recording whose answer it
/// was: such progress still counts the answer by its request's ID and its status.
#[tokio::test]
async fn an_idp_answer_awaited_by_an_earlier_version_counts_by_its_request() {
    let f = fixture().await;
    let answer = |in_response_to: &str, status: &str| sso::IncomingRequest {
        xml: format!(
            r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r" Version="2.0" IssueInstant="2026-11-21T10:00:00Z" InResponseTo="{in_response_to}"><saml:Issuer>https://idp.example/</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:{status}"/></samlp:Status></samlp:LogoutResponse>"#
        ),
        relay_state: None,
        redirect: None,
        received_url: "http://127.0.0.1:8080/t/saml2".into(),
        soap: false,
    };
    for (in_response_to, status, unconfirmed) in [
        ("_to-idp", "Success", false),
        ("_another", "Success", true),
        ("_to-idp", "Responder", true),
    ] {
        // As that version wrote it: the awaited ID, no application, no user.
        let mut state: slo::SloState =
            serde_json::from_str(r#"{"o":null,"r":[],"w":"_to-idp","p":false}"#).unwrap();
        f.core
            .record_logout_response(f.tenant.id, &mut state, &answer(in_response_to, status))
            .await;
        assert_eq!(
            state.idp_unconfirmed, unconfirmed,
            "{in_response_to} {status}"
        );
        assert!(!state.partial && state.awaiting.is_none());
    }
}

#[tokio::test]
async fn portal_lists_enabled_assigned_apps_with_roles() {
    let f = fixture().await;
    let t = f.tenant.id;
    let alice = f
        .core
        .create_user(t, new_user("alice@contoso.sesame.local", None))
        .await
        .unwrap();
    let sales = f
        .core
        .create_group(
            t,
            NewGroup {
                display_name: "Sales".into(),
                description: None,
            },
        )
        .await
        .unwrap();
    f.core
        .store()
        .add_member(t, sales.id, alice.id)
        .await
        .unwrap();
    let b = f
        .core
        .create_app(
            t,
            NewApp {
                name: "b-app".into(),
                enabled: None,
            },
        )
        .await
        .unwrap();
    let a = f
        .core
        .create_app(
            t,
            NewApp {
                name: "A-app".into(),
                enabled: None,
            },
        )
        .await
        .unwrap();
    let off = f
        .core
        .create_app(
            t,
            NewApp {
                name: "off".into(),
                enabled: Some(false),
            },
        )
        .await
        .unwrap();
    let unassigned = f
        .core
        .create_app(
            t,
            NewApp {
                name: "nope".into(),
                enabled: None,
            },
        )
        .await
        .unwrap();
    let to_user = |role: Option<&str>| NewAssignment {
        principal_type: PrincipalType::User,
        principal_id: alice.id.0,
        app_role: role.map(str::to_string),
    };
    let to_group = |role: Option<&str>| NewAssignment {
        principal_type: PrincipalType::Group,
        principal_id: sales.id.0,
        app_role: role.map(str::to_string),
    };
    f.core
        .assign_app(t, b.id, to_user(Some("Writer")))
        .await
        .unwrap();
    f.core
        .assign_app(t, b.id, to_group(Some("Reader")))
        .await
        .unwrap();
    f.core.assign_app(t, a.id, to_group(None)).await.unwrap();
    f.core.assign_app(t, off.id, to_user(None)).await.unwrap();
    let names: Vec<String> = f
        .core
        .assigned_apps(t, alice.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, vec!["A-app", "b-app"]);
    let access = f
        .core
        .app_access(t, b.id, alice.id, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(access.roles, vec!["Reader", "Writer"]);
    assert_eq!(access.group_names, vec!["Sales"]);
    let without_names = f
        .core
        .app_access(t, b.id, alice.id, false)
        .await
        .unwrap()
        .unwrap();
    assert!(without_names.group_names.is_empty());
    assert_eq!(
        f.core
            .app_access(t, unassigned.id, alice.id, true)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn federated_guests_never_get_or_use_a_password() {
    let f = fixture().await;
    let guest = NewUser {
        user_principal_name: "ann_partner.example#EXT#@contoso.sesame.local".into(),
        user_type: Some(UserType::Guest),
        source: Some(UserSource::FederatedGuest),
        ..Default::default()
    };
    // Not at creation…
    let with_password = NewUser {
        password: Some("Correct-Horse-1".into()),
        ..guest.clone()
    };
    let err = f
        .core
        .create_user(f.tenant.id, with_password)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "SESAME-1400", "{err}");
    // …nor later…
    let u = f.core.create_user(f.tenant.id, guest).await.unwrap();
    let err = f
        .core
        .set_password(f.tenant.id, u.id, "Correct-Horse-1".into())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("guest"), "{err}");
    // …and one written behind the core's back is not honoured.
    let hash = PasswordHasher::with_params(256, 1, 1)
        .unwrap()
        .hash("Correct-Horse-1".into())
        .await
        .unwrap();
    f.core
        .store()
        .put_password(&PasswordCredential {
            tenant_id: f.tenant.id,
            user_id: u.id,
            hash,
            failed_attempts: 0,
            locked_until: None,
            updated_at: f.clock.now(),
        })
        .await
        .unwrap();
    assert_eq!(
        outcome(&f, &u.user_principal_name, "Correct-Horse-1").await,
        Err(SignInFailure::InvalidCredentials)
    );
}
