//! Enterprise applications and their assignments (DIR-3, SAML-IDP-9).

use crate::{AppPatch, Core, CoreResult, NewApp, NewAssignment};
use sesame_model::*;

impl Core {
    pub async fn create_app(&self, tenant: TenantId, input: NewApp) -> CoreResult<Application> {
        self.require_tenant(tenant).await?;
        check_text("name", input.name.trim(), 256)?;
        let app = Application {
            id: AppId(self.new_uuid()),
            tenant_id: tenant,
            name: input.name.trim().to_string(),
            enabled: input.enabled.unwrap_or(true),
            saml: None,
            version: 1,
            created_at: self.now(),
        };
        self.store.create_app(&app).await?;
        self.config.invalidate();
        Ok(app)
    }

    pub async fn update_app(
        &self,
        tenant: TenantId,
        id: AppId,
        patch: AppPatch,
    ) -> CoreResult<Application> {
        if let Some(n) = &patch.name {
            check_text("name", n.trim(), 256)?;
        }
        let app = self
            .store
            .update_app(
                tenant,
                id,
                Box::new(move |a| {
                    if let Some(n) = patch.name {
                        a.name = n.trim().to_string();
                    }
                    if let Some(e) = patch.enabled {
                        a.enabled = e;
                    }
                    Ok(())
                }),
            )
            .await;
        self.config.invalidate();
        Ok(app?)
    }

    /// Deletes the app with its assignments, certificates and provisioning.
    pub async fn delete_app(&self, tenant: TenantId, id: AppId) -> CoreResult<()> {
        let deleted = self.store.delete_app(tenant, id).await;
        self.config.invalidate();
        Ok(deleted?)
    }

    pub async fn assign_app(
        &self,
        tenant: TenantId,
        app: AppId,
        input: NewAssignment,
    ) -> CoreResult<Assignment> {
        if let Some(r) = &input.app_role {
            check_text("appRole", r, 120)?;
        }
        let assignment = Assignment {
            tenant_id: tenant,
            app_id: app,
            principal: input.principal(),
            app_role: input.app_role,
            created_at: self.now(),
        };
        self.store.assign(&assignment).await?;
        Ok(assignment)
    }

    /// True when the user is assigned to the app directly or through one of its groups.
    pub async fn is_assigned(
        &self,
        tenant: TenantId,
        app: AppId,
        user: UserId,
    ) -> CoreResult<bool> {
        let assignments = self.store.list_assignments(tenant, app).await?;
        if assignments
            .iter()
            .any(|a| a.principal == Principal::User(user))
        {
            return Ok(true);
        }
        let groups = self.store.list_user_groups(tenant, user).await?;
        Ok(assignments
            .iter()
            .any(|a| matches!(a.principal, Principal::Group(g) if groups.contains(&g))))
    }
}
