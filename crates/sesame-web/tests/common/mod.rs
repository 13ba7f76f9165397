//! A router on an in-memory SQLite store, with a global admin token, for API tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use sesame_core::{Core, CoreSettings, PasswordHasher, SystemClock, TxtResolver};
use sesame_web::{AppState, Metrics, WebConfig};
use std::sync::Arc;
use tower::ServiceExt;

pub const ADMIN: &str = "sesame_at_test-global-admin-token-0123456789";

struct NoDns;

#[async_trait]
impl TxtResolver for NoDns {
    async fn txt_records(&self, _: &str) -> Result<Vec<String>, String> {
        Ok(Vec::new())
    }
}

pub struct Api {
    pub router: Router,
    pub core: Core,
}

pub async fn api() -> Api {
    api_at("http://127.0.0.1:8080").await
}

/// The router of a server whose users reach it at `public_url`.
pub async fn api_at(public_url: &str) -> Api {
    api_with(public_url, None).await
}

/// Also with Single Logout's back channel going to `soap`.
pub async fn api_with(
    public_url: &str,
    soap: Option<Arc<dyn sesame_core::slo::SoapClient>>,
) -> Api {
    let store = sesame_store_sql::open("sqlite::memory:").await.unwrap();
    let mut core = Core::new(
        store,
        Arc::new(SystemClock),
        Arc::new(NoDns),
        PasswordHasher::with_params(256, 1, 1).unwrap(),
        CoreSettings::default(),
    )
    .with_master_key(sesame_core::keys::MasterKey::from_bytes(&[7u8; 32]).unwrap());
    if let Some(soap) = soap {
        core = core.with_soap_client(soap);
    }
    core.install_admin_token("test", ADMIN).await.unwrap();
    let state = AppState {
        core: core.clone(),
        config: Arc::new(WebConfig {
            public_url: public_url.into(),
        }),
        metrics: Arc::new(Metrics::default()),
    };
    Api {
        router: sesame_web::router(state),
        core,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
    pub text: String,
}

impl Api {
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some((ct, bytes)) => req.header("content-type", ct).body(Body::from(bytes)),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let content_type = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            content_type,
            body,
            text,
        }
    }

    pub async fn json(&self, method: &str, path: &str, body: Value) -> Reply {
        self.call(
            method,
            path,
            Some(ADMIN),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call("GET", path, Some(ADMIN), None).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call("DELETE", path, Some(ADMIN), None).await
    }
}

impl Api {
    /// The LogoutRequest a sign-out sent to a federated IdP: `location` must be `logoff`
    /// with a Redirect-binding query whose signature verifies with the tenant's SP key (the
    /// one its SP metadata publishes).
    pub async fn idp_logout_request(
        &self,
        tenant: sesame_model::TenantId,
        location: &str,
        logoff: &str,
    ) -> sesame_saml::LogoutRequest {
        let query = location
            .strip_prefix(&format!("{logoff}?"))
            .unwrap_or_else(|| panic!("{location}"));
        let message = sesame_saml::decode_redirect(query).unwrap();
        let key = self.core.tenant_signing_key(tenant).await.unwrap();
        let mut trusted = sesame_xmlsec::TrustedKeys::new();
        trusted.add_certificate_der(key.certificate_der()).unwrap();
        sesame_saml::verify_redirect_signature(
            &message,
            &trusted,
            &sesame_xmlsec::AllowedAlgorithms::default(),
        )
        .unwrap();
        let request = sesame_saml::parse_logout_request(&message.xml).unwrap();
        assert_eq!(request.header.destination.as_deref(), Some(logoff));
        request
    }
}
