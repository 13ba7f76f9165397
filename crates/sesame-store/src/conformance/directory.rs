//! Conformance cases for tenants, domains and tenant isolation of the directory.

use super::*;
use crate::StoreError::{Aborted, Conflict, NotFound};

pub async fn tenant_create_get(store: &dyn Store) {
    let t = new_tenant(store, "Contoso").await;
    assert_eq!(store.get_tenant(t.id).await.unwrap(), t);
}

pub async fn tenant_duplicate_id_conflict(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let again = Tenant {
        initial_domain: "other.sesame.test".into(),
        ..t.clone()
    };
    assert_err(store.create_tenant(&again).await, Conflict("tenant.id"));
}

pub async fn tenant_initial_domain_conflict(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let mut other = tenant_fixture("B");
    other.initial_domain = t.initial_domain.clone();
    assert_err(
        store.create_tenant(&other).await,
        Conflict("tenant.initial_domain"),
    );
    // A name verified by a tenant cannot become another tenant's initial domain either.
    store
        .add_domain(&domain_fixture(
            &t,
            "verified.example",
            DomainStatus::Verified,
        ))
        .await
        .unwrap();
    other.initial_domain = "verified.example".into();
    assert_err(
        store.create_tenant(&other).await,
        Conflict("tenant.initial_domain"),
    );
    assert_not_found(store.get_tenant(other.id).await);
}

pub async fn tenant_get_missing_not_found(store: &dyn Store) {
    assert_err(
        store.get_tenant(TenantId(seq_id())).await,
        NotFound("tenant"),
    );
    assert_err(
        store.find_tenant_by_domain("nowhere.test").await,
        NotFound("tenant"),
    );
}

pub async fn tenant_update_closure(store: &dyn Store) {
    let t = new_tenant(store, "Old").await;
    let updated = store
        .update_tenant(
            t.id,
            Box::new(|t| {
                t.name = "New".into();
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "New");
    assert_eq!(store.get_tenant(t.id).await.unwrap(), updated);
}

pub async fn tenant_update_aborted_leaves_unchanged(store: &dyn Store) {
    let t = new_tenant(store, "Same").await;
    let r = store
        .update_tenant(
            t.id,
            Box::new(|t| {
                t.name = "Changed".into();
                Err(StoreError::Aborted("no".into()))
            }),
        )
        .await;
    assert_err(r, Aborted("no".into()));
    assert_eq!(store.get_tenant(t.id).await.unwrap(), t);
    // Changing the initial domain to another tenant's is a conflict and changes nothing.
    let other = new_tenant(store, "Other").await;
    let taken = other.initial_domain.clone();
    let r = store
        .update_tenant(
            t.id,
            Box::new(move |t| {
                t.initial_domain = taken;
                Ok(())
            }),
        )
        .await;
    assert_err(r, Conflict("tenant.initial_domain"));
    assert_eq!(store.get_tenant(t.id).await.unwrap(), t);
}

pub async fn tenant_update_missing_not_found(store: &dyn Store) {
    let r = store
        .update_tenant(TenantId(seq_id()), Box::new(|_| Ok(())))
        .await;
    assert_err(r, NotFound("tenant"));
}

pub async fn tenant_delete_and_not_found(store: &dyn Store) {
    let t = new_tenant(store, "Gone").await;
    store.delete_tenant(t.id).await.unwrap();
    assert_err(store.get_tenant(t.id).await, NotFound("tenant"));
    assert_err(store.delete_tenant(t.id).await, NotFound("tenant"));
    assert_not_found(store.find_tenant_by_domain(&t.initial_domain).await);
}

pub async fn tenant_delete_cascades_everything(store: &dyn Store) {
    let t = new_tenant(store, "Doomed").await;
    let keep = new_tenant(store, "Kept").await;
    let kept_user = new_user(store, &keep, "k@kept.test").await;
    store
        .add_domain(&domain_fixture(
            &t,
            "doomed.example",
            DomainStatus::Verified,
        ))
        .await
        .unwrap();
    let u = new_user(store, &t, "u@doomed.example").await;
    store.put_password(&password_fixture(&u)).await.unwrap();
    let g = new_group(store, &t, "G").await;
    store.add_member(t.id, g.id, u.id).await.unwrap();
    let a = new_app(store, &t, "App").await;
    store
        .assign(&assignment(&t, &a, Principal::User(u.id)))
        .await
        .unwrap();
    let s = session_fixture(&u, now() + time::Duration::hours(1));
    store.create_session(&s).await.unwrap();
    store
        .append_sign_in(&sign_in_fixture(&t, Some(&u), SignInResult::Success))
        .await
        .unwrap();
    let tok = admin_token_fixture("tenant admin", Some(&t));
    store.create_admin_token(&tok).await.unwrap();
    let global = admin_token_fixture("global", None);
    store.create_admin_token(&global).await.unwrap();

    store.delete_tenant(t.id).await.unwrap();

    assert_not_found(store.get_user(t.id, u.id).await);
    assert_eq!(store.count_users(t.id).await.unwrap(), 0);
    assert_not_found(store.get_password(t.id, u.id).await);
    assert_not_found(store.get_group(t.id, g.id).await);
    assert!(store.list_user_groups(t.id, u.id).await.unwrap().is_empty());
    assert_not_found(store.get_app(t.id, a.id).await);
    assert!(
        store
            .list_principal_assignments(t.id, Principal::User(u.id))
            .await
            .unwrap()
            .is_empty()
    );
    assert_not_found(store.get_session(t.id, &s.id_digest).await);
    assert!(store.list_domains(t.id).await.unwrap().is_empty());
    assert_not_found(store.find_tenant_by_domain("doomed.example").await);
    let log = store
        .list_sign_ins(t.id, &SignInQuery::default(), &page(10, None))
        .await
        .unwrap();
    assert!(log.items.is_empty());
    assert_not_found(store.find_admin_token(&tok.digest).await);
    // Nothing of the other tenant, nor global tokens, went with it.
    assert_eq!(
        store.find_admin_token(&global.digest).await.unwrap(),
        global
    );
    assert_eq!(
        store.get_user(keep.id, kept_user.id).await.unwrap(),
        kept_user
    );
    // The freed domain can now be verified by someone else.
    store
        .add_domain(&domain_fixture(
            &keep,
            "doomed.example",
            DomainStatus::Verified,
        ))
        .await
        .unwrap();
}

pub fn assignment(tenant: &Tenant, app: &Application, principal: Principal) -> Assignment {
    Assignment {
        tenant_id: tenant.id,
        app_id: app.id,
        principal,
        app_role: None,
        created_at: now(),
    }
}

pub async fn tenant_list_pagination(store: &dyn Store) {
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(new_tenant(store, &format!("T{i}")).await.id);
    }
    let listed = collect_pages(3, |p| async move { store.list_tenants(&p).await }).await;
    let got: Vec<TenantId> = listed.iter().map(|t| t.id).collect();
    assert_eq!(got, ids, "all tenants, once each, in creation order");
}

pub async fn domain_add_get_list(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let d1 = domain_fixture(&t, "b.example", DomainStatus::Unverified);
    let d2 = domain_fixture(&t, "a.example", DomainStatus::Verified);
    store.add_domain(&d1).await.unwrap();
    store.add_domain(&d2).await.unwrap();
    assert_eq!(store.get_domain(t.id, "b.example").await.unwrap(), d1);
    assert_eq!(
        store.list_domains(t.id).await.unwrap(),
        vec![d2, d1],
        "ordered by name"
    );
}

pub async fn domain_duplicate_conflict(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let d = domain_fixture(&t, "dup.example", DomainStatus::Unverified);
    store.add_domain(&d).await.unwrap();
    assert_err(store.add_domain(&d).await, Conflict("domain.name"));
    // A tenant's own initial domain cannot be added as a custom domain.
    let own = domain_fixture(&t, &t.initial_domain, DomainStatus::Unverified);
    assert_err(store.add_domain(&own).await, Conflict("domain.name"));
}

pub async fn domain_add_missing_tenant_not_found(store: &dyn Store) {
    let ghost = tenant_fixture("ghost");
    let d = domain_fixture(&ghost, "ghost.example", DomainStatus::Unverified);
    assert_err(store.add_domain(&d).await, NotFound("tenant"));
}

pub async fn domain_other_tenants_initial_domain_conflict(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let d = domain_fixture(&b, &a.initial_domain, DomainStatus::Unverified);
    assert_err(store.add_domain(&d).await, Conflict("domain.name"));
}

pub async fn domain_verified_elsewhere_cannot_be_added(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    store
        .add_domain(&domain_fixture(
            &a,
            "fabrikam.example",
            DomainStatus::Federated,
        ))
        .await
        .unwrap();
    for status in [DomainStatus::Unverified, DomainStatus::Verified] {
        let d = domain_fixture(&b, "fabrikam.example", status);
        assert_err(store.add_domain(&d).await, Conflict("domain.name"));
    }
    assert!(store.list_domains(b.id).await.unwrap().is_empty());
}

pub async fn domain_cannot_be_verified_in_second_tenant(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    store
        .add_domain(&domain_fixture(
            &a,
            "shared.example",
            DomainStatus::Unverified,
        ))
        .await
        .unwrap();
    store
        .add_domain(&domain_fixture(
            &b,
            "shared.example",
            DomainStatus::Unverified,
        ))
        .await
        .unwrap();
    let verify = |d: &mut Domain| -> crate::StoreResult<()> {
        d.status = DomainStatus::Verified;
        d.verified_at = Some(now());
        Ok(())
    };
    store
        .update_domain(a.id, "shared.example", Box::new(verify))
        .await
        .unwrap();
    let before = store.get_domain(b.id, "shared.example").await.unwrap();
    let r = store
        .update_domain(b.id, "shared.example", Box::new(verify))
        .await;
    assert_err(r, Conflict("domain.name"));
    assert_eq!(
        store.get_domain(b.id, "shared.example").await.unwrap(),
        before
    );
    assert_eq!(
        store
            .find_tenant_by_domain("shared.example")
            .await
            .unwrap()
            .id,
        a.id
    );
}

pub async fn domain_unverified_in_two_tenants_allowed(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    for t in [&a, &b] {
        store
            .add_domain(&domain_fixture(
                t,
                "claimed.example",
                DomainStatus::Unverified,
            ))
            .await
            .unwrap();
    }
    assert_eq!(store.list_domains(a.id).await.unwrap().len(), 1);
    assert_eq!(store.list_domains(b.id).await.unwrap().len(), 1);
}

pub async fn domain_update_and_delete(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let d = domain_fixture(&t, "x.example", DomainStatus::Unverified);
    store.add_domain(&d).await.unwrap();
    let at = now();
    let updated = store
        .update_domain(
            t.id,
            "x.example",
            Box::new(move |d| {
                d.status = DomainStatus::Verified;
                d.verified_at = Some(at);
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(updated.status, DomainStatus::Verified);
    assert_eq!(updated.verified_at, Some(at));
    assert_eq!(store.get_domain(t.id, "x.example").await.unwrap(), updated);
    let r = store
        .update_domain(
            t.id,
            "x.example",
            Box::new(|d| {
                d.status = DomainStatus::Unverified;
                Err(StoreError::Aborted("keep".into()))
            }),
        )
        .await;
    assert_err(r, Aborted("keep".into()));
    assert_eq!(store.get_domain(t.id, "x.example").await.unwrap(), updated);
    store.delete_domain(t.id, "x.example").await.unwrap();
    assert_err(
        store.get_domain(t.id, "x.example").await,
        NotFound("domain"),
    );
}

pub async fn domain_missing_not_found(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    assert_err(
        store.get_domain(t.id, "none.example").await,
        NotFound("domain"),
    );
    assert_err(
        store.delete_domain(t.id, "none.example").await,
        NotFound("domain"),
    );
    let r = store
        .update_domain(t.id, "none.example", Box::new(|_| Ok(())))
        .await;
    assert_err(r, NotFound("domain"));
}

pub async fn find_tenant_by_initial_and_verified_domain(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    store
        .add_domain(&domain_fixture(
            &b,
            "contoso.example",
            DomainStatus::Verified,
        ))
        .await
        .unwrap();
    store
        .add_domain(&domain_fixture(&b, "fed.example", DomainStatus::Federated))
        .await
        .unwrap();
    assert_eq!(
        store
            .find_tenant_by_domain(&a.initial_domain)
            .await
            .unwrap(),
        a
    );
    assert_eq!(
        store
            .find_tenant_by_domain(&b.initial_domain)
            .await
            .unwrap(),
        b
    );
    assert_eq!(
        store
            .find_tenant_by_domain("contoso.example")
            .await
            .unwrap(),
        b
    );
    assert_eq!(store.find_tenant_by_domain("fed.example").await.unwrap(), b);
}

pub async fn find_tenant_by_domain_ignores_unverified(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    store
        .add_domain(&domain_fixture(
            &a,
            "pending.example",
            DomainStatus::Unverified,
        ))
        .await
        .unwrap();
    assert_err(
        store.find_tenant_by_domain("pending.example").await,
        NotFound("tenant"),
    );
}

pub async fn isolation_tenant_scoped_directory(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let d = domain_fixture(&a, "a-only.example", DomainStatus::Unverified);
    store.add_domain(&d).await.unwrap();
    assert_not_found(store.get_domain(b.id, &d.name).await);
    assert_not_found(
        store
            .update_domain(b.id, &d.name, Box::new(|_| Ok(())))
            .await,
    );
    assert_not_found(store.delete_domain(b.id, &d.name).await);
    assert!(store.list_domains(b.id).await.unwrap().is_empty());
    assert_eq!(store.get_domain(a.id, &d.name).await.unwrap(), d);
}
