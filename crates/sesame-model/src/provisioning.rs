//! Outbound provisioning (issue 6, SCIM-2): Sésame pushes an application's users and groups to
//! the application's own SCIM endpoint. A `ProvisioningJob` holds the settings an operator
//! chooses and the state the engine keeps between cycles; `ProvisionedObject` remembers what
//! was sent for each source object; `ProvisioningLogEntry` records each action.

use crate::{AppId, ClaimTransform, TenantId, UserField};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// Which users are pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub enum ProvisioningScope {
    /// Users assigned to the app, directly or through a group (Entra's default).
    #[default]
    AssignedOnly,
    /// Every user of the tenant.
    AllUsers,
}

/// What happens at the target to a user who leaves the scope (or is deleted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub enum DeprovisionAction {
    /// `active` set to false; the account stays at the target.
    #[default]
    Disable,
    /// The account is deleted at the target.
    Delete,
}

/// Known quirks of a target (INTEROP: AWS IAM Identity Center).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub enum TargetProfile {
    #[default]
    Generic,
    /// AWS IAM Identity Center: `eq` filters only, no `/Bulk`, at most 100 member changes per
    /// group PATCH, and users need givenName, familyName and displayName.
    Aws,
}

impl TargetProfile {
    /// Member values per group PATCH request.
    pub fn members_per_patch(self) -> usize {
        match self {
            TargetProfile::Generic => 500,
            TargetProfile::Aws => 100,
        }
    }
}

/// Where a target attribute's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", tag = "kind", content = "value")]
pub enum ProvisioningSource {
    User(UserField),
    /// `accountEnabled`, sent as a JSON boolean.
    AccountEnabled,
    Constant(String),
}

/// One target attribute and its source. `target` is a SCIM attribute path: `userName`,
/// `name.givenName`, `emails[type eq "work"].value`, or an extension attribute by its full
/// URN (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProvisioningMapping {
    pub target: String,
    pub source: ProvisioningSource,
    /// Applied in order to a text value (Entra's expression mappings), e.g. a UPN rewritten
    /// into the target's domain with ExtractMailPrefix then Join.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transforms: Vec<ClaimTransform>,
    /// When the source is empty the user is not sent, and the log says why.
    #[serde(default)]
    pub required: bool,
}

/// The operator's settings of an app's provisioning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProvisioningConfig {
    /// The target's SCIM base URL (Entra's "Tenant URL"), without a trailing slash.
    pub tenant_url: String,
    /// The bearer token, sealed with the master key; never serialized to clients.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<u8>)]
    pub sealed_token: Vec<u8>,
    pub scope: ProvisioningScope,
    pub profile: TargetProfile,
    pub mappings: Vec<ProvisioningMapping>,
    /// The target attribute matched against an existing account before creating one.
    pub matching_attribute: String,
    /// Whether assigned groups are pushed with their members.
    pub push_groups: bool,
    pub on_unassign: DeprovisionAction,
    /// Seconds between incremental cycles (Entra: 40 minutes).
    pub interval_secs: u64,
    /// Requests in flight at once.
    pub concurrency: u32,
    /// Requests per second at most (0: unlimited).
    pub rate_limit: u32,
    /// Scheduled cycles are not run while paused.
    pub paused: bool,
}

impl ProvisioningConfig {
    pub const DEFAULT_INTERVAL_SECS: u64 = 40 * 60;

    /// The mappings of seed 000's AWS app and of Entra's generic SCIM app.
    pub fn default_mappings(profile: TargetProfile) -> Vec<ProvisioningMapping> {
        let names_required = profile == TargetProfile::Aws;
        let m = |target: &str, source: ProvisioningSource, required: bool| ProvisioningMapping {
            target: target.to_owned(),
            source,
            transforms: Vec::new(),
            required,
        };
        vec![
            m(
                "userName",
                ProvisioningSource::User(UserField::UserPrincipalName),
                true,
            ),
            m("active", ProvisioningSource::AccountEnabled, false),
            m(
                "displayName",
                ProvisioningSource::User(UserField::DisplayName),
                names_required,
            ),
            m(
                "name.givenName",
                ProvisioningSource::User(UserField::GivenName),
                names_required,
            ),
            m(
                "name.familyName",
                ProvisioningSource::User(UserField::Surname),
                names_required,
            ),
            m(
                "emails[type eq \"work\"].value",
                ProvisioningSource::User(UserField::Mail),
                false,
            ),
            m(
                "externalId",
                ProvisioningSource::User(UserField::ObjectId),
                false,
            ),
        ]
    }
}

/// Why no cycle runs, or that one does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub enum ProvisioningStatus {
    /// Cycles run on schedule.
    #[default]
    Active,
    /// After repeated failed cycles; a `resume` or a manual run lifts it.
    Quarantined { reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum CycleKind {
    /// Every object in scope is compared with the target.
    Initial,
    /// Only the objects named in the change log since the last cycle.
    Incremental,
}

/// Counts of one cycle, by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CycleCounts {
    pub created: u64,
    pub updated: u64,
    pub disabled: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub failed: u64,
}

/// A cycle, running or finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProvisioningCycle {
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    pub kind: CycleKind,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<OffsetDateTime>,
    /// Objects to look at (known once the scope is read) and looked at so far.
    pub total: u64,
    pub processed: u64,
    pub counts: CycleCounts,
    /// The change-log position the cycle reads up to; the cursor once it completes.
    pub change_seq: i64,
    /// Set when the cycle stopped early (target unreachable, token refused…).
    #[serde(default)]
    pub error: Option<String>,
}

/// What the engine keeps between cycles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProvisioningState {
    pub status: ProvisioningStatus,
    /// Whether an initial cycle has completed since creation or the last reset.
    pub initial_done: bool,
    /// Change-log entries up to this sequence number have been provisioned.
    pub change_cursor: i64,
    /// The cycle in progress; left set when a node dies, so the next one resumes it.
    pub running: Option<ProvisioningCycle>,
    pub last_cycle: Option<ProvisioningCycle>,
    /// Failed cycles in a row (quarantine after three).
    pub consecutive_failures: u32,
    /// A manual run was asked for.
    pub run_requested: bool,
    /// The node holding the cycle, and until when (renewed while it works).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_owner: Option<String>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub lease_until: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_run_at: Option<OffsetDateTime>,
}

/// An app's provisioning: settings and engine state, stored together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProvisioningJob {
    pub tenant_id: TenantId,
    pub app_id: AppId,
    pub config: ProvisioningConfig,
    pub state: ProvisioningState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ProvisionedKind {
    User,
    Group,
}

impl ProvisionedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProvisionedKind::User => "user",
            ProvisionedKind::Group => "group",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(ProvisionedKind::User),
            "group" => Some(ProvisionedKind::Group),
            _ => None,
        }
    }
}

/// A source object known at the target: its id there and what was last sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionedObject {
    pub tenant_id: TenantId,
    pub app_id: AppId,
    pub kind: ProvisionedKind,
    #[schema(value_type = String, format = Uuid)]
    pub source_id: Uuid,
    /// The target's `id` of the resource.
    pub target_id: String,
    /// The resource as last sent (users: mapped attributes; groups: displayName and the
    /// target ids of its members), compared with the next desired state.
    #[schema(value_type = Object)]
    pub sent: serde_json::Value,
    /// False once disabled at the target.
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ProvisioningAction {
    Create,
    Update,
    Disable,
    Delete,
    /// Nothing to send (unchanged), or the object could not be sent (see reason).
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ProvisioningResult {
    Success,
    Failure,
    Skipped,
}

impl ProvisioningResult {
    pub fn as_str(self) -> &'static str {
        match self {
            ProvisioningResult::Success => "success",
            ProvisioningResult::Failure => "failure",
            ProvisioningResult::Skipped => "skipped",
        }
    }
}

/// One action of a cycle on one object, with the SCIM exchange and a reason people can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProvisioningLogEntry {
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub app_id: AppId,
    /// `None` for on-demand provisioning of one user.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub cycle_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub kind: ProvisionedKind,
    #[schema(value_type = String, format = Uuid)]
    pub source_id: Uuid,
    /// The UPN or group name, as it was then.
    pub display: String,
    pub action: ProvisioningAction,
    pub result: ProvisioningResult,
    /// The last SCIM request, e.g. `POST /Users`.
    pub request: Option<String>,
    pub status_code: Option<u16>,
    pub reason: Option<String>,
}

/// Filters of the provisioning log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProvisioningLogQuery {
    pub cycle_id: Option<Uuid>,
    pub result: Option<ProvisioningResult>,
    pub source_id: Option<Uuid>,
}

/// A change to the directory, as the store records it (the change log drives incremental
/// cycles). `seq` grows in commit order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryChange {
    pub seq: i64,
    pub kind: ProvisionedKind,
    pub object_id: Uuid,
}
