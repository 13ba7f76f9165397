//! The PostgreSQL backend.
//!
//! One pool; update closures run in a transaction that reads the row `FOR UPDATE`, so concurrent
//! updates of one record queue on its row lock. Claims on domain names span two tables (tenants'
//! initial domains and verified domains), which no single constraint covers, so those writes
//! also take a transaction-scoped advisory lock.

use crate::error::{backend, db};
use sesame_store::{Store, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// Arbitrary key of the advisory lock serializing domain-name claims ("sesame" in ASCII, sort of).
const DOMAIN_NAMES_LOCK: i64 = 0x5e5a_3e00_0001;

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl crate::Backend for PostgresStore {
    type Db = Postgres;
}

impl PostgresStore {
    /// Connects to `url` and applies pending migrations.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url).map_err(backend)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(backend)?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| backend(e.into()))?;
        Ok(PostgresStore { pool })
    }

    /// Wraps an existing pool (tests, embedding) and applies pending migrations to it.
    pub async fn from_pool(pool: PgPool) -> StoreResult<Self> {
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| backend(e.into()))?;
        Ok(PostgresStore { pool })
    }

    /// PostgreSQL has no inline path: every read goes through the pool.
    fn inline_session_with_user(
        &self,
        _tenant: sesame_model::TenantId,
        _id_digest: &str,
    ) -> Option<Option<crate::rows::SessionUserRow>> {
        None
    }

    fn inline_session_participant(
        &self,
        _tenant: sesame_model::TenantId,
        _id_digest: &str,
        _app: sesame_model::AppId,
    ) -> Option<Option<crate::rows::ParticipantRow>> {
        None
    }

    fn inline_user_app_roles(
        &self,
        _tenant: sesame_model::TenantId,
        _app: sesame_model::AppId,
        _user: sesame_model::UserId,
    ) -> Option<Vec<Option<String>>> {
        None
    }

    fn r(&self) -> &PgPool {
        &self.pool
    }

    fn w(&self) -> &PgPool {
        &self.pool
    }

    async fn tx(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(db)
    }

    /// One INSERT per call: PostgreSQL writes in parallel.
    async fn insert_replay(
        &self,
        tenant: String,
        issuer: &str,
        assertion_id: &str,
        keep_until_ns: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO saml_replay_cache (tenant_id, issuer, assertion_id, keep_until_ns) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant)
        .bind(issuer)
        .bind(assertion_id)
        .bind(keep_until_ns)
        .execute(&self.pool)
        .await
        .map_err(crate::impls::federation::insert_error("assertion"))?;
        Ok(())
    }

    /// One upsert per call. Both rows must be in the tenant: the session, and the app.
    async fn upsert_participant(
        &self,
        tenant: sesame_model::TenantId,
        id_digest: &str,
        p: &sesame_model::SessionParticipant,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "INSERT INTO session_participants (session_digest, tenant_id, app_id, name_id, \
             name_id_format, session_index, at_ns) SELECT $1, $2, $3, $4, $5, $6, $7 \
             WHERE EXISTS (SELECT 1 FROM sessions WHERE tenant_id = $2 AND id_digest = $1) \
             AND EXISTS (SELECT 1 FROM apps WHERE tenant_id = $2 AND id = $3) \
             ON CONFLICT (session_digest, app_id) DO UPDATE SET name_id = excluded.name_id, \
             name_id_format = excluded.name_id_format, session_index = excluded.session_index, \
             at_ns = excluded.at_ns",
        )
        .bind(id_digest)
        .bind(tenant.to_string())
        .bind(p.app_id.to_string())
        .bind(&p.name_id)
        .bind(&p.name_id_format)
        .bind(&p.session_index)
        .bind(crate::rows::ns(p.at)?)
        .execute(&self.pool)
        .await
        .map_err(crate::error::db_or_missing("session"))?;
        if done.rows_affected() == 0 {
            return Err(sesame_store::StoreError::NotFound("session"));
        }
        Ok(())
    }

    async fn insert_sign_in(&self, e: &sesame_model::SignInEvent) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sign_ins (id, tenant_id, at_ns, user_id, user_principal_name, \
             app_id, protocol, result, reason, ip, correlation_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(e.id.to_string())
        .bind(e.tenant_id.to_string())
        .bind(crate::rows::ns(e.at)?)
        .bind(e.user_id.map(|u| u.to_string()))
        .bind(&e.user_principal_name)
        .bind(e.app_id.map(|a| a.to_string()))
        .bind(&e.protocol)
        .bind(e.result.as_str())
        .bind(&e.reason)
        .bind(&e.ip)
        .bind(&e.correlation_id)
        .execute(&self.pool)
        .await
        .map_err(crate::error::db_or_missing("tenant"))?;
        Ok(())
    }

    async fn lock_names(&self, tx: &mut Transaction<'static, Postgres>) -> StoreResult<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(DOMAIN_NAMES_LOCK)
            .execute(&mut **tx)
            .await
            .map_err(db)?;
        Ok(())
    }
}

crate::impls::store_impls!(PostgresStore, for_update = " FOR UPDATE");

#[async_trait::async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(backend)
    }

    fn backend_name(&self) -> &'static str {
        "postgres"
    }
}
