//! Talking to a provisioning target: the transport the binary provides (HTTP), and a client
//! over it that spaces requests (rate limit), retries 429 and 5xx answers with exponential
//! backoff honouring `Retry-After` (RFC 9110 §10.2.3), and names each request for the log.

use async_trait::async_trait;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::{Interval, MissedTickBehavior};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimMethod {
    Get,
    Post,
    Patch,
    Delete,
}

impl ScimMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ScimMethod::Get => "GET",
            ScimMethod::Post => "POST",
            ScimMethod::Patch => "PATCH",
            ScimMethod::Delete => "DELETE",
        }
    }
}

/// One request to a target. `url` is absolute.
#[derive(Debug, Clone)]
pub struct ScimCall {
    pub method: ScimMethod,
    pub url: String,
    pub bearer: String,
    pub body: Option<Value>,
}

/// The target's answer; `body` is the parsed JSON, when there was some.
#[derive(Debug, Clone)]
pub struct ScimReply {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: Option<Value>,
}

impl ScimReply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The SCIM error `detail` (RFC 7644 §3.12), or the status alone.
    pub fn detail(&self) -> String {
        let detail = self
            .body
            .as_ref()
            .and_then(|b| b.get("detail"))
            .and_then(Value::as_str)
            .map(|d| d.chars().take(300).collect::<String>());
        match detail {
            Some(d) => format!("HTTP {}: {d}", self.status),
            None => format!("HTTP {}", self.status),
        }
    }
}

/// Sends SCIM requests; `Err` is a failure to get any answer (connection, timeout), with a
/// message people can read.
#[async_trait]
pub trait ScimTransport: Send + Sync {
    async fn send(&self, call: &ScimCall) -> Result<ScimReply, String>;
}

/// Retry behaviour; the defaults suit real targets, tests shorten them.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff; it doubles at each retry.
    pub base: Duration,
    /// No single wait is longer, whatever `Retry-After` says.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            base: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
        }
    }
}

/// What a request ended with, for the log.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// `POST /Users`, relative to the tenant URL, without the query.
    pub request: String,
    pub reply: Result<ScimReply, String>,
}

impl Exchange {
    pub fn status(&self) -> Option<u16> {
        self.reply.as_ref().ok().map(|r| r.status)
    }
}

/// A client bound to one target: base URL, token, rate limit and retries.
pub struct TargetClient {
    transport: Arc<dyn ScimTransport>,
    base: String,
    bearer: String,
    retry: RetryPolicy,
    /// One tick per request when rate-limited (the first is immediate; a late tick does not
    /// make the next ones come faster).
    slots: Option<Mutex<Interval>>,
}

fn retryable(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status) && status != 501
}

impl TargetClient {
    pub fn new(
        transport: Arc<dyn ScimTransport>,
        base: &str,
        bearer: String,
        rate_limit: u32,
        retry: RetryPolicy,
    ) -> Self {
        TargetClient {
            transport,
            base: base.trim_end_matches('/').to_owned(),
            bearer,
            retry,
            slots: (rate_limit > 0).then(|| {
                let mut slots = tokio::time::interval(Duration::from_secs(1) / rate_limit);
                slots.set_missed_tick_behavior(MissedTickBehavior::Delay);
                Mutex::new(slots)
            }),
        }
    }

    async fn wait_for_slot(&self) {
        if let Some(slots) = &self.slots {
            slots.lock().await.tick().await;
        }
    }

    /// Sends `method path` (path relative to the tenant URL, with its query), retrying
    /// transport failures, 429 and 5xx.
    pub async fn call(&self, method: ScimMethod, path: &str, body: Option<Value>) -> Exchange {
        let shown = path.split('?').next().unwrap_or(path);
        let call = ScimCall {
            method,
            url: format!("{}{path}", self.base),
            bearer: self.bearer.clone(),
            body,
        };
        let mut attempt = 0;
        loop {
            self.wait_for_slot().await;
            let reply = self.transport.send(&call).await;
            let again = match &reply {
                Ok(r) => retryable(r.status),
                Err(_) => true,
            };
            if !again || attempt >= self.retry.max_retries {
                return Exchange {
                    request: format!("{} {shown}", method.as_str()),
                    reply,
                };
            }
            let backoff = self.retry.base.saturating_mul(1 << attempt.min(16));
            let wait = reply
                .as_ref()
                .ok()
                .and_then(|r| r.retry_after)
                .unwrap_or(backoff)
                .min(self.retry.max_wait);
            tracing::debug!(request = %shown, attempt, wait_ms = wait.as_millis() as u64, "provisioning request retried");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}
