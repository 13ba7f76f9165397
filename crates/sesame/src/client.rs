//! The admin API client behind the CLI subcommands.

use anyhow::{Context, anyhow};
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    pub fn new(server: &str, token: Option<String>) -> anyhow::Result<Self> {
        let token = token.ok_or_else(|| {
            anyhow!(
                "no admin token: pass --token or set SESAME_TOKEN (serve prints one on first start)"
            )
        })?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Client {
            http,
            base: format!("{}/api/v1", server.trim_end_matches('/')),
            token,
        })
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> anyhow::Result<Value> {
        self.send(Method::DELETE, path, None).await
    }

    /// Every item of a paginated list, following `nextCursor`.
    pub async fn get_all(&self, path: &str) -> anyhow::Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = match &cursor {
                Some(c) => format!("{path}{sep}limit=1000&cursor={}", urlencoding::encode(c)),
                None => format!("{path}{sep}limit=1000"),
            };
            let page = self.get(&url).await?;
            if let Some(arr) = page.get("items").and_then(Value::as_array) {
                items.extend(arr.iter().cloned());
            }
            match page.get("nextCursor").and_then(Value::as_str) {
                Some(c) => cursor = Some(c.to_string()),
                None => return Ok(items),
            }
        }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req
            .send()
            .await
            .map_err(|e| anyhow!("cannot reach Sésame at {}: {}", self.base, root_cause(&e)))?;
        let status = res.status();
        let text = res.text().await.context("reading the response")?;
        if status.is_success() {
            if status == StatusCode::NO_CONTENT || text.is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&text).context("the server sent invalid JSON");
        }
        let problem: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let detail = problem
            .get("detail")
            .and_then(Value::as_str)
            .unwrap_or(text.as_str());
        let code = problem.get("code").and_then(Value::as_str).unwrap_or("");
        Err(anyhow!("{detail} ({code}, HTTP {})", status.as_u16()))
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Percent-encodes one path segment (UPNs contain `@`, domains are safe).
pub fn seg(s: &str) -> String {
    urlencoding::encode(s).into_owned()
}
