//! Outbound provisioning (issue 6): each app's job (settings and engine state), what was sent
//! for each object, the provisioning log, and the directory change log that drives
//! incremental cycles. The change log is written by the backend itself in the transaction of
//! every user, group, membership and assignment change, so no write path can forget it.

use async_trait::async_trait;
use sesame_model::{
    AppId, DirectoryChange, Page, PageRequest, ProvisionedKind, ProvisionedObject, ProvisioningJob,
    ProvisioningLogEntry, ProvisioningLogQuery, TenantId,
};
use uuid::Uuid;

use crate::{StoreResult, Update};

#[async_trait]
pub trait ProvisioningStore {
    /// NotFound `app`; Conflict `provisioning` when the app already has a job.
    async fn create_provisioning_job(&self, job: &ProvisioningJob) -> StoreResult<()>;
    /// NotFound `provisioning`.
    async fn get_provisioning_job(
        &self,
        tenant: TenantId,
        app: AppId,
    ) -> StoreResult<ProvisioningJob>;
    /// Every job of every tenant (the scheduler's view).
    async fn list_provisioning_jobs(&self) -> StoreResult<Vec<ProvisioningJob>>;
    /// Read-modify-write in one transaction. NotFound `provisioning`.
    async fn update_provisioning_job(
        &self,
        tenant: TenantId,
        app: AppId,
        update: Update<'_, ProvisioningJob>,
    ) -> StoreResult<ProvisioningJob>;
    /// Removes the job with its provisioned objects and log. NotFound `provisioning`.
    async fn delete_provisioning_job(&self, tenant: TenantId, app: AppId) -> StoreResult<()>;

    /// `None` when the object was never provisioned to the app.
    async fn get_provisioned(
        &self,
        tenant: TenantId,
        app: AppId,
        kind: ProvisionedKind,
        source: Uuid,
    ) -> StoreResult<Option<ProvisionedObject>>;
    /// Creates or replaces. NotFound `provisioning` when the app has no job.
    async fn put_provisioned(&self, object: &ProvisionedObject) -> StoreResult<()>;
    /// Forgets the object (deleted at the target); no error when absent.
    async fn delete_provisioned(
        &self,
        tenant: TenantId,
        app: AppId,
        kind: ProvisionedKind,
        source: Uuid,
    ) -> StoreResult<()>;
    /// Source ids of the app's provisioned objects of `kind`, in id order; the cursor is the
    /// last source id of the previous page.
    async fn list_provisioned(
        &self,
        tenant: TenantId,
        app: AppId,
        kind: ProvisionedKind,
        page: &PageRequest,
    ) -> StoreResult<Page<ProvisionedObject>>;

    /// NotFound `provisioning` when the app has no job.
    async fn append_provisioning_log(&self, entry: &ProvisioningLogEntry) -> StoreResult<()>;
    /// Newest first; the cursor is the id of the last entry of the previous page.
    async fn list_provisioning_log(
        &self,
        tenant: TenantId,
        app: AppId,
        query: &ProvisioningLogQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<ProvisioningLogEntry>>;

    /// The sequence number of the tenant's latest directory change (0 when none).
    async fn latest_change_seq(&self, tenant: TenantId) -> StoreResult<i64>;
    /// The tenant's changes with `after < seq <= up_to`, in sequence order, at most `limit`.
    async fn list_changes(
        &self,
        tenant: TenantId,
        after: i64,
        up_to: i64,
        limit: u32,
    ) -> StoreResult<Vec<DirectoryChange>>;
    /// Forgets changes every job of the tenant has consumed (all changes when the tenant has
    /// no job, older than `keep_after_seq` otherwise); returns how many.
    async fn purge_changes(&self, tenant: TenantId, keep_after_seq: i64) -> StoreResult<u64>;
}
