//! The filter grammar of RFC 7644 §3.4.2.2 and the PATCH `path` grammar of §3.5.2.
//!
//! ```text
//! FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//! valuePath = attrPath "[" valFilter "]"
//! valFilter = attrExp / logExp / *1"not" "(" valFilter ")"
//! attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//! logExp    = FILTER SP ("and" / "or") SP FILTER
//! compValue = false / null / true / number / string
//! attrPath  = [URI ":"] ATTRNAME *1subAttr
//! PATH      = attrPath / valuePath [subAttr]          ; §3.5.2
//! ```
//! Precedence follows §3.4.2.2 table 4: grouping, then `not`, then `and`, then `or`. The
//! parser is a small recursive descent over tokens; recursion is bounded by
//! [`MAX_FILTER_DEPTH`] and the input by [`MAX_FILTER_LEN`], so a hostile filter costs little.

use serde_json::Value;

use super::{CompareOp, Filter};
use crate::error::ScimError;
use crate::path::{AttrPath, is_attr_name};

/// Longest filter accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest nesting of parentheses, `not` and value filters accepted.
pub const MAX_FILTER_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBrack,
    RBrack,
    Str(String),
    Word(String),
}

#[derive(Debug)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

/// A syntax error: byte offset and message. Callers turn it into `invalidFilter` or
/// `invalidPath`.
struct SyntaxError {
    at: usize,
    msg: String,
}

fn describe(t: Option<&Token>) -> String {
    match t.map(|t| &t.tok) {
        None => "end of input".into(),
        Some(Tok::LParen) => "'('".into(),
        Some(Tok::RParen) => "')'".into(),
        Some(Tok::LBrack) => "'['".into(),
        Some(Tok::RBrack) => "']'".into(),
        Some(Tok::Str(s)) => format!("string \"{s}\""),
        Some(Tok::Word(w)) => format!("'{w}'"),
    }
}

fn lex(src: &str) -> Result<Vec<Token>, SyntaxError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let single = match c {
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b'[' => Some(Tok::LBrack),
            b']' => Some(Tok::RBrack),
            _ => None,
        };
        if let Some(tok) = single {
            out.push(Token {
                tok,
                start: i,
                end: i + 1,
            });
            i += 1;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'"' {
            // A JSON string (RFC 7644 §3.4.2.2 `string`, RFC 8259 §7): find the closing quote,
            // then let serde_json decode the escapes.
            let start = i;
            i += 1;
            loop {
                match bytes.get(i) {
                    None => {
                        return Err(SyntaxError {
                            at: start,
                            msg: "unterminated string".into(),
                        });
                    }
                    Some(b'\\') => i += 2,
                    Some(b'"') => break,
                    Some(_) => i += 1,
                }
            }
            i += 1;
            let raw = src.get(start..i).unwrap_or_default();
            let s: String = serde_json::from_str(raw).map_err(|_| SyntaxError {
                at: start,
                msg: "invalid string (bad escape or control character)".into(),
            })?;
            out.push(Token {
                tok: Tok::Str(s),
                start,
                end: i,
            });
        } else {
            let start = i;
            while i < bytes.len()
                && !bytes[i].is_ascii_whitespace()
                && !matches!(bytes[i], b'(' | b')' | b'[' | b']' | b'"')
            {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Word(src.get(start..i).unwrap_or_default().to_string()),
                start,
                end: i,
            });
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn here(&self) -> usize {
        self.peek().map_or(self.len, |t| t.start)
    }

    fn err<T>(&self, msg: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            at: self.here(),
            msg: msg.into(),
        })
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(kw))
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<(), SyntaxError> {
        if self.peek().map(|t| &t.tok) == Some(&tok) {
            self.pos += 1;
            Ok(())
        } else {
            let found = describe(self.peek());
            self.err(format!("expected {what}, found {found}"))
        }
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return self.err(format!("filter is nested deeper than {MAX_FILTER_DEPTH}"));
        }
        Ok(())
    }

    /// `logExp` with `or`: the loosest binding.
    fn parse_or(&mut self, in_value: bool) -> Result<Filter, SyntaxError> {
        let mut left = self.parse_and(in_value)?;
        while self.peek_keyword("or") {
            self.pos += 1;
            let right = self.parse_and(in_value)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `logExp` with `and`, which binds tighter than `or` (§3.4.2.2 table 4).
    fn parse_and(&mut self, in_value: bool) -> Result<Filter, SyntaxError> {
        let mut left = self.parse_unary(in_value)?;
        while self.peek_keyword("and") {
            self.pos += 1;
            let right = self.parse_unary(in_value)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// Grouping, `not "(" FILTER ")"`, or an attribute expression.
    fn parse_unary(&mut self, in_value: bool) -> Result<Filter, SyntaxError> {
        match self.peek().map(|t| &t.tok) {
            Some(Tok::LParen) => {
                self.enter()?;
                self.pos += 1;
                let inner = self.parse_or(in_value)?;
                self.expect(Tok::RParen, "')'")?;
                self.depth -= 1;
                Ok(inner)
            }
            Some(Tok::Word(w))
                if w.eq_ignore_ascii_case("not")
                    && matches!(
                        self.toks.get(self.pos + 1).map(|t| &t.tok),
                        Some(Tok::LParen)
                    ) =>
            {
                self.enter()?;
                self.pos += 2;
                let inner = self.parse_or(in_value)?;
                self.expect(Tok::RParen, "')'")?;
                self.depth -= 1;
                Ok(Filter::Not(Box::new(inner)))
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("not") => {
                self.pos += 1;
                self.err("'not' must be followed by a parenthesised filter")
            }
            Some(Tok::Word(_)) => self.parse_attr_exp(in_value),
            None => self.err("unexpected end of filter"),
            Some(_) => {
                let found = describe(self.peek());
                self.err(format!(
                    "expected an attribute path, '(' or 'not', found {found}"
                ))
            }
        }
    }

    fn parse_path(&mut self, in_value: bool) -> Result<AttrPath, SyntaxError> {
        let Some(Token {
            tok: Tok::Word(w), ..
        }) = self.peek()
        else {
            let found = describe(self.peek());
            return self.err(format!("expected an attribute path, found {found}"));
        };
        let Some(path) = AttrPath::parse(w) else {
            return self.err(format!("invalid attribute path '{w}'"));
        };
        // Inside a value filter, paths name sub-attributes of the enclosing attribute.
        if in_value && (path.urn.is_some() || path.sub.is_some()) {
            return self.err(format!(
                "'{w}' inside a value filter must be a plain sub-attribute name"
            ));
        }
        self.pos += 1;
        Ok(path)
    }

    /// `attrExp`, or a `valuePath` outside value filters.
    fn parse_attr_exp(&mut self, in_value: bool) -> Result<Filter, SyntaxError> {
        let path = self.parse_path(in_value)?;
        if matches!(self.peek().map(|t| &t.tok), Some(Tok::LBrack)) {
            if in_value {
                return self.err("value filters cannot be nested");
            }
            if path.sub.is_some() {
                return self.err("a value filter applies to an attribute, not a sub-attribute");
            }
            self.enter()?;
            self.pos += 1;
            let mut inner = self.parse_or(true)?;
            self.expect(Tok::RBrack, "']'")?;
            self.depth -= 1;
            // `emails[type eq "work"].value co "x"`: the trailing sub-attribute test joins the
            // inner filter, since both apply to the same value.
            if let Some(sub) = self.adjacent_sub_attr()? {
                let test = self.parse_attr_test(AttrPath::simple(&sub))?;
                inner = Filter::And(Box::new(inner), Box::new(test));
            }
            return Ok(Filter::ValuePath {
                path,
                filter: Box::new(inner),
            });
        }
        self.parse_attr_test(path)
    }

    /// A `.sub` word written directly after `]`.
    fn adjacent_sub_attr(&mut self) -> Result<Option<String>, SyntaxError> {
        let prev_end = self
            .pos
            .checked_sub(1)
            .and_then(|p| self.toks.get(p))
            .map(|t| t.end);
        let Some(Token {
            tok: Tok::Word(w),
            start,
            ..
        }) = self.peek()
        else {
            return Ok(None);
        };
        if Some(*start) != prev_end || !w.starts_with('.') {
            return Ok(None);
        }
        let name = w[1..].to_string();
        if !is_attr_name(&name) {
            return self.err(format!("invalid sub-attribute '{w}'"));
        }
        self.pos += 1;
        Ok(Some(name))
    }

    /// `SP "pr"` or `SP compareOp SP compValue` after a path.
    fn parse_attr_test(&mut self, path: AttrPath) -> Result<Filter, SyntaxError> {
        let op = match self.peek() {
            Some(Token {
                tok: Tok::Word(w), ..
            }) if w.eq_ignore_ascii_case("pr") => {
                self.pos += 1;
                return Ok(Filter::Present(path));
            }
            Some(Token {
                tok: Tok::Word(w), ..
            }) => match CompareOp::from_keyword(w) {
                Some(op) => op,
                None => return self.err(format!("unknown operator '{w}'")),
            },
            other => {
                let found = describe(other);
                return self.err(format!(
                    "expected an operator after '{path}', found {found}"
                ));
            }
        };
        self.pos += 1;
        let value = self.parse_comp_value()?;
        Ok(Filter::Compare { path, op, value })
    }

    /// `compValue = false / null / true / number / string`. ABNF literals are
    /// case-insensitive (RFC 5234 §2.3), so `True` is accepted.
    fn parse_comp_value(&mut self) -> Result<Value, SyntaxError> {
        let value = match self.peek().map(|t| &t.tok) {
            Some(Tok::Str(s)) => Value::String(s.clone()),
            Some(Tok::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => match serde_json::from_str::<Value>(w) {
                    Ok(n @ Value::Number(_)) => n,
                    _ => return self.err(format!("invalid comparison value '{w}'")),
                },
            },
            _ => {
                let found = describe(self.peek());
                return self.err(format!("expected a comparison value, found {found}"));
            }
        };
        self.pos += 1;
        Ok(value)
    }
}

fn position(src: &str, at: usize) -> usize {
    src.get(..at).map_or(at, |s| s.chars().count()) + 1
}

fn run<T>(
    src: &str,
    what: &str,
    body: impl FnOnce(&mut Parser) -> Result<T, SyntaxError>,
) -> Result<T, (usize, String)> {
    if src.len() > MAX_FILTER_LEN {
        return Err((1, format!("{what} is longer than {MAX_FILTER_LEN} bytes")));
    }
    let toks = lex(src).map_err(|e| (position(src, e.at), e.msg))?;
    if toks.is_empty() {
        return Err((1, format!("{what} is empty")));
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        len: src.len(),
    };
    let out = body(&mut p).map_err(|e| (position(src, e.at), e.msg))?;
    if let Some(t) = p.peek() {
        return Err((
            position(src, t.start),
            format!("unexpected {} after a complete {what}", describe(Some(t))),
        ));
    }
    Ok(out)
}

pub(super) fn parse_filter(src: &str) -> Result<Filter, ScimError> {
    run(src, "filter", |p| p.parse_or(false)).map_err(|(pos, msg)| {
        ScimError::InvalidFilter(format!("invalid filter at position {pos}: {msg}"))
    })
}

/// A PATCH operation's `path` (RFC 7644 §3.5.2): `attrPath / valuePath [subAttr]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The text as sent; a path that is exactly an extension URN targets the whole extension.
    pub raw: String,
    /// The attribute (possibly with a sub-attribute when there is no value filter).
    pub attr: AttrPath,
    /// The value filter in brackets, whose paths name sub-attributes.
    pub filter: Option<Filter>,
    /// The sub-attribute after the brackets (`emails[type eq "work"].value`).
    pub sub: Option<String>,
}

impl PatchPath {
    /// Parses a path; errors are `invalidPath` naming the position.
    pub fn parse(src: &str) -> Result<PatchPath, ScimError> {
        let parsed = run(src, "path", |p| {
            let attr = p.parse_path(false)?;
            if !matches!(p.peek().map(|t| &t.tok), Some(Tok::LBrack)) {
                return Ok((attr, None, None));
            }
            if attr.sub.is_some() {
                return p.err("a value filter applies to an attribute, not a sub-attribute");
            }
            p.enter()?;
            p.pos += 1;
            let filter = p.parse_or(true)?;
            p.expect(Tok::RBrack, "']'")?;
            let sub = p.adjacent_sub_attr()?;
            Ok((attr, Some(filter), sub))
        });
        match parsed {
            Ok((attr, filter, sub)) => Ok(PatchPath {
                raw: src.trim().to_string(),
                attr,
                filter,
                sub,
            }),
            Err((pos, msg)) => Err(ScimError::InvalidPath(format!(
                "invalid path at position {pos}: {msg}"
            ))),
        }
    }
}
