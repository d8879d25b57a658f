//! Finds where a value sits in RON source, by path.
//!
//! serde tells a value nothing about its position, so checks that need
//! several fields (a node index against `nodes`) run after parsing, and
//! this module maps the path of the offending value back to a line and
//! column. It reads just enough RON to know the shape: named and anonymous
//! structs and tuples, lists, maps and atoms. `Some(x)` is looked through,
//! since `x` is what a path names.

/// One step of a path: a struct field or a tuple/list position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// The field with this name in a struct or struct-like variant.
    Field(&'static str),
    /// The element at this position (from 0) in a tuple, tuple variant or
    /// list.
    Index(usize),
}

impl From<&'static str> for Seg {
    fn from(name: &'static str) -> Self {
        Seg::Field(name)
    }
}

impl From<usize> for Seg {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

/// `path!["faults", 3, 1]` builds a `Vec<Seg>`.
#[macro_export]
macro_rules! path {
    ($($seg:expr),* $(,)?) => { vec![$($crate::scenario::locate::Seg::from($seg)),*] };
}

/// A line and column in a source, both from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    /// Line number, the first line being 1.
    pub line: usize,
    /// Column within the line, the first column being 1.
    pub col: usize,
}

impl Default for Pos {
    fn default() -> Self {
        Pos { line: 1, col: 1 }
    }
}

/// The position of the value at `path`, or of the deepest part of the path
/// that exists. `None` only when the source cannot be read at all (serde
/// would have reported that first).
pub fn locate(source: &str, path: &[Seg]) -> Option<Pos> {
    let root = Reader::new(source).value().ok()?;
    Some(root.find(path).0.pos)
}

/// Where a value is in its source: its position, its byte range, and the
/// identifier it starts with (`Raft` in `Raft(..)`, `Kv`), if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// Line and column of its first character.
    pub pos: Pos,
    /// Byte range in the source.
    pub bytes: std::ops::Range<usize>,
    /// The leading identifier.
    pub name: Option<String>,
}

/// The span of the value at exactly `path`, if there is one.
pub fn span(source: &str, path: &[Seg]) -> Option<Span> {
    let root = Reader::new(source).value().ok()?;
    let (node, whole) = root.find(path);
    whole.then(|| Span {
        pos: node.pos,
        bytes: node.bytes.clone(),
        name: node.name.clone(),
    })
}

#[derive(Debug)]
struct Node {
    pos: Pos,
    bytes: std::ops::Range<usize>,
    name: Option<String>,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Atom,
    /// A bare identifier: a unit variant, or a field name before `:`.
    Ident(String),
    /// `Name(a, b)`, `(a, b)` or `[a, b]`.
    Seq(Vec<Node>),
    /// `Name(x: a)`, `(x: a)` or `{k: v}` (map keys are not addressable).
    Fields(Vec<(String, Node)>),
    /// `Some(x)`: transparent.
    Some(Box<Node>),
}

impl Node {
    /// The node at `path`, or the deepest that exists, and whether that is
    /// the whole path.
    fn find(&self, path: &[Seg]) -> (&Node, bool) {
        let mut node = self;
        for seg in path {
            match node.child(seg) {
                Some(next) => node = next,
                None => return (node, false),
            }
        }
        (node, true)
    }

    fn child(&self, seg: &Seg) -> Option<&Node> {
        match (&self.kind, seg) {
            (Kind::Some(inner), _) => inner.child(seg),
            (Kind::Seq(items), Seg::Index(i)) => items.get(*i).map(Node::unwrap_some),
            (Kind::Fields(fields), Seg::Field(name)) => {
                fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.unwrap_some())
            }
            _ => None,
        }
    }

    fn unwrap_some(&self) -> &Node {
        match &self.kind {
            Kind::Some(inner) => inner.unwrap_some(),
            _ => self,
        }
    }
}

struct Reader {
    chars: Vec<char>,
    at: usize,
    /// Byte offset of `chars[at]`.
    byte: usize,
    line: usize,
    col: usize,
}

type Parsed<T> = Result<T, ()>;

impl Reader {
    fn new(src: &str) -> Self {
        Reader {
            chars: src.chars().collect(),
            at: 0,
            byte: 0,
            line: 1,
            col: 1,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.at + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        self.byte += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }

    fn skip_blank(&mut self) {
        loop {
            match (self.peek(), self.peek_at(1)) {
                (Some(c), _) if c.is_whitespace() => {
                    self.bump();
                }
                (Some('/'), Some('/')) => {
                    while !matches!(self.peek(), None | Some('\n')) {
                        self.bump();
                    }
                }
                (Some('/'), Some('*')) => self.block_comment(),
                // `#![enable(...)]` attributes at the top of a file.
                (Some('#'), _) => {
                    while !matches!(self.peek(), None | Some('\n')) {
                        self.bump();
                    }
                }
                _ => return,
            }
        }
    }

    fn block_comment(&mut self) {
        // RON block comments nest.
        let mut depth = 0usize;
        while let Some(c) = self.bump() {
            if c == '/' && self.peek() == Some('*') {
                self.bump();
                depth += 1;
            } else if c == '*' && self.peek() == Some('/') {
                self.bump();
                depth -= 1;
                if depth == 0 {
                    return;
                }
            }
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_blank();
        if self.peek() == Some(c) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Parsed<Node> {
        self.skip_blank();
        let (pos, start) = (self.pos(), self.byte);
        let mut name = None;
        let kind = match self.peek().ok_or(())? {
            '(' => self.group(')')?,
            '[' => self.group(']')?,
            '{' => self.group('}')?,
            '"' => self.string()?,
            '\'' => self.char_literal()?,
            'r' if matches!(self.peek_at(1), Some('#') | Some('"')) => self.raw_string()?,
            c if c.is_alphabetic() || c == '_' => {
                let ident = self.ident();
                let after_ident = (self.at, self.byte, self.line, self.col);
                self.skip_blank();
                name = Some(ident.clone());
                if self.peek() == Some('(') {
                    let body = self.group(')')?;
                    match (ident.as_str(), body) {
                        ("Some", Kind::Seq(mut items)) if items.len() == 1 => {
                            Kind::Some(Box::new(items.pop().expect("one item")))
                        }
                        (_, body) => body,
                    }
                } else {
                    // The value ends with its name, not with the blanks after it.
                    (self.at, self.byte, self.line, self.col) = after_ident;
                    Kind::Ident(ident)
                }
            }
            _ => {
                self.number();
                Kind::Atom
            }
        };
        Ok(Node {
            pos,
            bytes: start..self.byte,
            name,
            kind,
        })
    }

    fn ident(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || c == '_' {
                name.push(c);
                self.bump();
            } else {
                break;
            }
        }
        name
    }

    fn number(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '+' | '_') {
                self.bump();
            } else {
                break;
            }
        }
    }

    fn string(&mut self) -> Parsed<Kind> {
        self.bump();
        loop {
            match self.bump().ok_or(())? {
                '\\' => {
                    self.bump();
                }
                '"' => return Ok(Kind::Atom),
                _ => {}
            }
        }
    }

    fn char_literal(&mut self) -> Parsed<Kind> {
        self.bump();
        loop {
            match self.bump().ok_or(())? {
                '\\' => {
                    self.bump();
                }
                '\'' => return Ok(Kind::Atom),
                _ => {}
            }
        }
    }

    fn raw_string(&mut self) -> Parsed<Kind> {
        self.bump();
        let mut hashes = 0;
        while self.peek() == Some('#') {
            self.bump();
            hashes += 1;
        }
        if self.bump() != Some('"') {
            return Err(());
        }
        loop {
            if self.bump().ok_or(())? == '"' {
                let mut closing = 0;
                while closing < hashes && self.peek() == Some('#') {
                    self.bump();
                    closing += 1;
                }
                if closing == hashes {
                    return Ok(Kind::Atom);
                }
            }
        }
    }

    /// The inside of `(..)`, `[..]` or `{..}`: items, or `key: value` pairs.
    fn group(&mut self, close: char) -> Parsed<Kind> {
        self.bump();
        let mut items = Vec::new();
        let mut fields = Vec::new();
        loop {
            if self.eat(close) {
                break;
            }
            let item = self.value()?;
            if self.eat(':') {
                let key = match item.kind {
                    Kind::Ident(name) => name,
                    _ => String::new(),
                };
                fields.push((key, self.value()?));
            } else {
                items.push(item);
            }
            if !self.eat(',') {
                if self.eat(close) {
                    break;
                }
                return Err(());
            }
        }
        Ok(if fields.is_empty() {
            Kind::Seq(items)
        } else {
            Kind::Fields(fields)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(src: &str, path: Vec<Seg>) -> Option<Pos> {
        locate(src, &path)
    }

    const SRC: &str = r##"// a comment
Scenario(
  name: "x", /* block /* nested */ */
  nodes: 3,
  faults: [
    At("1s", Crash(Node(7))),
    Random(every: ("1s", "2s"), kinds: [Crash]),
  ],
  recover: Some("2s"),
  text: r#"raw ( string"#,

)
"##;

    #[test]
    fn finds_nested_values() {
        assert_eq!(at(SRC, path!["nodes"]), Some(Pos { line: 4, col: 10 }));
        assert_eq!(at(SRC, path!["faults", 0, 1, 0, 0]), Some(Pos { line: 6, col: 25 }));
        assert_eq!(at(SRC, path!["faults", 1, "every", 1]), Some(Pos { line: 7, col: 26 }));
        assert_eq!(at(SRC, path!["recover"]), Some(Pos { line: 9, col: 17 }));
    }

    #[test]
    fn falls_back_to_the_deepest_existing_part() {
        assert_eq!(at(SRC, path!["faults", 5]), Some(Pos { line: 5, col: 11 }));
        assert_eq!(at(SRC, path!["nope"]), Some(Pos { line: 2, col: 1 }));
    }

    #[test]
    fn spans_give_the_text_and_name_of_a_value() {
        let s = span(SRC, &[Seg::from("faults"), Seg::from(0), Seg::from(1)]).unwrap();
        assert_eq!(&SRC[s.bytes.clone()], "Crash(Node(7))");
        assert_eq!((s.name.as_deref(), s.pos), (Some("Crash"), Pos { line: 6, col: 14 }));
        let s = span(SRC, &[Seg::from("nodes")]).unwrap();
        assert_eq!((&SRC[s.bytes.clone()], s.name), ("3", None));
        let src = "(protocol: Single , checks: [Kv])";
        let s = span(src, &[Seg::from("protocol")]).unwrap();
        assert_eq!(&src[s.bytes], "Single");
        assert_eq!(
            span(src, &[Seg::from("checks"), Seg::from(0)]).unwrap().name.as_deref(),
            Some("Kv")
        );
        assert_eq!(span(src, &[Seg::from("checks"), Seg::from(1)]), None);
    }

    #[test]
    fn unreadable_source_gives_none() {
        assert_eq!(at("Scenario(name: \"x\"", path!["name"]), None);
    }
}
