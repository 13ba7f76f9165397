//! HTTP-POST binding (SAML bindings 2.0 §3.5): the base64 form value, and the auto-submitting
//! HTML form that carries a message through the browser.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::MessageKind;
use crate::error::{Result, SamlError};
use crate::xml::escape_attr_into;

/// Bound on the base64 form value we decode (a Response with many attributes is < 200 KB).
pub const MAX_POST_BYTES: usize = 4 * 1024 * 1024;

/// Decodes the base64 value of a `SAMLRequest` / `SAMLResponse` form field into the XML text.
///
/// Bindings §3.5.4: the value is base64 of the XML, never DEFLATE-compressed; a compressed body
/// (which some libraries accept) is refused here.
///
/// # Errors
/// `Binding` for an oversized value, bad base64, non-UTF-8 or non-XML content.
pub fn decode_post(value: &str) -> Result<String> {
    if value.len() > MAX_POST_BYTES {
        return Err(SamlError::Binding("form value too long"));
    }
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = B64
        .decode(compact)
        .map_err(|_| SamlError::Binding("form value is not base64"))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        SamlError::Binding("form value is not UTF-8 XML (DEFLATE is not allowed in HTTP-POST)")
    })?;
    let start = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if !start.starts_with('<') {
        return Err(SamlError::Binding("form value is not XML"));
    }
    Ok(text)
}

/// How the page submits itself. Every variant also shows a Continue button, so the page works
/// with JavaScript off (bindings §3.5.3 allows a user-submitted form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoSubmit<'a> {
    /// No script at all: the user presses Continue.
    Manual,
    /// An inline script carrying this CSP nonce (`script-src 'nonce-…'`); the caller makes the
    /// nonce fresh per response and sends the matching header.
    InlineWithNonce(&'a str),
    /// An external script at this URL (e.g. `/static/autosubmit.js`, allowed by
    /// `script-src 'self'`) that submits `document.forms[0]`: no inline script, no nonce.
    ScriptSrc(&'a str),
}

/// The HTML page that POSTs `xml` (base64) and `relay_state` to `action_url`.
///
/// Every value is HTML-escaped. The page asks for no referrer (the message must not leak to
/// third parties through Referer).
#[must_use]
pub fn post_form(
    action_url: &str,
    kind: MessageKind,
    xml: &str,
    relay_state: Option<&str>,
    auto_submit: AutoSubmit<'_>,
) -> String {
    let mut page = String::with_capacity(xml.len().div_ceil(3) * 4 + 1024);
    page.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>Continue</title></head><body>\n<form method=\"post\" action=\"",
    );
    escape_attr_into(action_url, &mut page);
    page.push_str("\">\n<input type=\"hidden\" name=\"");
    page.push_str(kind.parameter());
    page.push_str("\" value=\"");
    // Straight into the page: the base64 alphabet (A-Z a-z 0-9 + / =) needs no escaping in a
    // quoted attribute.
    B64.encode_string(xml.as_bytes(), &mut page);
    page.push_str("\">\n");
    if let Some(relay) = relay_state {
        page.push_str("<input type=\"hidden\" name=\"RelayState\" value=\"");
        escape_attr_into(relay, &mut page);
        page.push_str("\">\n");
    }
    page.push_str(
        "<noscript><p>JavaScript is off. Press Continue to carry on.</p></noscript>\n\
         <button type=\"submit\">Continue</button>\n</form>\n",
    );
    match auto_submit {
        AutoSubmit::Manual => {}
        AutoSubmit::InlineWithNonce(nonce) => {
            page.push_str("<script nonce=\"");
            escape_attr_into(nonce, &mut page);
            page.push_str("\">document.forms[0].submit();</script>\n");
        }
        AutoSubmit::ScriptSrc(src) => {
            page.push_str("<script src=\"");
            escape_attr_into(src, &mut page);
            page.push_str("\"></script>\n");
        }
    }
    page.push_str("</body></html>\n");
    page
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn decode_post_round_trip_and_refusals() {
        let xml = "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>";
        let b64 = B64.encode(xml);
        assert_eq!(decode_post(&b64).unwrap(), xml);
        // Line-wrapped base64, as some SPs send.
        let wrapped = format!("{}\r\n{}", &b64[..10], &b64[10..]);
        assert_eq!(decode_post(&wrapped).unwrap(), xml);
        for (bad, why) in [
            ("!!!", "base64"),
            (&B64.encode([0x78, 0x9c, 0xff, 0xfe]) as &str, "not UTF-8"),
            (&B64.encode("hello"), "not XML"),
        ] {
            assert!(decode_post(bad).is_err(), "{why}");
        }
        assert!(decode_post(&"A".repeat(MAX_POST_BYTES + 4)).is_err());
    }

    #[test]
    fn deflated_post_body_is_refused() {
        let mut enc =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut enc, b"<samlp:Response/>").unwrap();
        let body = B64.encode(enc.finish().unwrap());
        assert!(decode_post(&body).is_err());
    }

    #[test]
    fn form_escapes_and_submits() {
        let page = post_form(
            "https://sp.example/acs?a=1&b=\"2\"",
            MessageKind::Response,
            "<x/>",
            Some("<script>alert(1)</script>"),
            AutoSubmit::InlineWithNonce("n\"once"),
        );
        assert!(page.contains("action=\"https://sp.example/acs?a=1&amp;b=&quot;2&quot;\""));
        assert!(page.contains("name=\"SAMLResponse\" value=\"PHgvPg==\""));
        assert!(page.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
        assert!(
            page.contains("<script nonce=\"n&quot;once\">document.forms[0].submit();</script>")
        );
        assert!(page.contains("<button type=\"submit\">Continue</button>"));
        assert!(!page.contains("<script>alert"));

        let manual = post_form(
            "https://sp/acs",
            MessageKind::Request,
            "<x/>",
            None,
            AutoSubmit::Manual,
        );
        assert!(!manual.contains("<script"));
        assert!(!manual.contains("RelayState"));
        assert!(manual.contains("name=\"SAMLRequest\""));

        let external = post_form(
            "https://sp/acs",
            MessageKind::Request,
            "<x/>",
            None,
            AutoSubmit::ScriptSrc("/static/a.js"),
        );
        assert!(external.contains("<script src=\"/static/a.js\"></script>"));
    }
}
