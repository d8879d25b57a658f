//! An EDN reader: enough of the spec for Jepsen and Knossos histories, and
//! strict about the rest.
//!
//! Reads nil, booleans, integers (with an optional N suffix), floats,
//! strings with escapes, characters, keywords, symbols, lists, vectors,
//! maps and sets, tagged literals (`#inst "..."`: the tag is dropped, the
//! value kept) and discards (`#_ form`). Commas are whitespace and `;`
//! starts a comment. Every form remembers the line it starts on.

/// An EDN value as read, with its children as [`Form`]s so each keeps its
/// line.
#[derive(Clone, Debug, PartialEq)]
pub enum Edn {
    /// `nil`.
    Nil,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits in 64 bits; an `N` suffix is dropped.
    Int(i64),
    /// A floating-point number; also integers too large for `Int`, and
    /// decimals with an `M` suffix.
    Float(f64),
    /// A string, escapes resolved.
    Str(String),
    /// A character literal such as `\a` or `\newline`.
    Char(char),
    /// A keyword without its leading colon: `:invoke` is `"invoke"`.
    Keyword(String),
    /// Any other bare word, namespace included: `foo/bar`.
    Symbol(String),
    /// `( ... )`.
    List(Vec<Form>),
    /// `[ ... ]`.
    Vector(Vec<Form>),
    /// `{ ... }`, entries in file order; a key may not repeat.
    Map(Vec<(Form, Form)>),
    /// `#{ ... }`, in file order; duplicates are not checked.
    Set(Vec<Form>),
}

/// One value in the text and the line it starts on, for error messages.
#[derive(Clone, Debug, PartialEq)]
pub struct Form {
    /// Line of the value's first character, counted from 1.
    pub line: usize,
    /// The value.
    pub edn: Edn,
}

impl Form {
    /// The value under keyword `key` in a map form.
    pub fn get(&self, key: &str) -> Option<&Form> {
        match &self.edn {
            Edn::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(&k.edn, Edn::Keyword(name) if name == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Text that is not EDN this reader accepts.
#[derive(Debug, PartialEq, Eq)]
pub struct EdnError {
    /// Line where the problem is, counted from 1; for an unclosed string or
    /// collection, the line where it opens.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

type Read<T> = Result<T, EdnError>;

/// Reads every top-level form in `text`.
pub fn read_all(text: &str) -> Read<Vec<Form>> {
    let mut r = Reader {
        chars: text.chars().collect(),
        at: 0,
        line: 1,
        depth: 0,
    };
    let mut forms = Vec::new();
    while let Some(form) = r.next_form()? {
        forms.push(form);
    }
    Ok(forms)
}

struct Reader {
    chars: Vec<char>,
    at: usize,
    line: usize,
    /// Collections and tags entered and not yet left.
    depth: usize,
}

/// Deeper nesting than any history has is refused, not recursed into
/// until the stack runs out.
const DEPTH_MAX: usize = 256;

impl Reader {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn error<T>(&self, message: impl Into<String>) -> Read<T> {
        Err(EdnError {
            line: self.line,
            message: message.into(),
        })
    }

    fn skip_blank(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == ',' {
                self.bump();
            } else if c == ';' {
                while !matches!(self.peek(), None | Some('\n')) {
                    self.bump();
                }
            } else {
                return;
            }
        }
    }

    /// The next form, or None at the end of the text.
    fn next_form(&mut self) -> Read<Option<Form>> {
        self.skip_blank();
        if self.peek().is_none() {
            return Ok(None);
        }
        self.form().map(Some)
    }

    fn form(&mut self) -> Read<Form> {
        if self.depth >= DEPTH_MAX {
            return self.error(format!("values are nested more than {DEPTH_MAX} levels deep"));
        }
        self.depth += 1;
        let form = self.form_inner();
        self.depth -= 1;
        form
    }

    fn form_inner(&mut self) -> Read<Form> {
        self.skip_blank();
        let line = self.line;
        let Some(c) = self.peek() else {
            return self.error("the text ends where a value was expected");
        };
        let edn = match c {
            '(' => Edn::List(self.seq(')')?),
            '[' => Edn::Vector(self.seq(']')?),
            '{' => self.map()?,
            ')' | ']' | '}' => return self.error(format!("unexpected `{c}`")),
            '"' => Edn::Str(self.string()?),
            '\\' => Edn::Char(self.character()?),
            '#' => return self.dispatch(),
            ':' => {
                self.bump();
                let name = self.token();
                if name.is_empty() {
                    return self.error("a keyword needs a name after `:`");
                }
                Edn::Keyword(name)
            }
            _ => self.atom()?,
        };
        Ok(Form { line, edn })
    }

    fn seq(&mut self, close: char) -> Read<Vec<Form>> {
        let open_line = self.line;
        self.bump();
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            match self.peek() {
                None => {
                    return Err(EdnError {
                        line: open_line,
                        message: format!("this collection is never closed with `{close}`"),
                    })
                }
                Some(c) if c == close => {
                    self.bump();
                    return Ok(items);
                }
                Some(_) => {
                    if let Some(form) = self.form_or_discard()? {
                        items.push(form);
                    }
                }
            }
        }
    }

    /// A form, or None for a `#_` discard.
    fn form_or_discard(&mut self) -> Read<Option<Form>> {
        if self.peek() == Some('#') && self.chars.get(self.at + 1) == Some(&'_') {
            self.bump();
            self.bump();
            self.form()?;
            return Ok(None);
        }
        self.form().map(Some)
    }

    fn map(&mut self) -> Read<Edn> {
        let line = self.line;
        let items = self.seq('}')?;
        if items.len() % 2 != 0 {
            return Err(EdnError {
                line,
                message: "a map needs an even number of forms (key value pairs)".into(),
            });
        }
        let mut it = items.into_iter();
        let mut entries: Vec<(Form, Form)> = Vec::new();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            if entries.iter().any(|(seen, _)| seen.edn == k.edn) {
                return Err(EdnError {
                    line: k.line,
                    message: format!("a map has the key {:?} twice", k.edn),
                });
            }
            entries.push((k, v));
        }
        Ok(Edn::Map(entries))
    }

    fn dispatch(&mut self) -> Read<Form> {
        let line = self.line;
        self.bump();
        match self.peek() {
            Some('{') => Ok(Form {
                line,
                edn: Edn::Set(self.seq('}')?),
            }),
            Some('_') => {
                self.bump();
                self.form()?;
                self.form()
            }
            Some(c) if c.is_alphabetic() => {
                // A tagged literal: keep the value, drop the tag.
                self.token();
                self.form()
            }
            _ => self.error("expected `#{`, `#_` or a tag after `#`"),
        }
    }

    fn string(&mut self) -> Read<String> {
        let line = self.line;
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(EdnError {
                        line,
                        message: "this string is never closed".into(),
                    })
                }
                Some('"') => return Ok(out),
                Some('\\') => out.push(match self.bump() {
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('r') => '\r',
                    Some('"') => '"',
                    Some('\\') => '\\',
                    Some('u') => self.unicode_escape()?,
                    Some(c) => return self.error(format!("unknown escape `\\{c}` in a string")),
                    None => return self.error("the text ends inside a string escape"),
                }),
                Some(c) => out.push(c),
            }
        }
    }

    fn unicode_escape(&mut self) -> Read<char> {
        let hex: String = (0..4).filter_map(|_| self.bump()).collect();
        u32::from_str_radix(&hex, 16)
            .ok()
            .and_then(char::from_u32)
            .map_or_else(|| self.error(format!("bad unicode escape `\\u{hex}`")), Ok)
    }

    fn character(&mut self) -> Read<char> {
        self.bump();
        let first = self.bump().map_or_else(|| self.error("the text ends after `\\`"), Ok)?;
        let rest = self.token();
        if rest.is_empty() {
            return Ok(first);
        }
        let name = format!("{first}{rest}");
        match name.as_str() {
            "newline" => Ok('\n'),
            "space" => Ok(' '),
            "tab" => Ok('\t'),
            "return" => Ok('\r'),
            _ => self.error(format!("unknown character `\\{name}`")),
        }
    }

    /// Symbol-ish characters: what keywords, symbols and numbers are made of.
    fn token(&mut self) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '[' | ']' | '{' | '}' | '"') {
                break;
            }
            out.push(c);
            self.bump();
        }
        out
    }

    fn atom(&mut self) -> Read<Edn> {
        let text = self.token();
        Ok(match text.as_str() {
            "nil" => Edn::Nil,
            "true" => Edn::Bool(true),
            "false" => Edn::Bool(false),
            _ => {
                let starts_numeric = text.starts_with(|c: char| c.is_ascii_digit())
                    || (text.len() > 1
                        && text.starts_with(['-', '+'])
                        && text[1..].starts_with(|c: char| c.is_ascii_digit()));
                if !starts_numeric {
                    return Ok(Edn::Symbol(text));
                }
                number(&text).map_or_else(|| self.error(format!("`{text}` is not a number")), Ok)?
            }
        })
    }
}

fn number(text: &str) -> Option<Edn> {
    let int = text.strip_suffix('N').unwrap_or(text);
    if let Ok(i) = int.parse::<i64>() {
        return Some(Edn::Int(i));
    }
    text.strip_suffix('M')
        .unwrap_or(text)
        .parse::<f64>()
        .ok()
        .map(Edn::Float)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Edn {
        let mut forms = read_all(text).unwrap();
        assert_eq!(forms.len(), 1, "{forms:?}");
        forms.pop().unwrap().edn
    }

    #[test]
    fn reads_scalars() {
        assert_eq!(one("nil"), Edn::Nil);
        assert_eq!(one("-12"), Edn::Int(-12));
        assert_eq!(one("42N"), Edn::Int(42));
        assert_eq!(one("1.5"), Edn::Float(1.5));
        assert_eq!(one(":invoke"), Edn::Keyword("invoke".into()));
        assert_eq!(one(r#""a \"b\"\n""#), Edn::Str("a \"b\"\n".into()));
        assert_eq!(one("\\newline"), Edn::Char('\n'));
        assert_eq!(one("foo/bar"), Edn::Symbol("foo/bar".into()));
    }

    #[test]
    fn strings_with_brackets_commas_and_hashes_are_one_token() {
        let text = r#"[{:process :nemesis, :type :info, :value "Cut off {:n2 #{:n3 :n4}, :n5 [x]}"} ; comment ]
                      {:process 22  :type :invoke, :f :read}]"#;
        let Edn::Vector(items) = one(text) else { panic!() };
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0].get("value").unwrap().edn,
            Edn::Str("Cut off {:n2 #{:n3 :n4}, :n5 [x]}".into())
        );
        assert_eq!(items[1].line, 2);
        assert_eq!(items[1].get("process").unwrap().edn, Edn::Int(22));
        assert_eq!(items[1].get("value"), None);
    }

    #[test]
    fn sets_tags_and_discards() {
        let int = |i| Form {
            line: 1,
            edn: Edn::Int(i),
        };
        assert_eq!(one("#{1 2}"), Edn::Set(vec![int(1), int(2)]));
        assert_eq!(one("#inst \"2024-01-01\""), Edn::Str("2024-01-01".into()));
        assert_eq!(one("[1 #_ 2 3]"), Edn::Vector(vec![int(1), int(3)]));
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(read_all("[1 2\n 3").unwrap_err().line, 1);
        assert_eq!(read_all("\n\n{:a}").unwrap_err().line, 3);
        assert!(read_all("\"open").unwrap_err().message.contains("never closed"));
        assert!(read_all("[1 2]]").unwrap_err().message.contains("unexpected `]`"));
        assert!(read_all("12abc").unwrap_err().message.contains("not a number"));
        assert!(read_all("{:a 1\n :a 2}").unwrap_err().message.contains("twice"));
        assert_eq!(read_all("{:a 1\n :a 2}").unwrap_err().line, 2);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(200_000);
        assert!(read_all(&deep).unwrap_err().message.contains("nested more than"));
        let tags = "#a ".repeat(100_000) + "1";
        assert!(read_all(&tags).unwrap_err().message.contains("nested more than"));
        let fine = "[".repeat(100) + &"]".repeat(100);
        assert!(read_all(&fine).is_ok());
    }
}
