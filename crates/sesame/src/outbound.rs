//! What the server's outbound HTTP clients share (SCIM provisioning, metadata refresh, the
//! logout back channel): reading a bounded answer, and saying why a call failed.

/// The answer's body, refused beyond `max` bytes (a peer that sends more is failing).
pub async fn read_capped(resp: &mut reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e))? {
        if body.len() + chunk.len() > max {
            return Err(format!("the answer is larger than {max} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A failed call in words people can read.
pub fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the target did not answer in time".into()
    } else if e.is_connect() {
        "cannot connect to the target".into()
    } else {
        format!("request failed: {e}")
    }
}
