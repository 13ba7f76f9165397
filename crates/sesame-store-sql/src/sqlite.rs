//! The SQLite backend: one database file, WAL, foreign keys on.
//!
//! Writes go through a pool of exactly one connection, so they queue in the application instead
//! of failing with SQLITE_BUSY; transactions that run update closures start with
//! `BEGIN IMMEDIATE` so the write lock is held from the first read (no lost writes even if
//! another process opens the file). Reads use a separate pool and, thanks to WAL, never wait for
//! the writer. `synchronous=NORMAL` in WAL mode survives a process crash (the durability test
//! kills the server) and costs no fsync per commit. An in-memory database exists per
//! connection, so `sqlite::memory:` uses the single writer connection for reads too.
//!
//! On a file, the writes and reads of every sign-in skip sqlx (`inline_writes.rs`,
//! `inline_reads.rs`): the writes through a second writer connection that never waits for the
//! lock, so writes still never fail with SQLITE_BUSY.

use crate::error::{backend, db};
use crate::group_commit::Write;
use sesame_store::{Store, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// Readers allowed at once on a file database.
const READERS: u32 = 4;

/// WAL pages (4 KiB) written before the writer copies them back into the database. Sign-ins
/// rewrite the same few pages (the right edges of the log's B-trees) commit after commit, and
/// a checkpoint copies each page once however many frames it has: the longer the WAL, the
/// fewer copies. 10,000 pages keep the WAL under ~40 MiB.
pub(crate) const WAL_AUTOCHECKPOINT: u32 = 10_000;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// The replay cache, sign-in log and SSO participants (`group_commit.rs`).
    group_commit: crate::group_commit::GroupCommit,
    /// The reads of every sign-in on the calling thread (`inline_reads.rs`); none in memory.
    inline: Option<std::sync::Arc<crate::inline_reads::InlineReads>>,
}

impl crate::Backend for SqliteStore {
    type Db = Sqlite;
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` and applies pending migrations.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = SqliteConnectOptions::from_str(url)
            .map_err(backend)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let file = options.get_filename().to_path_buf();
        // A connection to a local file does not go stale: no ping (a round trip to the
        // connection's thread) before each use.
        let mut writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false);
        if memory {
            // The database dies with its connection: never let the pool close it.
            writer = writer.idle_timeout(None).max_lifetime(None);
        }
        // Room for the group commit's scripts (one per batch shape) beside the other writes.
        // Checkpoints every WAL_AUTOCHECKPOINT pages (SQLite's default is 1,000).
        let writer = writer
            .connect_with(
                options
                    .clone()
                    .statement_cache_capacity(1024)
                    .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT.to_string()),
            )
            .await
            .map_err(backend)?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| backend(e.into()))?;
        let reader = if memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(READERS)
                .test_before_acquire(false)
                .connect_with(options.create_if_missing(false))
                .await
                .map_err(backend)?
        };
        let group_commit = crate::group_commit::GroupCommit::start(
            writer.clone(),
            (!memory).then_some(file.as_path()),
        );
        let inline =
            (!memory).then(|| std::sync::Arc::new(crate::inline_reads::InlineReads::new(&file)));
        Ok(SqliteStore {
            writer,
            reader,
            group_commit,
            inline,
        })
    }

    fn inline_session_with_user(
        &self,
        tenant: sesame_model::TenantId,
        id_digest: &str,
    ) -> Option<Option<crate::rows::SessionUserRow>> {
        self.inline
            .as_ref()?
            .session_with_user(&tenant.to_string(), id_digest)
    }

    fn inline_session_participant(
        &self,
        tenant: sesame_model::TenantId,
        id_digest: &str,
        app: sesame_model::AppId,
    ) -> Option<Option<crate::rows::ParticipantRow>> {
        self.inline
            .as_ref()?
            .session_participant(&tenant.to_string(), id_digest, &app.to_string())
    }

    fn inline_user_app_roles(
        &self,
        tenant: sesame_model::TenantId,
        app: sesame_model::AppId,
        user: sesame_model::UserId,
    ) -> Option<Vec<Option<String>>> {
        self.inline.as_ref()?.user_app_roles(
            &tenant.to_string(),
            &app.to_string(),
            &user.to_string(),
        )
    }

    fn r(&self) -> &SqlitePool {
        &self.reader
    }

    fn w(&self) -> &SqlitePool {
        &self.writer
    }

    pub(crate) async fn tx(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(db)
    }

    async fn insert_replay(
        &self,
        tenant: String,
        issuer: &str,
        assertion_id: &str,
        keep_until_ns: i64,
    ) -> StoreResult<()> {
        self.group_commit
            .write(Write::Replay {
                tenant,
                issuer: issuer.to_owned(),
                assertion_id: assertion_id.to_owned(),
                keep_until_ns,
            })
            .await
    }

    async fn upsert_participant(
        &self,
        tenant: sesame_model::TenantId,
        id_digest: &str,
        p: &sesame_model::SessionParticipant,
    ) -> StoreResult<()> {
        let write = Write::participant(tenant.to_string(), id_digest, p)?;
        self.group_commit.write(write).await
    }

    async fn insert_sign_in(&self, e: &sesame_model::SignInEvent) -> StoreResult<()> {
        self.group_commit.write(Write::sign_in(e)?).await
    }

    /// The single writer already serializes domain-name claims.
    async fn lock_names(&self, _tx: &mut Transaction<'static, Sqlite>) -> StoreResult<()> {
        Ok(())
    }
}

crate::impls::store_impls!(SqliteStore, for_update = "");

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map(|_| ())
            .map_err(backend)
    }

    fn backend_name(&self) -> &'static str {
        "sqlite"
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use sesame_model::{Tenant, TenantId};
    use sesame_store::{StoreError, TenantStore};

    fn temp_url() -> (std::path::PathBuf, String) {
        let path = std::env::temp_dir().join(format!("sesame-unit-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite:{}", path.display());
        (path, url)
    }

    #[tokio::test]
    async fn reopening_a_file_keeps_its_data_and_migrations_are_idempotent() {
        let (path, url) = temp_url();
        let tenant = Tenant {
            id: TenantId(uuid::Uuid::now_v7()),
            name: "Contoso".into(),
            initial_domain: "contoso.sesame.test".into(),
            created_at: time::OffsetDateTime::now_utc(),
        };
        {
            let store = SqliteStore::open(&url).await.unwrap();
            store.create_tenant(&tenant).await.unwrap();
            store.writer.close().await;
            store.reader.close().await;
        }
        let store = SqliteStore::open(&url).await.unwrap();
        assert_eq!(store.get_tenant(tenant.id).await.unwrap(), tenant);
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(store.r())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(store.r())
            .await
            .unwrap();
        assert_eq!(fk, 1);
        drop(store);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    #[tokio::test]
    async fn unique_violations_become_conflicts() {
        let store = SqliteStore::open("sqlite::memory:").await.unwrap();
        let tenant = Tenant {
            id: TenantId(uuid::Uuid::now_v7()),
            name: "A".into(),
            initial_domain: "a.sesame.test".into(),
            created_at: time::OffsetDateTime::now_utc(),
        };
        store.create_tenant(&tenant).await.unwrap();
        let same_id = Tenant {
            initial_domain: "b.sesame.test".into(),
            ..tenant.clone()
        };
        let again = store.create_tenant(&same_id).await;
        assert!(
            matches!(again, Err(StoreError::Conflict("tenant.id"))),
            "{again:?}"
        );
        let other = Tenant {
            id: TenantId(uuid::Uuid::now_v7()),
            ..tenant
        };
        let dup = store.create_tenant(&other).await;
        assert!(
            matches!(dup, Err(StoreError::Conflict("tenant.initial_domain"))),
            "{dup:?}"
        );
    }

    /// On a file database the sign-in reads run inline (not silently on the pool every time);
    /// when the inline path cannot read, the store still answers through the pool.
    #[tokio::test]
    async fn sign_in_reads_run_inline_and_fall_back_to_the_pool() {
        use sesame_store::conformance::{new_tenant, new_user};
        use sesame_store::{AppStore, SessionStore};
        let (path, url) = temp_url();
        let store = SqliteStore::open(&url).await.unwrap();
        let t = new_tenant(&store, "A").await;
        let u = new_user(&store, &t, "alice@a.example").await;
        let now = time::OffsetDateTime::now_utc();
        let session = sesame_model::Session {
            id_digest: "ab".repeat(32),
            tenant_id: t.id,
            user_id: u.id,
            authenticated_at: now,
            expires_at: now + time::Duration::hours(1),
        };
        store.create_session(&session).await.unwrap();
        let inline = store.inline.clone().unwrap();
        let tenant = t.id.to_string();
        let (read, user) = inline
            .session_with_user(&tenant, &session.id_digest)
            .unwrap()
            .unwrap()
            .into_model()
            .unwrap();
        assert_eq!(
            (read.id_digest.as_str(), user.id),
            (session.id_digest.as_str(), u.id)
        );
        assert!(matches!(
            inline.session_with_user(&tenant, "cd"),
            Some(None)
        ));
        let app = sesame_model::AppId(uuid::Uuid::now_v7());
        assert_eq!(
            inline.user_app_roles(&tenant, &app.to_string(), &u.id.to_string()),
            Some(Vec::new())
        );

        let unreadable = crate::inline_reads::InlineReads::new(std::path::Path::new(
            "/nonexistent/sesame/inline.db",
        ));
        assert!(
            unreadable
                .session_with_user(&tenant, &session.id_digest)
                .is_none()
        );
        let store = SqliteStore {
            inline: Some(std::sync::Arc::new(unreadable)),
            ..store
        };
        let (read, user) = store
            .get_session_with_user(t.id, &session.id_digest)
            .await
            .unwrap();
        assert_eq!((read.id_digest, user.id), (session.id_digest, u.id));
        assert!(
            store
                .user_app_roles(t.id, app, u.id)
                .await
                .unwrap()
                .is_empty()
        );
        drop(store);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    #[tokio::test]
    async fn unknown_scheme_is_refused() {
        assert!(matches!(
            crate::open("mysql://x").await,
            Err(StoreError::Backend(_))
        ));
    }
}
