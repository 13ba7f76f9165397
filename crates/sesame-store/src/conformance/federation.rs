//! Conformance cases for federation with external SAML IdPs (issue 5): domain federations keep
//! the domain's status in step, the replay cache refuses a second use, and outstanding
//! AuthnRequests are taken once.

use super::*;
use crate::StoreError::{Conflict, NotFound};
use time::Duration;

pub fn federation_fixture(tenant: &Tenant, domain: &str) -> DomainFederation {
    DomainFederation {
        tenant_id: tenant.id,
        domain: domain.to_owned(),
        issuer_uri: format!("https://idp.{domain}/idp"),
        passive_logon_url: format!("https://idp.{domain}/sso"),
        logoff_url: format!("https://idp.{domain}/slo"),
        active_logon_url: None,
        signing_certificates: vec![
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
        ],
        preferred_protocol: FederationProtocol::Samlp,
        brand_name: Some("Partner".into()),
        metadata_url: None,
        metadata_signing_certificate: Some(
            "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n".into(),
        ),
        allow_sha1: true,
        clock_skew_secs: DEFAULT_FEDERATION_CLOCK_SKEW_SECS,
        allow_unsolicited: false,
        require_signed_logout_responses: true,
        idp_answers_logout: false,
        metadata_refresh: MetadataRefresh::default(),
        created_at: now(),
        updated_at: now(),
    }
}

pub async fn federation_put_get_list_delete(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    store
        .add_domain(&domain_fixture(
            &t,
            "fabrikam.example",
            DomainStatus::Verified,
        ))
        .await
        .unwrap();
    let mut f = federation_fixture(&t, "fabrikam.example");
    store.put_federation(&f).await.unwrap();
    assert_eq!(
        store
            .get_federation(t.id, "fabrikam.example")
            .await
            .unwrap(),
        f
    );
    assert_eq!(
        store
            .get_domain(t.id, "fabrikam.example")
            .await
            .unwrap()
            .status,
        DomainStatus::Federated
    );
    f.allow_sha1 = false;
    f.signing_certificates.push("second".into());
    store.put_federation(&f).await.unwrap();
    assert_eq!(store.list_federations(t.id).await.unwrap(), vec![f.clone()]);
    store
        .delete_federation(t.id, "fabrikam.example")
        .await
        .unwrap();
    assert_err(
        store.get_federation(t.id, "fabrikam.example").await,
        NotFound("federation"),
    );
    assert_eq!(
        store
            .get_domain(t.id, "fabrikam.example")
            .await
            .unwrap()
            .status,
        DomainStatus::Verified
    );
    assert_err(
        store.delete_federation(t.id, "fabrikam.example").await,
        NotFound("federation"),
    );
    // Deleting a federated domain takes its federation with it.
    store.put_federation(&f).await.unwrap();
    store.delete_domain(t.id, "fabrikam.example").await.unwrap();
    assert!(store.list_federations(t.id).await.unwrap().is_empty());
}

pub async fn federation_requires_verified_domain_and_isolation(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    store
        .add_domain(&domain_fixture(
            &a,
            "pending.example",
            DomainStatus::Unverified,
        ))
        .await
        .unwrap();
    assert!(matches!(
        store
            .put_federation(&federation_fixture(&a, "pending.example"))
            .await,
        Err(crate::StoreError::Aborted(_))
    ));
    assert_err(
        store
            .put_federation(&federation_fixture(&a, "nowhere.example"))
            .await,
        NotFound("domain"),
    );
    store
        .add_domain(&domain_fixture(&a, "a.example", DomainStatus::Verified))
        .await
        .unwrap();
    store
        .put_federation(&federation_fixture(&a, "a.example"))
        .await
        .unwrap();
    assert_err(
        store.get_federation(b.id, "a.example").await,
        NotFound("federation"),
    );
    assert!(store.list_federations(b.id).await.unwrap().is_empty());
    assert_err(
        store.delete_federation(b.id, "a.example").await,
        NotFound("federation"),
    );
    // A federated domain still finds its tenant.
    assert_eq!(
        store.find_tenant_by_domain("a.example").await.unwrap().id,
        a.id
    );
}

pub async fn replay_cache_refuses_second_use(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let later = now() + Duration::minutes(10);
    store
        .remember_assertion(a.id, "https://idp/", "_a1", later)
        .await
        .unwrap();
    assert_err(
        store
            .remember_assertion(a.id, "https://idp/", "_a1", later)
            .await,
        Conflict("assertion"),
    );
    // Another issuer or another tenant is another key.
    store
        .remember_assertion(a.id, "https://other/", "_a1", later)
        .await
        .unwrap();
    store
        .remember_assertion(b.id, "https://idp/", "_a1", later)
        .await
        .unwrap();
    store
        .remember_assertion(a.id, "https://idp/", "_old", now() - Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(store.purge_expired_assertions(now()).await.unwrap(), 1);
    store
        .remember_assertion(a.id, "https://idp/", "_old", later)
        .await
        .unwrap();
    assert_err(
        store
            .remember_assertion(a.id, "https://idp/", "_a1", later)
            .await,
        Conflict("assertion"),
    );
}

pub async fn authn_requests_taken_once(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let r = OutstandingAuthnRequest {
        tenant_id: a.id,
        id: "_req1".into(),
        domain: "fabrikam.example".into(),
        continue_to: Some("/x/myapps".into()),
        expires_at: now() + Duration::minutes(10),
    };
    store.save_authn_request(&r).await.unwrap();
    assert_err(
        store.save_authn_request(&r).await,
        Conflict("authn_request"),
    );
    assert_err(
        store.take_authn_request(b.id, "_req1").await,
        NotFound("authn_request"),
    );
    assert_eq!(store.take_authn_request(a.id, "_req1").await.unwrap(), r);
    assert_err(
        store.take_authn_request(a.id, "_req1").await,
        NotFound("authn_request"),
    );
    let old = OutstandingAuthnRequest {
        id: "_old".into(),
        continue_to: None,
        expires_at: now() - Duration::minutes(1),
        ..r.clone()
    };
    store.save_authn_request(&old).await.unwrap();
    store.save_authn_request(&r).await.unwrap();
    assert_eq!(store.purge_expired_authn_requests(now()).await.unwrap(), 1);
    assert_err(
        store.take_authn_request(a.id, "_old").await,
        NotFound("authn_request"),
    );
    let mut missing_tenant = r.clone();
    missing_tenant.tenant_id = TenantId(seq_id());
    assert_not_found(store.save_authn_request(&missing_tenant).await);
}

/// Concurrent writers of the same assertion: exactly one is accepted (backends may batch
/// these writes, but never answer Ok twice for one key).
pub async fn replay_cache_concurrent_writers(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let later = now() + Duration::minutes(10);
    let same = || store.remember_assertion(a.id, "https://idp/", "_dup", later);
    let (r1, r2, r3, r4, r5, r6) = tokio::join!(same(), same(), same(), same(), same(), same());
    let results = [r1, r2, r3, r4, r5, r6];
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, Conflict("assertion")))
    );
    // Distinct assertions written at once are all accepted, and each only once.
    let one = |id: &'static str| store.remember_assertion(a.id, "https://idp/", id, later);
    let (r1, r2, r3, r4) = tokio::join!(one("_1"), one("_2"), one("_3"), one("_4"));
    for r in [r1, r2, r3, r4] {
        r.unwrap();
    }
    for id in ["_1", "_2", "_3", "_4", "_dup"] {
        assert_err(one(id).await, Conflict("assertion"));
    }
    // A tenant that does not exist is refused, alone, whatever else is written with it.
    let ghost = TenantId(seq_id());
    let (bad, good) = tokio::join!(
        store.remember_assertion(ghost, "https://idp/", "_g", later),
        one("_5"),
    );
    assert!(bad.is_err());
    good.unwrap();
}

/// The SSO test tool reads the replay cache and outstanding requests without changing them.
pub async fn federation_lookups_are_read_only(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let later = now() + Duration::minutes(10);
    assert!(
        !store
            .assertion_seen(a.id, "https://idp/", "_a1")
            .await
            .unwrap()
    );
    store
        .remember_assertion(a.id, "https://idp/", "_a1", later)
        .await
        .unwrap();
    assert!(
        store
            .assertion_seen(a.id, "https://idp/", "_a1")
            .await
            .unwrap()
    );
    assert!(
        store
            .assertion_seen(a.id, "https://idp/", "_a1")
            .await
            .unwrap()
    );
    assert!(
        !store
            .assertion_seen(a.id, "https://other/", "_a1")
            .await
            .unwrap()
    );
    assert!(
        !store
            .assertion_seen(b.id, "https://idp/", "_a1")
            .await
            .unwrap()
    );
    assert_err(
        store
            .remember_assertion(a.id, "https://idp/", "_a1", later)
            .await,
        Conflict("assertion"),
    );

    let r = OutstandingAuthnRequest {
        tenant_id: a.id,
        id: "_req1".into(),
        domain: "fabrikam.example".into(),
        continue_to: None,
        expires_at: later,
    };
    assert_err(
        store.find_authn_request(a.id, "_req1").await,
        NotFound("authn_request"),
    );
    store.save_authn_request(&r).await.unwrap();
    assert_eq!(store.find_authn_request(a.id, "_req1").await.unwrap(), r);
    assert_eq!(store.find_authn_request(a.id, "_req1").await.unwrap(), r);
    assert_err(
        store.find_authn_request(b.id, "_req1").await,
        NotFound("authn_request"),
    );
    // Still there to be taken, once.
    assert_eq!(store.take_authn_request(a.id, "_req1").await.unwrap(), r);
    assert_err(
        store.find_authn_request(a.id, "_req1").await,
        NotFound("authn_request"),
    );
}

/// Direct federations (SAML-SP-5): never for a verified domain of the tenant, at most
/// `max` federations per tenant counting domain federations, replacing one does not count twice.
pub async fn direct_federation_limits(store: &dyn Store) {
    let aborted = |r: crate::StoreResult<()>, why: &str| match r {
        Err(StoreError::Aborted(m)) if m.contains(why) => {}
        other => panic!("expected Aborted({why}…), got {other:?}"),
    };
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    for (name, status) in [
        ("own.example", DomainStatus::Verified),
        ("pending.example", DomainStatus::Unverified),
    ] {
        store
            .add_domain(&domain_fixture(&a, name, status))
            .await
            .unwrap();
    }
    aborted(
        store
            .put_direct_federation(&federation_fixture(&a, "own.example"), 3)
            .await,
        "verified domain",
    );
    // An unverified domain of the tenant proves nothing: allowed.
    store
        .put_direct_federation(&federation_fixture(&a, "pending.example"), 3)
        .await
        .unwrap();
    store
        .put_federation(&federation_fixture(&a, "own.example"))
        .await
        .unwrap();
    let mut p = federation_fixture(&a, "partner.example");
    store.put_direct_federation(&p, 3).await.unwrap();
    // 3 of 3: replacing is fine, a fourth is refused, in any tenant independently.
    p.allow_sha1 = false;
    store.put_direct_federation(&p, 3).await.unwrap();
    assert_eq!(
        store
            .get_direct_federation(a.id, "partner.example")
            .await
            .unwrap(),
        p
    );
    aborted(
        store
            .put_direct_federation(&federation_fixture(&a, "fourth.example"), 3)
            .await,
        "at most 3 federations",
    );
    store
        .put_direct_federation(&federation_fixture(&b, "fourth.example"), 3)
        .await
        .unwrap();
    let listed: Vec<String> = store
        .list_direct_federations(a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.domain)
        .collect();
    assert_eq!(listed, ["partner.example", "pending.example"]);
    assert_err(
        store.get_direct_federation(b.id, "partner.example").await,
        NotFound("federation"),
    );
    // Domain federations do not see direct ones.
    assert_err(
        store.get_federation(a.id, "partner.example").await,
        NotFound("federation"),
    );
    store
        .delete_direct_federation(a.id, "partner.example")
        .await
        .unwrap();
    assert_err(
        store
            .delete_direct_federation(a.id, "partner.example")
            .await,
        NotFound("federation"),
    );
    let mut missing = federation_fixture(&a, "x.example");
    missing.tenant_id = TenantId(seq_id());
    assert_not_found(store.put_direct_federation(&missing, 3).await);
}

/// Guest invitations (DIR-4): one per address and tenant, bound once to the IdP identity that
/// redeemed it; the user must be the tenant's.
pub async fn guest_invitations_bind_once(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let guest = new_user(store, &a, "ann_partner.example#EXT#@a.example").await;
    let other = new_user(store, &b, "x@b.example").await;
    let g = GuestInvitation {
        tenant_id: a.id,
        email: "ann@partner.example".into(),
        user_id: guest.id,
        domain: "partner.example".into(),
        invited_at: now(),
        redeemed_at: None,
        issuer: None,
        name_id: None,
    };
    store.create_guest_invitation(&g).await.unwrap();
    assert_err(
        store.create_guest_invitation(&g).await,
        Conflict("guest_invitation"),
    );
    let cross = GuestInvitation {
        email: "bob@partner.example".into(),
        user_id: other.id,
        ..g.clone()
    };
    assert_not_found(store.create_guest_invitation(&cross).await);
    assert_eq!(
        store
            .get_guest_invitation(a.id, "ann@partner.example")
            .await
            .unwrap(),
        g
    );
    assert_err(
        store
            .get_guest_invitation(b.id, "ann@partner.example")
            .await,
        NotFound("guest_invitation"),
    );
    let at = now();
    let r = store
        .redeem_guest_invitation(a.id, "ann@partner.example", "https://idp/", "N1", at)
        .await
        .unwrap();
    assert_eq!(r.redeemed_at, Some(at));
    assert_eq!(
        (r.issuer.as_deref(), r.name_id.as_deref()),
        (Some("https://idp/"), Some("N1"))
    );
    // A second redemption does not rebind: the first binding stands.
    let again = store
        .redeem_guest_invitation(a.id, "ann@partner.example", "https://evil/", "N2", now())
        .await
        .unwrap();
    assert_eq!(again, r);
    assert_err(
        store
            .redeem_guest_invitation(a.id, "nobody@partner.example", "i", "n", now())
            .await,
        NotFound("guest_invitation"),
    );
    assert_eq!(store.list_guest_invitations(a.id).await.unwrap(), vec![r]);
    // The invitation goes with its user.
    store.delete_user(a.id, guest.id).await.unwrap();
    assert!(store.list_guest_invitations(a.id).await.unwrap().is_empty());
}

/// The metadata refresh job's update: replaces an existing federation of either kind, never
/// creates one.
pub async fn federation_update_never_creates(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    store
        .add_domain(&domain_fixture(&a, "own.example", DomainStatus::Verified))
        .await
        .unwrap();
    let mut own = federation_fixture(&a, "own.example");
    let mut partner = federation_fixture(&a, "partner.example");
    assert_err(
        store.update_federation(&own, false).await,
        NotFound("federation"),
    );
    assert_err(
        store.update_federation(&partner, true).await,
        NotFound("federation"),
    );
    store.put_federation(&own).await.unwrap();
    store.put_direct_federation(&partner, 10).await.unwrap();
    own.signing_certificates = vec!["new".into()];
    own.metadata_refresh.last_error = Some("unreachable".into());
    own.metadata_refresh.next_at = Some(now());
    store.update_federation(&own, false).await.unwrap();
    assert_eq!(
        store.get_federation(a.id, "own.example").await.unwrap(),
        own
    );
    partner.signing_certificates = vec!["new2".into()];
    store.update_federation(&partner, true).await.unwrap();
    assert_eq!(
        store
            .get_direct_federation(a.id, "partner.example")
            .await
            .unwrap(),
        partner
    );
    // An administrator's change since the read wins: nothing is written.
    let mut changed = partner.clone();
    changed.passive_logon_url = "https://idp.partner.example/new-sso".into();
    changed.updated_at = partner.updated_at + time::Duration::seconds(1);
    store.put_direct_federation(&changed, 10).await.unwrap();
    let mut refreshed = partner.clone();
    refreshed.signing_certificates = vec!["new3".into()];
    assert!(matches!(
        store.update_federation(&refreshed, true).await,
        Err(crate::StoreError::Aborted(_))
    ));
    assert_eq!(
        store
            .get_direct_federation(a.id, "partner.example")
            .await
            .unwrap(),
        changed
    );
    partner = changed;
    // The kinds do not mix.
    assert_err(
        store.update_federation(&partner, false).await,
        NotFound("federation"),
    );
    store
        .delete_direct_federation(a.id, "partner.example")
        .await
        .unwrap();
    assert_err(
        store.update_federation(&partner, true).await,
        NotFound("federation"),
    );
    assert_err(
        store.get_direct_federation(a.id, "partner.example").await,
        NotFound("federation"),
    );
}
