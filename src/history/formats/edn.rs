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
    /// A floating-point number; also decimals with an `M` suffix. An
    /// integer too large for `Int` is an error, not a float: it would
    /// compare unlike the integer it was.
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

/// EDN text of the value, without comments, discards or tags, every
/// collection on one line.
impl fmt::Display for Edn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items = |f: &mut fmt::Formatter<'_>, open: &str, forms: &[Form], close: &str| {
            f.write_str(open)?;
            for (i, form) in forms.iter().enumerate() {
                write!(f, "{}{}", if i > 0 { " " } else { "" }, form.edn)?;
            }
            f.write_str(close)
        };
        match self {
            Edn::Nil => f.write_str("nil"),
            Edn::Bool(b) => write!(f, "{b}"),
            Edn::Int(i) => write!(f, "{i}"),
            Edn::Float(x) => write!(f, "{x:?}"),
            Edn::Str(s) => write!(f, "{s:?}"),
            Edn::Char(c) => write!(f, "\\{c}"),
            Edn::Keyword(k) => write!(f, ":{k}"),
            Edn::Symbol(s) => f.write_str(s),
            Edn::List(forms) => items(f, "(", forms, ")"),
            Edn::Vector(forms) => items(f, "[", forms, "]"),
            Edn::Set(forms) => items(f, "#{", forms, "}"),
            Edn::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    write!(f, "{}{} {}", if i > 0 { " " } else { "" }, k.edn, v.edn)?;
                }
                f.write_str("}")
            }
        }
    }
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

use crate::history::raw::excerpt;
use std::collections::BTreeSet;
use std::fmt;

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

    /// The next form, or None at the end of the text; a `#_` discard at
    /// the top level is passed over like one inside a collection, even as
    /// the last thing in the file.
    fn next_form(&mut self) -> Read<Option<Form>> {
        loop {
            self.skip_blank();
            if self.peek().is_none() {
                return Ok(None);
            }
            if let Some(form) = self.form_or_discard()? {
                return Ok(Some(form));
            }
        }
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
        // Keys compare as text, which leaves out the lines they are on, in
        // a set, so a map of many keys is not checked pair by pair.
        let mut keys = BTreeSet::new();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            let key = k.edn.to_string();
            if !keys.insert(key) {
                return Err(EdnError {
                    line: k.line,
                    message: format!("a map has the key {} twice", excerpt(&k.edn.to_string())),
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
            _ => self.error(format!("unknown character `\\{}`", excerpt(&name))),
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
                number(&text).or_else(|e| self.error(e))?
            }
        })
    }
}

/// A token that starts like a number: an integer (`N` suffix allowed)
/// that fits in 64 bits, or a float (`M` suffix allowed).
fn number(text: &str) -> Result<Edn, String> {
    let int = text.strip_suffix('N').unwrap_or(text);
    let digits = int.strip_prefix(['-', '+']).unwrap_or(int);
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        return int.parse().map(Edn::Int).map_err(|_| {
            let (min, max) = (i64::MIN, i64::MAX);
            format!(
                "the integer {} is out of range: integers are from {min} to {max}",
                excerpt(text)
            )
        });
    }
    let float = text.strip_suffix('M').unwrap_or(text).parse();
    float
        .map(Edn::Float)
        .map_err(|_| format!("`{}` is not a number", excerpt(text)))
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
    fn a_discard_at_the_top_level_is_passed_over_even_last() {
        let int = |i| Form {
            line: 1,
            edn: Edn::Int(i),
        };
        assert_eq!(
            read_all("[1] #_ [2]").unwrap(),
            [int(1)].map(|f| Form {
                line: 1,
                edn: Edn::Vector(vec![f]),
            })
        );
        assert_eq!(read_all("#_ [2]").unwrap(), []);
        assert_eq!(read_all("#_ 2 #_ 3 4").unwrap(), [int(4)]);
        assert_eq!(read_all("#_ #_ 2 3 4").unwrap(), [int(4)]);
        assert!(read_all("[1] #_")
            .unwrap_err()
            .message
            .contains("ends where a value was expected"));
    }

    #[test]
    fn a_key_repeated_on_another_line_is_still_a_repeat() {
        let e = read_all("{[1 2] :a\n [1 2] :b}").unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (2, "a map has the key [1 2] twice"));
        assert!(read_all("{[1 2] :a\n [1 3] :b}").is_ok());
        let wide: String = (0..2_000).map(|i| format!(":k{i} {i} ")).collect();
        assert!(read_all(&format!("{{{wide}}}")).is_ok());
    }

    #[test]
    fn an_integer_beyond_64_bits_is_an_error_not_a_float() {
        assert_eq!(one("9223372036854775807"), Edn::Int(i64::MAX));
        for big in [
            "100000000000000000000000000",
            "-9223372036854775809",
            "99999999999999999999N",
        ] {
            let e = read_all(big).unwrap_err();
            assert!(e.message.contains("is out of range: integers are from"), "{big}: {e:?}");
        }
        assert_eq!(one("1e26"), Edn::Float(1e26));
        assert_eq!(one("2.5M"), Edn::Float(2.5));
    }

    #[test]
    fn messages_quote_at_most_a_short_excerpt() {
        let long = "9".repeat(200_000) + "x";
        let e = read_all(&long).unwrap_err();
        assert!(
            e.message.len() < 200 && e.message.contains("is not a number"),
            "{}",
            &e.message[..200]
        );
        let key = format!("{{:{0} 1 :{0} 2}}", "k".repeat(200_000));
        assert!(read_all(&key).unwrap_err().message.len() < 200);
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
