//! Tests' loopback HTTP server with scripted answers, for the outbound clients.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What a scripted server saw: how many requests, and each one (head and body) as text.
#[derive(Default)]
pub struct Seen {
    pub count: AtomicUsize,
    pub requests: Mutex<Vec<String>>,
}

/// A loopback HTTP server answering the n-th request with `answers[n]` (the last one
/// repeats); returns its base URL and what it saw.
pub async fn scripted(answers: Vec<&'static str>) -> (String, Arc<Seen>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Seen::default());
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let n = log.count.fetch_add(1, Ordering::SeqCst);
            let answer = answers[n.min(answers.len() - 1)];
            let mut buf = vec![0u8; 65536];
            let mut got = Vec::new();
            // The head, then as much body as Content-Length says.
            let complete = |got: &[u8]| {
                let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
                    return false;
                };
                let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                got.len() >= end + 4 + length
            };
            while !complete(&got) {
                match sock.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(k) => got.extend_from_slice(&buf[..k]),
                }
            }
            log.requests
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&got).into_owned());
            let _ = sock.write_all(answer.as_bytes()).await;
            let _ = sock.shutdown().await;
        }
    });
    (url, seen)
}
