//! SQLite and PostgreSQL implementations of Sésame's `Store`: the only place SQL lives.
//!
//! [`open`] picks the backend from the URL scheme and runs that backend's migrations
//! (`migrations/sqlite`, `migrations/postgres`). Both backends share one SQL dialect and one
//! implementation of the role traits ([`impls`]); they differ in how they open connections and
//! begin write transactions. See `sqlite.rs` for SQLite's single-writer design.

mod error;
mod group_commit;
mod impls;
mod inline_reads;
mod inline_writes;
mod postgres;
mod rows;
mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use sesame_store::{Store, StoreError};
use std::sync::Arc;

/// Connects to `url` (`sqlite:…`, `postgres://…` or `postgresql://…`) and migrates the schema.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PostgresStore::open(url).await?))
    } else {
        Err(StoreError::Backend(
            "unsupported database URL: expected sqlite:, postgres: or postgresql:".to_owned(),
        ))
    }
}

/// Ties a store type to its sqlx database, for the shared trait implementations.
pub(crate) trait Backend {
    type Db: sqlx::Database;
}
