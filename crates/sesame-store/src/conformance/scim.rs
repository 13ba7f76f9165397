//! Conformance cases for SCIM server tokens and the SCIM fields of users (issue 6).

use super::*;
use crate::StoreError::{Conflict, NotFound};
use time::Duration;

fn scim_token_fixture(tenant: &Tenant, name: &str, expires: Option<OffsetDateTime>) -> ScimToken {
    ScimToken {
        id: seq_id(),
        tenant_id: tenant.id,
        name: name.to_owned(),
        digest: format!("{:064x}", seq_id().as_u128()),
        created_at: now(),
        expires_at: expires,
    }
}

pub async fn scim_token_crud(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let forever = scim_token_fixture(&a, "Entra", None);
    let yearly = scim_token_fixture(&a, "HR", Some(now() + Duration::days(365)));
    let other = scim_token_fixture(&b, "Okta", None);
    for t in [&forever, &yearly, &other] {
        store.create_scim_token(t).await.unwrap();
    }
    assert_eq!(store.find_scim_token(&yearly.digest).await.unwrap(), yearly);
    assert_eq!(store.find_scim_token(&other.digest).await.unwrap(), other);
    assert_eq!(
        store.list_scim_tokens(a.id).await.unwrap(),
        vec![forever.clone(), yearly.clone()]
    );
    assert_eq!(
        store.list_scim_tokens(b.id).await.unwrap(),
        vec![other.clone()]
    );
    // Revoking needs the right tenant: B cannot revoke A's token.
    assert_err(
        store.delete_scim_token(b.id, forever.id).await,
        NotFound("scim_token"),
    );
    store.delete_scim_token(a.id, forever.id).await.unwrap();
    assert_err(
        store.find_scim_token(&forever.digest).await,
        NotFound("scim_token"),
    );
    assert_err(
        store.delete_scim_token(a.id, forever.id).await,
        NotFound("scim_token"),
    );
    assert_eq!(store.list_scim_tokens(a.id).await.unwrap(), vec![yearly]);
}

pub async fn scim_token_conflicts_and_cascade(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let tok = scim_token_fixture(&a, "one", None);
    store.create_scim_token(&tok).await.unwrap();
    let same_digest = ScimToken {
        id: seq_id(),
        ..tok.clone()
    };
    assert_err(
        store.create_scim_token(&same_digest).await,
        Conflict("scim_token"),
    );
    let same_id = ScimToken {
        digest: "e".repeat(64),
        ..tok.clone()
    };
    assert_err(
        store.create_scim_token(&same_id).await,
        Conflict("scim_token"),
    );
    let ghost = Tenant {
        id: TenantId(seq_id()),
        ..a.clone()
    };
    assert_err(
        store
            .create_scim_token(&scim_token_fixture(&ghost, "x", None))
            .await,
        NotFound("tenant"),
    );
    store.delete_tenant(a.id).await.unwrap();
    assert_err(
        store.find_scim_token(&tok.digest).await,
        NotFound("scim_token"),
    );
}

pub async fn user_scim_fields_round_trip(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let mut u = user_fixture(&t, "scim@x.test");
    u.external_id = Some("HR-0042".into());
    let mut extra = serde_json::Map::new();
    extra.insert("title".into(), serde_json::json!("Tour guide"));
    extra.insert(
        "phoneNumbers".into(),
        serde_json::json!([{"value": "+33 1 23", "type": "work"}]),
    );
    u.scim_attributes = Some(extra);
    store.create_user(&u).await.unwrap();
    assert_eq!(store.get_user(t.id, u.id).await.unwrap(), u);
    let updated = store
        .update_user(
            t.id,
            u.id,
            Box::new(|x| {
                x.external_id = None;
                x.scim_attributes = None;
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(updated.external_id, None);
    assert_eq!(store.get_user(t.id, u.id).await.unwrap(), updated);
}

pub async fn group_scim_attributes(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let g = new_group(store, &a, "Sales").await;
    assert_eq!(
        store.get_group_scim_attributes(a.id, g.id).await.unwrap(),
        None
    );
    let mut attrs = serde_json::Map::new();
    attrs.insert("externalId".into(), serde_json::json!("G-1"));
    store
        .put_group_scim_attributes(a.id, g.id, &attrs)
        .await
        .unwrap();
    attrs.insert("externalId".into(), serde_json::json!("G-2"));
    store
        .put_group_scim_attributes(a.id, g.id, &attrs)
        .await
        .unwrap();
    assert_eq!(
        store.get_group_scim_attributes(a.id, g.id).await.unwrap(),
        Some(attrs.clone())
    );
    // Tenant-scoped: B neither reads nor writes A's group.
    assert_eq!(
        store.get_group_scim_attributes(b.id, g.id).await.unwrap(),
        None
    );
    assert_err(
        store.put_group_scim_attributes(b.id, g.id, &attrs).await,
        NotFound("group"),
    );
    store.delete_group(a.id, g.id).await.unwrap();
    assert_eq!(
        store.get_group_scim_attributes(a.id, g.id).await.unwrap(),
        None
    );
}
