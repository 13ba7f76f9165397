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
        allow_sha1: true,
        clock_skew_secs: DEFAULT_FEDERATION_CLOCK_SKEW_SECS,
        allow_unsolicited: false,
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
