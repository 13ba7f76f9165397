//! Exclusive XML Canonicalization 1.0 (<https://www.w3.org/TR/xml-exc-c14n/>) of one element
//! subtree, with or without comments, with an optional InclusiveNamespaces PrefixList and an
//! optional excluded node (the enveloped-signature transform).
//!
//! This is the byte sequence every digest and signature of the crate is computed over, so it must
//! match other implementations byte for byte; the differential tests hold it to `xmlsec1`.
//! It walks the tree iteratively (no recursion), so depth is bounded only by [`crate::Limits`].

use roxmltree::{Node, NodeId, NodeType};

use crate::error::{Result, XmlSecError};
use crate::strict::attribute_prefix;

/// The XML namespace, bound to `xml` by definition and never declared in canonical output.
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// How to canonicalize.
#[derive(Debug, Clone, Copy, Default)]
pub struct C14nOptions<'a> {
    /// Keep comments (`…xml-exc-c14n#WithComments`).
    pub with_comments: bool,
    /// InclusiveNamespaces PrefixList: prefixes treated as in inclusive C14N (`#default` for the
    /// default namespace). Exc-C14N §3.
    pub inclusive_prefixes: &'a [&'a str],
    /// A node left out with its subtree: the enveloped-signature transform (XML-DSig §6.6.4).
    pub exclude: Option<NodeId>,
}

/// Where to remember an offset in the output (used by signing to splice the Signature in).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mark {
    /// Right after the end tag of this node.
    AfterNode(NodeId),
    /// Right after the start tag of the apex element.
    AfterApexStartTag,
    /// Right before the end tag of the apex element.
    BeforeApexEndTag,
}

/// Canonical form of the subtree rooted at `apex` (which must be an element).
///
/// # Errors
/// `Malformed` if an attribute's source text cannot be mapped back to its prefix.
pub fn exc_c14n(apex: Node<'_, '_>, options: &C14nOptions<'_>) -> Result<String> {
    let mut out = String::with_capacity(apex.range().len() + 256);
    exc_c14n_into(apex, options, &mut out, None)?;
    Ok(out)
}

/// Splits a PrefixList attribute value into prefixes.
#[must_use]
pub fn split_prefix_list(list: &str) -> Vec<&str> {
    list.split_ascii_whitespace().collect()
}

/// The qualified name an element was written with, sliced from the source text.
pub(crate) fn element_qname<'i>(node: Node<'_, 'i>) -> Result<&'i str> {
    let input = node.document().input_text();
    if let Some(qname) = qname_around_local(node, input) {
        return Ok(qname);
    }
    let rest = node
        .range()
        .start
        .checked_add(1)
        .and_then(|s| input.get(s..))
        .ok_or_else(|| XmlSecError::Malformed("element range".into()))?;
    let end = rest
        .bytes()
        .position(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>'))
        .unwrap_or(rest.len());
    let qname = rest
        .get(..end)
        .ok_or_else(|| XmlSecError::Malformed("element name".into()))?;
    // Guard against a range that does not point where we think: the local part must match.
    let local = node.tag_name().name();
    let matches = qname.len() == local.len()
        || (qname.ends_with(local)
            && qname.as_bytes().get(qname.len() - local.len() - 1) == Some(&b':'));
    if !qname.ends_with(local) || !matches {
        return Err(XmlSecError::Malformed("element name".into()));
    }
    Ok(qname)
}

/// Fast path of [`element_qname`]: the local name roxmltree gives is a slice of the input (it
/// always is: names are never rewritten, and DTD entities are refused), sitting right after `<`
/// or after `<prefix:`. Returns exactly what the scan of `element_qname` would — the bytes from
/// after `<` to the first delimiter — or `None` when anything does not line up.
fn qname_around_local<'i>(node: Node<'_, 'i>, input: &'i str) -> Option<&'i str> {
    let is_delimiter = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>');
    let bytes = input.as_bytes();
    let start = node.range().start.checked_add(1)?;
    let local = node.tag_name().name();
    let at = (local.as_ptr() as usize).checked_sub(input.as_ptr() as usize)?;
    let end = at.checked_add(local.len())?;
    if local.is_empty() || at < start || end > bytes.len() {
        return None;
    }
    if at > start {
        // `prefix:` before the local name, with no delimiter in it.
        let prefix = bytes.get(start..at - 1)?;
        if bytes.get(at - 1) != Some(&b':')
            || prefix.is_empty()
            || prefix.iter().any(|&b| is_delimiter(b))
        {
            return None;
        }
    }
    // The local part is a name roxmltree read at this very place (name characters only, so no
    // delimiter inside); the qname must end right after it.
    if bytes.get(end).is_some_and(|&b| !is_delimiter(b)) {
        return None;
    }
    input.get(start..end)
}

pub(crate) fn exc_c14n_into(
    apex: Node<'_, '_>,
    options: &C14nOptions<'_>,
    out: &mut String,
    mark: Option<Mark>,
) -> Result<Option<usize>> {
    let input = apex.document().input_text();
    // Namespace declarations rendered by output ancestors: (prefix, uri), "" prefix = default.
    let mut rendered: Vec<(&str, &str)> = Vec::with_capacity(16);
    // For each open element: its id, its qname and the length of `rendered` before it.
    let mut open: Vec<(NodeId, &str, usize)> = Vec::with_capacity(32);
    let mut marked = None;
    let mut needed: Vec<(&str, &str)> = Vec::with_capacity(8);
    let mut attrs: Vec<(&str, &str, Option<&str>, &str)> = Vec::with_capacity(16);
    // The excluded subtree (enveloped-signature transform): roxmltree stores nodes in document
    // order, so a node and its descendants are the contiguous ids [node, node + count).
    let skip = options
        .exclude
        .and_then(|id| apex.document().get_node(id))
        .map(|n| {
            let first = n.id().get_usize();
            (first, first.saturating_add(n.descendants().len()))
        });
    let apex_id = apex.id();

    // Document order, flat: an element's end tag is written when the walk reaches a node whose
    // parent is not that element (or at the end).
    for node in apex.descendants() {
        let index = node.id().get_usize();
        if skip.is_some_and(|(first, end)| index >= first && index < end) {
            continue;
        }
        let parent = node.parent().map(|p| p.id());
        while let Some(&(id, qname, before)) = open.last() {
            if Some(id) == parent {
                break;
            }
            open.pop();
            end_tag(id, qname, apex_id, mark, out, &mut marked);
            rendered.truncate(before);
        }
        match node.node_type() {
            NodeType::Element => {
                let qname = element_qname(node)?;
                let before = rendered.len();
                start_tag(
                    node,
                    qname,
                    input,
                    options,
                    &mut rendered,
                    &mut needed,
                    &mut attrs,
                    out,
                )?;
                open.push((node.id(), qname, before));
                if node.id() == apex_id && matches!(mark, Some(Mark::AfterApexStartTag)) {
                    marked = Some(out.len());
                }
                continue;
            }
            NodeType::Text => escape_text(node.text().unwrap_or(""), out),
            NodeType::Comment if options.with_comments => {
                out.push_str("<!--");
                out.push_str(node.text().unwrap_or(""));
                out.push_str("-->");
            }
            NodeType::PI => {
                if let Some(pi) = node.pi() {
                    out.push_str("<?");
                    out.push_str(pi.target);
                    if let Some(value) = pi.value.filter(|v| !v.is_empty()) {
                        out.push(' ');
                        out.push_str(value);
                    }
                    out.push_str("?>");
                }
            }
            NodeType::Comment | NodeType::Root => {}
        }
        // A node without children ends where it is written.
        if let Some(Mark::AfterNode(id)) = mark
            && id == node.id()
        {
            marked = Some(out.len());
        }
    }
    while let Some((id, qname, _)) = open.pop() {
        end_tag(id, qname, apex_id, mark, out, &mut marked);
    }
    Ok(marked)
}

/// Writes the end tag of element `id`, with the marks that sit around it.
fn end_tag(
    id: NodeId,
    qname: &str,
    apex: NodeId,
    mark: Option<Mark>,
    out: &mut String,
    marked: &mut Option<usize>,
) {
    if id == apex && matches!(mark, Some(Mark::BeforeApexEndTag)) {
        *marked = Some(out.len());
    }
    out.push_str("</");
    out.push_str(qname);
    out.push('>');
    if let Some(Mark::AfterNode(after)) = mark
        && after == id
    {
        *marked = Some(out.len());
    }
}

#[allow(clippy::too_many_arguments)]
fn start_tag<'a, 'i: 'a>(
    node: Node<'a, 'i>,
    qname: &'a str,
    input: &'i str,
    options: &C14nOptions<'_>,
    rendered: &mut Vec<(&'a str, &'a str)>,
    needed: &mut Vec<(&'a str, &'a str)>,
    attrs: &mut Vec<(&'a str, &'a str, Option<&'a str>, &'a str)>,
    out: &mut String,
) -> Result<()> {
    needed.clear();
    attrs.clear();
    // Exc-C14N §3: a namespace is output when it is visibly utilized (by the element's name or
    // an attribute's name) or listed in the PrefixList, and not already in effect with the same
    // value on the nearest output ancestor.
    let element_prefix = qname.split_once(':').map_or("", |(p, _)| p);
    let element_uri = node.tag_name().namespace().unwrap_or("");
    needed.push((element_prefix, element_uri));
    for attr in node.attributes() {
        let prefix = attribute_prefix(input, &attr)?;
        let uri = attr.namespace();
        if let (Some(p), Some(u)) = (prefix, uri) {
            needed.push((p, u));
        }
        attrs.push((uri.unwrap_or(""), attr.name(), prefix, attr.value()));
    }
    for &prefix in options.inclusive_prefixes {
        if prefix == "#default" {
            needed.push(("", node.default_namespace().unwrap_or("")));
        } else if let Some((p, uri)) = node
            .namespaces()
            .find(|ns| ns.name() == Some(prefix))
            .and_then(|ns| ns.name().map(|p| (p, ns.uri())))
        {
            needed.push((p, uri));
        }
    }
    needed.sort_unstable_by(|a, b| a.0.cmp(b.0));
    needed.dedup_by(|a, b| a.0 == b.0);

    out.push('<');
    out.push_str(qname);
    for &(prefix, uri) in needed.iter() {
        if prefix == "xml" {
            continue;
        }
        let in_effect = rendered
            .iter()
            .rev()
            .find(|(p, _)| same(p, prefix))
            .map(|(_, u)| *u)
            .or(if prefix.is_empty() { Some("") } else { None });
        if in_effect.is_some_and(|u| same(u, uri)) {
            continue;
        }
        if prefix.is_empty() {
            out.push_str(" xmlns=\"");
        } else {
            out.push_str(" xmlns:");
            out.push_str(prefix);
            out.push_str("=\"");
        }
        escape_attr(uri, out);
        out.push('"');
        rendered.push((prefix, uri));
    }
    // C14N 1.0 §2.2: attributes sorted by namespace URI then local name, unqualified first.
    // Often already in order (always, for canonical input): check before sorting.
    let order = |a: &(&str, &str, Option<&str>, &str), b: &(&str, &str, Option<&str>, &str)| {
        let by_uri = if same(a.0, b.0) {
            std::cmp::Ordering::Equal
        } else {
            a.0.cmp(b.0)
        };
        by_uri.then_with(|| a.1.cmp(b.1))
    };
    if !attrs.is_sorted_by(|a, b| order(a, b).is_le()) {
        attrs.sort_unstable_by(order);
    }
    for &(_, local, prefix, value) in attrs.iter() {
        out.push(' ');
        if let Some(p) = prefix {
            out.push_str(p);
            out.push(':');
        }
        out.push_str(local);
        out.push_str("=\"");
        escape_attr(value, out);
        out.push('"');
    }
    out.push('>');
    Ok(())
}

/// String equality with a pointer fast path: namespace names and URIs usually come from the
/// same slot of the document's tables, and this runs for every element.
/// Prefixes, sliced from each element's own name, are short and never pointer-equal: compare
/// them in line rather than through a `memcmp` call.
#[inline]
fn same(a: &str, b: &str) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.as_ptr() == b.as_ptr() {
        return true;
    }
    if a.len() <= 16 {
        return a.bytes().zip(b.bytes()).all(|(x, y)| x == y);
    }
    a == b
}

/// Appends `s` to `out`, replacing the bytes `table` maps (all ASCII, so slicing stays on
/// character boundaries). Generic so that the table inlines into the byte loop.
#[inline]
fn push_escaped<F, P>(s: &str, out: &mut String, table: F, first_special: P)
where
    F: Fn(u8) -> Option<&'static str>,
    P: Fn(&[u8]) -> Option<usize>,
{
    let bytes = s.as_bytes();
    let Some(first) = first_special(bytes) else {
        out.push_str(s);
        return;
    };
    out.push_str(s.get(..first).unwrap_or_default());
    let mut last = first;
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        if let Some(rep) = table(b) {
            out.push_str(s.get(last..i).unwrap_or_default());
            out.push_str(rep);
            last = i + 1;
        }
    }
    out.push_str(s.get(last..).unwrap_or_default());
}

const LO: u64 = u64::from_ne_bytes([0x01; 8]);
const HI: u64 = u64::from_ne_bytes([0x80; 8]);

/// Non-zero iff a byte of `x` is zero (the classic SWAR test: exact as to existence).
#[inline(always)]
fn zero_byte(x: u64) -> u64 {
    x.wrapping_sub(LO) & !x & HI
}

/// Non-zero iff a byte of `x` equals `b`.
#[inline(always)]
fn eq_byte(x: u64, b: u8) -> u64 {
    zero_byte(x ^ (LO * u64::from(b)))
}

/// Non-zero iff a byte of `x` is below `n` (exact as to existence for `n <= 128`).
#[inline(always)]
fn below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(LO * u64::from(n)) & !x & HI
}

/// Index of the first byte of `bytes` for which `is_special` holds. Eight bytes at a time:
/// `maybe` says whether a word may hold one (it must never miss one; a false alarm only costs
/// the exact check of those eight bytes). Values in SAML are short, where this beats several
/// `memchr` calls and their setup.
#[inline(always)]
fn first_special(
    bytes: &[u8],
    maybe: impl Fn(u64) -> bool,
    is_special: impl Fn(u8) -> bool,
) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        if maybe(word)
            && let Some(i) = chunk.iter().position(|&b| is_special(b))
        {
            return Some(base + i);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| is_special(b))
        .map(|i| base + i)
}

/// Text node escaping, C14N 1.0 §5.2 ("Text Nodes").
pub(crate) fn escape_text(text: &str, out: &mut String) {
    push_escaped(
        text,
        out,
        |b| match b {
            b'&' => Some("&amp;"),
            b'<' => Some("&lt;"),
            b'>' => Some("&gt;"),
            b'\r' => Some("&#xD;"),
            _ => None,
        },
        |b| {
            first_special(
                b,
                |w| eq_byte(w, b'&') | eq_byte(w, b'<') | eq_byte(w, b'>') | eq_byte(w, b'\r') != 0,
                |c| matches!(c, b'&' | b'<' | b'>' | b'\r'),
            )
        },
    );
}

/// Attribute value escaping, C14N 1.0 §5.2 ("Attribute Nodes").
pub(crate) fn escape_attr(value: &str, out: &mut String) {
    push_escaped(
        value,
        out,
        |b| match b {
            b'&' => Some("&amp;"),
            b'<' => Some("&lt;"),
            b'"' => Some("&quot;"),
            b'\t' => Some("&#x9;"),
            b'\n' => Some("&#xA;"),
            b'\r' => Some("&#xD;"),
            _ => None,
        },
        |b| {
            first_special(
                b,
                // Tab, LF and CR are all below 0x20.
                |w| eq_byte(w, b'&') | eq_byte(w, b'<') | eq_byte(w, b'"') | below(w, 0x20) != 0,
                |c| matches!(c, b'&' | b'<' | b'"' | b'\t' | b'\n' | b'\r'),
            )
        },
    );
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn c14n_of(xml: &str, local: &str, prefixes: &[&str], with_comments: bool) -> String {
        let doc = roxmltree::Document::parse(xml).unwrap();
        let node = doc
            .descendants()
            .find(|n| n.is_element() && n.tag_name().name() == local)
            .unwrap();
        exc_c14n(
            node,
            &C14nOptions {
                with_comments,
                inclusive_prefixes: prefixes,
                exclude: None,
            },
        )
        .unwrap()
    }

    #[test]
    fn exc_c14n_spec_example() {
        // Exc-C14N §2.2: the n0 and n3 declarations of the ancestor are not carried along, the
        // n3 declaration is output where it is utilized, xml:lang is not inherited.
        let xml = r#"<n0:local xmlns:n0="foo:bar" xmlns:n3="ftp://example.org" xml:lang="fr"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n0:local>"#;
        assert_eq!(
            c14n_of(xml, "elem2", &[], false),
            r#"<n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#
        );
    }

    #[test]
    fn prefix_list_default_and_comments() {
        let xml =
            r#"<r xmlns="urn:d" xmlns:xs="urn:xs"><e a="xs:string"><!--c--><f xmlns=""/></e></r>"#;
        assert_eq!(
            c14n_of(xml, "e", &[], false),
            r#"<e xmlns="urn:d" a="xs:string"><f xmlns=""></f></e>"#
        );
        assert_eq!(
            c14n_of(xml, "e", &["xs"], true),
            r#"<e xmlns="urn:d" xmlns:xs="urn:xs" a="xs:string"><!--c--><f xmlns=""></f></e>"#
        );
    }

    #[test]
    fn escaping_finds_every_special_byte_at_every_position() {
        // The word-at-a-time scan must never miss a byte, whatever its place in a word or in
        // the tail: compare with a byte-by-byte reference.
        fn reference(s: &str, text: bool) -> String {
            let mut out = String::new();
            for c in s.chars() {
                match (c, text) {
                    ('&', _) => out.push_str("&amp;"),
                    ('<', _) => out.push_str("&lt;"),
                    ('>', true) => out.push_str("&gt;"),
                    ('"', false) => out.push_str("&quot;"),
                    ('\t', false) => out.push_str("&#x9;"),
                    ('\n', false) => out.push_str("&#xA;"),
                    ('\r', _) => out.push_str("&#xD;"),
                    (c, _) => out.push(c),
                }
            }
            out
        }
        for special in ['&', '<', '>', '"', '\t', '\n', '\r', '\u{1f}', 'é', ' '] {
            for len in 0..26 {
                for at in 0..=len {
                    let mut s: String = "abcdefghijklmnopqrstuvwxyz".chars().take(len).collect();
                    s.insert(at, special);
                    s.push_str("x>\"y");
                    let (mut text, mut attr) = (String::new(), String::new());
                    escape_text(&s, &mut text);
                    escape_attr(&s, &mut attr);
                    assert_eq!(text, reference(&s, true), "text {s:?}");
                    assert_eq!(attr, reference(&s, false), "attribute {s:?}");
                }
            }
        }
    }

    #[test]
    fn escaping_and_attribute_order() {
        let xml = "<r xmlns:b=\"urn:b\" xmlns:a=\"urn:a\" z=\"&quot;&#9;&#10;&#13;&lt;>&amp;\" b:x=\"1\" a:y=\"2\" a:x=\"3\">&lt;&gt;&amp;&#13;\"'</r>";
        assert_eq!(
            c14n_of(xml, "r", &[], false),
            "<r xmlns:a=\"urn:a\" xmlns:b=\"urn:b\" z=\"&quot;&#x9;&#xA;&#xD;&lt;>&amp;\" a:x=\"3\" a:y=\"2\" b:x=\"1\">&lt;&gt;&amp;&#xD;\"'</r>"
        );
    }
}
