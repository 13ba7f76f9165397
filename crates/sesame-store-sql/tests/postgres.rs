//! The conformance suite on PostgreSQL, when `SESAME_TEST_POSTGRES_URL` points at a server
//! (`.ci/pg-throwaway.sh` starts one). Each case runs in a fresh schema of that database, via
//! the connection's `search_path`; without the variable every case passes as skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sesame_store::Store;
use sesame_store_sql::PostgresStore;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::sync::Arc;

const VAR: &str = "SESAME_TEST_POSTGRES_URL";

async fn fresh_postgres() -> Option<Arc<dyn Store>> {
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
