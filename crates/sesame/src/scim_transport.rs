//! The HTTP transport of outbound provisioning: SCIM requests to applications' endpoints.

use async_trait::async_trait;
use sesame_core::provisioning::{ScimCall, ScimReply, ScimTransport, target::ScimMethod};
use std::time::Duration;

/// Largest SCIM answer read; a target sending more is treated as failing.
const MAX_BODY: usize = 16 * 1024 * 1024;

pub struct HttpScimTransport {
    client: reqwest::Client,
}

impl HttpScimTransport {
    pub fn new() -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "Sesame/",
                env!("CARGO_PKG_VERSION"),
                " provisioning"
            ))
            .build()?;
        Ok(HttpScimTransport { client })
    }
}

/// `Retry-After` in seconds (RFC 9110 §10.2.3); an HTTP date is read as "soon".
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    match v.trim().parse::<u64>() {
        Ok(s) => Some(Duration::from_secs(s)),
        Err(_) => Some(Duration::from_secs(1)),
    }
}

#[async_trait]
impl ScimTransport for HttpScimTransport {
    async fn send(&self, call: &ScimCall) -> Result<ScimReply, String> {
        let method = match call.method {
            ScimMethod::Get => reqwest::Method::GET,
            ScimMethod::Post => reqwest::Method::POST,
            ScimMethod::Patch => reqwest::Method::PATCH,
            ScimMethod::Delete => reqwest::Method::DELETE,
        };
        let mut req = self
            .client
            .request(method, &call.url)
            .bearer_auth(&call.bearer)
            .header(
                reqwest::header::ACCEPT,
                "application/scim+json, application/json",
            );
        if let Some(body) = &call.body {
            let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/scim+json")
                .body(bytes);
        }
        let mut resp = req.send().await.map_err(|e| describe(&e))?;
        let status = resp.status().as_u16();
        let retry_after = retry_after(resp.headers());
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(format!("the answer is larger than {MAX_BODY} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(ScimReply {
            status,
            retry_after,
            body: serde_json::from_slice(&body).ok(),
        })
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the target did not answer in time".into()
    } else if e.is_connect() {
        "cannot connect to the target".into()
    } else {
        format!("request failed: {e}")
    }
}
