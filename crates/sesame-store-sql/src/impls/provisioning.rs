//! Outbound provisioning (issue 6): jobs and log entries as JSON beside the columns queries
//! filter on, provisioned objects as rows, and reads of the trigger-written change log.

use sesame_model::{DirectoryChange, ProvisionedKind, ProvisionedObject};
use sesame_store::{StoreError, StoreResult};
use sqlx::error::ErrorKind;
use time::OffsetDateTime;

pub(crate) fn to_json<T: serde::Serialize>(value: &T, what: &str) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|_| StoreError::Backend(format!("cannot encode {what}")))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(data: &str, what: &str) -> StoreResult<T> {
    serde_json::from_str(data).map_err(|_| crate::error::corrupt(what))
}

/// A unique violation is Conflict `what`; a missing parent is NotFound `parent`.
pub(crate) fn insert_error(
    what: &'static str,
    parent: &'static str,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |err| {
        if let Some(dbe) = err.as_database_error() {
            match dbe.kind() {
                ErrorKind::UniqueViolation => return StoreError::Conflict(what),
                ErrorKind::ForeignKeyViolation => return StoreError::NotFound(parent),
                _ => {}
            }
        }
        crate::error::db(err)
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ProvisionedRow {
    app_id: String,
    tenant_id: String,
    kind: String,
    source_id: String,
    target_id: String,
    sent: String,
    active: bool,
    updated_ns: i64,
}

impl ProvisionedRow {
    pub(crate) fn into_model(self) -> StoreResult<ProvisionedObject> {
        let bad = || crate::error::corrupt("provisioned object");
        Ok(ProvisionedObject {
            tenant_id: self.tenant_id.parse().map_err(|_| bad())?,
            app_id: self.app_id.parse().map_err(|_| bad())?,
            kind: ProvisionedKind::parse(&self.kind).ok_or_else(bad)?,
            source_id: self.source_id.parse().map_err(|_| bad())?,
            target_id: self.target_id,
            sent: from_json(&self.sent, "provisioned object")?,
            active: self.active,
            updated_at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.updated_ns))
                .map_err(|_| bad())?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ChangeRow {
    seq: i64,
    kind: String,
    object_id: String,
}

impl ChangeRow {
    pub(crate) fn into_model(self) -> StoreResult<DirectoryChange> {
        let bad = || crate::error::corrupt("directory change");
        Ok(DirectoryChange {
            seq: self.seq,
            kind: ProvisionedKind::parse(&self.kind).ok_or_else(bad)?,
            object_id: self.object_id.parse().map_err(|_| bad())?,
        })
    }
}

macro_rules! provisioning_impls {
    ($store:ty, for_update = $fu:literal) => {
        impl $store {
            /// NotFound `provisioning` unless the tenant's app has a job.
            async fn require_provisioning_job(
                &self,
                tenant: sesame_model::TenantId,
                app: sesame_model::AppId,
            ) -> sesame_store::StoreResult<()> {
                let job: Option<String> = sqlx::query_scalar(
                    "SELECT app_id FROM provisioning_jobs WHERE tenant_id = $1 AND app_id = $2",
                )
                .bind(tenant.to_string())
                .bind(app.to_string())
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?;
                job.map(|_| ())
                    .ok_or(sesame_store::StoreError::NotFound("provisioning"))
            }
        }

        #[async_trait::async_trait]
        impl sesame_store::ProvisioningStore for $store {
            async fn create_provisioning_job(
                &self,
                job: &sesame_model::ProvisioningJob,
            ) -> sesame_store::StoreResult<()> {
                use $crate::impls::provisioning::{insert_error, to_json};
                // The app must be the tenant's: its id alone would cross tenants.
                let app: Option<String> =
                    sqlx::query_scalar("SELECT id FROM apps WHERE tenant_id = $1 AND id = $2")
                        .bind(job.tenant_id.to_string())
                        .bind(job.app_id.to_string())
                        .fetch_optional(self.r())
                        .await
                        .map_err($crate::error::db)?;
                if app.is_none() {
                    return Err(sesame_store::StoreError::NotFound("app"));
                }
                sqlx::query(
                    "INSERT INTO provisioning_jobs (app_id, tenant_id, data) VALUES ($1, $2, $3)",
                )
                .bind(job.app_id.to_string())
                .bind(job.tenant_id.to_string())
                .bind(to_json(job, "provisioning job")?)
                .execute(self.w())
                .await
                .map_err(insert_error("provisioning", "app"))?;
                Ok(())
            }

            async fn get_provisioning_job(
                &self,
                tenant: sesame_model::TenantId,
                app: sesame_model::AppId,
            ) -> sesame_store::StoreResult<sesame_model::ProvisioningJob> {
                let data: Option<String> = sqlx::query_scalar(
                    "SELECT data FROM provisioning_jobs WHERE tenant_id = $1 AND app_id = $2",
                )
                .bind(tenant.to_string())
                .bind(app.to_string())
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?;
                let data = data.ok_or(sesame_store::StoreError::NotFound("provisioning"))?;
                $crate::impls::provisioning::from_json(&data, "provisioning job")
            }

            async fn list_provisioning_jobs(
                &self,
            ) -> sesame_store::StoreResult<Vec<sesame_model::ProvisioningJob>> {
                let rows: Vec<String> =
                    sqlx::query_scalar("SELECT data FROM provisioning_jobs ORDER BY app_id")
                        .fetch_all(self.r())
                        .await
                        .map_err($crate::error::db)?;
                rows.iter()
                    .map(|d| $crate::impls::provisioning::from_json(d, "provisioning job"))
                    .collect()
            }

            async fn update_provisioning_job(
                &self,
                tenant: sesame_model::TenantId,
                app: sesame_model::AppId,
                update: sesame_store::Update<'_, sesame_model::ProvisioningJob>,
            ) -> sesame_store::StoreResult<sesame_model::ProvisioningJob> {
                use $crate::error::db;
                use $crate::impls::provisioning::{from_json, to_json};
                let mut tx = self.tx().await?;
                let data: Option<String> = sqlx::query_scalar(concat!(
                    "SELECT data FROM provisioning_jobs WHERE tenant_id = $1 AND app_id = $2",
                    $fu
                ))
                .bind(tenant.to_string())
                .bind(app.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
                let data = data.ok_or(sesame_store::StoreError::NotFound("provisioning"))?;
                let mut job: sesame_model::ProvisioningJob = from_json(&data, "provisioning job")?;
                update(&mut job)?;
                job.tenant_id = tenant;
                job.app_id = app;
                sqlx::query("UPDATE provisioning_jobs SET data = $2 WHERE app_id = $1")
                    .bind(app.to_string())
                    .bind(to_json(&job, "provisioning job")?)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                tx.commit().await.map_err(db)?;
                Ok(job)
            }

            async fn delete_provisioning_job(
                &self,
                tenant: sesame_model::TenantId,
                app: sesame_model::AppId,
            ) -> sesame_store::StoreResult<()> {
                let done = sqlx::query(
                    "DELETE FROM provisioning_jobs WHERE tenant_id = $1 AND app_id = $2",
                )
                .bind(tenant.to_string())
                .bind(app.to_string())
                .execute(self.w())
                .await
                .map_err($crate::error::db)?;
                if done.rows_affected() == 0 {
                    return Err(sesame_store::StoreError::NotFound("provisioning"));
                }
                Ok(())
            }

            async fn get_provisioned(
                &self,
                tenant: sesame_model::TenantId,
                app: sesame_model::AppId,
                kind: sesame_model::ProvisionedKind,
                source: uuid::Uuid,
            ) -> sesame_store::StoreResult<Option<sesame_model::ProvisionedObject>> {
                sqlx::query_as::<_, $crate::impls::provisioning::ProvisionedRow>(
                    "SELECT * FROM provisioned_objects WHERE tenant_id = $1 AND app_id = $2 \
                     AND kind = $3 AND source_id = $4",
                )
                .bind(tenant.to_string())
                .bind(app.to_string())
                .bind(kind.as_str())
                .bind(source.to_string())
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?
                .map(|r| r.into_model())
                .transpose()
            }

            async fn put_provisioned(
                &self,
                o: &sesame_model::ProvisionedObject,
            ) -> sesame_store::StoreResult<()> {
                use $crate::impls::provisioning::{insert_error, to_json};
                self.require_provisioning_job(o.tenant_id, o.app_id).await?;
                sqlx::query(
                    "INSERT INTO provisioned_objects (app_id, tenant_id, kind, source_id, \
                     target_id, sent, active, updated_ns) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (app_id, kind, source_id) DO UPDATE SET \
                     target_id = excluded.target_id, sent = excluded.sent, \
                     active = excluded.active, updated_ns = excluded.updated_ns",
                )
                .bind(o.app_id.to_string())
                .bind(o.tenant_id.to_string())
                .bind(o.kind.as_str())
                .bind(o.source_id.to_string())
                .bind(&o.target_id)
                .bind(to_json(&o.sent, "provisioned object")?)
                .bind(o.active)
                .bind($crate::rows::ns(o.updated_at)?)
                .execute(self.w())
                .await
                .map_err(insert_error("provisioned_object", "provisioning"))?;
                Ok(())
            }

            async fn delete_provisioned(
                &self,
                tenant: sesame_model::TenantId,
                app: sesame_model::AppId,
                kind: sesame_model::ProvisionedKind,
                source: uuid::Uuid,
            ) -> sesame_store::StoreResult<()> {
                sqlx::query(
                    "DELETE FROM provisioned_objects WHERE tenant_id = $1 AND app_id = $2 \
                     AND kind = $3 AND source_id = $4",
                )
                .bind(tenant.to_string())
                .bind(app.to_string())
                .bind(kind.as_str())
                .bind(source.to_string())
                .execute(self.w())
                .await
                .map_err($crate::error::db)?;
                Ok(())
            }

            async fn list_provisioned(
                &self,
                tenant: sesame_model::TenantId,
                app: sesame_model::AppId,
                kind: sesame_model::ProvisionedKind,
                page: &sesame_model::PageRequest,
            ) -> sesame_store::StoreResult<sesame_model::Page<sesame_model::ProvisionedObject>>
            {
                let rows = sqlx::query_as::<_, $crate::impls::provisioning::ProvisionedRow>(
                    "SELECT * FROM provisioned_objects WHERE tenant_id = $1 AND app_id = $2 \
                     AND kind = $3 AND source_id > $4 ORDER BY source_id LIMIT $5",
                )
                .bind(tenant.to_string())
                .bind(app.to_string())
                .bind(kind.as_str())
                .bind(page.after.clone().unwrap_or_default())
                .bind(i64::from(page.limit))
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)?;
                let items = $crate::rows::all(
                    rows,
                    $crate::impls::provisioning::ProvisionedRow::into_model,
                )?;
                let next = if items.len() == page.limit as usize {
                    items.last().map(|o| o.source_id.to_string())
                } else {
                    None
                };
                Ok(sesame_model::Page { items, next })
            }

            async fn append_provisioning_log(
                &self,
                e: &sesame_model::ProvisioningLogEntry,
            ) -> sesame_store::StoreResult<()> {
                use $crate::impls::provisioning::{insert_error, to_json};
                self.require_provisioning_job(e.tenant_id, e.app_id).await?;
                sqlx::query(
                    "INSERT INTO provisioning_log (id, app_id, tenant_id, cycle_id, source_id, \
                     result, data) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(e.id.to_string())
                .bind(e.app_id.to_string())
                .bind(e.tenant_id.to_string())
                .bind(e.cycle_id.map(|c| c.to_string()))
                .bind(e.source_id.to_string())
                .bind(e.result.as_str())
                .bind(to_json(e, "provisioning log entry")?)
                .execute(self.w())
                .await
                .map_err(insert_error("provisioning_log", "provisioning"))?;
                Ok(())
            }

            async fn list_provisioning_log(
                &self,
                tenant: sesame_model::TenantId,
                app: sesame_model::AppId,
                q: &sesame_model::ProvisioningLogQuery,
                page: &sesame_model::PageRequest,
            ) -> sesame_store::StoreResult<sesame_model::Page<sesame_model::ProvisioningLogEntry>>
            {
                let rows: Vec<String> = sqlx::query_scalar(
                    "SELECT data FROM provisioning_log WHERE tenant_id = $1 AND app_id = $2 \
                     AND ($3 IS NULL OR cycle_id = $3) AND ($4 IS NULL OR result = $4) \
                     AND ($5 IS NULL OR source_id = $5) AND ($6 IS NULL OR id < $6) \
                     ORDER BY id DESC LIMIT $7",
                )
                .bind(tenant.to_string())
                .bind(app.to_string())
                .bind(q.cycle_id.map(|c| c.to_string()))
                .bind(q.result.map(|r| r.as_str()))
                .bind(q.source_id.map(|s| s.to_string()))
                .bind(page.after.clone())
                .bind(i64::from(page.limit))
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)?;
                let items: Vec<sesame_model::ProvisioningLogEntry> = rows
                    .iter()
                    .map(|d| $crate::impls::provisioning::from_json(d, "provisioning log entry"))
                    .collect::<sesame_store::StoreResult<_>>()?;
                let next = if items.len() == page.limit as usize {
                    items.last().map(|e| e.id.to_string())
                } else {
                    None
                };
                Ok(sesame_model::Page { items, next })
            }

            async fn latest_change_seq(
                &self,
                tenant: sesame_model::TenantId,
            ) -> sesame_store::StoreResult<i64> {
                let seq: Option<i64> = sqlx::query_scalar(
                    "SELECT MAX(seq) FROM directory_changes WHERE tenant_id = $1",
                )
                .bind(tenant.to_string())
                .fetch_one(self.r())
                .await
                .map_err($crate::error::db)?;
                Ok(seq.unwrap_or(0))
            }

            async fn list_changes(
                &self,
                tenant: sesame_model::TenantId,
                after: i64,
                up_to: i64,
                limit: u32,
            ) -> sesame_store::StoreResult<Vec<sesame_model::DirectoryChange>> {
                let rows = sqlx::query_as::<_, $crate::impls::provisioning::ChangeRow>(
                    "SELECT seq, kind, object_id FROM directory_changes WHERE tenant_id = $1 \
                     AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4",
                )
                .bind(tenant.to_string())
                .bind(after)
                .bind(up_to)
                .bind(i64::from(limit))
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)?;
                $crate::rows::all(rows, $crate::impls::provisioning::ChangeRow::into_model)
            }

            async fn purge_changes(
                &self,
                tenant: sesame_model::TenantId,
                keep_after_seq: i64,
            ) -> sesame_store::StoreResult<u64> {
                let done = sqlx::query(
                    "DELETE FROM directory_changes WHERE tenant_id = $1 AND seq <= $2",
                )
                .bind(tenant.to_string())
                .bind(keep_after_seq)
                .execute(self.w())
                .await
                .map_err($crate::error::db)?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(crate) use provisioning_impls;
