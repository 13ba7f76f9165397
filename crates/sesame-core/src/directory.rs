//! Tenants and their domains (DIR-1). A custom domain is proven by a DNS TXT record
//! `sesame-verification=<token>` at the domain's apex, read through [`TxtResolver`].

use crate::{Core, CoreError, CoreResult, NewDomain, NewTenant, TenantPatch};
use async_trait::async_trait;
use sesame_model::*;

/// The prefix of the TXT record value that proves a domain belongs to a tenant.
pub const VERIFICATION_PREFIX: &str = "sesame-verification=";

/// Reads TXT records. The binary provides a resolver whose server address is configurable.
#[async_trait]
pub trait TxtResolver: Send + Sync {
    /// Every TXT string at `name`; an empty list when there are none.
    async fn txt_records(&self, name: &str) -> Result<Vec<String>, String>;
}

/// Base domain of initial domains when a tenant is created without one.
pub const DEFAULT_BASE_DOMAIN: &str = "sesame.local";

impl Core {
    pub async fn create_tenant(&self, input: NewTenant) -> CoreResult<Tenant> {
        check_text("name", input.name.trim(), 256)?;
        let initial_domain = match input.initial_domain {
            Some(d) => normalize_domain(&d)?,
            None => normalize_domain(&format!("{}.{DEFAULT_BASE_DOMAIN}", slug(&input.name)))?,
        };
        let tenant = Tenant {
            id: TenantId(self.new_uuid()),
            name: input.name.trim().to_string(),
            initial_domain,
            created_at: self.now(),
        };
        self.store.create_tenant(&tenant).await?;
        tracing::info!(tenant = %tenant.id, "tenant created");
        Ok(tenant)
    }

    pub async fn update_tenant(&self, id: TenantId, patch: TenantPatch) -> CoreResult<Tenant> {
        if let Some(name) = &patch.name {
            check_text("name", name.trim(), 256)?;
        }
        let t = self
            .store
            .update_tenant(
                id,
                Box::new(move |t| {
                    if let Some(name) = patch.name {
                        t.name = name.trim().to_string();
                    }
                    Ok(())
                }),
            )
            .await?;
        self.config.invalidate();
        Ok(t)
    }

    /// Deletes the tenant and everything in it.
    pub async fn delete_tenant(&self, id: TenantId) -> CoreResult<()> {
        let deleted = self.store.delete_tenant(id).await;
        self.config.invalidate();
        deleted?;
        tracing::info!(tenant = %id, "tenant deleted");
        Ok(())
    }

    /// Resolves the `{tenant}` of a URL: the tenant id, its initial domain or a verified domain.
    pub async fn resolve_tenant(&self, key: &str) -> CoreResult<Tenant> {
        if let Ok(id) = key.parse::<TenantId>() {
            return Ok(Tenant::clone(&*self.tenant(id).await?));
        }
        let domain = normalize_domain(key).map_err(|_| CoreError::NotFound("tenant"))?;
        Ok(self.store.find_tenant_by_domain(&domain).await?)
    }

    pub async fn add_domain(&self, tenant: TenantId, input: NewDomain) -> CoreResult<Domain> {
        self.require_tenant(tenant).await?;
        let name = normalize_domain(&input.name)?;
        let domain = Domain {
            tenant_id: tenant,
            name,
            status: DomainStatus::Unverified,
            verification_token: crate::secrets::new_short_token(),
            created_at: self.now(),
            verified_at: None,
        };
        self.store.add_domain(&domain).await?;
        Ok(domain)
    }

    /// Looks up the domain's TXT records and marks it verified when one carries its token.
    pub async fn verify_domain(&self, tenant: TenantId, name: &str) -> CoreResult<Domain> {
        let name = normalize_domain(name).map_err(|_| CoreError::NotFound("domain"))?;
        let domain = self.store.get_domain(tenant, &name).await?;
        if domain.status != DomainStatus::Unverified {
            return Ok(domain);
        }
        let records =
            self.dns
                .txt_records(&name)
                .await
                .map_err(|reason| CoreError::DomainVerification {
                    domain: name.clone(),
                    reason: format!("DNS lookup failed: {reason}"),
                })?;
        let expected = format!("{VERIFICATION_PREFIX}{}", domain.verification_token);
        if !records.iter().any(|r| r.trim() == expected) {
            return Err(CoreError::DomainVerification {
                domain: name,
                reason: format!("no TXT record \"{expected}\" found"),
            });
        }
        let now = self.now();
        let verified = self
            .store
            .update_domain(
                tenant,
                &name,
                Box::new(move |d| {
                    d.status = DomainStatus::Verified;
                    d.verified_at = Some(now);
                    Ok(())
                }),
            )
            .await?;
        tracing::info!(tenant = %tenant, domain = %verified.name, "domain verified");
        Ok(verified)
    }

    /// True when users of `tenant` may have UPNs in `domain`: its initial domain or a
    /// verified (or federated) custom domain.
    pub(crate) async fn domain_usable(&self, tenant: &Tenant, domain: &str) -> CoreResult<bool> {
        if tenant.initial_domain == domain {
            return Ok(true);
        }
        match self.store.get_domain(tenant.id, domain).await {
            Ok(d) => Ok(d.status != DomainStatus::Unverified),
            Err(sesame_store::StoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// Lower-case ASCII letters and digits of a name, other runs collapsed to one `-`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "tenant".to_string()
    } else {
        trimmed
            .chars()
            .take(63)
            .collect::<String>()
            .trim_matches('-')
            .to_string()
    }
}

#[cfg(test)]
mod slug_tests {
    #[test]
    fn slugs() {
        assert_eq!(super::slug("Contoso Ltd."), "contoso-ltd");
        assert_eq!(super::slug("Société Générale"), "soci-t-g-n-rale");
        assert_eq!(super::slug("!!!"), "tenant");
    }
}
