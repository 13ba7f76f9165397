//! The IdP's SAML metadata documents (SAML-IDP-8, metadata 2.0): per application, and
//! tenant-wide. Split from `sso.rs`, which answers requests; both share its helpers.

use crate::sso::{METADATA_VALIDITY, saml_id, signing_algorithms};
use crate::{Core, CoreError, CoreResult};
use sesame_model::*;
use time::Duration;

impl Core {
    /// The IdP metadata of one application (SAML-IDP-8): every published signing certificate,
    /// SSO and SLO endpoints for both bindings, signed with the active key.
    pub async fn app_metadata(&self, tenant: TenantId, app: AppId) -> CoreResult<String> {
        let app = self.store.get_app(tenant, app).await?;
        let settings = app
            .saml
            .as_ref()
            .ok_or(CoreError::NotFound("saml settings"))?;
        let certs = self.store.list_app_certificates(tenant, app.id).await?;
        let ders = certs
            .iter()
            .map(|c| crate::saml_apps::base64_decode(&c.certificate))
            .collect::<CoreResult<Vec<_>>>()?;
        let key = self.active_signing_key(tenant, app.id).await?;
        let now = self.now();
        let entity_id = self.idp_entity_id(tenant);
        let sso = self.idp_sso_url(tenant);
        let formats = [
            NameIdFormat::Persistent.urn(),
            NameIdFormat::EmailAddress.urn(),
            NameIdFormat::Unspecified.urn(),
            NameIdFormat::Transient.urn(),
        ];
        let id = saml_id(self.new_uuid());
        let params = sesame_saml::IdpMetadataParams {
            id: &id,
            entity_id: &entity_id,
            valid_until: now + METADATA_VALIDITY,
            cache_duration: Duration::hours(1),
            want_authn_requests_signed: settings.require_signed_requests,
            signing_certificates: &ders,
            sso_url: &sso,
            slo_url: Some(&sso),
            slo_soap_url: Some(&self.idp_slo_soap_url(tenant)),
            name_id_formats: &formats,
            accepted_algorithms: &crate::sso::allowed_algorithms(settings),
        };
        let (algorithm, digest) = signing_algorithms(settings);
        let sign = sesame_saml::SignWith {
            key: &key,
            algorithm,
            digest,
        };
        sesame_saml::idp_metadata(&params, Some(&sign))
            .map_err(|e| CoreError::Internal(format!("metadata: {e}")))
    }

    /// The tenant-wide IdP metadata (no `appid`): the same endpoints, every signing
    /// certificate published by the tenant's SAML applications plus the tenant's own, signed
    /// with the tenant's key. An SP trusting it accepts whichever application key signs.
    pub async fn tenant_metadata(&self, tenant: TenantId) -> CoreResult<String> {
        let key = self.tenant_signing_key(tenant).await?;
        let mut ders = vec![key.certificate_der().to_vec()];
        let mut page = PageRequest::new(Some(PageRequest::MAX_LIMIT), None);
        loop {
            let apps = self.store.list_apps(tenant, &page).await?;
            for app in apps.items.iter().filter(|a| a.saml.is_some()) {
                for c in self.store.list_app_certificates(tenant, app.id).await? {
                    ders.push(crate::saml_apps::base64_decode(&c.certificate)?);
                }
            }
            match apps.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        let now = self.now();
        let entity_id = self.idp_entity_id(tenant);
        let sso = self.idp_sso_url(tenant);
        let formats = [
            NameIdFormat::Persistent.urn(),
            NameIdFormat::EmailAddress.urn(),
            NameIdFormat::Unspecified.urn(),
            NameIdFormat::Transient.urn(),
        ];
        let id = saml_id(self.new_uuid());
        let params = sesame_saml::IdpMetadataParams {
            id: &id,
            entity_id: &entity_id,
            valid_until: now + METADATA_VALIDITY,
            cache_duration: Duration::hours(1),
            want_authn_requests_signed: false,
            signing_certificates: &ders,
            sso_url: &sso,
            slo_url: Some(&sso),
            slo_soap_url: Some(&self.idp_slo_soap_url(tenant)),
            name_id_formats: &formats,
            accepted_algorithms: &sesame_xmlsec::AllowedAlgorithms::default(),
        };
        let sign = sesame_saml::SignWith::rsa_sha256(&key);
        sesame_saml::idp_metadata(&params, Some(&sign))
            .map_err(|e| CoreError::Internal(format!("metadata: {e}")))
    }
}
