//! Conformance cases for groups, memberships, applications and assignments.

use super::*;
use crate::StoreError::{Aborted, Conflict, NotFound};

pub async fn group_crud(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let mut g = group_fixture(&t, "Engineering");
    g.description = Some("Builds things".into());
    store.create_group(&g).await.unwrap();
    assert_eq!(store.get_group(t.id, g.id).await.unwrap(), g);
    let updated = store
        .update_group(
            t.id,
            g.id,
            Box::new(|g| {
                g.display_name = "R&D".into();
                g.description = None;
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(updated.display_name, "R&D");
    assert_eq!(updated.description, None);
    assert_eq!(updated.version, g.version + 1);
    assert_eq!(store.get_group(t.id, g.id).await.unwrap(), updated);
    let listed = store.list_groups(t.id, &page(10, None)).await.unwrap();
    assert_eq!(listed.items, vec![updated]);
    store.delete_group(t.id, g.id).await.unwrap();
    assert_err(store.get_group(t.id, g.id).await, NotFound("group"));
}

pub async fn group_display_name_unique_case_insensitive(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let g = new_group(store, &a, "Sales").await;
    assert_err(
        store.create_group(&group_fixture(&a, "SALES")).await,
        Conflict("group.display_name"),
    );
    let mut same_id = group_fixture(&a, "Other");
    same_id.id = g.id;
    assert_err(store.create_group(&same_id).await, Conflict("group.id"));
    new_group(store, &b, "Sales").await;
}

pub async fn group_not_found_sentinels(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let missing = GroupId(seq_id());
    assert_err(store.get_group(t.id, missing).await, NotFound("group"));
    assert_err(store.delete_group(t.id, missing).await, NotFound("group"));
    assert_err(
        store
            .update_group(t.id, missing, Box::new(|_| Ok(())))
            .await,
        NotFound("group"),
    );
    let ghost = tenant_fixture("ghost");
    assert_err(
        store.create_group(&group_fixture(&ghost, "G")).await,
        NotFound("tenant"),
    );
}

pub async fn group_update_aborted_and_conflict(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    new_group(store, &t, "Taken").await;
    let g = new_group(store, &t, "Mine").await;
    let r = store
        .update_group(
            t.id,
            g.id,
            Box::new(|g| {
                g.display_name = "Changed".into();
                Err(StoreError::Aborted("no".into()))
            }),
        )
        .await;
    assert_err(r, Aborted("no".into()));
    let r = store
        .update_group(
            t.id,
            g.id,
            Box::new(|g| {
                g.display_name = "taken".into();
                Ok(())
            }),
        )
        .await;
    assert_err(r, Conflict("group.display_name"));
    assert_eq!(store.get_group(t.id, g.id).await.unwrap(), g);
}

pub async fn group_members(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let g1 = new_group(store, &t, "G1").await;
    let g2 = new_group(store, &t, "G2").await;
    let u1 = new_user(store, &t, "u1@x.test").await;
    let u2 = new_user(store, &t, "u2@x.test").await;
    store.add_member(t.id, g1.id, u1.id).await.unwrap();
    store.add_member(t.id, g1.id, u2.id).await.unwrap();
    store.add_member(t.id, g2.id, u1.id).await.unwrap();
    let members = store
        .list_members(t.id, g1.id, &page(10, None))
        .await
        .unwrap();
    assert_eq!(members.items, vec![u1.id, u2.id]);
    assert_eq!(members.next, None);
    assert_eq!(
        store.list_user_groups(t.id, u1.id).await.unwrap(),
        vec![g1.id, g2.id]
    );
    store.remove_member(t.id, g1.id, u1.id).await.unwrap();
    assert_eq!(
        store.list_user_groups(t.id, u1.id).await.unwrap(),
        vec![g2.id]
    );
    let members = store
        .list_members(t.id, g1.id, &page(10, None))
        .await
        .unwrap();
    assert_eq!(members.items, vec![u2.id]);
}

pub async fn group_member_sentinels(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let g = new_group(store, &t, "G").await;
    let u = new_user(store, &t, "u@x.test").await;
    store.add_member(t.id, g.id, u.id).await.unwrap();
    assert_err(
        store.add_member(t.id, g.id, u.id).await,
        Conflict("group.member"),
    );
    assert_err(
        store.add_member(t.id, GroupId(seq_id()), u.id).await,
        NotFound("group"),
    );
    assert_err(
        store.add_member(t.id, g.id, UserId(seq_id())).await,
        NotFound("user"),
    );
    let stranger = new_user(store, &t, "s@x.test").await;
    assert_err(
        store.remove_member(t.id, g.id, stranger.id).await,
        NotFound("group.member"),
    );
    assert_err(
        store
            .list_members(t.id, GroupId(seq_id()), &page(10, None))
            .await,
        NotFound("group"),
    );
}

pub async fn group_members_pagination(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let g = new_group(store, &t, "Big").await;
    let mut ids = Vec::new();
    for i in 0..9 {
        let u = new_user(store, &t, &format!("u{i}@x.test")).await;
        store.add_member(t.id, g.id, u.id).await.unwrap();
        ids.push(u.id);
    }
    let listed = collect_pages(
        2,
        |p| async move { store.list_members(t.id, g.id, &p).await },
    )
    .await;
    assert_eq!(listed, ids);
}

pub async fn group_delete_removes_memberships_and_assignments(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let g = new_group(store, &t, "G").await;
    let u = new_user(store, &t, "u@x.test").await;
    let app = new_app(store, &t, "App").await;
    store.add_member(t.id, g.id, u.id).await.unwrap();
    store
        .assign(&assignment(&t, &app, Principal::Group(g.id)))
        .await
        .unwrap();
    store.delete_group(t.id, g.id).await.unwrap();
    assert!(store.list_user_groups(t.id, u.id).await.unwrap().is_empty());
    assert!(
        store
            .list_assignments(t.id, app.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.get_user(t.id, u.id).await.unwrap(), u);
    // The name is free again.
    new_group(store, &t, "G").await;
}

pub async fn app_crud(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let a = new_app(store, &t, "Payroll").await;
    assert_eq!(store.get_app(t.id, a.id).await.unwrap(), a);
    let updated = store
        .update_app(
            t.id,
            a.id,
            Box::new(|a| {
                a.enabled = false;
                a.name = "Payroll (old)".into();
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert!(!updated.enabled);
    assert_eq!(updated.version, a.version + 1);
    assert_eq!(store.get_app(t.id, a.id).await.unwrap(), updated);
    let r = store
        .update_app(
            t.id,
            a.id,
            Box::new(|a| {
                a.enabled = true;
                Err(StoreError::Aborted("no".into()))
            }),
        )
        .await;
    assert_err(r, Aborted("no".into()));
    assert_eq!(store.get_app(t.id, a.id).await.unwrap(), updated);
    assert_err(store.create_app(&a).await, Conflict("app.id"));
    store.delete_app(t.id, a.id).await.unwrap();
    assert_err(store.get_app(t.id, a.id).await, NotFound("app"));
}

pub async fn app_not_found_sentinels(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let missing = AppId(seq_id());
    assert_err(store.get_app(t.id, missing).await, NotFound("app"));
    assert_err(store.delete_app(t.id, missing).await, NotFound("app"));
    assert_err(
        store.update_app(t.id, missing, Box::new(|_| Ok(()))).await,
        NotFound("app"),
    );
    assert_err(store.list_assignments(t.id, missing).await, NotFound("app"));
    let ghost = tenant_fixture("ghost");
    assert_err(
        store.create_app(&app_fixture(&ghost, "X")).await,
        NotFound("tenant"),
    );
}

pub async fn app_list_pagination(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(new_app(store, &a, &format!("App {i}")).await.id);
        new_app(store, &b, &format!("App {i}")).await;
    }
    let listed = collect_pages(3, |p| async move { store.list_apps(a.id, &p).await }).await;
    assert_eq!(listed.iter().map(|a| a.id).collect::<Vec<_>>(), ids);
    let groups: Vec<GroupId> = {
        let mut v = Vec::new();
        for i in 0..5 {
            v.push(new_group(store, &a, &format!("G{i}")).await.id);
        }
        v
    };
    let listed = collect_pages(2, |p| async move { store.list_groups(a.id, &p).await }).await;
    assert_eq!(listed.iter().map(|g| g.id).collect::<Vec<_>>(), groups);
}

pub async fn assignments_to_users_and_groups(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let app1 = new_app(store, &t, "One").await;
    let app2 = new_app(store, &t, "Two").await;
    let u = new_user(store, &t, "u@x.test").await;
    let g = new_group(store, &t, "G").await;
    let mut to_user = assignment(&t, &app1, Principal::User(u.id));
    to_user.app_role = Some("Admin".into());
    let to_group = assignment(&t, &app1, Principal::Group(g.id));
    let other_app = assignment(&t, &app2, Principal::User(u.id));
    for a in [&to_user, &to_group, &other_app] {
        store.assign(a).await.unwrap();
    }
    let listed = store.list_assignments(t.id, app1.id).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&to_user) && listed.contains(&to_group));
    let mine = store
        .list_principal_assignments(t.id, Principal::User(u.id))
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
    assert!(mine.contains(&to_user) && mine.contains(&other_app));
    let groups = store
        .list_principal_assignments(t.id, Principal::Group(g.id))
        .await
        .unwrap();
    assert_eq!(groups, vec![to_group.clone()]);
    store
        .unassign(t.id, app1.id, Principal::User(u.id))
        .await
        .unwrap();
    assert_eq!(
        store.list_assignments(t.id, app1.id).await.unwrap(),
        vec![to_group]
    );
    store.delete_app(t.id, app1.id).await.unwrap();
    let left = store
        .list_principal_assignments(t.id, Principal::Group(g.id))
        .await
        .unwrap();
    assert!(left.is_empty(), "deleting an app removes its assignments");
}

pub async fn user_app_roles_direct_and_through_groups(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let other = new_tenant(store, "B").await;
    let app = new_app(store, &t, "App").await;
    let app2 = new_app(store, &t, "Two").await;
    let u = new_user(store, &t, "u@x.test").await;
    let v = new_user(store, &t, "v@x.test").await;
    let g1 = new_group(store, &t, "G1").await;
    let g2 = new_group(store, &t, "G2").await;
    let roles = |user: UserId| async move {
        let mut r = store.user_app_roles(t.id, app.id, user).await.unwrap();
        r.sort();
        r
    };
    assert!(roles(u.id).await.is_empty(), "nothing assigned yet");
    store.add_member(t.id, g1.id, u.id).await.unwrap();
    store.add_member(t.id, g2.id, u.id).await.unwrap();
    // Assignments of another app or another user give nothing.
    store
        .assign(&assignment(&t, &app2, Principal::User(u.id)))
        .await
        .unwrap();
    store
        .assign(&assignment(&t, &app, Principal::User(v.id)))
        .await
        .unwrap();
    assert!(roles(u.id).await.is_empty());
    let mut direct = assignment(&t, &app, Principal::User(u.id));
    direct.app_role = Some("Admin".into());
    store.assign(&direct).await.unwrap();
    store
        .assign(&assignment(&t, &app, Principal::Group(g1.id)))
        .await
        .unwrap();
    let mut through_g2 = assignment(&t, &app, Principal::Group(g2.id));
    through_g2.app_role = Some("Reader".into());
    store.assign(&through_g2).await.unwrap();
    assert_eq!(
        roles(u.id).await,
        vec![None, Some("Admin".into()), Some("Reader".into())]
    );
    assert_eq!(roles(v.id).await, vec![None]);
    // Leaving a group takes its assignment away; another tenant sees nothing.
    store.remove_member(t.id, g2.id, u.id).await.unwrap();
    assert_eq!(roles(u.id).await, vec![None, Some("Admin".into())]);
    assert!(
        store
            .user_app_roles(other.id, app.id, u.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .user_app_roles(t.id, AppId(seq_id()), u.id)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn assignment_sentinels(store: &dyn Store) {
    let t = new_tenant(store, "A").await;
    let app = new_app(store, &t, "App").await;
    let u = new_user(store, &t, "u@x.test").await;
    let a = assignment(&t, &app, Principal::User(u.id));
    store.assign(&a).await.unwrap();
    let mut other_role = a.clone();
    other_role.app_role = Some("Reader".into());
    assert_err(store.assign(&other_role).await, Conflict("assignment"));
    let ghost_app = Assignment {
        app_id: AppId(seq_id()),
        ..a.clone()
    };
    assert_err(store.assign(&ghost_app).await, NotFound("app"));
    let ghost_user = Assignment {
        principal: Principal::User(UserId(seq_id())),
        ..a.clone()
    };
    assert_err(store.assign(&ghost_user).await, NotFound("user"));
    let ghost_group = Assignment {
        principal: Principal::Group(GroupId(seq_id())),
        ..a.clone()
    };
    assert_err(store.assign(&ghost_group).await, NotFound("group"));
    let g = new_group(store, &t, "G").await;
    assert_err(
        store.unassign(t.id, app.id, Principal::Group(g.id)).await,
        NotFound("assignment"),
    );
}

pub async fn isolation_groups_and_apps(store: &dyn Store) {
    let a = new_tenant(store, "A").await;
    let b = new_tenant(store, "B").await;
    let g = new_group(store, &a, "G").await;
    let u = new_user(store, &a, "u@x.test").await;
    let app = new_app(store, &a, "App").await;
    store.add_member(a.id, g.id, u.id).await.unwrap();
    store
        .assign(&assignment(&a, &app, Principal::User(u.id)))
        .await
        .unwrap();
    assert_not_found(store.get_group(b.id, g.id).await);
    assert_not_found(store.update_group(b.id, g.id, Box::new(|_| Ok(()))).await);
    assert_not_found(store.delete_group(b.id, g.id).await);
    assert!(
        store
            .list_groups(b.id, &page(10, None))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_not_found(store.list_members(b.id, g.id, &page(10, None)).await);
    assert!(store.list_user_groups(b.id, u.id).await.unwrap().is_empty());
    assert_not_found(store.add_member(b.id, g.id, u.id).await);
    assert_not_found(store.remove_member(b.id, g.id, u.id).await);
    assert_not_found(store.get_app(b.id, app.id).await);
    assert_not_found(store.update_app(b.id, app.id, Box::new(|_| Ok(()))).await);
    assert_not_found(store.delete_app(b.id, app.id).await);
    assert!(
        store
            .list_apps(b.id, &page(10, None))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_not_found(store.list_assignments(b.id, app.id).await);
    assert!(
        store
            .list_principal_assignments(b.id, Principal::User(u.id))
            .await
            .unwrap()
            .is_empty()
    );
    assert_not_found(store.unassign(b.id, app.id, Principal::User(u.id)).await);
    // Cross-tenant wiring is refused: B's group cannot take A's user, nor B's app A's user.
    let bg = new_group(store, &b, "BG").await;
    assert_err(store.add_member(b.id, bg.id, u.id).await, NotFound("user"));
    let bapp = new_app(store, &b, "BApp").await;
    assert_err(
        store
            .assign(&assignment(&b, &bapp, Principal::User(u.id)))
            .await,
        NotFound("user"),
    );
    assert_err(
        store
            .assign(&assignment(&b, &app, Principal::Group(bg.id)))
            .await,
        NotFound("app"),
    );
    // A's records are untouched.
    assert_eq!(store.get_group(a.id, g.id).await.unwrap(), g);
    assert_eq!(
        store.list_user_groups(a.id, u.id).await.unwrap(),
        vec![g.id]
    );
    assert_eq!(store.list_assignments(a.id, app.id).await.unwrap().len(), 1);
}
