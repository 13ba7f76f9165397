//! Groups and their members (DIR-3).

use crate::{Core, CoreResult, GroupPatch, NewGroup};
use sesame_model::*;

impl Core {
    pub async fn create_group(&self, tenant: TenantId, input: NewGroup) -> CoreResult<Group> {
        self.require_tenant(tenant).await?;
        check_text("displayName", input.display_name.trim(), 256)?;
        if let Some(d) = &input.description {
            check_text("description", d, 1024)?;
        }
        let group = Group {
            id: GroupId(self.new_uuid()),
            tenant_id: tenant,
            display_name: input.display_name.trim().to_string(),
            description: input.description,
            version: 1,
            created_at: self.now(),
        };
        self.store.create_group(&group).await?;
        Ok(group)
    }

    pub async fn update_group(
        &self,
        tenant: TenantId,
        id: GroupId,
        patch: GroupPatch,
    ) -> CoreResult<Group> {
        if let Some(n) = &patch.display_name {
            check_text("displayName", n.trim(), 256)?;
        }
        if let Some(Some(d)) = &patch.description {
            check_text("description", d, 1024)?;
        }
        let group = self
            .store
            .update_group(
                tenant,
                id,
                Box::new(move |g| {
                    if let Some(n) = patch.display_name {
                        g.display_name = n.trim().to_string();
                    }
                    if let Some(d) = patch.description {
                        g.description = d;
                    }
                    Ok(())
                }),
            )
            .await?;
        Ok(group)
    }
}
