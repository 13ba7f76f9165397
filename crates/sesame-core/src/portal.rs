//! What a signed-in user can reach (OPS-2), and sealed browser contexts that carry a pending
//! sign-in across the password page without server-side state.

use crate::{Core, CoreError, CoreResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sesame_model::*;
use std::collections::BTreeSet;

/// How long a sealed context stays valid: long enough to type a password.
const CONTEXT_LIFETIME: time::Duration = time::Duration::minutes(15);

/// What an assigned user holds in an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppAccess {
    pub roles: Vec<String>,
    pub group_names: Vec<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope<T> {
    /// Unix seconds after which the context is refused.
    exp: i64,
    ctx: T,
}

impl Core {
    /// Enabled applications assigned to the user, directly or through a group, by name.
    pub async fn assigned_apps(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> CoreResult<Vec<Application>> {
        let mut app_ids = BTreeSet::new();
        for a in self
            .store
            .list_principal_assignments(tenant, Principal::User(user))
            .await?
        {
            app_ids.insert(a.app_id);
        }
        for g in self.store.list_user_groups(tenant, user).await? {
            for a in self
                .store
                .list_principal_assignments(tenant, Principal::Group(g))
                .await?
            {
                app_ids.insert(a.app_id);
            }
        }
        let mut apps = Vec::new();
        for id in app_ids {
            match self.store.get_app(tenant, id).await {
                Ok(app) if app.enabled => apps.push(app),
                Ok(_) | Err(sesame_store::StoreError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        apps.sort_by_key(|a| a.name.to_lowercase());
        Ok(apps)
    }

    /// The user's access to `app` in one pass over memberships and assignments: `None` when
    /// not assigned (directly or through a group), else the app roles held and, when
    /// `with_group_names`, the display names of the user's groups (for a groups claim).
    pub async fn app_access(
        &self,
        tenant: TenantId,
        app: AppId,
        user: UserId,
        with_group_names: bool,
    ) -> CoreResult<Option<AppAccess>> {
        let assignments = self.store.user_app_roles(tenant, app, user).await?;
        if assignments.is_empty() {
            return Ok(None);
        }
        let roles: BTreeSet<String> = assignments.into_iter().flatten().collect();
        let mut group_names = Vec::new();
        if with_group_names {
            for g in self.store.list_user_groups(tenant, user).await? {
                match self.store.get_group(tenant, g).await {
                    Ok(group) => group_names.push(group.display_name),
                    Err(sesame_store::StoreError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            group_names.sort();
        }
        Ok(Some(AppAccess {
            roles: roles.into_iter().collect(),
            group_names,
        }))
    }

    /// Seals `ctx` for the browser to carry (URL-safe): encrypted and authenticated with the
    /// master key under `purpose`, expiring after a few minutes.
    pub fn seal_context<T: Serialize>(&self, purpose: &str, ctx: &T) -> CoreResult<String> {
        let env = Envelope {
            exp: (self.now() + CONTEXT_LIFETIME).unix_timestamp(),
            ctx,
        };
        let json =
            serde_json::to_vec(&env).map_err(|e| CoreError::Internal(format!("context: {e}")))?;
        let sealed = self
            .master_key
            .as_deref()
            .ok_or_else(|| CoreError::Internal("no master key configured".into()))?
            .seal(&format!("sesame/context/{purpose}"), &json)?;
        Ok(URL_SAFE_NO_PAD.encode(sealed))
    }

    /// Opens a context sealed by [`Core::seal_context`]; `None` when tampered, foreign or expired.
    pub fn open_context<T: DeserializeOwned>(&self, purpose: &str, sealed: &str) -> Option<T> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed.trim()).ok()?;
        let json = self
            .master_key
            .as_deref()?
            .open(&format!("sesame/context/{purpose}"), &bytes)
            .ok()?;
        let env: Envelope<T> = serde_json::from_slice(&json).ok()?;
        (env.exp >= self.now().unix_timestamp()).then_some(env.ctx)
    }
}
