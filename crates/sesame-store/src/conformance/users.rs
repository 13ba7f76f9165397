//! Conformance cases for users and password credentials, including concurrent updates.

use super::*;
use crate::StoreError::{Aborted, Conflict, NotFound};

fn full_user(tenant: &Tenant, upn: &str) -> User {
    let mut u = user_fixture(tenant, upn);
    u.display_name = Some("Zoë Ångström".into());
    u.given_name = Some("Zoë".into());
    u.surname = Some("Ångström".into());
    u.mail = Some("zoe@contoso.example".into());
    u.other_mails = vec!["z@alt.example".into(), "zoe@alt.example".into()];
    u.employee_id = Some("E-42".into());
    u.extension_attributes[0] = Some("one".into());
    u.extension_attributes[14] = Some("fifteen".into());
    u.account_enabled = false;
    u.user_type = UserType::Guest;
    u.source = UserSource::Synced;
    u.immutable_id = "AbC+/=".into();
    u
}

pub async fn user_create_get_round_trip(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let u = full_user(&t, "Zoe@Contoso.example");
    store.create_user(&u).await.unwrap();
    assert_eq!(store.get_user(t.id, u.id).await.unwrap(), u);
    let plain = new_user(store, &t, "plain@contoso.example").await;
    assert_eq!(store.get_user(t.id, plain.id).await.unwrap(), plain);
}

pub async fn user_duplicate_id_conflict(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let u = new_user(store, &t, "a@x.test").await;
    let mut again = u.clone();
    again.user_principal_name = "b@x.test".into();
    again.immutable_id = "other".into();
    assert_err(store.create_user(&again).await, Conflict("user.id"));
}

pub async fn user_upn_unique_case_insensitive(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    new_user(store, &t, "Alice@Contoso.example").await;
    let dup = user_fixture(&t, "aLICE@contoso.EXAMPLE");
    assert_err(store.create_user(&dup).await, Conflict("user.upn"));
    assert_not_found(store.get_user(t.id, dup.id).await);
    assert_eq!(store.count_users(t.id).await.unwrap(), 1);
}

pub async fn user_same_upn_in_two_tenants(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let ua = new_user(store, &a, "same@shared.example").await;
    let ub = new_user(store, &b, "same@shared.example").await;
    assert_eq!(
        store
            .find_user_by_upn(a.id, "same@shared.example")
            .await
            .unwrap(),
        ua
    );
    assert_eq!(
        store
            .find_user_by_upn(b.id, "SAME@shared.example")
            .await
            .unwrap(),
        ub
    );
}

pub async fn user_immutable_id_unique(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let u = new_user(store, &t, "a@x.test").await;
    let mut dup = user_fixture(&t, "b@x.test");
    dup.immutable_id = u.immutable_id.clone();
    assert_err(store.create_user(&dup).await, Conflict("user.immutable_id"));
    // Changing another user's immutableId to a taken one is refused too.
    let other = new_user(store, &t, "c@x.test").await;
    let taken = u.immutable_id.clone();
    let r = store
        .update_user(
            t.id,
            other.id,
            Box::new(move |u| {
                u.immutable_id = taken;
                Ok(())
            }),
        )
        .await;
    assert_err(r, Conflict("user.immutable_id"));
    assert_eq!(store.get_user(t.id, other.id).await.unwrap(), other);
}

pub async fn user_find_by_upn_and_immutable_id(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let u = new_user(store, &t, "Bob.Smith@Contoso.example").await;
    assert_eq!(
        store
            .find_user_by_upn(t.id, "bob.smith@contoso.example")
            .await
            .unwrap(),
        u
    );
    assert_eq!(
        store
            .find_user_by_upn(t.id, "BOB.SMITH@CONTOSO.EXAMPLE")
            .await
            .unwrap(),
        u
    );
    assert_eq!(
        store
            .find_user_by_immutable_id(t.id, &u.immutable_id)
            .await
            .unwrap(),
        u
    );
    assert_err(
        store.find_user_by_upn(t.id, "nobody@contoso.example").await,
        NotFound("user"),
    );
    assert_err(
        store.find_user_by_immutable_id(t.id, "nope").await,
        NotFound("user"),
    );
}

pub async fn user_create_in_missing_tenant_not_found(store: &dyn Store) {
    let ghost = tenant_fixture("ghost");
    let u = user_fixture(&ghost, "a@ghost.test");
    assert_err(store.create_user(&u).await, NotFound("tenant"));
}

pub async fn user_get_missing_not_found(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    assert_err(
        store.get_user(t.id, UserId(seq_id())).await,
        NotFound("user"),
    );
    assert_err(
        store.delete_user(t.id, UserId(seq_id())).await,
        NotFound("user"),
    );
    let r = store
        .update_user(t.id, UserId(seq_id()), Box::new(|_| Ok(())))
        .await;
    assert_err(r, NotFound("user"));
}

pub async fn user_update_bumps_version(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let u = new_user(store, &t, "a@x.test").await;
    let later = now();
    let v2 = store
        .update_user(
            t.id,
            u.id,
            Box::new(move |u| {
                u.display_name = Some("Renamed".into());
                u.updated_at = later;
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(v2.version, u.version + 1);
    assert_eq!(v2.display_name.as_deref(), Some("Renamed"));
    assert_eq!(v2.updated_at, later);
    assert_eq!(store.get_user(t.id, u.id).await.unwrap(), v2);
    // The closure cannot set the version: the store does.
    let v3 = store
        .update_user(
            t.id,
            u.id,
            Box::new(|u| {
                u.version = 100;
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(v3.version, v2.version + 1);
}

pub async fn user_update_aborted_leaves_unchanged(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let u = new_user(store, &t, "a@x.test").await;
    let r = store
        .update_user(
            t.id,
            u.id,
            Box::new(|u| {
                u.display_name = Some("half-written".into());
                Err(StoreError::Aborted("precondition".into()))
            }),
        )
        .await;
    assert_err(r, Aborted("precondition".into()));
    assert_eq!(store.get_user(t.id, u.id).await.unwrap(), u);
}

pub async fn user_update_upn_conflict_leaves_unchanged(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    new_user(store, &t, "taken@x.test").await;
    let u = new_user(store, &t, "free@x.test").await;
    let r = store
        .update_user(
            t.id,
            u.id,
            Box::new(|u| {
                u.user_principal_name = "TAKEN@x.test".into();
                u.display_name = Some("changed".into());
                Ok(())
            }),
        )
        .await;
    assert_err(r, Conflict("user.upn"));
    assert_eq!(store.get_user(t.id, u.id).await.unwrap(), u);
    // A case-only change of one's own UPN is allowed, and lookups follow the new key.
    let renamed = store
        .update_user(
            t.id,
            u.id,
            Box::new(|u| {
                u.user_principal_name = "Free@X.test".into();
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(renamed.user_principal_name, "Free@X.test");
    assert_eq!(
        store.find_user_by_upn(t.id, "free@x.test").await.unwrap(),
        renamed
    );
}

pub async fn user_update_keeps_identity(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let u = new_user(store, &a, "a@x.test").await;
    let (bid, fake) = (b.id, UserId(seq_id()));
    let updated = store
        .update_user(
            a.id,
            u.id,
            Box::new(move |u| {
                u.tenant_id = bid;
                u.id = fake;
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!((updated.id, updated.tenant_id), (u.id, a.id));
    assert_eq!(
        store.get_user(a.id, u.id).await.unwrap().version,
        u.version + 1
    );
    assert_not_found(store.get_user(b.id, u.id).await);
    assert_not_found(store.get_user(a.id, fake).await);
}

pub async fn user_delete_and_not_found(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let u = new_user(store, &t, "a@x.test").await;
    store.delete_user(t.id, u.id).await.unwrap();
    assert_err(store.get_user(t.id, u.id).await, NotFound("user"));
    assert_err(store.delete_user(t.id, u.id).await, NotFound("user"));
    // The UPN and immutableId are free again.
    let mut again = user_fixture(&t, "a@x.test");
    again.immutable_id = u.immutable_id.clone();
    store.create_user(&again).await.unwrap();
}

pub async fn user_delete_cascades(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let u = new_user(store, &t, "a@x.test").await;
    let other = new_user(store, &t, "b@x.test").await;
    store.put_password(&password_fixture(&u)).await.unwrap();
    store.put_password(&password_fixture(&other)).await.unwrap();
    let g = new_group(store, &t, "G").await;
    store.add_member(t.id, g.id, u.id).await.unwrap();
    store.add_member(t.id, g.id, other.id).await.unwrap();
    let app = new_app(store, &t, "App").await;
    store
        .assign(&assignment(&t, &app, Principal::User(u.id)))
        .await
        .unwrap();
    store
        .assign(&assignment(&t, &app, Principal::User(other.id)))
        .await
        .unwrap();
    let s1 = session_fixture(&u, now() + time::Duration::hours(1));
    let s2 = session_fixture(&other, now() + time::Duration::hours(1));
    store.create_session(&s1).await.unwrap();
    store.create_session(&s2).await.unwrap();

    store.delete_user(t.id, u.id).await.unwrap();

    assert_not_found(store.get_password(t.id, u.id).await);
    assert_not_found(store.get_session(t.id, &s1.id_digest).await);
    assert!(store.list_user_groups(t.id, u.id).await.unwrap().is_empty());
    let members = store
        .list_members(t.id, g.id, &page(10, None))
        .await
        .unwrap();
    assert_eq!(members.items, vec![other.id]);
    let assigned = store.list_assignments(t.id, app.id).await.unwrap();
    assert_eq!(assigned.len(), 1);
    assert_eq!(assigned[0].principal, Principal::User(other.id));
    assert!(
        store
            .list_principal_assignments(t.id, Principal::User(u.id))
            .await
            .unwrap()
            .is_empty()
    );
    // The other user's records are intact.
    assert_eq!(
        store.get_password(t.id, other.id).await.unwrap().user_id,
        other.id
    );
    assert_eq!(store.get_session(t.id, &s2.id_digest).await.unwrap(), s2);
}

pub async fn user_list_pagination(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let mut ids = Vec::new();
    for i in 0..11 {
        ids.push(new_user(store, &a, &format!("u{i}@a.test")).await.id);
        new_user(store, &b, &format!("u{i}@b.test")).await;
    }
    for limit in [1, 4, 11, 50] {
        let listed =
            collect_pages(limit, |p| async move { store.list_users(a.id, &p).await }).await;
        let got: Vec<UserId> = listed.iter().map(|u| u.id).collect();
        assert_eq!(
            got, ids,
            "limit {limit}: every user of the tenant once, in id order"
        );
    }
    let first = store.list_users(a.id, &page(5, None)).await.unwrap();
    let again = store.list_users(a.id, &page(5, None)).await.unwrap();
    assert_eq!(first, again, "stable order");
}

pub async fn user_count(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    assert_eq!(store.count_users(a.id).await.unwrap(), 0);
    for i in 0..5 {
        new_user(store, &a, &format!("u{i}@a.test")).await;
    }
    new_user(store, &b, "x@b.test").await;
    assert_eq!(store.count_users(a.id).await.unwrap(), 5);
    assert_eq!(store.count_users(b.id).await.unwrap(), 1);
}

/// 20 tasks append to one user's `other_mails` at once: all 20 appends survive.
pub async fn user_concurrent_updates_no_lost_writes(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let u = new_user(store, &t, "busy@x.test").await;
    let tasks = (0..20).map(|i| {
        let (tid, uid) = (t.id, u.id);
        async move {
            store
                .update_user(
                    tid,
                    uid,
                    Box::new(move |u| {
                        u.other_mails.push(format!("m{i}@x.test"));
                        Ok(())
                    }),
                )
                .await
        }
    });
    for r in join_all(tasks).await {
        r.unwrap();
    }
    let end = store.get_user(t.id, u.id).await.unwrap();
    assert_eq!(end.version, u.version + 20);
    let mut mails = end.other_mails.clone();
    mails.sort();
    let mut want: Vec<String> = (0..20).map(|i| format!("m{i}@x.test")).collect();
    want.sort();
    assert_eq!(mails, want);
}

/// Runs futures concurrently on the current task (the store is shared by reference).
pub async fn join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut slots: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    let mut pending: Vec<(usize, std::pin::Pin<Box<F>>)> =
        futures.into_iter().enumerate().collect();
    std::future::poll_fn(|cx| {
        pending.retain_mut(|(i, f)| match f.as_mut().poll(cx) {
            std::task::Poll::Ready(out) => {
                slots[*i] = Some(out);
                false
            }
            std::task::Poll::Pending => true,
        });
        if pending.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    slots.into_iter().map(|s| s.unwrap()).collect()
}

pub async fn password_put_get_replace(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let u = new_user(store, &t, "a@x.test").await;
    let mut c = password_fixture(&u);
    c.locked_until = Some(now());
    store.put_password(&c).await.unwrap();
    assert_eq!(store.get_password(t.id, u.id).await.unwrap(), c);
    let replaced = PasswordCredential {
        hash: "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3".into(),
        failed_attempts: 0,
        locked_until: None,
        updated_at: now(),
        ..c
    };
    store.put_password(&replaced).await.unwrap();
    assert_eq!(store.get_password(t.id, u.id).await.unwrap(), replaced);
    let updated = store
        .update_password(
            t.id,
            u.id,
            Box::new(|c| {
                c.failed_attempts = 3;
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(updated.failed_attempts, 3);
    assert_eq!(store.get_password(t.id, u.id).await.unwrap(), updated);
    let r = store
        .update_password(
            t.id,
            u.id,
            Box::new(|c| {
                c.failed_attempts = 99;
                Err(StoreError::Aborted("stop".into()))
            }),
        )
        .await;
    assert_err(r, Aborted("stop".into()));
    assert_eq!(store.get_password(t.id, u.id).await.unwrap(), updated);
}

pub async fn password_not_found_sentinels(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let u = new_user(store, &t, "a@x.test").await;
    assert_err(store.get_password(t.id, u.id).await, NotFound("password"));
    let r = store
        .update_password(t.id, u.id, Box::new(|_| Ok(())))
        .await;
    assert_err(r, NotFound("password"));
    let ghost = user_fixture(&t, "ghost@x.test");
    assert_err(
        store.put_password(&password_fixture(&ghost)).await,
        NotFound("user"),
    );
}

/// 20 concurrent failed sign-ins each increment `failed_attempts`: the count ends at 20.
pub async fn password_concurrent_updates_no_lost_writes(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let u = new_user(store, &t, "a@x.test").await;
    store.put_password(&password_fixture(&u)).await.unwrap();
    let store_ref = store;
    let tasks = (0..20).map(|_| async move {
        store_ref
            .update_password(
                t.id,
                u.id,
                Box::new(|c| {
                    c.failed_attempts += 1;
                    Ok(())
                }),
            )
            .await
    });
    for r in join_all(tasks).await {
        r.unwrap();
    }
    assert_eq!(
        store
            .get_password(t.id, u.id)
            .await
            .unwrap()
            .failed_attempts,
        20
    );
}

pub async fn isolation_users_and_passwords(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let u = new_user(store, &a, "a@x.test").await;
    store.put_password(&password_fixture(&u)).await.unwrap();
    assert_not_found(store.get_user(b.id, u.id).await);
    assert_not_found(store.find_user_by_upn(b.id, &u.user_principal_name).await);
    assert_not_found(store.find_user_by_immutable_id(b.id, &u.immutable_id).await);
    assert_not_found(store.update_user(b.id, u.id, Box::new(|_| Ok(()))).await);
    assert_not_found(store.delete_user(b.id, u.id).await);
    assert!(
        store
            .list_users(b.id, &page(10, None))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(store.count_users(b.id).await.unwrap(), 0);
    assert_not_found(store.get_password(b.id, u.id).await);
    assert_not_found(
        store
            .update_password(b.id, u.id, Box::new(|_| Ok(())))
            .await,
    );
    // A credential naming the wrong tenant is refused, and the real one is untouched.
    let foreign = PasswordCredential {
        tenant_id: b.id,
        ..password_fixture(&u)
    };
    assert_not_found(store.put_password(&foreign).await);
    assert_eq!(store.get_user(a.id, u.id).await.unwrap(), u);
    assert_eq!(
        store.get_password(a.id, u.id).await.unwrap().hash,
        password_fixture(&u).hash
    );
}

pub async fn users_found_by_prefix(store: &dyn Store) {
    use crate::UserLookup::{DisplayName, UserPrincipalName};
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let mut names = Vec::new();
    for (upn, display) in [
        ("zoe@a.example", Some("Zoé Martin")),
        ("marc@a.example", Some("MARTINE Dupont")),
        ("mart@a.example", Some("Martin Durand")),
        ("ann@a.example", None),
        ("mar@a.example", Some("Marie")),
    ] {
        let mut u = user_fixture(&a, upn);
        u.display_name = display.map(str::to_owned);
        store.create_user(&u).await.unwrap();
        names.push(u);
    }
    let mut other = user_fixture(&b, "martin@b.example");
    other.display_name = Some("Martin Other".into());
    store.create_user(&other).await.unwrap();
    let upns = |users: Vec<User>| -> Vec<String> {
        users.into_iter().map(|u| u.user_principal_name).collect()
    };
    // Case-insensitive, ordered by the folded field, limited, tenant-scoped.
    assert_eq!(
        upns(
            store
                .find_users_by_prefix(a.id, DisplayName, "marti", 10)
                .await
                .unwrap()
        ),
        vec!["mart@a.example", "marc@a.example"]
    );
    assert_eq!(
        upns(
            store
                .find_users_by_prefix(a.id, DisplayName, "MAR", 2)
                .await
                .unwrap()
        ),
        vec!["mar@a.example", "mart@a.example"]
    );
    assert_eq!(
        upns(
            store
                .find_users_by_prefix(a.id, DisplayName, "zoé", 10)
                .await
                .unwrap()
        ),
        vec!["zoe@a.example"]
    );
    assert!(
        store
            .find_users_by_prefix(a.id, DisplayName, "x", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        upns(
            store
                .find_users_by_prefix(a.id, UserPrincipalName, "MAR", 10)
                .await
                .unwrap()
        ),
        vec!["mar@a.example", "marc@a.example", "mart@a.example"]
    );
    // An update moves the user in the index; an empty prefix is every user with the field.
    store
        .update_user(
            a.id,
            names[4].id,
            Box::new(|u| {
                u.display_name = Some("Xavier".into());
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        upns(
            store
                .find_users_by_prefix(a.id, DisplayName, "x", 10)
                .await
                .unwrap()
        ),
        vec!["mar@a.example"]
    );
    assert_eq!(
        store
            .find_users_by_prefix(a.id, DisplayName, "", 10)
            .await
            .unwrap()
            .len(),
        4
    );
}
