//! SAML applications (SAML-IDP-1, -4): their settings, checked before they are stored, and
//! their signing certificates with rollover — several published, exactly one active, private
//! keys sealed with the master key and parsed once into signing keys kept in memory.

use crate::keys::{self, MasterKey};
use crate::{Core, CoreError, CoreResult};
use sesame_model::*;
use sesame_xmlsec::{ContentEncryption, EncryptionRecipient, SigningKey, TrustedKeys};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// Subject of generated signing certificates.
const CERT_SUBJECT: &str = "Sésame Federated SSO Certificate";
/// Longest RelayState accepted, in requests and as an app's default. Bindings 2.0 §3.4.3 and
/// §3.5.3 ask senders for at most 80 bytes, but SPs send URLs (SimpleSAMLphp its ReturnTo):
/// every carrier of the value (the sealed sign-in context in the continue URL, the logout
/// progress cookie) has room for this bound, the same as the Redirect decoder's.
pub const RELAY_STATE_MAX: usize = sesame_saml::MAX_RELAY_STATE_BYTES;

/// Why a RelayState cannot be carried, if it cannot: longer than [`RELAY_STATE_MAX`], or with
/// control characters (no URL or token has them, and each would take six bytes once sealed).
pub fn relay_state_problem(relay_state: &str) -> Option<String> {
    if relay_state.len() > RELAY_STATE_MAX {
        Some(format!(
            "The RelayState is longer than {RELAY_STATE_MAX} bytes."
        ))
    } else if relay_state.chars().any(char::is_control) {
        Some("The RelayState contains control characters.".into())
    } else {
        None
    }
}

/// AES-128-CBC when the SP's metadata lists it among its encryption methods and lists no GCM
/// cipher; AES-256-GCM otherwise (also when it lists none: metadata §2.4.1.1 makes the list
/// optional).
fn content_encryption_for(methods: &[String]) -> SamlContentEncryption {
    let lists = |uri: &str| methods.iter().any(|m| m == uri);
    let gcm = [
        ContentEncryption::Aes256Gcm.uri(),
        ContentEncryption::Aes128Gcm.uri(),
    ];
    if lists(ContentEncryption::Aes128Cbc.uri()) && !gcm.iter().any(|u| lists(u)) {
        SamlContentEncryption::Aes128Cbc
    } else {
        SamlContentEncryption::Aes256Gcm
    }
}

/// Signing keys parsed from sealed storage, by certificate id.
#[derive(Default)]
pub(crate) struct KeyCache(Mutex<HashMap<uuid::Uuid, Arc<SigningKey>>>);

impl Core {
    /// Installs the master key that seals private keys at rest.
    pub fn with_master_key(mut self, key: MasterKey) -> Self {
        self.master_key = Some(Arc::new(key));
        self
    }

    pub(crate) fn master_key(&self) -> CoreResult<&MasterKey> {
        self.master_key
            .as_deref()
            .ok_or_else(|| CoreError::Internal("no master key configured".into()))
    }

    /// Creates an application with SAML settings and its first (active) signing certificate.
    pub async fn create_saml_app(
        &self,
        tenant: TenantId,
        name: &str,
        settings: SamlAppSettings,
    ) -> CoreResult<(Application, AppCertificate)> {
        validate_saml_settings(&settings)?;
        let app = self
            .create_app(
                tenant,
                crate::NewApp {
                    name: name.to_string(),
                    enabled: Some(true),
                },
            )
            .await?;
        let app = self
            .store
            .update_app(
                tenant,
                app.id,
                Box::new(move |a| {
                    a.saml = Some(settings);
                    Ok(())
                }),
            )
            .await;
        self.config.invalidate();
        let app = app?;
        let cert = self.add_signing_certificate(tenant, app.id).await?;
        Ok((app, cert))
    }

    /// Replaces the app's SAML settings; generates a first signing certificate if it has none.
    pub async fn set_saml_settings(
        &self,
        tenant: TenantId,
        app: AppId,
        settings: SamlAppSettings,
    ) -> CoreResult<Application> {
        validate_saml_settings(&settings)?;
        let updated = self
            .store
            .update_app(
                tenant,
                app,
                Box::new(move |a| {
                    a.saml = Some(settings);
                    Ok(())
                }),
            )
            .await;
        self.config.invalidate();
        let updated = updated?;
        if self
            .store
            .list_app_certificates(tenant, app)
            .await?
            .is_empty()
        {
            self.add_signing_certificate(tenant, app).await?;
        }
        Ok(updated)
    }

    /// Generates a new signing certificate. It is published at once (metadata lists every
    /// certificate) but becomes active only if the app had none: rollover is add, then activate.
    pub async fn add_signing_certificate(
        &self,
        tenant: TenantId,
        app: AppId,
    ) -> CoreResult<AppCertificate> {
        self.store.get_app(tenant, app).await?;
        let master = self.master_key()?;
        let now = self.now();
        let generated = tokio::task::spawn_blocking(move || {
            keys::generate_signing_certificate(CERT_SUBJECT, now)
        })
        .await
        .map_err(|e| CoreError::Internal(format!("key generation task: {e}")))??;
        let id = self.new_uuid();
        let first = self
            .store
            .list_app_certificates(tenant, app)
            .await?
            .is_empty();
        let cert = AppCertificate {
            id,
            tenant_id: tenant,
            app_id: app,
            certificate: base64_std(&generated.certificate_der),
            thumbprint: keys::thumbprint(&generated.certificate_der),
            sealed_private_key: master
                .seal(&seal_label(tenant, app, id), &generated.private_key_pkcs8)?,
            active: first,
            not_before: generated.not_before,
            not_after: generated.not_after,
            created_at: now,
        };
        let added = self.store.add_app_certificate(&cert).await;
        self.config.invalidate();
        added?;
        tracing::info!(tenant = %tenant, app = %app, thumbprint = %cert.thumbprint, active = first, "signing certificate added");
        Ok(cert)
    }

    pub async fn list_signing_certificates(
        &self,
        tenant: TenantId,
        app: AppId,
    ) -> CoreResult<Vec<AppCertificate>> {
        self.store.get_app(tenant, app).await?;
        Ok(self.store.list_app_certificates(tenant, app).await?)
    }

    pub async fn activate_signing_certificate(
        &self,
        tenant: TenantId,
        app: AppId,
        id: uuid::Uuid,
    ) -> CoreResult<()> {
        // SPs that check validity dates would refuse every Response signed with it.
        let certs = self.store.list_app_certificates(tenant, app).await?;
        let cert = certs
            .iter()
            .find(|c| c.id == id)
            .ok_or(CoreError::NotFound("app_certificate"))?;
        if cert.not_after <= self.now() {
            return Err(CoreError::invalid(
                "certificate",
                format!(
                    "this certificate expired on {}; add a new one and activate that",
                    cert.not_after.date()
                ),
            ));
        }
        let activated = self.store.activate_app_certificate(tenant, app, id).await;
        self.config.invalidate();
        activated?;
        tracing::info!(tenant = %tenant, app = %app, certificate = %id, "signing certificate activated");
        Ok(())
    }

    /// Removes a published certificate; the active one cannot be removed.
    pub async fn remove_signing_certificate(
        &self,
        tenant: TenantId,
        app: AppId,
        id: uuid::Uuid,
    ) -> CoreResult<()> {
        let certs = self.store.list_app_certificates(tenant, app).await?;
        let cert = certs
            .iter()
            .find(|c| c.id == id)
            .ok_or(CoreError::NotFound("app_certificate"))?;
        if cert.active {
            return Err(CoreError::invalid(
                "certificate",
                "the active signing certificate cannot be removed; activate another one first",
            ));
        }
        let deleted = self.store.delete_app_certificate(tenant, app, id).await;
        self.config.invalidate();
        deleted?;
        if let Ok(mut cache) = self.key_cache.0.lock() {
            cache.remove(&id);
        }
        Ok(())
    }

    /// The active signing key of the app as stored, parsed once per certificate.
    pub(crate) async fn load_active_signing_key(
        &self,
        tenant: TenantId,
        app: AppId,
    ) -> CoreResult<Arc<SigningKey>> {
        let certs = self.store.list_app_certificates(tenant, app).await?;
        let cert = certs.into_iter().find(|c| c.active).ok_or_else(|| {
            CoreError::invalid(
                "certificate",
                "the application has no active signing certificate",
            )
        })?;
        if let Some(k) = self
            .key_cache
            .0
            .lock()
            .ok()
            .and_then(|c| c.get(&cert.id).cloned())
        {
            return Ok(k);
        }
        // Said once per process and certificate, when its key is first read.
        let left = cert.not_after - self.now();
        if left <= time::Duration::ZERO {
            tracing::warn!(tenant = %tenant, app = %app, certificate = %cert.id, not_after = %cert.not_after,
                "the active signing certificate has expired: SPs that check its dates refuse its Responses; add and activate a new one");
        } else if left < time::Duration::days(30) {
            tracing::warn!(tenant = %tenant, app = %app, certificate = %cert.id, not_after = %cert.not_after,
                "the active signing certificate expires within 30 days: add a new one, let SPs read the metadata, then activate it");
        }
        let pkcs8 = self
            .master_key()?
            .open(&seal_label(tenant, app, cert.id), &cert.sealed_private_key)?;
        let der = base64_decode(&cert.certificate)?;
        let key = Arc::new(
            SigningKey::from_pkcs8_der(&pkcs8, &der)
                .map_err(|e| CoreError::Internal(format!("stored signing key unusable: {e}")))?,
        );
        if let Ok(mut cache) = self.key_cache.0.lock() {
            cache.insert(cert.id, key.clone());
        }
        Ok(key)
    }
}

/// The associated data binding a sealed key to its record.
fn seal_label(tenant: TenantId, app: AppId, id: uuid::Uuid) -> String {
    format!("sesame/app-signing-key/{tenant}/{app}/{id}")
}

fn base64_std(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn base64_decode(s: &str) -> CoreResult<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|_| CoreError::Internal("stored certificate is not base64".into()))
}

/// An absolute https URL, or http on a loopback host (local development and tests).
fn check_url(field: &str, value: &str) -> CoreResult<()> {
    let bad = |why: &str| CoreError::invalid(field, format!("{value:?} {why}"));
    if value.len() > 2048 {
        return Err(bad("is longer than 2048 characters"));
    }
    let url = url::Url::parse(value).map_err(|_| bad("is not an absolute URL"))?;
    if url.fragment().is_some() {
        return Err(bad("must not have a #fragment"));
    }
    let loopback = matches!(url.host_str(), Some("localhost") | Some("[::1]"))
        || url.host_str().is_some_and(|h| h.starts_with("127."));
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(bad(
            "must use https (http is accepted only on loopback hosts)",
        )),
    }
}

/// Checks settings before they are stored, so a bad value fails the admin call, not a sign-in.
pub fn validate_saml_settings(s: &SamlAppSettings) -> CoreResult<()> {
    if s.identifiers.is_empty() || s.identifiers.len() > 50 {
        return Err(CoreError::invalid(
            "identifiers",
            "give 1 to 50 identifiers (entityIDs)",
        ));
    }
    let mut seen = HashSet::new();
    for id in &s.identifiers {
        if id.is_empty()
            || id.len() > 1024
            || id.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(CoreError::invalid(
                "identifiers",
                format!("{id:?} is not a valid identifier"),
            ));
        }
        if !seen.insert(id) {
            return Err(CoreError::invalid(
                "identifiers",
                format!("{id:?} is listed twice"),
            ));
        }
    }
    if s.reply_urls.is_empty() || s.reply_urls.len() > 256 {
        return Err(CoreError::invalid("replyUrls", "give 1 to 256 reply URLs"));
    }
    let mut indexes = HashSet::new();
    for r in &s.reply_urls {
        check_url("replyUrls", &r.url)?;
        if !indexes.insert(r.index) {
            return Err(CoreError::invalid(
                "replyUrls",
                format!("index {} is used twice", r.index),
            ));
        }
    }
    if s.reply_urls.iter().filter(|r| r.is_default).count() > 1 {
        return Err(CoreError::invalid(
            "replyUrls",
            "at most one reply URL can be the default",
        ));
    }
    for (field, v) in [
        ("signOnUrl", &s.sign_on_url),
        ("logoutUrl", &s.logout_url),
        ("logoutResponseUrl", &s.logout_response_url),
        ("backChannelLogoutUrl", &s.back_channel_logout_url),
    ] {
        if let Some(v) = v {
            check_url(field, v)?;
        }
    }
    if let Some(problem) = s.relay_state.as_deref().and_then(relay_state_problem) {
        return Err(CoreError::invalid("relayState", problem));
    }
    if s.attributes.len() > 100 {
        return Err(CoreError::invalid(
            "attributes",
            "at most 100 attribute statements",
        ));
    }
    let mut names = HashSet::new();
    for a in &s.attributes {
        if a.name.trim().is_empty() || a.name.len() > 1024 {
            return Err(CoreError::invalid(
                "attributes",
                "every attribute needs a name",
            ));
        }
        if !names.insert((&a.name, &a.name_format)) {
            return Err(CoreError::invalid(
                "attributes",
                format!("attribute {:?} is mapped twice", a.name),
            ));
        }
    }
    if !(60..=86_400).contains(&s.assertion_lifetime_secs) {
        return Err(CoreError::invalid(
            "assertionLifetimeSecs",
            "must be between 60 and 86400",
        ));
    }
    if let Some(pem) = &s.encryption_certificate {
        EncryptionRecipient::from_certificate_pem(pem).map_err(|e| {
            CoreError::invalid(
                "encryptionCertificate",
                format!("not a usable RSA certificate: {e}"),
            )
        })?;
    }
    let mut trusted = TrustedKeys::new();
    for pem in &s.verification_certificates {
        trusted.add_certificate_pem(pem).map_err(|e| {
            CoreError::invalid(
                "verificationCertificates",
                format!("not a usable certificate: {e}"),
            )
        })?;
    }
    if s.require_signed_requests && s.verification_certificates.is_empty() {
        return Err(CoreError::invalid(
            "verificationCertificates",
            "signed requests are required but no verification certificate is configured",
        ));
    }
    Ok(())
}

/// SAML settings filled from an SP's metadata (SAML-IDP-1): its entityID, every HTTP-POST
/// AssertionConsumerService with its index, the front-channel SingleLogoutService (Redirect,
/// else POST) and the SOAP one (the back channel), its
/// certificates (signing → request verification, encryption → token encryption), whether it
/// signs requests, and the first NameID format it lists that Sésame produces.
pub fn saml_settings_from_metadata(xml: &str) -> CoreResult<SamlAppSettings> {
    let md = sesame_saml::parse_sp_metadata(xml).map_err(|e| {
        CoreError::invalid(
            "metadata",
            format!("the SP metadata cannot be used ({}): {e}", e.rule()),
        )
    })?;
    let post = sesame_saml::ns::BINDING_HTTP_POST;
    let reply_urls: Vec<ReplyUrl> = md
        .assertion_consumer_services
        .iter()
        .filter(|e| e.binding == post)
        .map(|e| ReplyUrl {
            url: e.location.clone(),
            index: e.index,
            is_default: e.is_default == Some(true),
        })
        .collect();
    if reply_urls.is_empty() {
        return Err(CoreError::invalid(
            "metadata",
            "the SP metadata has no HTTP-POST AssertionConsumerService",
        ));
    }
    // HTTP-Redirect when the SP offers it (the smaller message), else HTTP-POST.
    let slo = |binding: &str| {
        md.single_logout_services
            .iter()
            .find(|e| e.binding == binding)
    };
    let (logout, logout_binding) = match (
        slo(sesame_saml::ns::BINDING_HTTP_REDIRECT),
        slo(sesame_saml::ns::BINDING_HTTP_POST),
    ) {
        (None, Some(post)) => (Some(post), SamlLogoutBinding::Post),
        (redirect, _) => (redirect, SamlLogoutBinding::Redirect),
    };
    let logout_url = logout.map(|e| e.location.clone());
    let logout_response_url = logout.and_then(|e| e.response_location.clone());
    let back_channel_logout_url = slo(sesame_saml::ns::BINDING_SOAP).map(|e| e.location.clone());
    let format = md
        .name_id_formats
        .iter()
        .find_map(|f| NameIdFormat::from_urn(f));
    let name_id = match format {
        Some(NameIdFormat::Persistent) => NameIdSettings {
            format: NameIdFormat::Persistent,
            source: NameIdSource::Pairwise,
        },
        Some(NameIdFormat::Transient) => NameIdSettings {
            format: NameIdFormat::Transient,
            source: NameIdSource::Pairwise,
        },
        _ => NameIdSettings::default(),
    };
    let settings = SamlAppSettings {
        identifiers: vec![md.entity_id.clone()],
        reply_urls,
        sign_on_url: None,
        logout_url,
        logout_binding,
        logout_response_url,
        back_channel_logout_url,
        relay_state: None,
        name_id,
        attributes: default_attributes(),
        signing_mode: SigningMode::Assertion,
        signature_algorithm: SamlSignatureAlgorithm::RsaSha256,
        assertion_lifetime_secs: 3600,
        encryption_certificate: md
            .encryption_certificates
            .first()
            .map(|der| pem("CERTIFICATE", der)),
        encryption_method: content_encryption_for(&md.encryption_methods),
        require_signed_requests: md.authn_requests_signed && !md.signing_certificates.is_empty(),
        verification_certificates: md
            .signing_certificates
            .iter()
            .map(|der| pem("CERTIFICATE", der))
            .collect(),
    };
    validate_saml_settings(&settings)?;
    Ok(settings)
}

/// PEM text of DER bytes (RFC 7468), lines of 64 characters.
fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64_std(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

impl Core {
    /// The tenant's own signing key (tenant-wide IdP metadata, SP metadata), created on first
    /// use: RSA-2048, three years, sealed with the master key, parsed once and cached.
    pub async fn tenant_signing_key(&self, tenant: TenantId) -> CoreResult<Arc<SigningKey>> {
        let cache_id = tenant.as_uuid();
        if let Some(k) = self
            .key_cache
            .0
            .lock()
            .ok()
            .and_then(|c| c.get(&cache_id).cloned())
        {
            return Ok(k);
        }
        let cert = match self.store.get_tenant_certificate(tenant).await {
            Ok(c) => c,
            Err(sesame_store::StoreError::NotFound(_)) => {
                self.create_tenant_certificate(tenant).await?
            }
            Err(e) => return Err(e.into()),
        };
        let label = format!("sesame/tenant-signing-key/{tenant}");
        let pkcs8 = self.master_key()?.open(&label, &cert.sealed_private_key)?;
        let der = base64_decode(&cert.certificate)?;
        let key = Arc::new(
            SigningKey::from_pkcs8_der(&pkcs8, &der)
                .map_err(|e| CoreError::Internal(format!("stored tenant key unusable: {e}")))?,
        );
        if let Ok(mut cache) = self.key_cache.0.lock() {
            cache.insert(cache_id, key.clone());
        }
        Ok(key)
    }

    async fn create_tenant_certificate(&self, tenant: TenantId) -> CoreResult<TenantCertificate> {
        let master = self.master_key()?;
        let now = self.now();
        let generated = tokio::task::spawn_blocking(move || {
            keys::generate_signing_certificate(CERT_SUBJECT, now)
        })
        .await
        .map_err(|e| CoreError::Internal(format!("key generation task: {e}")))??;
        let cert = TenantCertificate {
            tenant_id: tenant,
            certificate: base64_std(&generated.certificate_der),
            thumbprint: keys::thumbprint(&generated.certificate_der),
            sealed_private_key: master.seal(
                &format!("sesame/tenant-signing-key/{tenant}"),
                &generated.private_key_pkcs8,
            )?,
            not_before: generated.not_before,
            not_after: generated.not_after,
            created_at: now,
        };
        match self.store.create_tenant_certificate(&cert).await {
            Ok(()) => Ok(cert),
            // Another node created it first: use theirs.
            Err(sesame_store::StoreError::Conflict(_)) => {
                Ok(self.store.get_tenant_certificate(tenant).await?)
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_import_keeps_the_logout_response_location() {
        let md = |slo: &str| {
            format!(
                r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example/sp"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{slo}<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example/acs" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>"#
            )
        };
        let redirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
        let with = md(&format!(
            r#"<md:SingleLogoutService Binding="{redirect}" Location="https://sp.example/slo" ResponseLocation="https://sp.example/slo/answers"/>"#
        ));
        let s = saml_settings_from_metadata(&with).unwrap();
        assert_eq!(s.logout_url.as_deref(), Some("https://sp.example/slo"));
        assert_eq!(
            s.logout_response_url.as_deref(),
            Some("https://sp.example/slo/answers")
        );
        let without = md(&format!(
            r#"<md:SingleLogoutService Binding="{redirect}" Location="https://sp.example/slo"/>"#
        ));
        let s = saml_settings_from_metadata(&without).unwrap();
        assert_eq!(s.logout_url.as_deref(), Some("https://sp.example/slo"));
        assert_eq!(s.logout_response_url, None);
        assert_eq!(s.logout_binding, SamlLogoutBinding::Redirect);
        // HTTP-Redirect preferred; HTTP-POST when it is all the SP takes.
        let post = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
        let both = md(&format!(
            r#"<md:SingleLogoutService Binding="{post}" Location="https://sp.example/slo/post"/><md:SingleLogoutService Binding="{redirect}" Location="https://sp.example/slo"/>"#
        ));
        let s = saml_settings_from_metadata(&both).unwrap();
        assert_eq!(s.logout_url.as_deref(), Some("https://sp.example/slo"));
        assert_eq!(s.logout_binding, SamlLogoutBinding::Redirect);
        let only_post = md(&format!(
            r#"<md:SingleLogoutService Binding="{post}" Location="https://sp.example/slo/post"/>"#
        ));
        let s = saml_settings_from_metadata(&only_post).unwrap();
        assert_eq!(s.logout_url.as_deref(), Some("https://sp.example/slo/post"));
        assert_eq!(s.logout_binding, SamlLogoutBinding::Post);
        assert_eq!(s.back_channel_logout_url, None);
        // A SOAP endpoint is the back channel, beside a front-channel one or alone.
        let soap = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP";
        let shibboleth_like = md(&format!(
            r#"<md:SingleLogoutService Binding="{soap}" Location="https://sp.example/SLO/SOAP"/><md:SingleLogoutService Binding="{redirect}" Location="https://sp.example/SLO/Redirect"/>"#
        ));
        let s = saml_settings_from_metadata(&shibboleth_like).unwrap();
        assert_eq!(
            s.logout_url.as_deref(),
            Some("https://sp.example/SLO/Redirect")
        );
        assert_eq!(
            s.back_channel_logout_url.as_deref(),
            Some("https://sp.example/SLO/SOAP")
        );
        let only_soap = md(&format!(
            r#"<md:SingleLogoutService Binding="{soap}" Location="https://sp.example/SLO/SOAP"/>"#
        ));
        let s = saml_settings_from_metadata(&only_soap).unwrap();
        assert_eq!(s.logout_url, None);
        assert_eq!(
            s.back_channel_logout_url.as_deref(),
            Some("https://sp.example/SLO/SOAP")
        );
    }

    #[test]
    fn content_encryption_follows_what_the_sp_lists() {
        let uris = |list: &[ContentEncryption]| -> Vec<String> {
            list.iter().map(|c| c.uri().to_string()).collect()
        };
        let cbc = SamlContentEncryption::Aes128Cbc;
        let gcm = SamlContentEncryption::Aes256Gcm;
        assert_eq!(content_encryption_for(&[]), gcm, "nothing listed");
        assert_eq!(
            content_encryption_for(&uris(&[ContentEncryption::Aes128Cbc])),
            cbc
        );
        assert_eq!(
            content_encryption_for(&uris(&[
                ContentEncryption::Aes128Cbc,
                ContentEncryption::Aes128Gcm
            ])),
            gcm,
            "a GCM cipher listed too"
        );
        assert_eq!(
            content_encryption_for(&uris(&[ContentEncryption::Aes256Cbc])),
            gcm,
            "nothing Sésame picks"
        );
    }
}
