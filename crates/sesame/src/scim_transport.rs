//! The HTTP transport of outbound provisioning: SCIM requests to applications' endpoints.

use crate::outbound::OutboundTargets;
use async_trait::async_trait;
use sesame_core::provisioning::{ScimCall, ScimReply, ScimTransport, target::ScimMethod};
use std::time::Duration;

/// Largest SCIM answer read; a target sending more is treated as failing.
const MAX_BODY: usize = 16 * 1024 * 1024;

pub struct HttpScimTransport {
    client: reqwest::Client,
    targets: OutboundTargets,
}

impl HttpScimTransport {
    pub fn new(targets: OutboundTargets) -> anyhow::Result<Self> {
        let client = targets
            .client_builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!(
                "Sesame/",
                env!("CARGO_PKG_VERSION"),
                " provisioning"
            ))
            .build()?;
        Ok(HttpScimTransport { client, targets })
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
        self.targets.check_url(&call.url)?;
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
        let mut resp = req
            .send()
            .await
            .map_err(|e| crate::outbound::describe(&e))?;
        let status = resp.status().as_u16();
        let retry_after = retry_after(resp.headers());
        let body = crate::outbound::read_capped(&mut resp, MAX_BODY).await?;
        Ok(ScimReply {
            status,
            retry_after,
            body: serde_json::from_slice(&body).ok(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripted_http::scripted;
    use sesame_core::provisioning::RetryPolicy;
    use sesame_core::provisioning::target::TargetClient;
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    const TOO_MANY: &str = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    const UNAVAILABLE: &str =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    const CREATED: &str = "HTTP/1.1 201 Created\r\nContent-Type: application/scim+json\r\nContent-Length: 10\r\nConnection: close\r\n\r\n{\"id\":\"x\"}";
    const BAD: &str = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/scim+json\r\nContent-Length: 33\r\nConnection: close\r\n\r\n{\"detail\":\"userName is required\"}";

    fn client(url: &str, retries: u32) -> TargetClient {
        TargetClient::new(
            Arc::new(HttpScimTransport::new(OutboundTargets::Internal).unwrap()),
            url,
            "secret".into(),
            0,
            RetryPolicy {
                max_retries: retries,
                base: Duration::from_millis(10),
                max_wait: Duration::from_secs(5),
            },
        )
    }

    #[tokio::test]
    async fn retries_429_after_retry_after_and_5xx_with_backoff() {
        let (url, seen) = scripted(vec![TOO_MANY, UNAVAILABLE, CREATED]).await;
        let started = std::time::Instant::now();
        let ex = client(&url, 4)
            .call(ScimMethod::Post, "/Users", Some(serde_json::json!({})))
            .await;
        let reply = ex.reply.unwrap();
        assert_eq!(reply.status, 201);
        assert_eq!(reply.body.unwrap()["id"], "x");
        assert_eq!(seen.count.load(Ordering::SeqCst), 3);
        assert_eq!(ex.request, "POST /Users");
        // Retry-After: 1 was honoured (the backoff alone would be 10 ms + 20 ms).
        assert!(started.elapsed() >= Duration::from_secs(1));
    }

    #[tokio::test]
    async fn client_errors_are_not_retried_and_keep_their_detail() {
        let (url, seen) = scripted(vec![BAD]).await;
        let ex = client(&url, 4)
            .call(ScimMethod::Post, "/Users?x=1", None)
            .await;
        let reply = ex.reply.unwrap();
        assert_eq!(reply.status, 400);
        assert_eq!(reply.detail(), "HTTP 400: userName is required");
        assert_eq!(seen.count.load(Ordering::SeqCst), 1);
        assert_eq!(ex.request, "POST /Users");
    }

    #[tokio::test]
    async fn retries_stop_after_the_limit() {
        let (url, seen) = scripted(vec![UNAVAILABLE]).await;
        let ex = client(&url, 2).call(ScimMethod::Get, "/Users", None).await;
        assert_eq!(ex.status(), Some(503));
        assert_eq!(seen.count.load(Ordering::SeqCst), 3);
        // Nobody listens: a readable transport error, after the retries.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let ex = client(&format!("http://127.0.0.1:{port}"), 1)
            .call(ScimMethod::Get, "/Users", None)
            .await;
        assert_eq!(ex.reply.unwrap_err(), "cannot connect to the target");
    }
}
