//! The HTTP side of Single Logout's back channel: SOAP calls to applications' SOAP
//! SingleLogoutService (SAML bindings 2.0 §3.2.3).

use crate::outbound::OutboundTargets;
use async_trait::async_trait;
use sesame_core::slo::{SoapClient, SoapReply};
use sesame_saml::bindings::{MAX_SOAP_BYTES, SOAP_ACTION, SOAP_CONTENT_TYPE};
use std::time::Duration;

pub struct HttpSoapClient {
    client: reqwest::Client,
    targets: OutboundTargets,
}

impl HttpSoapClient {
    /// A logout waits for its slowest application: a few seconds at most.
    pub fn new(targets: OutboundTargets) -> anyhow::Result<Self> {
        Self::with_timeout(targets, Duration::from_secs(5))
    }

    fn with_timeout(targets: OutboundTargets, timeout: Duration) -> anyhow::Result<Self> {
        let client = targets
            .client_builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .user_agent(concat!("Sesame/", env!("CARGO_PKG_VERSION"), " logout"))
            .build()?;
        Ok(HttpSoapClient { client, targets })
    }
}

#[async_trait]
impl SoapClient for HttpSoapClient {
    async fn call(&self, url: &str, envelope: String) -> Result<SoapReply, String> {
        self.targets.check_url(url)?;
        let mut resp = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, SOAP_CONTENT_TYPE)
            // SOAP 1.1 writes the action as a quoted string.
            .header("SOAPAction", format!("\"{SOAP_ACTION}\""))
            // Bindings §3.2.3.2: neither the request nor its answer is to be cached.
            .header(reqwest::header::CACHE_CONTROL, "no-cache, no-store")
            .header(reqwest::header::PRAGMA, "no-cache")
            .body(envelope)
            .send()
            .await
            .map_err(|e| crate::outbound::describe(&e))?;
        let status = resp.status().as_u16();
        // 200 carries the answer; 500 a SOAP fault (bindings §3.2.3.3 and SOAP 1.1 §6.2).
        if status != 200 && status != 500 {
            return Err(format!("the application answered HTTP {status}"));
        }
        let body = crate::outbound::read_capped(&mut resp, MAX_SOAP_BYTES).await?;
        let body = String::from_utf8(body).map_err(|_| "the answer is not UTF-8".to_string())?;
        Ok(SoapReply { status, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripted_http::scripted;

    const ENVELOPE: &str =
        "<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"><S:Body/></S:Envelope>";

    #[tokio::test]
    async fn posts_the_envelope_with_the_soap_headers_and_reads_the_answer() {
        let answer: &'static str = Box::leak(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{ENVELOPE}",
                ENVELOPE.len()
            )
            .into_boxed_str(),
        );
        let (url, seen) = scripted(vec![answer]).await;
        let client = HttpSoapClient::new(OutboundTargets::Internal).unwrap();
        let got = client.call(&format!("{url}/slo/soap"), "<x/>".into()).await;
        assert_eq!(
            got.map(|r| (r.status, r.body)),
            Ok((200, ENVELOPE.to_string()))
        );
        let request = seen.requests.lock().unwrap()[0].clone();
        let lower = request.to_ascii_lowercase();
        assert!(
            request.starts_with("POST /slo/soap HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(
            lower.contains("content-type: text/xml; charset=utf-8\r\n"),
            "{request}"
        );
        for header in [
            "soapaction: \"http://www.oasis-open.org/committees/security\"\r\n",
            "cache-control: no-cache, no-store\r\n",
            "pragma: no-cache\r\n",
        ] {
            assert!(lower.contains(header), "{header} {request}");
        }
        assert!(request.ends_with("\r\n\r\n<x/>"), "{request}");
    }

    #[tokio::test]
    async fn faults_are_read_and_other_answers_refused() {
        let (url, _) = scripted(vec![
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 6\r\nConnection: close\r\n\r\nfault!",
            "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        ])
        .await;
        let client = HttpSoapClient::new(OutboundTargets::Internal).unwrap();
        assert_eq!(
            client.call(&url, String::new()).await,
            Ok(SoapReply {
                status: 500,
                body: "fault!".into()
            })
        );
        // Redirects are not followed: the registered URL is the one trusted.
        assert_eq!(
            client.call(&url, String::new()).await,
            Err("the application answered HTTP 302".into())
        );
        assert_eq!(
            client.call(&url, String::new()).await,
            Err("the application answered HTTP 404".into())
        );
        // Nobody listening.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", l.local_addr().unwrap())
        };
        assert!(client.call(&closed, String::new()).await.is_err());
    }

    #[tokio::test]
    async fn a_silent_application_times_out() {
        // Accepts the connection, never answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let held = tokio::spawn(async move {
            let (_sock, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        let client =
            HttpSoapClient::with_timeout(OutboundTargets::Internal, Duration::from_millis(300))
                .unwrap();
        let got = client.call(&url, String::new()).await;
        assert_eq!(got, Err("the target did not answer in time".into()));
        held.abort();
    }

    #[tokio::test]
    async fn an_oversized_answer_is_refused() {
        let big: &'static str = Box::leak(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n{}",
                "x".repeat(MAX_SOAP_BYTES + 1),
                n = MAX_SOAP_BYTES + 1
            )
            .into_boxed_str(),
        );
        let (url, _) = scripted(vec![big]).await;
        let got = HttpSoapClient::new(OutboundTargets::Internal)
            .unwrap()
            .call(&url, String::new())
            .await;
        assert!(got.is_err_and(|e| e.contains("larger than")));
    }
}
