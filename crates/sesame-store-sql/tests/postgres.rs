//! The conformance suite on PostgreSQL, when `SESAME_TEST_POSTGRES_URL` points at a server
//! (`.ci/pg-throwaway.sh` starts one). Each case runs in a fresh schema of that database, via
//! the connection's `search_path`; without the variable every case passes as skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sesame_store::Store;
use sesame_store_sql::PostgresStore;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::sync::Arc;

const VAR: &str = "SESAME_TEST_POSTGRES_URL";

/// A pool on a fresh schema of the test server.
async fn fresh_schema() -> Option<PgPool> {
    let Ok(url) = std::env::var(VAR) else {
        eprintln!("skipped: {VAR} not set");
        return None;
    };
    let schema = format!("sesame_test_{}", uuid::Uuid::new_v4().simple());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let options = PgConnectOptions::from_str(&url)
        .unwrap()
        .options([("search_path", &schema)]);
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .unwrap();
    Some(pool)
}

async fn fresh_postgres() -> Option<Arc<dyn Store>> {
    let pool = fresh_schema().await?;
    Some(Arc::new(PostgresStore::from_pool(pool).await.unwrap()))
}

sesame_store::conformance_tests!(fresh_postgres());

#[tokio::test]
async fn open_by_url_and_reopen_keeps_data() {
    let Ok(url) = std::env::var(VAR) else {
        eprintln!("skipped: {VAR} not set");
        return;
    };
    // `open` migrates the default schema; twice in a row must be harmless.
    let first = sesame_store_sql::open(&url).await.unwrap();
    assert_eq!(first.backend_name(), "postgres");
    first.ping().await.unwrap();
    let t = sesame_store::conformance::new_tenant(&*first, "Reopened").await;
    let second = sesame_store_sql::open(&url).await.unwrap();
    assert_eq!(second.get_tenant(t.id).await.unwrap(), t);
    second.delete_tenant(t.id).await.unwrap();
}

/// Ending a user's sessions locks the session, then its participants. A transaction that holds
/// a participant and then wants the session closes a deadlock, which PostgreSQL breaks by
/// rolling one side back. When that is the removal, it runs again once the other is done,
/// instead of answering an error for an account already saved as disabled.
#[tokio::test]
async fn ending_a_users_sessions_survives_losing_a_deadlock() {
    use sesame_model::SessionParticipant;
    use sesame_store::conformance::{new_app, new_tenant, new_user, now, session_fixture};
    use sesame_store::{EndedSessions, SessionStore};
    let Some(pool) = fresh_schema().await else {
        return;
    };
    let store = Arc::new(PostgresStore::from_pool(pool.clone()).await.unwrap());
    let t = new_tenant(&*store, "A").await;
    let u = new_user(&*store, &t, "u@x.test").await;
    let app = new_app(&*store, &t, "App").await;
    let session = session_fixture(&u, now() + time::Duration::hours(1));
    store.create_session(&session).await.unwrap();
    let participant = SessionParticipant {
        app_id: app.id,
        name_id: "u@x.test".into(),
        name_id_format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into(),
        session_index: "_s1".into(),
        at: now(),
    };
    store
        .add_session_participant(t.id, &session.id_digest, &participant)
        .await
        .unwrap();

    // Each side looks for a deadlock once it has waited `deadlock_timeout` (1 s by default):
    // the removal, which waits 300 ms first, finds it first and is the side rolled back.
    let mut other = pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM session_participants WHERE session_digest = $1 FOR UPDATE")
        .bind(&session.id_digest)
        .execute(&mut *other)
        .await
        .unwrap();
    let removal = {
        let store = store.clone();
        tokio::spawn(async move { store.delete_user_sessions(t.id, u.id).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !removal.is_finished(),
        "the removal waits for the participant"
    );
    sqlx::query("SELECT 1 FROM sessions WHERE id_digest = $1 FOR UPDATE")
        .bind(&session.id_digest)
        .execute(&mut *other)
        .await
        .expect("the removal is the deadlock's victim");
    other.rollback().await.unwrap();
    assert_eq!(
        removal.await.unwrap().unwrap(),
        EndedSessions {
            sessions: 1,
            participants: vec![participant],
        }
    );
    assert!(store.get_session(t.id, &session.id_digest).await.is_err());
}
