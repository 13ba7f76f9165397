//! Conformance cases for outbound provisioning (issue 6): jobs, provisioned objects, the
//! provisioning log, and the change log the backend writes for directory changes.

use super::*;
use crate::StoreError::{Conflict, NotFound};

pub fn job_fixture(app: &Application) -> ProvisioningJob {
    ProvisioningJob {
        tenant_id: app.tenant_id,
        app_id: app.id,
        config: ProvisioningConfig {
            tenant_url: "https://scim.example.com/scim/v2".into(),
            sealed_token: vec![1, 2, 3],
            scope: ProvisioningScope::AssignedOnly,
            profile: TargetProfile::Aws,
            mappings: ProvisioningConfig::default_mappings(TargetProfile::Aws),
            matching_attribute: "userName".into(),
            push_groups: true,
            on_unassign: DeprovisionAction::Disable,
            interval_secs: ProvisioningConfig::DEFAULT_INTERVAL_SECS,
            concurrency: 4,
            rate_limit: 0,
            paused: false,
        },
        state: ProvisioningState::default(),
    }
}

pub async fn provisioning_job_crud(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let app = new_app(store, &a, "AWS").await;
    let job = job_fixture(&app);
    store.create_provisioning_job(&job).await.unwrap();
    assert_err(
        store.create_provisioning_job(&job).await,
        Conflict("provisioning"),
    );
    assert_eq!(store.get_provisioning_job(a.id, app.id).await.unwrap(), job);
    // Another tenant sees nothing, and cannot create a job on A's app.
    assert_err(
        store.get_provisioning_job(b.id, app.id).await,
        NotFound("provisioning"),
    );
    let cross = ProvisioningJob {
        tenant_id: b.id,
        ..job.clone()
    };
    assert_err(store.create_provisioning_job(&cross).await, NotFound("app"));
    let updated = store
        .update_provisioning_job(
            a.id,
            app.id,
            Box::new(|j| {
                j.state.change_cursor = 42;
                j.config.paused = true;
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(updated.state.change_cursor, 42);
    assert_eq!(
        store.get_provisioning_job(a.id, app.id).await.unwrap(),
        updated
    );
    // A refused update writes nothing.
    assert!(
        store
            .update_provisioning_job(
                a.id,
                app.id,
                Box::new(|j| {
                    j.state.change_cursor = 7;
                    Err(StoreError::Aborted("no".into()))
                }),
            )
            .await
            .is_err()
    );
    assert_eq!(
        store
            .get_provisioning_job(a.id, app.id)
            .await
            .unwrap()
            .state
            .change_cursor,
        42
    );
    assert_eq!(store.list_provisioning_jobs().await.unwrap(), vec![updated]);
    assert_err(
        store.delete_provisioning_job(b.id, app.id).await,
        NotFound("provisioning"),
    );
    store.delete_provisioning_job(a.id, app.id).await.unwrap();
    assert!(store.list_provisioning_jobs().await.unwrap().is_empty());
    // Deleting the app deletes its job.
    store.create_provisioning_job(&job).await.unwrap();
    store.delete_app(a.id, app.id).await.unwrap();
    assert!(store.list_provisioning_jobs().await.unwrap().is_empty());
}

fn provisioned(
    app: &Application,
    kind: ProvisionedKind,
    source: Uuid,
    target: &str,
) -> ProvisionedObject {
    ProvisionedObject {
        tenant_id: app.tenant_id,
        app_id: app.id,
        kind,
        source_id: source,
        target_id: target.to_owned(),
        sent: serde_json::json!({"userName": target, "active": true}),
        active: true,
        updated_at: now(),
    }
}

pub async fn provisioned_objects_and_log(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let app = new_app(store, &a, "AWS").await;
    let other = new_app(store, &a, "Other").await;
    let src = seq_id();
    let obj = provisioned(&app, ProvisionedKind::User, src, "t-1");
    // No job yet: nothing can be recorded.
    assert_err(store.put_provisioned(&obj).await, NotFound("provisioning"));
    store
        .create_provisioning_job(&job_fixture(&app))
        .await
        .unwrap();
    store
        .create_provisioning_job(&job_fixture(&other))
        .await
        .unwrap();
    assert_eq!(
        store
            .get_provisioned(a.id, app.id, ProvisionedKind::User, src)
            .await
            .unwrap(),
        None
    );
    store.put_provisioned(&obj).await.unwrap();
    let changed = ProvisionedObject {
        active: false,
        sent: serde_json::json!({"active": false}),
        ..obj.clone()
    };
    store.put_provisioned(&changed).await.unwrap();
    let got = store
        .get_provisioned(a.id, app.id, ProvisionedKind::User, src)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.sent, changed.sent);
    assert!(!got.active);
    // Same source id, other kind or other app: separate records.
    assert_eq!(
        store
            .get_provisioned(a.id, app.id, ProvisionedKind::Group, src)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .get_provisioned(a.id, other.id, ProvisionedKind::User, src)
            .await
            .unwrap(),
        None
    );
    for n in 0..5 {
        let o = provisioned(&app, ProvisionedKind::User, seq_id(), &format!("t{n}"));
        store.put_provisioned(&o).await.unwrap();
    }
    let first = store
        .list_provisioned(
            a.id,
            app.id,
            ProvisionedKind::User,
            &PageRequest::new(Some(4), None),
        )
        .await
        .unwrap();
    assert_eq!(first.items.len(), 4);
    let rest = store
        .list_provisioned(
            a.id,
            app.id,
            ProvisionedKind::User,
            &PageRequest::new(Some(4), first.next),
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 2);
    assert_eq!(rest.next, None);
    store
        .delete_provisioned(a.id, app.id, ProvisionedKind::User, src)
        .await
        .unwrap();
    assert_eq!(
        store
            .get_provisioned(a.id, app.id, ProvisionedKind::User, src)
            .await
            .unwrap(),
        None
    );

    // The log: newest first, filtered by cycle, result and object.
    let cycle = seq_id();
    let mut entries = Vec::new();
    for n in 0..4u16 {
        let e = ProvisioningLogEntry {
            id: seq_id(),
            tenant_id: a.id,
            app_id: app.id,
            cycle_id: if n < 3 { Some(cycle) } else { None },
            at: now(),
            kind: ProvisionedKind::User,
            source_id: if n == 1 { src } else { seq_id() },
            display: format!("user{n}@a.example"),
            action: ProvisioningAction::Create,
            result: if n == 2 {
                ProvisioningResult::Failure
            } else {
                ProvisioningResult::Success
            },
            request: Some("POST /Users".into()),
            status_code: Some(201),
            reason: None,
        };
        store.append_provisioning_log(&e).await.unwrap();
        entries.push(e);
    }
    let all = store
        .list_provisioning_log(
            a.id,
            app.id,
            &ProvisioningLogQuery::default(),
            &PageRequest::new(Some(3), None),
        )
        .await
        .unwrap();
    assert_eq!(
        all.items,
        vec![entries[3].clone(), entries[2].clone(), entries[1].clone()]
    );
    let tail = store
        .list_provisioning_log(
            a.id,
            app.id,
            &ProvisioningLogQuery::default(),
            &PageRequest::new(Some(3), all.next),
        )
        .await
        .unwrap();
    assert_eq!(tail.items, vec![entries[0].clone()]);
    let by = |q: ProvisioningLogQuery| async move {
        store
            .list_provisioning_log(a.id, app.id, &q, &PageRequest::new(None, None))
            .await
            .unwrap()
            .items
    };
    assert_eq!(
        by(ProvisioningLogQuery {
            cycle_id: Some(cycle),
            ..Default::default()
        })
        .await
        .len(),
        3
    );
    assert_eq!(
        by(ProvisioningLogQuery {
            result: Some(ProvisioningResult::Failure),
            ..Default::default()
        })
        .await,
        vec![entries[2].clone()]
    );
    assert_eq!(
        by(ProvisioningLogQuery {
            source_id: Some(src),
            ..Default::default()
        })
        .await,
        vec![entries[1].clone()]
    );
    assert!(
        store
            .list_provisioning_log(
                a.id,
                other.id,
                &ProvisioningLogQuery::default(),
                &PageRequest::new(None, None)
            )
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

fn changed(changes: &[DirectoryChange]) -> Vec<(ProvisionedKind, Uuid)> {
    changes.iter().map(|c| (c.kind, c.object_id)).collect()
}

pub async fn change_log_records_directory_writes(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let start = store.latest_change_seq(a.id).await.unwrap();
    let user = new_user(store, &a, "ann@a.example").await;
    let group = new_group(store, &a, "Staff").await;
    let app = new_app(store, &a, "AWS").await;
    let mark = store.latest_change_seq(a.id).await.unwrap();
    assert!(mark > start);
    store
        .update_user(
            a.id,
            user.id,
            Box::new(|u| {
                u.given_name = Some("Ann".into());
                Ok(())
            }),
        )
        .await
        .unwrap();
    store.add_member(a.id, group.id, user.id).await.unwrap();
    store
        .assign(&Assignment {
            tenant_id: a.id,
            app_id: app.id,
            principal: Principal::Group(group.id),
            app_role: None,
            created_at: now(),
        })
        .await
        .unwrap();
    store.remove_member(a.id, group.id, user.id).await.unwrap();
    store
        .unassign(a.id, app.id, Principal::Group(group.id))
        .await
        .unwrap();
    store.delete_user(a.id, user.id).await.unwrap();
    // B's writes are not in A's log.
    new_user(store, &b, "bob@b.example").await;
    let head = store.latest_change_seq(a.id).await.unwrap();
    let changes = store.list_changes(a.id, mark, head, 1000).await.unwrap();
    let u = (ProvisionedKind::User, user.id.0);
    let g = (ProvisionedKind::Group, group.id.0);
    let seen = changed(&changes);
    // update; add member (user + group); assign; remove member (user + group); unassign; delete.
    for expected in [u, g] {
        assert!(
            seen.contains(&expected),
            "{expected:?} missing from {seen:?}"
        );
    }
    assert_eq!(seen.iter().filter(|c| **c == u).count(), 4, "{seen:?}");
    assert_eq!(seen.iter().filter(|c| **c == g).count(), 4, "{seen:?}");
    assert!(changes.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(changes.iter().all(|c| c.seq > mark && c.seq <= head));
    // Limits and bounds.
    let two = store.list_changes(a.id, mark, head, 2).await.unwrap();
    assert_eq!(two, changes[..2].to_vec());
    assert!(
        store
            .list_changes(a.id, head, head + 100, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Purging keeps what comes after the mark.
    let purged = store.purge_changes(a.id, mark).await.unwrap();
    assert!(purged > 0);
    assert_eq!(
        store.list_changes(a.id, 0, head, 1000).await.unwrap(),
        changes
    );
    // A deleted tenant leaves no change log behind.
    store.delete_tenant(a.id).await.unwrap();
    assert_eq!(store.latest_change_seq(a.id).await.unwrap(), 0);
    assert!(store.latest_change_seq(b.id).await.unwrap() > 0);
}
