//! The conformance suite on SQLite: every case gets a fresh database file (WAL, two pools), the
//! configuration Sésame runs with; one extra case runs on `sqlite::memory:`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sesame_store::Store;
use std::path::PathBuf;
use std::sync::{Arc, Once};
use std::time::{Duration, SystemTime};

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join("sesame-conformance-sqlite");
    std::fs::create_dir_all(&dir).unwrap();
    // Files of earlier runs (open stores cannot be deleted portably while a case runs).
    static SWEEP: Once = Once::new();
    SWEEP.call_once(|| {
        let cutoff = SystemTime::now() - Duration::from_secs(3600);
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|m| m < cutoff);
            if old {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    });
    dir
}

async fn fresh_sqlite() -> Arc<dyn Store> {
    let path = scratch_dir().join(format!("{}.db", uuid::Uuid::new_v4()));
    sesame_store_sql::open(&format!("sqlite:{}", path.display()))
        .await
        .unwrap()
}

sesame_store::conformance_tests!(fresh_sqlite());

#[tokio::test]
async fn in_memory_database_works() {
    let store = sesame_store_sql::open("sqlite::memory:").await.unwrap();
    sesame_store::conformance::user_concurrent_updates_no_lost_writes(&*store).await;
    sesame_store::conformance::tenant_delete_cascades_everything(&*store).await;
    // The group commit's only path in memory: sqlx's writer (`group_commit.rs`).
    sesame_store::conformance::replay_cache_refuses_second_use(&*store).await;
    sesame_store::conformance::replay_cache_concurrent_writers(&*store).await;
    sesame_store::conformance::session_participants_recorded_and_cascaded(&*store).await;
    sesame_store::conformance::sign_in_isolation_and_missing_tenant(&*store).await;
    assert_eq!(store.backend_name(), "sqlite");
}

/// A thousand creates in a row on a file database all land (the speed is measured by
/// `cargo xtask bench`, not here).
#[tokio::test]
async fn bulk_create_users_on_a_file_database() {
    use sesame_store::conformance::{new_tenant, user_fixture};
    let store = fresh_sqlite().await;
    let t = new_tenant(&*store, "Bulk").await;
    let n: u32 = 1_000;
    for i in 0..n {
        store
            .create_user(&user_fixture(&t, &format!("u{i}@bulk.test")))
            .await
            .unwrap();
    }
    assert_eq!(store.count_users(t.id).await.unwrap(), u64::from(n));
}
