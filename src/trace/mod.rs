//! The trace: every event of a run, in order, as text lines.
//!
//! Line format (one event per line, fields separated by single spaces):
//!
//! ```text
//! SEQ TIME KIND [KEY=VALUE]... [payload=TEXT]
//! 41 0.012345678 send from=n0 to=n2 msg=17 payload=Heartbeat { log_len: 3 }
//! ```
//!
//! SEQ counts from 0. TIME is global simulated time in seconds with nine
//! decimals. KEY=VALUE values contain no spaces. `payload=`, when present,
//! is the last field and runs to the end of the line (it is the Debug form
//! of a message, timer, operation or reply). Lines starting with `#` are
//! comments. Kinds: start, send, deliver, drop, dup, timer, crash, restart,
//! pause, resume, partition, partition-one-way, heal, clock-jump, invoke,
//! complete, skip, phase, end, violation, role (a node's role changed, as
//! its `Node::role` says), budget (the run stopped early: `ran_out=` events
//! or memory, `used=` and `limit=` in events or bytes). `partition cut=`
//! and `heal links=` list directed links as `n0>n1,n1>n0`.
//!
//! The trace hash is FNV-1a 64 over the event lines, each with its
//! trailing newline: anyone can recompute it from the trace file.

pub mod timeline;

use crate::fnv::Fnv64;
use std::fmt::{self, Write};

/// A run's trace as it is written: the text so far, how many events it
/// has, and the running hash that two runs compare to show they were the
/// same.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    text: String,
    events: u64,
    hash: Fnv64,
    /// The line being recorded, as bytes: numbers go in without a UTF-8
    /// check each, and the whole line is checked once.
    line: Vec<u8>,
    /// Also print each line to stderr as it is recorded.
    pub echo: bool,
}

impl Trace {
    /// An empty trace; with `echo`, each line also goes to stderr.
    pub fn new(echo: bool) -> Self {
        Trace {
            echo,
            ..Trace::default()
        }
    }

    /// Appends one event at global time `time_ns`, numbered after the last
    /// one. `fields` is `KEY=VALUE ... [payload=TEXT]` or empty; line breaks
    /// in it are escaped so the event stays on one line.
    pub fn record(&mut self, time_ns: u64, kind: &str, fields: fmt::Arguments<'_>) {
        self.record_with(time_ns, kind, |line| {
            line.args(fields);
        });
    }

    /// [`Trace::record`] with the fields written by `fields` piece by
    /// piece: hot events (send, deliver, timer, drop) skip `format_args!`,
    /// whose machinery costs more than the rest of recording.
    pub fn record_with(&mut self, time_ns: u64, kind: &str, fields: impl FnOnce(&mut Fields<'_>)) {
        let line = &mut self.line;
        line.clear();
        let (secs, nanos) = (time_ns / 1_000_000_000, time_ns % 1_000_000_000);
        push_decimal(line, self.events);
        line.push(b' ');
        push_decimal(line, secs);
        line.push(b'.');
        push_nine_digits(line, nanos);
        line.push(b' ');
        line.extend_from_slice(kind.as_bytes());
        let before_fields = line.len();
        line.push(b' ');
        fields(&mut Fields(line));
        if line.len() == before_fields + 1 {
            line.truncate(before_fields);
        }
        line.push(b'\n');
        let start = self.text.len();
        let text = std::str::from_utf8(line).expect("a line is written from str pieces");
        if has_line_break(&line[before_fields..line.len() - 1]) {
            // One event, one line, whatever a payload holds (a panic
            // message from assert_eq! spans several).
            let (head, fields) = text[..text.len() - 1].split_at(before_fields);
            self.text.push_str(head);
            self.text.push_str(&fields.replace('\n', "\\n").replace('\r', "\\r"));
            self.text.push('\n');
        } else {
            self.text.push_str(text);
        }
        self.hash.write(&self.text.as_bytes()[start..]);
        self.events += 1;
        if self.echo {
            eprint!("{}", &self.text[start..]);
        }
    }

    /// How many events were recorded: the sequence number the next one gets.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// FNV-1a 64 of every event line so far, newlines included.
    pub fn hash(&self) -> u64 {
        self.hash.finish()
    }

    /// [`Trace::hash`] as 16 lower-case hex digits, as reports print it.
    pub fn hash_hex(&self) -> String {
        format!("{:016x}", self.hash())
    }

    /// The whole trace, one event per line, each ending in a newline.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// The fields of an event being recorded, written in line order (see
/// [`Trace::record_with`]): the same text `format_args!` would give.
pub struct Fields<'a>(&'a mut Vec<u8>);

impl Fields<'_> {
    /// Text as it is.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.0.extend_from_slice(text.as_bytes());
        self
    }

    /// A number in decimal, as `{}` writes it.
    pub fn number(&mut self, n: u64) -> &mut Self {
        push_decimal(self.0, n);
        self
    }

    /// A node's name, `n3`.
    pub fn node(&mut self, n: u32) -> &mut Self {
        self.0.push(b'n');
        self.number(u64::from(n))
    }

    /// A client's name, `c3`.
    pub fn client(&mut self, c: u32) -> &mut Self {
        self.0.push(b'c');
        self.number(u64::from(c))
    }

    /// Formatted text, as `write!` gives it.
    pub fn args(&mut self, args: fmt::Arguments<'_>) -> &mut Self {
        match args.as_str() {
            Some(text) => self.text(text),
            None => {
                self.write_fmt(args).expect("writing to memory");
                self
            }
        }
    }
}

impl fmt::Write for Fields<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.0.extend_from_slice(text.as_bytes());
        Ok(())
    }
}

/// Whether `bytes` hold a `\n` or `\r`: eight bytes at a time, as a
/// payload's Debug text rarely has one and every event is checked.
fn has_line_break(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGHS: u64 = ONES << 7;
    // A byte of `x` is zero iff the classic (x - 1) & !x sets its high bit.
    let has = |word: u64, byte: u8| {
        let x = word ^ (ONES * u64::from(byte));
        x.wrapping_sub(ONES) & !x & HIGHS != 0
    };
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        if has(word, b'\n') || has(word, b'\r') {
            return true;
        }
    }
    words.remainder().iter().any(|&b| b == b'\n' || b == b'\r')
}

/// `n` in decimal, as `{}` writes it.
fn push_decimal(line: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    line.extend_from_slice(&digits[at..]);
}

/// `n` (below a billion) as exactly nine digits, as `{n:09}` writes it.
fn push_nine_digits(line: &mut Vec<u8>, mut n: u64) {
    debug_assert!(n < 1_000_000_000, "nanoseconds of a second: {n}");
    let mut digits = [b'0'; 9];
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    line.extend_from_slice(&digits);
}

/// One parsed trace line, borrowing from the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceLine<'a> {
    /// Position of the event in the run, from 0.
    pub seq: u64,
    /// Global simulated time of the event.
    pub time_ns: u64,
    /// What happened: `send`, `deliver`, `crash`...
    pub kind: &'a str,
    /// The `KEY=VALUE` fields before the payload, in line order.
    pub fields: Vec<(&'a str, &'a str)>,
    /// Everything after `payload=`, spaces included, if the line has one.
    pub payload: Option<&'a str>,
}

impl<'a> TraceLine<'a> {
    /// The value of the first field named `key`.
    pub fn field(&self, key: &str) -> Option<&'a str> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

/// Splits one event line (not a comment) into its parts; an error says
/// what is malformed.
pub fn parse_line(line: &str) -> Result<TraceLine<'_>, String> {
    let mut words = LineWords {
        line,
        at: Some(0),
        payload: None,
    };
    let mut next = |what: &str| {
        words
            .next()
            .filter(|w| !w.is_empty())
            .ok_or_else(|| format!("missing {what} in {line:?}"))
    };
    let seq = next("sequence number")?;
    let seq = match plain_digits(seq, 19) {
        Some(n) => n,
        None => seq.parse().map_err(|e| format!("bad sequence number: {e}"))?,
    };
    let time_ns = parse_time(next("time")?)?;
    let kind = next("kind")?;
    let mut fields = Vec::with_capacity(6);
    for w in &mut words {
        match w.bytes().position(|b| b == b'=') {
            Some(i) => fields.push((&w[..i], &w[i + 1..])),
            None => return Err(format!("field {w:?} is not KEY=VALUE")),
        }
    }
    Ok(TraceLine {
        seq,
        time_ns,
        kind,
        fields,
        payload: words.payload,
    })
}

/// The words of a line between single spaces, up to its first
/// ` payload=`, whose text (to the end of the line) it keeps: one pass
/// over the line, as reports read whole traces back.
struct LineWords<'a> {
    line: &'a str,
    /// Where the next word begins; `None` once done.
    at: Option<usize>,
    payload: Option<&'a str>,
}

impl<'a> Iterator for LineWords<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        const MARK: &str = "payload=";
        let at = self.at?;
        let rest = &self.line[at..];
        // ` payload=` needs the space before it: not the line's first word.
        if at > 0 && rest.starts_with(MARK) {
            self.payload = Some(&rest[MARK.len()..]);
            self.at = None;
            return None;
        }
        match rest.bytes().position(|b| b == b' ') {
            Some(i) => {
                self.at = Some(at + i + 1);
                Some(&rest[..i])
            }
            None => {
                self.at = None;
                Some(rest)
            }
        }
    }
}

/// `text` as a number if it is 1 to `most` ASCII digits (so no overflow
/// for `most` up to 19); anything else is left to `str::parse`, with its
/// errors.
fn plain_digits(text: &str, most: usize) -> Option<u64> {
    let plain = (1..=most).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    plain.then(|| text.bytes().fold(0, |n, b| n * 10 + u64::from(b - b'0')))
}

fn parse_time(t: &str) -> Result<u64, String> {
    // The common case, SECS.NNNNNNNNN with plain digits, read directly.
    if let Some((secs, nanos)) = t.split_at_checked(t.len().wrapping_sub(10)) {
        if let (Some(secs), Some(nanos)) = (
            plain_digits(secs, 10),
            nanos.strip_prefix('.').and_then(|n| plain_digits(n, 9)),
        ) {
            if nanos < 1_000_000_000 {
                return Ok(secs * 1_000_000_000 + nanos);
            }
        }
    }
    let (secs, nanos) = t
        .split_once('.')
        .ok_or_else(|| format!("time {t:?} is not SECS.NANOS"))?;
    let secs: u64 = secs.parse().map_err(|e| format!("time {t:?}: {e}"))?;
    let nanos: u64 = nanos.parse().map_err(|e| format!("time {t:?}: {e}"))?;
    if nanos >= 1_000_000_000 || t.len() - t.find('.').unwrap_or(0) != 10 {
        return Err(format!("time {t:?} needs exactly nine decimals"));
    }
    Ok(secs * 1_000_000_000 + nanos)
}

/// The event lines of a trace text (comments skipped).
pub fn event_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|l| !l.starts_with('#') && !l.is_empty())
}

/// The first pair of lines where two traces differ; a missing line is "".
pub fn first_difference<'a>(a: &'a str, b: &'a str) -> Option<(&'a str, &'a str)> {
    let (mut la, mut lb) = (event_lines(a), event_lines(b));
    loop {
        match (la.next(), lb.next()) {
            (None, None) => return None,
            (x, y) if x != y => return Some((x.unwrap_or(""), y.unwrap_or(""))),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_parse_back() {
        let mut t = Trace::default();
        t.record(
            12_345_678,
            "send",
            format_args!("from=n0 to=n2 msg=17 payload=Ping {{ n: 1 }}"),
        );
        t.record(1_000_000_000, "heal", format_args!(""));
        let lines: Vec<_> = event_lines(t.text()).collect();
        assert_eq!(
            lines[0],
            "0 0.012345678 send from=n0 to=n2 msg=17 payload=Ping { n: 1 }"
        );
        assert_eq!(lines[1], "1 1.000000000 heal");
        let send = parse_line(lines[0]).unwrap();
        assert_eq!((send.seq, send.time_ns, send.kind), (0, 12_345_678, "send"));
        assert_eq!(send.field("to"), Some("n2"));
        assert_eq!(send.payload, Some("Ping { n: 1 }"));
        let heal = parse_line(lines[1]).unwrap();
        assert_eq!((heal.kind, heal.fields.len(), heal.payload), ("heal", 0, None));
    }

    #[test]
    fn a_payload_with_newlines_stays_on_one_line() {
        let mut t = Trace::default();
        t.record(
            1,
            "panic",
            format_args!("payload=assertion failed\n  left: 1\r\n right: 2"),
        );
        assert_eq!(
            t.text(),
            "0 0.000000001 panic payload=assertion failed\\n  left: 1\\r\\n right: 2\n"
        );
        assert_eq!(event_lines(t.text()).count(), 1);
    }

    #[test]
    fn finds_line_breaks_anywhere() {
        assert!(!has_line_break(b""));
        let text = b"send from=n0 to=n1 payload=Append { t: 1 }\t\x0b\x0c\x8a\xff";
        assert!(!has_line_break(text));
        for at in 0..text.len() {
            for brk in [b'\n', b'\r'] {
                let mut t = text.to_vec();
                t[at] = brk;
                assert!(has_line_break(&t), "{at} {brk}");
            }
        }
    }

    #[test]
    fn hash_is_fnv_of_the_lines() {
        let mut t = Trace::default();
        t.record(5, "heal", format_args!(""));
        assert_eq!(t.hash(), crate::fnv::hash(b"0 0.000000005 heal\n"));
        let mut u = Trace::default();
        u.record(6, "heal", format_args!(""));
        assert_ne!(t.hash(), u.hash());
    }

    #[test]
    fn splits_as_the_plain_string_functions_do() {
        for line in [
            "1 0.000000001 send from=n0 payload=a payload=b",
            "1 0.000000001 heal  x=1",
            "1 0.000000001 heal x=1 ",
            "payload=x 0.000000001 heal",
            "1 0.000000001 send payload=",
            "1 0.000000001 send a=b=c payload= x payload=y",
            "",
            " ",
            "ü ö payload=ä",
        ] {
            let expected = match line.find(" payload=") {
                Some(i) => (&line[..i], Some(&line[i + " payload=".len()..])),
                None => (line, None),
            };
            let mut words = LineWords {
                line,
                at: Some(0),
                payload: None,
            };
            let head: Vec<_> = (&mut words).collect();
            assert_eq!(words.payload, expected.1, "{line:?}");
            assert_eq!(head, expected.0.split(' ').collect::<Vec<_>>(), "{line:?}");
        }
        for time in [
            "0.000000001",
            "12.345678901",
            "+1.000000000",
            "1.00000000",
            "1.0000000000",
            ".000000001",
            "1x000000001",
            "ü.000000001",
        ] {
            let old = time.split_once('.').and_then(|(s, n)| {
                let ok = n.len() == 9 && s.parse::<u64>().is_ok() && n.parse::<u64>().is_ok();
                ok.then(|| s.parse::<u64>().unwrap() * 1_000_000_000 + n.parse::<u64>().unwrap())
            });
            assert_eq!(parse_time(time).ok(), old, "{time:?}");
        }
        let a_b = parse_line("1 0.000000001 send a=b=c payload=x").unwrap();
        assert_eq!(a_b.fields, vec![("a", "b=c")]);
    }

    #[test]
    fn rejects_malformed_lines() {
        for bad in [
            "",
            "x 0.000000001 heal",
            "1 0.1 heal",
            "1 0.000000001",
            "1 0.000000001 send to",
        ] {
            assert!(parse_line(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn first_difference_names_the_lines() {
        assert_eq!(first_difference("a\nb\n", "a\nb\n"), None);
        assert_eq!(first_difference("a\nb\n", "a\nc\n"), Some(("b", "c")));
        assert_eq!(first_difference("a\n", "a\nc\n"), Some(("", "c")));
    }
}
