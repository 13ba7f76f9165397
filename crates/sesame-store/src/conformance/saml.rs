//! SAML settings of applications and their signing certificates.

use super::*;
use crate::StoreError::*;

fn cert_fixture(app: &Application, active: bool) -> AppCertificate {
    AppCertificate {
        id: seq_id(),
        tenant_id: app.tenant_id,
        app_id: app.id,
        certificate: "MIIC".to_owned(),
        thumbprint: "AB12".to_owned(),
        sealed_private_key: vec![1, 2, 3, 0, 255],
        active,
        not_before: now(),
        not_after: now() + time::Duration::days(3 * 365),
        created_at: now(),
    }
}

pub async fn app_saml_settings_round_trip(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let mut a = app_fixture(&t, "AWS");
    a.saml = Some(SamlAppSettings {
        identifiers: vec!["https://signin.aws.amazon.com/saml".into()],
        reply_urls: vec![ReplyUrl {
            url: "https://sp.example/acs".into(),
            index: 0,
            is_default: true,
        }],
        sign_on_url: None,
        logout_url: Some("https://sp.example/slo".into()),
        logout_response_url: Some("https://sp.example/slo/response".into()),
        logout_binding: Default::default(),
        back_channel_logout_url: Some("https://sp.example/slo/soap".into()),
        relay_state: None,
        name_id: NameIdSettings::default(),
        attributes: default_attributes(),
        signing_mode: SigningMode::Both,
        signature_algorithm: SamlSignatureAlgorithm::RsaSha1,
        assertion_lifetime_secs: 600,
        encryption_certificate: None,
        encryption_method: Default::default(),
        require_signed_requests: true,
        verification_certificates: vec!["PEM".into()],
    });
    store.create_app(&a).await.unwrap();
    assert_eq!(store.get_app(t.id, a.id).await.unwrap(), a);
    let updated = store
        .update_app(
            t.id,
            a.id,
            Box::new(|a| {
                if let Some(s) = a.saml.as_mut() {
                    s.identifiers.push("urn:second".into());
                }
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(updated.saml.as_ref().unwrap().identifiers.len(), 2);
    assert_eq!(store.get_app(t.id, a.id).await.unwrap(), updated);
    let cleared = store
        .update_app(
            t.id,
            a.id,
            Box::new(|a| {
                a.saml = None;
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(store.get_app(t.id, a.id).await.unwrap().saml, None);
    assert_eq!(cleared.saml, None);
}

pub async fn app_certificates_add_list_activate_delete(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let a = new_app(store, &t, "AWS").await;
    let first = cert_fixture(&a, true);
    let second = cert_fixture(&a, false);
    store.add_app_certificate(&first).await.unwrap();
    store.add_app_certificate(&second).await.unwrap();
    assert_err(
        store.add_app_certificate(&first).await,
        Conflict("app_certificate"),
    );
    let listed = store.list_app_certificates(t.id, a.id).await.unwrap();
    assert_eq!(listed, vec![first.clone(), second.clone()]);
    store
        .activate_app_certificate(t.id, a.id, second.id)
        .await
        .unwrap();
    let listed = store.list_app_certificates(t.id, a.id).await.unwrap();
    let active: Vec<_> = listed.iter().filter(|c| c.active).map(|c| c.id).collect();
    assert_eq!(active, vec![second.id]);
    store
        .delete_app_certificate(t.id, a.id, first.id)
        .await
        .unwrap();
    assert_eq!(
        store.list_app_certificates(t.id, a.id).await.unwrap().len(),
        1
    );
}

pub async fn app_certificate_sentinels_and_isolation(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let other = new_tenant(store, "B").await;
    let a = new_app(store, &t, "AWS").await;
    let c = cert_fixture(&a, true);
    store.add_app_certificate(&c).await.unwrap();
    let mut foreign = cert_fixture(&a, true);
    foreign.tenant_id = other.id;
    assert_not_found(store.add_app_certificate(&foreign).await);
    assert!(
        store
            .list_app_certificates(other.id, a.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_not_found(store.activate_app_certificate(other.id, a.id, c.id).await);
    assert_not_found(store.delete_app_certificate(other.id, a.id, c.id).await);
    assert_not_found(store.activate_app_certificate(t.id, a.id, seq_id()).await);
    assert_not_found(store.delete_app_certificate(t.id, a.id, seq_id()).await);
    assert_eq!(
        store.list_app_certificates(t.id, a.id).await.unwrap(),
        vec![c]
    );
}

pub async fn app_delete_removes_certificates(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let a = new_app(store, &t, "AWS").await;
    let c = cert_fixture(&a, true);
    store.add_app_certificate(&c).await.unwrap();
    store.delete_app(t.id, a.id).await.unwrap();
    assert!(
        store
            .list_app_certificates(t.id, a.id)
            .await
            .unwrap()
            .is_empty()
    );
    let b = new_app(store, &t, "Other").await;
    let mut reuse = cert_fixture(&b, true);
    reuse.id = c.id;
    store.add_app_certificate(&reuse).await.unwrap();
}

pub async fn session_participants_recorded_and_cascaded(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let other = new_tenant(store, "B").await;
    let u = new_user(store, &t, "alice@a.example").await;
    let a1 = new_app(store, &t, "One").await;
    let a2 = new_app(store, &t, "Two").await;
    let foreign_app = new_app(store, &other, "Foreign").await;
    let session = Session {
        id_digest: format!("{:064x}", seq_id().as_u128()),
        tenant_id: t.id,
        user_id: u.id,
        authenticated_at: now(),
        expires_at: now() + time::Duration::hours(1),
    };
    store.create_session(&session).await.unwrap();
    let p = |app: AppId, idx: &str| SessionParticipant {
        app_id: app,
        name_id: "alice".into(),
        name_id_format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into(),
        session_index: idx.into(),
        at: now(),
    };
    let d = session.id_digest.as_str();
    let get = |tenant: TenantId, app: AppId| store.get_session_participant(tenant, d, app);
    assert_eq!(get(t.id, a1.id).await.unwrap(), None, "no Response yet");
    store
        .add_session_participant(t.id, d, &p(a1.id, "_s1"))
        .await
        .unwrap();
    let got = get(t.id, a1.id).await.unwrap().expect("a1 participates");
    assert_eq!((got.app_id, got.session_index.as_str()), (a1.id, "_s1"));
    assert_eq!(got.name_id, "alice");
    assert_eq!(
        got.name_id_format,
        "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
    );
    assert_eq!(get(t.id, a2.id).await.unwrap(), None, "only the app given");
    assert_eq!(
        get(other.id, a1.id).await.unwrap(),
        None,
        "only in its tenant"
    );
    store
        .add_session_participant(t.id, d, &p(a2.id, "_s2"))
        .await
        .unwrap();
    store
        .add_session_participant(t.id, d, &p(a1.id, "_s3"))
        .await
        .unwrap();
    assert_eq!(
        get(t.id, a1.id).await.unwrap().map(|p| p.session_index),
        Some("_s3".to_string()),
        "the last Response's participation"
    );
    let listed = store.list_session_participants(t.id, d).await.unwrap();
    let got: Vec<_> = listed
        .iter()
        .map(|p| (p.app_id, p.session_index.as_str()))
        .collect();
    assert_eq!(got.len(), 2);
    assert!(
        got.contains(&(a1.id, "_s3")) && got.contains(&(a2.id, "_s2")),
        "{got:?}"
    );
    assert_not_found(
        store
            .add_session_participant(t.id, d, &p(foreign_app.id, "_x"))
            .await,
    );
    assert_not_found(
        store
            .add_session_participant(other.id, d, &p(foreign_app.id, "_x"))
            .await,
    );
    assert_not_found(
        store
            .add_session_participant(t.id, "nope", &p(a1.id, "_x"))
            .await,
    );
    assert!(
        store
            .list_session_participants(other.id, d)
            .await
            .unwrap()
            .is_empty()
    );
    store.delete_session(t.id, d).await.unwrap();
    assert_eq!(
        get(t.id, a1.id).await.unwrap(),
        None,
        "gone with the session"
    );
    assert!(
        store
            .list_session_participants(t.id, d)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A LogoutRequest's NameID and SessionIndex lead to the sessions they name, in this tenant
/// and app only.
pub async fn participant_sessions_found_by_name_id(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let other = new_tenant(store, "B").await;
    let alice = new_user(store, &t, "alice@a.example").await;
    let bob = new_user(store, &t, "bob@a.example").await;
    let one = new_app(store, &t, "One").await;
    let two = new_app(store, &t, "Two").await;
    let foreign = new_app(store, &other, "Foreign").await;
    let mut digests = Vec::new();
    for (user, app, name_id, index) in [
        (&alice, one.id, "alice", "_a1"),
        (&alice, one.id, "alice", "_a2"),
        (&alice, two.id, "alice", "_a3"),
        (&bob, one.id, "bob", "_b1"),
    ] {
        let session = Session {
            id_digest: format!("{:064x}", seq_id().as_u128()),
            tenant_id: t.id,
            user_id: user.id,
            authenticated_at: now(),
            expires_at: now() + time::Duration::hours(1),
        };
        store.create_session(&session).await.unwrap();
        let participant = SessionParticipant {
            app_id: app,
            name_id: name_id.into(),
            name_id_format: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into(),
            session_index: index.into(),
            at: now(),
        };
        store
            .add_session_participant(t.id, &session.id_digest, &participant)
            .await
            .unwrap();
        digests.push(session.id_digest);
    }
    let find =
        |tenant: TenantId, app: AppId, name_id: &'static str, index: Option<&'static str>| {
            store.find_participant_sessions(tenant, app, name_id, index, now())
        };
    assert_eq!(
        find(t.id, one.id, "alice", Some("_a2")).await.unwrap(),
        vec![digests[1].clone()]
    );
    let mut all = find(t.id, one.id, "alice", None).await.unwrap();
    all.sort();
    let mut expected = vec![digests[0].clone(), digests[1].clone()];
    expected.sort();
    assert_eq!(all, expected, "every session of alice at app one");
    // The index of another app, another principal, tenant or app: nothing.
    assert!(
        find(t.id, one.id, "alice", Some("_a3"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        find(t.id, one.id, "alice", Some("_b1"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(find(t.id, one.id, "ALICE", None).await.unwrap().is_empty());
    assert!(
        find(other.id, one.id, "alice", None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        find(t.id, foreign.id, "alice", None)
            .await
            .unwrap()
            .is_empty()
    );
    // An ended session is not found any more, nor one that expired.
    store.delete_session(t.id, &digests[1]).await.unwrap();
    assert!(
        find(t.id, one.id, "alice", Some("_a2"))
            .await
            .unwrap()
            .is_empty()
    );
    let later = now() + time::Duration::hours(2);
    assert!(
        store
            .find_participant_sessions(t.id, one.id, "alice", Some("_a1"), later)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn tenant_certificate_once_per_tenant(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let other = new_tenant(store, "B").await;
    assert_err(
        store.get_tenant_certificate(t.id).await,
        NotFound("tenant_certificate"),
    );
    let cert = TenantCertificate {
        tenant_id: t.id,
        certificate: "MIIC".into(),
        thumbprint: "AB".into(),
        sealed_private_key: vec![1, 0, 2],
        not_before: now(),
        not_after: now() + time::Duration::days(1095),
        created_at: now(),
    };
    store.create_tenant_certificate(&cert).await.unwrap();
    assert_eq!(store.get_tenant_certificate(t.id).await.unwrap(), cert);
    assert_err(
        store.create_tenant_certificate(&cert).await,
        Conflict("tenant_certificate"),
    );
    assert_err(
        store.get_tenant_certificate(other.id).await,
        NotFound("tenant_certificate"),
    );
    let mut missing = cert.clone();
    missing.tenant_id = TenantId(seq_id());
    assert_not_found(store.create_tenant_certificate(&missing).await);
    store.delete_tenant(t.id).await.unwrap();
    assert_err(
        store.get_tenant_certificate(t.id).await,
        NotFound("tenant_certificate"),
    );
}

/// What every SSO writes — its participant and its sign-in log entry — written by many callers
/// at once (SQLite group-commits them): each caller gets the answer of its own write alone, a
/// bad row fails only itself, and for one (session, app) one of the concurrent writes is kept.
pub async fn sso_writes_concurrent_callers(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let u = new_user(store, &t, "alice@a.example").await;
    let apps = [
        new_app(store, &t, "One").await,
        new_app(store, &t, "Two").await,
        new_app(store, &t, "Three").await,
    ];
    let session = session_fixture(&u, now() + time::Duration::hours(1));
    store.create_session(&session).await.unwrap();
    let d = session.id_digest.as_str();
    let p = |app: AppId, idx: String| SessionParticipant {
        app_id: app,
        name_id: "alice".into(),
        name_id_format: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into(),
        session_index: idx,
        at: now(),
    };
    let participants: Vec<_> = (0..30)
        .map(|i| p(apps[i % 3].id, format!("_s{i}")))
        .collect();
    let events: Vec<_> = (0..30)
        .map(|_| sign_in_fixture(&t, Some(&u), SignInResult::Success))
        .collect();
    let ghost_tenant = Tenant {
        id: TenantId(seq_id()),
        ..t.clone()
    };
    let orphan = sign_in_fixture(&ghost_tenant, None, SignInResult::Failure);
    let (x, y) = (p(apps[0].id, "_x".into()), p(AppId(seq_id()), "_y".into()));
    let (written, logged, (absent, foreign_app, orphan_logged)) = tokio::join!(
        join_all(
            participants
                .iter()
                .map(|x| store.add_session_participant(t.id, d, x))
        ),
        join_all(events.iter().map(|e| store.append_sign_in(e))),
        async {
            tokio::join!(
                store.add_session_participant(t.id, "absent", &x),
                store.add_session_participant(t.id, d, &y),
                store.append_sign_in(&orphan),
            )
        }
    );
    for r in written.into_iter().chain(logged) {
        r.unwrap();
    }
    assert_not_found(absent);
    assert_not_found(foreign_app);
    assert_not_found(orphan_logged);
    // Concurrent writes of one (session, app) have no order: one of them is kept…
    let recorded = store.list_session_participants(t.id, d).await.unwrap();
    assert_eq!(recorded.len(), 3, "one participant per app: {recorded:?}");
    for (i, app) in apps.iter().enumerate() {
        let got = recorded.iter().find(|r| r.app_id == app.id).unwrap();
        let written: Vec<String> = (0..30)
            .filter(|j| j % 3 == i)
            .map(|j| format!("_s{j}"))
            .collect();
        assert!(written.contains(&got.session_index), "{got:?}");
    }
    // …and a write that follows them replaces it.
    store
        .add_session_participant(t.id, d, &p(apps[0].id, "_later".into()))
        .await
        .unwrap();
    let recorded = store.list_session_participants(t.id, d).await.unwrap();
    let first = recorded.iter().find(|r| r.app_id == apps[0].id).unwrap();
    assert_eq!(first.session_index, "_later");
    let page = PageRequest::new(Some(PageRequest::MAX_LIMIT), None);
    let listed = store
        .list_sign_ins(t.id, &SignInQuery::default(), &page)
        .await
        .unwrap();
    let mut ids: Vec<_> = listed.items.iter().map(|e| e.id).collect();
    ids.sort();
    let mut want: Vec<_> = events.iter().map(|e| e.id).collect();
    want.sort();
    assert_eq!(ids, want);
}
