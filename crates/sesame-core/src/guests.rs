//! B2B guests (DIR-4) and direct federation with partners' IdPs (SAML-SP-5, seed 002).
//!
//! A direct federation is a federation with a partner's domain that is *not* a domain of the
//! tenant; its limits are checked here (the host of the passive logon URL is in the partner's
//! domain or in the allow-list) and in the store's transaction (the domain is not a verified
//! domain of the tenant; at most [`CoreSettings::max_federations`] federations, domain and
//! direct together). A guest is invited by e-mail: a user of type Guest is created with an
//! `…#EXT#@{initial domain}` UPN, and the redemption link is the tenant's sign-in page with the
//! address as `login_hint` (it carries the tenant context; home-realm discovery sends the guest
//! to the partner's IdP). The first sign-in whose persistent NameID comes with the invited
//! address in the `emailaddress` claim binds the invitation to that IdP identity; every later
//! sign-in must present the same issuer and NameID. Removing the direct federation stops its
//! guests from signing in.
//! **Must not touch**: HTTP, SQL, XML.
//!
//! [`CoreSettings::max_federations`]: crate::CoreSettings::max_federations

use serde::{Deserialize, Serialize};
use sesame_model::{
    DomainFederation, DomainStatus, GuestInvitation, TenantId, User, UserType, normalize_domain,
    normalize_upn,
};
use sesame_store::StoreError;
use utoipa::ToSchema;

use crate::federation::FederationInput;
use crate::federation_acs::{FederationFailure, codes};
use crate::{Core, CoreError, CoreResult, NewUser};

/// The claim carrying a guest's e-mail address (seed 002).
pub const EMAIL_CLAIM: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress";

/// The IdP hosts a direct federation's passive logon URL may use outside the partner's domain
/// (seed 002's list; each also allows its subdomains).
pub const DEFAULT_DIRECT_FEDERATION_HOSTS: [&str; 4] = [
    "accounts.google.com",
    "pingidentity.com",
    "okta.com",
    "federation.exostar.com",
];

/// Whether `host` is `domain` or one of its subdomains (label-wise: `evilfabrikam.com` is not
/// in `fabrikam.com`).
fn host_in(host: &str, domain: &str) -> bool {
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// SAML-SP-5: the host of the passive logon URL is in the partner's domain or in the
/// allow-list. The host is read by a URL parser (so `https://partner.example@evil.example/` is
/// `evil.example`), lower-cased, without a trailing dot.
pub(crate) fn check_logon_host(url: &str, domain: &str, allowed: &[String]) -> CoreResult<()> {
    let parsed = url::Url::parse(url)
        .map_err(|_| CoreError::invalid("passiveLogonUrl", "must be an absolute http(s) URL"))?;
    let host = parsed
        .host_str()
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        .unwrap_or_default();
    if host.is_empty() {
        return Err(CoreError::invalid("passiveLogonUrl", "has no host"));
    }
    if host_in(&host, domain) || allowed.iter().any(|a| host_in(&host, a)) {
        return Ok(());
    }
    Err(CoreError::invalid(
        "passiveLogonUrl",
        format!(
            "host {host} is neither in {domain} nor an allowed identity provider ({})",
            allowed.join(", ")
        ),
    ))
}

/// An invitation and the link the guest follows.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitedGuest {
    pub invitation: GuestInvitation,
    pub user: User,
    /// The tenant's sign-in page with the address as `login_hint`.
    pub redeem_url: String,
}

/// `POST …/guests`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GuestInput {
    pub email: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

fn user_matching(message: &str) -> FederationFailure {
    FederationFailure {
        code: codes::USER_NOT_MATCHED,
        status: 403,
        message: message.to_owned(),
        rule: "user-matching",
    }
}

impl Core {
    /// Creates or replaces the direct federation of a partner's `domain` (SAML-SP-5).
    pub async fn set_direct_federation(
        &self,
        tenant: TenantId,
        domain: &str,
        input: FederationInput,
    ) -> CoreResult<DomainFederation> {
        let domain =
            normalize_domain(domain).map_err(|e| CoreError::invalid("domain", e.to_string()))?;
        let own = || {
            CoreError::invalid(
                "domain",
                "is a verified domain of this tenant: federate it as a domain, not directly",
            )
        };
        if self.store.get_tenant(tenant).await?.initial_domain == domain {
            return Err(own());
        }
        match self.store.get_domain(tenant, &domain).await {
            Ok(d) if d.status != DomainStatus::Unverified => return Err(own()),
            Ok(_) | Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        let created_at = match self.store.get_direct_federation(tenant, &domain).await {
            Ok(old) => Some(old.created_at),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let f = self.federation_from_input(tenant, domain, input, created_at)?;
        check_logon_host(
            &f.passive_logon_url,
            &f.domain,
            &self.settings.direct_federation_hosts,
        )?;
        self.store
            .put_direct_federation(&f, self.settings.max_federations)
            .await
            .map_err(|e| match e {
                StoreError::Aborted(why) => CoreError::invalid("domain", why),
                other => other.into(),
            })?;
        Ok(f)
    }

    pub async fn get_direct_federation(
        &self,
        tenant: TenantId,
        domain: &str,
    ) -> CoreResult<DomainFederation> {
        let domain = domain.trim().to_ascii_lowercase();
        Ok(self.store.get_direct_federation(tenant, &domain).await?)
    }

    pub async fn list_direct_federations(
        &self,
        tenant: TenantId,
    ) -> CoreResult<Vec<DomainFederation>> {
        Ok(self.store.list_direct_federations(tenant).await?)
    }

    /// Its guests can no longer sign in.
    pub async fn remove_direct_federation(&self, tenant: TenantId, domain: &str) -> CoreResult<()> {
        let domain = domain.trim().to_ascii_lowercase();
        Ok(self.store.delete_direct_federation(tenant, &domain).await?)
    }

    /// Invites `email` as a guest (DIR-4): its domain must have a direct federation and must
    /// not be a domain of the tenant (those are members).
    pub async fn invite_guest(
        &self,
        tenant: TenantId,
        input: GuestInput,
    ) -> CoreResult<InvitedGuest> {
        let email = normalize_upn(&input.email)
            .map_err(|_| CoreError::invalid("email", "is not an e-mail address"))?;
        let (local, domain) = email
            .rsplit_once('@')
            .ok_or_else(|| CoreError::invalid("email", "is not an e-mail address"))?;
        let t = self.store.get_tenant(tenant).await?;
        let own = domain == t.initial_domain
            || match self.store.get_domain(tenant, domain).await {
                Ok(d) => d.status != DomainStatus::Unverified,
                Err(StoreError::NotFound(_)) => false,
                Err(e) => return Err(e.into()),
            };
        if own {
            return Err(CoreError::invalid(
                "email",
                "belongs to a domain of this tenant: create a member, not a guest",
            ));
        }
        match self.store.get_direct_federation(tenant, domain).await {
            Ok(_) => {}
            Err(StoreError::NotFound(_)) => {
                return Err(CoreError::invalid(
                    "email",
                    format!(
                        "{domain} has no direct federation: set one up before inviting its users"
                    ),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        match self.store.get_guest_invitation(tenant, &email).await {
            Ok(_) => return Err(StoreError::Conflict("guest_invitation").into()),
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        let upn = format!("{local}_{domain}#EXT#@{}", t.initial_domain);
        let user = self
            .create_user(
                tenant,
                NewUser {
                    user_principal_name: upn,
                    display_name: input.display_name,
                    mail: Some(email.clone()),
                    user_type: Some(UserType::Guest),
                    source: Some(sesame_model::UserSource::FederatedGuest),
                    ..NewUser::default()
                },
            )
            .await?;
        let invitation = GuestInvitation {
            tenant_id: tenant,
            email: email.clone(),
            user_id: user.id,
            domain: domain.to_owned(),
            invited_at: self.now(),
            redeemed_at: None,
            issuer: None,
            name_id: None,
        };
        if let Err(e) = self.store.create_guest_invitation(&invitation).await {
            // A concurrent invitation of the same address won: do not leave a second guest.
            if let Err(cleanup) = self.store.delete_user(tenant, user.id).await {
                tracing::error!(error = %cleanup, "cannot remove the guest of a failed invitation");
            }
            return Err(e.into());
        }
        let redeem_url = format!(
            "{}/{tenant}/login?login_hint={}",
            self.settings.public_url,
            url::form_urlencoded::byte_serialize(email.as_bytes()).collect::<String>()
        );
        Ok(InvitedGuest {
            invitation,
            user,
            redeem_url,
        })
    }

    pub async fn list_guest_invitations(
        &self,
        tenant: TenantId,
    ) -> CoreResult<Vec<GuestInvitation>> {
        Ok(self.store.list_guest_invitations(tenant).await?)
    }

    /// SAML-SP-4 for guests (seed 002): the `emailaddress` claim names an invitation of the
    /// federation's domain; its first use binds it to this issuer and NameID, and later uses
    /// must present the same. `redeem` false (the SSO test tool) only compares.
    pub(crate) async fn match_guest(
        &self,
        f: &DomainFederation,
        issuer: &str,
        name_id: &str,
        email: &str,
        redeem: bool,
    ) -> Result<User, FederationFailure> {
        let unavailable = |e: StoreError| {
            tracing::error!(error = %e, "guest lookup failed");
            FederationFailure {
                code: codes::UNAVAILABLE,
                status: 503,
                message: "Sign-in is unavailable right now. Try again in a moment.".into(),
                rule: "store",
            }
        };
        let email = email.trim().to_lowercase();
        let in_domain = email.rsplit_once('@').is_some_and(|(_, d)| d == f.domain);
        if email.is_empty() || !in_domain {
            return Err(user_matching(
                "The identity provider's answer carries no e-mail address of this partner (emailaddress claim).",
            ));
        }
        let tenant = f.tenant_id;
        let invitation = match self.store.get_guest_invitation(tenant, &email).await {
            Ok(g) => g,
            Err(StoreError::NotFound(_)) => {
                return Err(user_matching("No invitation matches this e-mail address."));
            }
            Err(e) => return Err(unavailable(e)),
        };
        let bound = if invitation.redeemed_at.is_none() && redeem {
            self.store
                .redeem_guest_invitation(tenant, &email, issuer, name_id, self.now())
                .await
                .map_err(unavailable)?
        } else {
            invitation
        };
        let same = bound.redeemed_at.is_none()
            || (bound.issuer.as_deref() == Some(issuer)
                && bound.name_id.as_deref() == Some(name_id));
        if !same {
            return Err(user_matching(
                "This invitation was redeemed by another identity (issuer and NameID differ).",
            ));
        }
        match self.store.get_user(tenant, bound.user_id).await {
            Ok(u) if u.user_type == UserType::Guest => Ok(u),
            Ok(_) | Err(StoreError::NotFound(_)) => {
                Err(user_matching("The invited guest no longer exists."))
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logon_host_must_be_in_the_domain_or_allowed() {
        let allowed: Vec<String> = DEFAULT_DIRECT_FEDERATION_HOSTS
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let check = |url: &str, ok: bool| {
            assert_eq!(
                check_logon_host(url, "fabrikam.com", &allowed).is_ok(),
                ok,
                "{url}"
            );
        };
        check("https://fabrikam.com/adfs", true);
        check("https://sts.fabrikam.com/adfs", true);
        check("https://STS.Fabrikam.com./adfs", true);
        check("https://accounts.google.com/o/saml2", true);
        check("https://partner.okta.com/app/sso/saml", true);
        check("https://fabrikamconglomerate.com/adfs", false);
        check("https://fabrikam.com.uk/adfs", false);
        check("https://evilfabrikam.com/adfs", false);
        check("https://fabrikam.com@evil.example/adfs", false);
        check("https://notokta.com/sso", false);
        check("https://127.0.0.1:8443/sso", false);
        check("not a url", false);
    }
}
