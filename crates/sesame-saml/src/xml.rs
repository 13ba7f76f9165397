//! Small XML helpers shared by the message modules: a string writer that escapes everything it
//! is given, typed attribute readers over `roxmltree` nodes (xs:boolean, xs:dateTime,
//! xs:unsignedShort), and the xs:dateTime format SAML requires (core 2.0 §1.3.3: UTC, `Z`).
//!
//! Reading always goes through `sesame_xmlsec::strict` first; nothing here parses text itself.

use roxmltree::Node;
use sesame_xmlsec::element_text;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::error::{Result, SamlError};

/// Appends `s` escaped for an attribute value in double quotes.
pub(crate) fn escape_attr_into(s: &str, out: &mut String) {
    escape_into(s, out, |b| match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'"' => Some("&quot;"),
        b'\'' => Some("&#39;"),
        b'\t' => Some("&#9;"),
        b'\n' => Some("&#10;"),
        b'\r' => Some("&#13;"),
        _ => None,
    });
}

/// Appends `s` escaped for text content.
pub(crate) fn escape_text_into(s: &str, out: &mut String) {
    escape_into(s, out, |b| match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'\r' => Some("&#13;"),
        _ => None,
    });
}

/// Copies `s` to `out` in runs, replacing each byte `escape` names. Every escaped byte is
/// ASCII, so the runs split `s` at character boundaries.
fn escape_into(s: &str, out: &mut String, escape: impl Fn(u8) -> Option<&'static str>) {
    out.reserve(s.len());
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        if let Some(entity) = escape(b) {
            out.push_str(&s[run..i]);
            out.push_str(entity);
            run = i + 1;
        }
    }
    out.push_str(&s[run..]);
}

/// A forward-only XML writer. Element and attribute names are our own constants; every value
/// passes through the escapers.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    out: String,
}

impl Writer {
    pub(crate) fn new() -> Self {
        Self {
            out: String::with_capacity(4096),
        }
    }

    /// `<qname` — follow with attributes, then [`Self::open_end`] or [`Self::empty_end`].
    pub(crate) fn start(&mut self, qname: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(qname);
        self
    }

    pub(crate) fn attr(&mut self, name: &str, value: &str) -> &mut Self {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        escape_attr_into(value, &mut self.out);
        self.out.push('"');
        self
    }

    pub(crate) fn attr_opt(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.attr(name, v);
        }
        self
    }

    pub(crate) fn open_end(&mut self) -> &mut Self {
        self.out.push('>');
        self
    }

    pub(crate) fn empty_end(&mut self) -> &mut Self {
        self.out.push_str("/>");
        self
    }

    pub(crate) fn end(&mut self, qname: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(qname);
        self.out.push('>');
        self
    }

    pub(crate) fn text(&mut self, text: &str) -> &mut Self {
        escape_text_into(text, &mut self.out);
        self
    }

    /// `<qname>text</qname>`.
    pub(crate) fn text_element(&mut self, qname: &str, text: &str) -> &mut Self {
        self.start(qname).open_end().text(text).end(qname)
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// Formats an instant as SAML requires: UTC, `Z`, whole seconds (core 2.0 §1.3.3).
pub(crate) fn format_instant(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Instants parsed later than this are read as this one. Every check compares them with now
/// give or take minutes, which gives the same outcome for both; clamping keeps that arithmetic
/// within what `OffsetDateTime` represents (year 9999: `9999-12-31T23:59:30Z` plus a 3-minute
/// skew would overflow).
const LATEST: OffsetDateTime = time::macros::datetime!(9000-01-01 00:00:00 UTC);

/// Parses an xs:dateTime with a time zone (RFC 3339 form; SAML core §1.3.3 wants `Z`, offsets
/// are accepted and converted), clamped to [`LATEST`].
pub(crate) fn parse_instant(what: &'static str, value: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(value.trim(), &Rfc3339)
        .ok()
        // An offset can move the last day of year 9999 past what can be represented.
        .and_then(|t| t.checked_to_offset(UtcOffset::UTC))
        .map(|t| t.min(LATEST))
        .ok_or_else(|| SamlError::InvalidValue {
            what,
            value: value.to_owned(),
        })
}

/// An xs:duration of whole seconds, `PT{n}S` (metadata `cacheDuration`).
pub(crate) fn format_duration(d: time::Duration) -> String {
    format!("PT{}S", d.whole_seconds().max(0))
}

/// True when `node` is an element named `{ns}local`.
pub(crate) fn is(node: Node<'_, '_>, ns: &str, local: &str) -> bool {
    node.is_element() && node.tag_name().name() == local && node.tag_name().namespace() == Some(ns)
}

/// Element children named `{ns}local`.
pub(crate) fn children<'a, 'i: 'a>(
    node: Node<'a, 'i>,
    ns: &'a str,
    local: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| is(*c, ns, local))
}

/// The at most one child named `{ns}local`; two are refused (`InvalidValue`), never chosen from.
pub(crate) fn opt_child<'a, 'i: 'a>(
    node: Node<'a, 'i>,
    ns: &'a str,
    local: &'static str,
) -> Result<Option<Node<'a, 'i>>> {
    let mut it = children(node, ns, local);
    match (it.next(), it.next()) {
        (first, None) => Ok(first),
        (Some(_), Some(_)) | (None, Some(_)) => Err(SamlError::InvalidValue {
            what: local,
            value: "more than one element".into(),
        }),
    }
}

/// The one child named `{ns}local`.
pub(crate) fn one_child<'a, 'i: 'a>(
    node: Node<'a, 'i>,
    ns: &'a str,
    local: &'static str,
) -> Result<Node<'a, 'i>> {
    opt_child(node, ns, local)?.ok_or(SamlError::MissingElement(local))
}

/// The whole text of an element (never truncated at a comment), trimmed of XML whitespace for
/// URI-like values.
pub(crate) fn text_trimmed(node: Node<'_, '_>) -> Result<String> {
    Ok(element_text(node)?
        .trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
        .to_owned())
}

/// The whole text of an element, untrimmed (NameID values are compared exactly).
pub(crate) fn text_exact(node: Node<'_, '_>) -> Result<String> {
    Ok(element_text(node)?.to_owned())
}

/// A required unqualified attribute.
pub(crate) fn req_attr<'a>(node: Node<'a, '_>, name: &'static str) -> Result<&'a str> {
    node.attribute(name)
        .ok_or(SamlError::MissingAttribute(name))
}

/// An optional xs:boolean attribute (`true`, `false`, `1`, `0`).
pub(crate) fn attr_bool(node: Node<'_, '_>, name: &'static str) -> Result<Option<bool>> {
    match node.attribute(name).map(str::trim) {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(other) => Err(SamlError::InvalidValue {
            what: name,
            value: other.to_owned(),
        }),
    }
}

/// An optional xs:dateTime attribute.
pub(crate) fn attr_instant(
    node: Node<'_, '_>,
    name: &'static str,
) -> Result<Option<OffsetDateTime>> {
    node.attribute(name)
        .map(|v| parse_instant(name, v))
        .transpose()
}

/// An optional xs:unsignedShort attribute.
pub(crate) fn attr_u16(node: Node<'_, '_>, name: &'static str) -> Result<Option<u16>> {
    node.attribute(name)
        .map(|v| {
            v.trim()
                .parse::<u16>()
                .map_err(|_| SamlError::InvalidValue {
                    what: name,
                    value: v.to_owned(),
                })
        })
        .transpose()
}

/// Refuses an ID we were given that is not an xs:ID (an NCName; SAML core 2.0 §1.3.4 also wants
/// 128 bits of randomness, which is the caller's business).
pub(crate) fn check_id(what: &'static str, id: &str) -> Result<()> {
    let mut chars = id.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(SamlError::InvalidInput {
            what,
            reason: "not an NCName (letters, digits, _ - . ; starting with a letter or _)",
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn instants_are_utc_with_z() {
        assert_eq!(
            format_instant(datetime!(2026-11-02 10:03:04.5 +01:00)),
            "2026-11-02T09:03:04Z"
        );
        assert_eq!(
            parse_instant("t", "2026-11-02T09:03:04.123Z").ok(),
            Some(datetime!(2026-11-02 09:03:04.123 UTC))
        );
        assert_eq!(
            parse_instant("t", "2026-11-02T10:03:04+01:00").ok(),
            Some(datetime!(2026-11-02 09:03:04 UTC))
        );
        for bad in [
            "2026-11-02",
            "yesterday",
            "2026-11-02T09:03:04",
            "9999-12-31T23:59:59-01:00",
        ] {
            assert!(parse_instant("t", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn far_future_instants_leave_room_for_arithmetic() {
        let t = parse_instant("t", "9999-12-31T23:59:59Z").ok();
        assert_eq!(t, Some(LATEST));
        assert!(
            t.and_then(|t| t.checked_add(time::Duration::days(365)))
                .is_some()
        );
        assert_eq!(
            parse_instant("t", "8999-12-31T23:59:59Z").ok(),
            Some(datetime!(8999-12-31 23:59:59 UTC))
        );
    }

    #[test]
    fn writer_escapes_values() {
        let mut w = Writer::new();
        w.start("a")
            .attr("x", "1\"<&>'\n")
            .open_end()
            .text("<&>\r")
            .end("a");
        assert_eq!(
            w.finish(),
            "<a x=\"1&quot;&lt;&amp;&gt;&#39;&#10;\">&lt;&amp;&gt;&#13;</a>"
        );
    }

    #[test]
    fn escaping_copies_multibyte_text_around_entities() {
        let mut attr = String::new();
        escape_attr_into("é<ü&\t€'x\"日本", &mut attr);
        assert_eq!(attr, "é&lt;ü&amp;&#9;€&#39;x&quot;日本");
        let mut text = String::new();
        escape_text_into("<é>\r\n€&", &mut text);
        assert_eq!(text, "&lt;é&gt;&#13;\n€&amp;");
        let mut plain = String::new();
        escape_attr_into("PHNhbWxwOlJlc3BvbnNlIElEPSJfYWJj+/==", &mut plain);
        assert_eq!(plain, "PHNhbWxwOlJlc3BvbnNlIElEPSJfYWJj+/==");
    }

    #[test]
    fn ids_must_be_ncnames() {
        assert!(check_id("ID", "_abc-1.2").is_ok());
        assert!(check_id("ID", "a").is_ok());
        for bad in ["", "1abc", "a b", "a:b", "-x"] {
            assert!(check_id("ID", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn booleans_follow_xs_boolean() {
        let doc = roxmltree::Document::parse(r#"<a t="true" o="1" f="0" x="yes"/>"#).unwrap();
        let n = doc.root_element();
        assert_eq!(attr_bool(n, "t").unwrap(), Some(true));
        assert_eq!(attr_bool(n, "o").unwrap(), Some(true));
        assert_eq!(attr_bool(n, "f").unwrap(), Some(false));
        assert_eq!(attr_bool(n, "missing").unwrap(), None);
        assert!(attr_bool(n, "x").is_err());
    }
}
