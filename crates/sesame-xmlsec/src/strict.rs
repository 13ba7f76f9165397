//! Strict reading: the only way this crate (and its callers) turn untrusted text into a tree.
//!
//! Refuses DTDs and entity declarations before the parser sees them, bounds size, depth, node
//! and attribute counts, refuses processing instructions inside the document element, and offers
//! a text getter that never returns a value truncated at a comment.

use roxmltree::{Document, Node, NodeId, NodeType, ParsingOptions};

use crate::error::{Result, XmlSecError};

/// Bounds applied to every document this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum input size in bytes.
    pub max_bytes: usize,
    /// Maximum element nesting depth (the document element is depth 1).
    pub max_depth: usize,
    /// Maximum number of nodes (elements, texts, comments, PIs).
    pub max_nodes: usize,
    /// Maximum attributes plus namespace declarations on one element.
    pub max_attributes: usize,
}

impl Default for Limits {
    /// Generous for real SAML traffic (a Response with hundreds of attributes is < 200 KB and
    /// < 40 levels deep), tight enough to bound work on hostile input.
    fn default() -> Self {
        Self {
            max_bytes: 2 * 1024 * 1024,
            max_depth: 64,
            max_nodes: 100_000,
            max_attributes: 64,
        }
    }
}

/// Parses `xml` under `limits`. Every other entry point of the crate goes through here.
///
/// # Errors
/// `TooLarge`, `DoctypeRefused`, `EntityRefused`, `Malformed`, `TooManyNodes`, `TooDeep`,
/// `TooManyAttributes` or `ProcessingInstructionRefused`.
pub fn parse<'i>(xml: &'i str, limits: &Limits) -> Result<Document<'i>> {
    if xml.len() > limits.max_bytes {
        return Err(XmlSecError::TooLarge {
            size: xml.len(),
            limit: limits.max_bytes,
        });
    }
    // Refuse before parsing further: a DTD is never legitimate in SAML (SAML core 2.0 §1.3 and
    // the bindings forbid it), and refusing it outright rules out every entity expansion trick.
    // One pass over every `!` (rare in SAML: comments, CDATA, declarations) instead of one
    // substring search per keyword. Same verdicts as `contains("<!DOCTYPE")` then
    // `contains("<!ENTITY")`: DOCTYPE anywhere wins over ENTITY anywhere.
    let bytes = xml.as_bytes();
    let mut entity = false;
    for at in memchr::memchr_iter(b'!', bytes) {
        if at == 0 || bytes.get(at - 1) != Some(&b'<') {
            continue;
        }
        let rest = bytes.get(at + 1..).unwrap_or_default();
        if rest.starts_with(b"DOCTYPE") {
            return Err(XmlSecError::DoctypeRefused);
        }
        entity |= rest.starts_with(b"ENTITY");
    }
    if entity {
        return Err(XmlSecError::EntityRefused);
    }
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: u32::try_from(limits.max_nodes.saturating_add(1)).unwrap_or(u32::MAX),
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(xml, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => XmlSecError::DoctypeRefused,
        roxmltree::Error::NodesLimitReached => XmlSecError::TooManyNodes {
            limit: limits.max_nodes,
        },
        other => XmlSecError::Malformed(other.to_string()),
    })?;
    check_tree(&doc, limits)?;
    Ok(doc)
}

/// One flat pass over the nodes (document order): depth, node count, attribute count, and no
/// PI inside the document element. Depth comes from a stack of open ancestors, so hostile
/// nesting costs linear time and no recursion.
fn check_tree(doc: &Document<'_>, limits: &Limits) -> Result<()> {
    let count = doc.descendants().len();
    if count > limits.max_nodes {
        return Err(XmlSecError::TooManyNodes {
            limit: limits.max_nodes,
        });
    }
    // The open ancestors of the current node: descendants come in document order, so when an
    // element is reached, popping until its parent is on top leaves exactly its ancestor
    // elements below it (its depth is their count plus one). Linear time, no recursion, and no
    // table as large as the document.
    let mut ancestors: Vec<NodeId> = Vec::with_capacity(32);
    for node in doc.descendants() {
        match node.node_type() {
            NodeType::Element => {
                let parent = node.parent();
                let parent_id = parent.map(|p| p.id());
                while ancestors.last().is_some_and(|&top| Some(top) != parent_id) {
                    ancestors.pop();
                }
                let own = ancestors.len() + 1;
                if own > limits.max_depth {
                    return Err(XmlSecError::TooDeep {
                        limit: limits.max_depth,
                    });
                }
                ancestors.push(node.id());
                // Namespace declarations made on this element itself (in-scope minus the
                // parent's), an approximation good enough to bound work.
                let inherited = parent
                    .filter(|p| p.is_element())
                    .map_or(0, |p| p.namespaces().len());
                let own_namespaces = node.namespaces().len().saturating_sub(inherited);
                let count = node.attributes().len() + own_namespaces;
                if count > limits.max_attributes {
                    return Err(XmlSecError::TooManyAttributes {
                        limit: limits.max_attributes,
                    });
                }
            }
            // PIs before or after the document element (an xml-stylesheet, say) are harmless;
            // inside it (their parent is an element) they are SAML content, where they have no
            // place.
            NodeType::PI if node.parent().is_some_and(|p| p.is_element()) => {
                return Err(XmlSecError::ProcessingInstructionRefused);
            }
            _ => {}
        }
    }
    Ok(())
}

/// The whole text value of an element: all its text and CDATA pieces, joined.
///
/// roxmltree already joins adjacent text and CDATA into one node, so more than one text node
/// means a comment sits between pieces: such a value is refused rather than truncated (the
/// classic "first text node only" bug lets `admin<!---->@evil.example` read as `admin`).
/// An element with element children is refused too: a value is text only.
///
/// # Errors
/// `TextSplitByComment` or `UnexpectedElementInText`.
pub fn element_text<'a>(node: Node<'a, '_>) -> Result<&'a str> {
    let mut found: Option<&'a str> = None;
    for child in node.children() {
        match child.node_type() {
            NodeType::Text => {
                if found.is_some() {
                    return Err(XmlSecError::TextSplitByComment);
                }
                found = child.text();
            }
            NodeType::Element => return Err(XmlSecError::UnexpectedElementInText),
            NodeType::PI => return Err(XmlSecError::ProcessingInstructionRefused),
            NodeType::Comment | NodeType::Root => {}
        }
    }
    Ok(found.unwrap_or(""))
}

/// The prefix an element was written with in the source (`None` when unprefixed).
pub(crate) fn element_prefix<'i>(node: Node<'_, 'i>) -> Option<&'i str> {
    let input = node.document().input_text();
    let start = node.range().start.checked_add(1)?;
    let rest = input.get(start..)?;
    let end = rest
        .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
        .unwrap_or(rest.len());
    let qname = rest.get(..end)?;
    qname.split_once(':').map(|(p, _)| p)
}

/// The prefix an attribute was written with in the source (`None` when unprefixed).
pub(crate) fn attribute_prefix<'i>(
    input: &'i str,
    attr: &roxmltree::Attribute<'_, 'i>,
) -> Result<Option<&'i str>> {
    if attr.namespace().is_none() {
        return Ok(None);
    }
    let qname = input
        .get(attr.range_qname())
        .ok_or(XmlSecError::Malformed("attribute name range".into()))?;
    match qname.split_once(':') {
        Some((p, local)) if local == attr.name() => Ok(Some(p)),
        _ => Err(XmlSecError::Malformed("attribute name too long".into())),
    }
}

/// Is `s` made only of XML whitespace?
pub(crate) fn is_xml_whitespace(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}
