//! Conformance cases for sessions, the sign-in log, admin tokens, and cross-cutting rules
//! (time precision, Unicode, page limits, health).

use super::*;
use crate::EndedSessions;
use crate::StoreError::{Conflict, NotFound};
use time::{Duration, UtcOffset};

pub async fn session_create_get_delete(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let u = new_user(store, &t, "u@x.test").await;
    let s = session_fixture(&u, now() + Duration::hours(8));
    store.create_session(&s).await.unwrap();
    assert_eq!(store.get_session(t.id, &s.id_digest).await.unwrap(), s);
    store.delete_session(t.id, &s.id_digest).await.unwrap();
    assert_err(
        store.get_session(t.id, &s.id_digest).await,
        NotFound("session"),
    );
}

pub async fn session_read_with_its_user(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let mut u = user_fixture(&a, "u@x.test");
    u.display_name = Some("Ünïcode Üser".into());
    store.create_user(&u).await.unwrap();
    let s = session_fixture(&u, now() + Duration::hours(8));
    store.create_session(&s).await.unwrap();
    assert_eq!(
        store
            .get_session_with_user(a.id, &s.id_digest)
            .await
            .unwrap(),
        (s.clone(), u.clone())
    );
    // The user as it is now, not as it was at sign-in.
    let disabled = store
        .update_user(
            a.id,
            u.id,
            Box::new(|u| {
                u.account_enabled = false;
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .get_session_with_user(a.id, &s.id_digest)
            .await
            .unwrap()
            .1,
        disabled
    );
    assert_err(
        store.get_session_with_user(a.id, "absent").await,
        NotFound("session"),
    );
    assert_not_found(store.get_session_with_user(b.id, &s.id_digest).await);
    store.delete_user(a.id, u.id).await.unwrap();
    assert_err(
        store.get_session_with_user(a.id, &s.id_digest).await,
        NotFound("session"),
    );
}

pub async fn session_sentinels(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let u = new_user(store, &a, "u@x.test").await;
    let s = session_fixture(&u, now() + Duration::hours(1));
    store.create_session(&s).await.unwrap();
    assert_err(store.create_session(&s).await, Conflict("session"));
    assert_err(store.get_session(a.id, "absent").await, NotFound("session"));
    assert_err(
        store.delete_session(a.id, "absent").await,
        NotFound("session"),
    );
    // Another tenant sees nothing and cannot end it.
    assert_not_found(store.get_session(b.id, &s.id_digest).await);
    assert_not_found(store.delete_session(b.id, &s.id_digest).await);
    assert_eq!(
        store.delete_user_sessions(b.id, u.id).await.unwrap(),
        EndedSessions::default()
    );
    assert_eq!(store.get_session(a.id, &s.id_digest).await.unwrap(), s);
    // A session for a user that does not exist in the tenant is refused.
    let ghost = user_fixture(&a, "ghost@x.test");
    assert_not_found(store.create_session(&session_fixture(&ghost, now())).await);
    let foreign = Session {
        tenant_id: b.id,
        ..session_fixture(&u, now())
    };
    assert_not_found(store.create_session(&foreign).await);
}

pub async fn session_delete_user_sessions(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let u = new_user(store, &t, "u@x.test").await;
    let other = new_user(store, &t, "o@x.test").await;
    let (one, two) = (
        new_app(store, &t, "One").await,
        new_app(store, &t, "Two").await,
    );
    let later = now() + Duration::hours(1);
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let s = session_fixture(&u, later);
        store.create_session(&s).await.unwrap();
        sessions.push(s);
    }
    let kept = session_fixture(&other, later);
    store.create_session(&kept).await.unwrap();
    let participant = |app: AppId, index: &str, at: OffsetDateTime| SessionParticipant {
        app_id: app,
        name_id: format!("name-{index}"),
        name_id_format: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into(),
        session_index: index.into(),
        at,
    };
    let t0 = now();
    let reached = [
        (&sessions[0], participant(one.id, "_a", t0)),
        (
            &sessions[2],
            participant(two.id, "_b", t0 + Duration::seconds(1)),
        ),
        (
            &sessions[0],
            participant(two.id, "_c", t0 + Duration::seconds(2)),
        ),
        (&kept, participant(one.id, "_kept", t0)),
    ];
    for (session, p) in &reached {
        store
            .add_session_participant(t.id, &session.id_digest, p)
            .await
            .unwrap();
    }
    let ended = store.delete_user_sessions(t.id, u.id).await.unwrap();
    assert_eq!(ended.sessions, 3);
    assert_eq!(
        ended.participants,
        reached[..3]
            .iter()
            .map(|(_, p)| p.clone())
            .collect::<Vec<_>>(),
        "what each application was issued, oldest first; not the other user's"
    );
    for s in &sessions {
        assert_not_found(store.get_session(t.id, &s.id_digest).await);
        assert!(
            store
                .list_session_participants(t.id, &s.id_digest)
                .await
                .unwrap()
                .is_empty()
        );
    }
    assert_eq!(
        store.delete_user_sessions(t.id, u.id).await.unwrap(),
        EndedSessions::default()
    );
    assert_eq!(
        store.get_session(t.id, &kept.id_digest).await.unwrap(),
        kept
    );
    assert_eq!(
        store
            .list_session_participants(t.id, &kept.id_digest)
            .await
            .unwrap(),
        vec![reached[3].1.clone()]
    );
    // Deleting a user ends its sessions in the same transaction, and says what they reached.
    assert_eq!(
        store.delete_user(t.id, other.id).await.unwrap(),
        EndedSessions {
            sessions: 1,
            participants: vec![reached[3].1.clone()],
        }
    );
    assert_not_found(store.get_session(t.id, &kept.id_digest).await);
    assert_eq!(
        store.delete_user(t.id, u.id).await.unwrap(),
        EndedSessions::default()
    );
    assert_not_found(store.get_user(t.id, u.id).await);
}

pub async fn session_purge_expired(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let ua = new_user(store, &a, "u@a.test").await;
    let ub = new_user(store, &b, "u@b.test").await;
    let t0 = now();
    let old_a = session_fixture(&ua, t0 - Duration::minutes(5));
    let old_b = session_fixture(&ub, t0 - Duration::seconds(1));
    let fresh = session_fixture(&ua, t0 + Duration::minutes(5));
    let at_edge = session_fixture(&ub, t0);
    for s in [&old_a, &old_b, &fresh, &at_edge] {
        store.create_session(s).await.unwrap();
    }
    // "Expired before now": a session expiring exactly at `now` is kept.
    assert_eq!(store.purge_expired_sessions(t0).await.unwrap(), 2);
    assert_not_found(store.get_session(a.id, &old_a.id_digest).await);
    assert_not_found(store.get_session(b.id, &old_b.id_digest).await);
    assert_eq!(
        store.get_session(a.id, &fresh.id_digest).await.unwrap(),
        fresh
    );
    assert_eq!(
        store.get_session(b.id, &at_edge.id_digest).await.unwrap(),
        at_edge
    );
    assert_eq!(store.purge_expired_sessions(t0).await.unwrap(), 0);
}

pub async fn sign_in_newest_first(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let u = new_user(store, &t, "u@x.test").await;
    let mut events = Vec::new();
    for r in [
        SignInResult::Failure,
        SignInResult::Success,
        SignInResult::Locked,
    ] {
        let e = sign_in_fixture(&t, Some(&u), r);
        store.append_sign_in(&e).await.unwrap();
        events.push(e);
    }
    let mut anonymous = sign_in_fixture(&t, None, SignInResult::Failure);
    anonymous.app_id = Some(AppId(seq_id()));
    anonymous.ip = None;
    store.append_sign_in(&anonymous).await.unwrap();
    events.push(anonymous);
    events.reverse();
    let listed = store
        .list_sign_ins(t.id, &SignInQuery::default(), &page(10, None))
        .await
        .unwrap();
    assert_eq!(listed.items, events);
    assert_eq!(listed.next, None);
}

pub async fn sign_in_filters(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let u1 = new_user(store, &t, "u1@x.test").await;
    let u2 = new_user(store, &t, "u2@x.test").await;
    let e1 = sign_in_fixture(&t, Some(&u1), SignInResult::Success);
    let e2 = sign_in_fixture(&t, Some(&u1), SignInResult::Failure);
    let e3 = sign_in_fixture(&t, Some(&u2), SignInResult::Failure);
    let mut e4 = sign_in_fixture(&t, Some(&u2), SignInResult::Locked);
    e4.correlation_id = e3.correlation_id.clone();
    let (payroll, crm) = (AppId(seq_id()), AppId(seq_id()));
    let mut e5 = sign_in_fixture(&t, Some(&u1), SignInResult::Success);
    e5.app_id = Some(payroll);
    let mut e6 = sign_in_fixture(&t, Some(&u2), SignInResult::Failure);
    e6.app_id = Some(crm);
    let mut e7 = sign_in_fixture(&t, Some(&u2), SignInResult::Success);
    e7.app_id = Some(payroll);
    for e in [&e1, &e2, &e3, &e4, &e5, &e6, &e7] {
        store.append_sign_in(e).await.unwrap();
    }
    let by_app = |app_id: AppId, user_id: Option<UserId>| SignInQuery {
        app_id: Some(app_id),
        user_id,
        ..SignInQuery::default()
    };
    let list = |query: SignInQuery| async move {
        store
            .list_sign_ins(t.id, &query, &page(10, None))
            .await
            .unwrap()
            .items
    };
    assert_eq!(
        list(by_app(payroll, None)).await,
        vec![e7.clone(), e5.clone()]
    );
    assert_eq!(list(by_app(payroll, Some(u1.id))).await, vec![e5.clone()]);
    assert_eq!(list(by_app(crm, None)).await, vec![e6.clone()]);
    assert!(list(by_app(AppId(seq_id()), None)).await.is_empty());
    // Since an instant: that instant included, earlier ones not.
    let mut old = sign_in_fixture(&t, Some(&u1), SignInResult::Success);
    old.at -= time::Duration::hours(2);
    store.append_sign_in(&old).await.unwrap();
    let since = |at: time::OffsetDateTime| SignInQuery {
        since: Some(at),
        user_id: Some(u1.id),
        ..SignInQuery::default()
    };
    let recent = list(since(e5.at)).await;
    assert!(recent.contains(&e5) && !recent.contains(&old), "{recent:?}");
    let all = list(since(old.at)).await;
    assert_eq!(all, vec![old.clone(), e5.clone(), e2.clone(), e1.clone()]);
    assert!(
        list(since(e5.at + time::Duration::hours(1)))
            .await
            .is_empty()
    );
    // Beyond what the store's clock holds, on either side: nothing, or everything.
    let far = |year| time::Date::from_calendar_date(year, time::Month::January, 1).unwrap();
    let at = |year| far(year).midnight().assume_utc();
    assert!(list(since(at(9999))).await.is_empty());
    assert_eq!(list(since(at(1000))).await, all);

    let q =
        |user_id: Option<UserId>, result: Option<SignInResult>, corr: Option<&str>| SignInQuery {
            user_id,
            result,
            correlation_id: corr.map(str::to_owned),
            ..SignInQuery::default()
        };
    assert_eq!(
        list(q(Some(u1.id), None, None)).await,
        vec![old.clone(), e5.clone(), e2.clone(), e1.clone()]
    );
    assert_eq!(
        list(q(None, Some(SignInResult::Failure), None)).await,
        vec![e6.clone(), e3.clone(), e2.clone()]
    );
    assert_eq!(
        list(q(None, None, Some(&e3.correlation_id))).await,
        vec![e4.clone(), e3.clone()]
    );
    assert_eq!(
        list(q(
            Some(u2.id),
            Some(SignInResult::Failure),
            Some(&e3.correlation_id)
        ))
        .await,
        vec![e3.clone()]
    );
    assert!(
        list(q(Some(u1.id), Some(SignInResult::Locked), None))
            .await
            .is_empty()
    );
}

pub async fn sign_in_pagination(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let u = new_user(store, &t, "u@x.test").await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let r = if i % 2 == 0 {
            SignInResult::Success
        } else {
            SignInResult::Failure
        };
        let e = sign_in_fixture(&t, Some(&u), r);
        store.append_sign_in(&e).await.unwrap();
        ids.push(e.id);
    }
    ids.reverse();
    let all = SignInQuery::default();
    let listed = collect_pages(3, |p| {
        let all = all.clone();
        async move { store.list_sign_ins(t.id, &all, &p).await }
    })
    .await;
    assert_eq!(
        listed.iter().map(|e| e.id).collect::<Vec<_>>(),
        ids,
        "newest first, once each"
    );
    let failures = SignInQuery {
        result: Some(SignInResult::Failure),
        ..Default::default()
    };
    let listed = collect_pages(2, |p| {
        let failures = failures.clone();
        async move { store.list_sign_ins(t.id, &failures, &p).await }
    })
    .await;
    assert_eq!(listed.len(), 5);
    assert!(listed.iter().all(|e| e.result == SignInResult::Failure));
}

pub async fn sign_in_isolation_and_missing_tenant(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let e = sign_in_fixture(&a, None, SignInResult::Failure);
    store.append_sign_in(&e).await.unwrap();
    let in_b = store
        .list_sign_ins(b.id, &SignInQuery::default(), &page(10, None))
        .await
        .unwrap();
    assert!(in_b.items.is_empty());
    let by_corr = SignInQuery {
        correlation_id: Some(e.correlation_id.clone()),
        ..Default::default()
    };
    assert!(
        store
            .list_sign_ins(b.id, &by_corr, &page(10, None))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let ghost = tenant_fixture("ghost");
    assert_not_found(
        store
            .append_sign_in(&sign_in_fixture(&ghost, None, SignInResult::Failure))
            .await,
    );
}

pub async fn admin_token_crud(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    assert_eq!(store.count_admin_tokens().await.unwrap(), 0);
    let global = admin_token_fixture("bootstrap", None);
    let scoped = admin_token_fixture("contoso admin", Some(&t));
    store.create_admin_token(&global).await.unwrap();
    store.create_admin_token(&scoped).await.unwrap();
    assert_eq!(store.count_admin_tokens().await.unwrap(), 2);
    assert_eq!(
        store.find_admin_token(&global.digest).await.unwrap(),
        global
    );
    assert_eq!(
        store.find_admin_token(&scoped.digest).await.unwrap(),
        scoped
    );
    assert_eq!(
        store.list_admin_tokens().await.unwrap(),
        vec![global.clone(), scoped.clone()]
    );
    store.delete_admin_token(global.id).await.unwrap();
    assert_err(
        store.find_admin_token(&global.digest).await,
        NotFound("admin_token"),
    );
    assert_err(
        store.delete_admin_token(global.id).await,
        NotFound("admin_token"),
    );
    assert_eq!(store.count_admin_tokens().await.unwrap(), 1);
    assert_eq!(store.list_admin_tokens().await.unwrap(), vec![scoped]);
}

pub async fn admin_token_conflicts(store: &dyn Store) {
    let tok = admin_token_fixture("one", None);
    store.create_admin_token(&tok).await.unwrap();
    let same_digest = AdminToken {
        id: AdminTokenId(seq_id()),
        ..tok.clone()
    };
    assert_err(
        store.create_admin_token(&same_digest).await,
        Conflict("admin_token"),
    );
    let same_id = AdminToken {
        digest: "f".repeat(64),
        ..tok.clone()
    };
    assert_err(
        store.create_admin_token(&same_id).await,
        Conflict("admin_token"),
    );
    assert_eq!(store.count_admin_tokens().await.unwrap(), 1);
    let ghost = tenant_fixture("ghost");
    assert_not_found(
        store
            .create_admin_token(&admin_token_fixture("x", Some(&ghost)))
            .await,
    );
}

pub async fn admin_token_removed_with_its_tenant(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let ta = admin_token_fixture("a", Some(&a));
    let tb = admin_token_fixture("b", Some(&b));
    store.create_admin_token(&ta).await.unwrap();
    store.create_admin_token(&tb).await.unwrap();
    store.delete_tenant(a.id).await.unwrap();
    assert_eq!(store.list_admin_tokens().await.unwrap(), vec![tb]);
}

/// Times come back equal to the nanosecond, whatever offset they were written with.
pub async fn times_round_trip_exactly(store: &dyn Store) {
    let odd = time::macros::datetime!(2031-07-04 23:59:58.123_456_789 +05:30);
    let epoch_ish = time::macros::datetime!(1971-01-01 00:00:00.000_000_001 UTC);
    let mut t = tenant_fixture("Times");
    t.created_at = odd;
    store.create_tenant(&t).await.unwrap();
    let got = store.get_tenant(t.id).await.unwrap();
    assert_eq!(got.created_at, odd);
    assert_eq!(
        got.created_at.to_offset(UtcOffset::UTC).nanosecond(),
        123_456_789
    );
    let mut u = user_fixture(&t, "u@x.test");
    u.created_at = epoch_ish;
    u.updated_at = odd;
    store.create_user(&u).await.unwrap();
    let got = store.get_user(t.id, u.id).await.unwrap();
    assert_eq!((got.created_at, got.updated_at), (epoch_ish, odd));
    let mut s = session_fixture(&u, odd);
    s.authenticated_at = epoch_ish;
    store.create_session(&s).await.unwrap();
    assert_eq!(store.get_session(t.id, &s.id_digest).await.unwrap(), s);
    let mut c = password_fixture(&u);
    c.locked_until = Some(odd);
    c.updated_at = epoch_ish;
    store.put_password(&c).await.unwrap();
    assert_eq!(store.get_password(t.id, u.id).await.unwrap(), c);
    let mut e = sign_in_fixture(&t, Some(&u), SignInResult::Success);
    e.at = odd;
    store.append_sign_in(&e).await.unwrap();
    let log = store
        .list_sign_ins(t.id, &SignInQuery::default(), &page(1, None))
        .await
        .unwrap();
    assert_eq!(log.items[0].at, odd);
    let mut d = domain_fixture(&t, "time.example", DomainStatus::Verified);
    d.verified_at = Some(odd);
    d.created_at = epoch_ish;
    store.add_domain(&d).await.unwrap();
    assert_eq!(store.get_domain(t.id, &d.name).await.unwrap(), d);
}

pub async fn unicode_round_trips(store: &dyn Store) {
    let t = new_tenant(store, "Société Générale — 東京 🚀").await;
    assert_eq!(
        store.get_tenant(t.id).await.unwrap().name,
        "Société Générale — 東京 🚀"
    );
    let mut u = user_fixture(&t, "Émilie.Çelik@Contoso.example");
    u.display_name = Some("Émilie Çelik 李小龍 🙂".into());
    u.surname = Some("Ørsted-Ñúñez".into());
    store.create_user(&u).await.unwrap();
    assert_eq!(store.get_user(t.id, u.id).await.unwrap(), u);
    assert_eq!(
        store
            .find_user_by_upn(t.id, "émilie.çelik@contoso.example")
            .await
            .unwrap(),
        u
    );
    let g = new_group(store, &t, "Équipe Ärger").await;
    assert_err(
        store.create_group(&group_fixture(&t, "ÉQUIPE ÄRGER")).await,
        Conflict("group.display_name"),
    );
    assert_eq!(
        store.get_group(t.id, g.id).await.unwrap().display_name,
        "Équipe Ärger"
    );
    let a = new_app(store, &t, "Paie — ご利用").await;
    assert_eq!(
        store.get_app(t.id, a.id).await.unwrap().name,
        "Paie — ご利用"
    );
}

pub async fn page_limits_default_and_max(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let n = PageRequest::DEFAULT_LIMIT as usize + 5;
    for i in 0..n {
        new_user(store, &t, &format!("u{i}@x.test")).await;
    }
    let zero = store.list_users(t.id, &page(0, None)).await.unwrap();
    assert_eq!(
        zero.items.len(),
        PageRequest::DEFAULT_LIMIT as usize,
        "limit 0 = default"
    );
    assert!(zero.next.is_some());
    let huge = store.list_users(t.id, &page(u32::MAX, None)).await.unwrap();
    assert_eq!(huge.items.len(), n);
    assert_eq!(huge.next, None);
    let one = store.list_users(t.id, &page(1, None)).await.unwrap();
    assert_eq!(one.items.len(), 1);
    assert_eq!(
        one.next,
        Some(one.items[0].id.to_string()),
        "cursor = last id"
    );
}

pub async fn ping_and_backend_name(store: &dyn Store) {
    store.ping().await.unwrap();
    assert!(
        ["sqlite", "postgres"].contains(&store.backend_name()) || !store.backend_name().is_empty()
    );
}
