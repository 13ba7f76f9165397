//! What callers send to create or change directory objects. The admin API deserializes these
//! directly (unknown fields are refused), and the CLI import builds them from CSV rows.

use serde::{Deserialize, Deserializer, Serialize};
use sesame_model::{Principal, UserSource, UserType};
use utoipa::ToSchema;

/// Absent → `None` (leave unchanged); `null` → `Some(None)` (clear); value → `Some(Some(v))`.
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTenant {
    pub name: String,
    /// Defaults to `<name-as-slug>.<installation base domain>`.
    pub initial_domain: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantPatch {
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewDomain {
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewUser {
    pub user_principal_name: String,
    pub immutable_id: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub mail: Option<String>,
    #[serde(default)]
    pub other_mails: Vec<String>,
    pub employee_id: Option<String>,
    /// `extensionAttribute1` … `extensionAttribute15`, index 0 for attribute 1.
    #[serde(default)]
    pub extension_attributes: Vec<Option<String>>,
    pub account_enabled: Option<bool>,
    pub user_type: Option<UserType>,
    pub source: Option<UserSource>,
    /// Sets a local password at creation (never returned).
    pub password: Option<String>,
}

/// A partial update: absent fields stay, `null` clears an optional field.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserPatch {
    pub user_principal_name: Option<String>,
    pub immutable_id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub given_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub surname: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub mail: Option<Option<String>>,
    pub other_mails: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub employee_id: Option<Option<String>>,
    pub extension_attributes: Option<Vec<Option<String>>>,
    pub account_enabled: Option<bool>,
    pub user_type: Option<UserType>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetPassword {
    pub password: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewGroup {
    pub display_name: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupPatch {
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewApp {
    pub name: String,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppPatch {
    pub name: Option<String>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAssignment {
    pub principal_type: PrincipalType,
    pub principal_id: uuid::Uuid,
    pub app_role: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum PrincipalType {
    User,
    Group,
}

impl NewAssignment {
    pub fn principal(&self) -> Principal {
        match self.principal_type {
            PrincipalType::User => Principal::User(self.principal_id.into()),
            PrincipalType::Group => Principal::Group(self.principal_id.into()),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewMember {
    pub user_id: sesame_model::UserId,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAdminTokenRequest {
    pub name: String,
    /// Limit the token to one tenant; omit for a global token (global tokens only).
    pub tenant_id: Option<sesame_model::TenantId>,
}
