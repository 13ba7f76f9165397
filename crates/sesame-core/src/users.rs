//! Directory users (DIR-2): creation with validation, partial updates, local passwords.

use crate::password::check_password_policy;
use crate::{Core, CoreError, CoreResult, NewUser, UserPatch};
use sesame_model::*;
use sesame_store::StoreError;

/// Longest free-text attribute value (display name, given name, extension attributes…).
const TEXT_MAX: usize = 256;

impl Core {
    pub async fn create_user(&self, tenant: TenantId, input: NewUser) -> CoreResult<User> {
        let tenant = self.store.get_tenant(tenant).await?;
        let upn = self
            .checked_upn(&tenant, &input.user_principal_name)
            .await?;
        if let Some(p) = &input.password {
            check_password_policy(p)?;
            if input.source == Some(UserSource::FederatedGuest) {
                return Err(guest_password());
            }
        }
        let mut user = User::new(UserId(self.new_uuid()), tenant.id, upn, self.now());
        if let Some(id) = input.immutable_id {
            check_immutable_id(&id)?;
            user.immutable_id = id;
        }
        user.display_name = optional_text("displayName", input.display_name)?;
        user.given_name = optional_text("givenName", input.given_name)?;
        user.surname = optional_text("surname", input.surname)?;
        user.mail = optional_mail("mail", input.mail)?;
        user.other_mails = mails(input.other_mails)?;
        user.employee_id = optional_text("employeeId", input.employee_id)?;
        user.extension_attributes = extension_attributes(input.extension_attributes)?;
        user.account_enabled = input.account_enabled.unwrap_or(true);
        user.user_type = input.user_type.unwrap_or_default();
        user.source = input.source.unwrap_or_default();
        self.store.create_user(&user).await?;
        if let Some(password) = input.password {
            self.set_password(tenant.id, user.id, password).await?;
        }
        Ok(user)
    }

    pub async fn get_user(&self, tenant: TenantId, id: UserId) -> CoreResult<User> {
        Ok(self.store.get_user(tenant, id).await?)
    }

    pub async fn update_user(
        &self,
        tenant: TenantId,
        id: UserId,
        patch: UserPatch,
    ) -> CoreResult<User> {
        let tenant = self.store.get_tenant(tenant).await?;
        // Validate everything before the transaction, so the closure only assigns.
        let upn = match &patch.user_principal_name {
            Some(u) => Some(self.checked_upn(&tenant, u).await?),
            None => None,
        };
        if let Some(i) = &patch.immutable_id {
            check_immutable_id(i)?;
        }
        let display_name = patch
            .display_name
            .map(|v| optional_text("displayName", v))
            .transpose()?;
        let given_name = patch
            .given_name
            .map(|v| optional_text("givenName", v))
            .transpose()?;
        let surname = patch
            .surname
            .map(|v| optional_text("surname", v))
            .transpose()?;
        let mail = patch.mail.map(|v| optional_mail("mail", v)).transpose()?;
        let other_mails = patch.other_mails.map(mails).transpose()?;
        let employee_id = patch
            .employee_id
            .map(|v| optional_text("employeeId", v))
            .transpose()?;
        let extensions = patch
            .extension_attributes
            .map(extension_attributes)
            .transpose()?;
        let now = self.now();
        let user = self
            .store
            .update_user(
                tenant.id,
                id,
                Box::new(move |u| {
                    if let Some(v) = upn {
                        u.user_principal_name = v;
                    }
                    if let Some(v) = patch.immutable_id {
                        u.immutable_id = v;
                    }
                    assign(&mut u.display_name, display_name);
                    assign(&mut u.given_name, given_name);
                    assign(&mut u.surname, surname);
                    assign(&mut u.mail, mail);
                    if let Some(v) = other_mails {
                        u.other_mails = v;
                    }
                    assign(&mut u.employee_id, employee_id);
                    if let Some(v) = extensions {
                        u.extension_attributes = v;
                    }
                    if let Some(v) = patch.account_enabled {
                        u.account_enabled = v;
                    }
                    if let Some(v) = patch.user_type {
                        u.user_type = v;
                    }
                    u.updated_at = now;
                    Ok(())
                }),
            )
            .await?;
        if !user.account_enabled {
            // A disabled account keeps no open session, here or (when they can hear it) at
            // its applications.
            self.end_user_sessions(tenant.id, id).await?;
        }
        Ok(user)
    }

    pub async fn delete_user(&self, tenant: TenantId, id: UserId) -> CoreResult<()> {
        self.delete_user_and_sessions(tenant, id).await
    }

    /// Sets (or replaces) the user's local password and clears any lockout.
    pub async fn set_password(
        &self,
        tenant: TenantId,
        user: UserId,
        password: String,
    ) -> CoreResult<()> {
        check_password_policy(&password)?;
        if self.store.get_user(tenant, user).await?.source == UserSource::FederatedGuest {
            return Err(guest_password());
        }
        let hash = self.passwords.hash(password).await?;
        let credential = PasswordCredential {
            tenant_id: tenant,
            user_id: user,
            hash,
            failed_attempts: 0,
            locked_until: None,
            updated_at: self.now(),
        };
        self.store.put_password(&credential).await?;
        Ok(())
    }

    pub async fn has_password(&self, tenant: TenantId, user: UserId) -> CoreResult<bool> {
        match self.store.get_password(tenant, user).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// A valid UPN whose domain the tenant may use.
    async fn checked_upn(&self, tenant: &Tenant, upn: &str) -> CoreResult<String> {
        let upn = normalize_upn(upn)?;
        let domain = upn.rsplit('@').next().unwrap_or_default();
        if !self.domain_usable(tenant, domain).await? {
            return Err(CoreError::invalid(
                "userPrincipalName",
                format!(
                    "domain {domain} is neither the tenant's initial domain ({}) nor one of its verified domains",
                    tenant.initial_domain
                ),
            ));
        }
        Ok(upn)
    }
}

fn assign(slot: &mut Option<String>, value: Option<Option<String>>) {
    if let Some(v) = value {
        *slot = v;
    }
}

fn optional_text(field: &'static str, value: Option<String>) -> CoreResult<Option<String>> {
    match value.map(|v| v.trim().to_string()) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => {
            check_text(field, &v, TEXT_MAX)?;
            Ok(Some(v))
        }
    }
}

fn optional_mail(field: &'static str, value: Option<String>) -> CoreResult<Option<String>> {
    match value.map(|v| v.trim().to_string()) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => {
            normalize_upn(&v).map_err(|_| {
                CoreError::invalid(field, format!("{v:?} is not an e-mail address"))
            })?;
            Ok(Some(v))
        }
    }
}

fn mails(values: Vec<String>) -> CoreResult<Vec<String>> {
    if values.len() > 50 {
        return Err(CoreError::invalid("otherMails", "at most 50 addresses"));
    }
    values
        .into_iter()
        .map(|v| optional_mail("otherMails", Some(v)))
        .filter_map(Result::transpose)
        .collect()
}

fn extension_attributes(values: Vec<Option<String>>) -> CoreResult<Vec<Option<String>>> {
    if values.len() > EXTENSION_ATTRIBUTE_COUNT {
        return Err(CoreError::invalid(
            "extensionAttributes",
            format!("at most {EXTENSION_ATTRIBUTE_COUNT} values"),
        ));
    }
    let mut out = vec![None; EXTENSION_ATTRIBUTE_COUNT];
    for (slot, v) in out.iter_mut().zip(values) {
        *slot = optional_text("extensionAttributes", v)?;
    }
    Ok(out)
}

/// B2B guests (DIR-4) authenticate at their own organisation's IdP, never with a password here.
fn guest_password() -> CoreError {
    CoreError::invalid(
        "password",
        "a guest signs in at their own organisation's identity provider and has no password here",
    )
}
