//! Choosing the element to sign, verify or encrypt by *structure*, never by ID.
//!
//! Signature wrapping works by making "the element with ID x" and "the element the application
//! reads" two different elements. Here the application says where the element must be (the
//! document element, or its single `Assertion` child, …); each step must match exactly one
//! element, so a second candidate is an error rather than a choice.

use roxmltree::{Document, Node};

use crate::error::{Result, XmlSecError};

/// A path of (namespace URI, local name) steps from the document element down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementPath<'a> {
    steps: Vec<(&'a str, &'a str)>,
}

impl<'a> ElementPath<'a> {
    /// The document element, which must have this name.
    #[must_use]
    pub fn root(ns: &'a str, local: &'a str) -> Self {
        Self {
            steps: vec![(ns, local)],
        }
    }

    /// The single child element with this name of the previous step.
    #[must_use]
    pub fn child(mut self, ns: &'a str, local: &'a str) -> Self {
        self.steps.push((ns, local));
        self
    }

    /// The steps, document element first.
    #[must_use]
    pub fn steps(&self) -> &[(&'a str, &'a str)] {
        &self.steps
    }

    /// Finds the element: every step must match exactly one element.
    ///
    /// # Errors
    /// `ElementNotFound` or `AmbiguousElement` (two candidates at one step).
    pub fn find<'d, 'i>(&self, doc: &'d Document<'i>) -> Result<Node<'d, 'i>> {
        let mut steps = self.steps.iter();
        let &(ns, local) = steps.next().ok_or_else(|| XmlSecError::ElementNotFound {
            name: String::new(),
        })?;
        let mut current = doc.root_element();
        if !has_name(current, ns, local) {
            return Err(XmlSecError::ElementNotFound {
                name: local.to_owned(),
            });
        }
        for &(ns, local) in steps {
            let mut matches = current.children().filter(|c| has_name(*c, ns, local));
            let first = matches.next().ok_or_else(|| XmlSecError::ElementNotFound {
                name: local.to_owned(),
            })?;
            if matches.next().is_some() {
                return Err(XmlSecError::AmbiguousElement {
                    name: local.to_owned(),
                });
            }
            current = first;
        }
        Ok(current)
    }
}

pub(crate) fn has_name(node: Node<'_, '_>, ns: &str, local: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == local
        && node.tag_name().namespace().unwrap_or("") == ns
}
