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
//! The trace hash folds, event by event, the event's parts as they are
//! recorded rather than its text: its time (8 bytes, little-endian), its
//! kind, a 0xff byte, then its fields in order: text as written, numbers
//! as 8 little-endian bytes (`n` or `c` before a node's or client's), and
//! payloads after a 0xfe byte as [`Node::hash_msg`](crate::core::Node::hash_msg)
//! and `hash_timer` put them (by default their Debug text; the built-in
//! families hash their messages through `Hash`, which covers what the text
//! leaves out), client operations and outputs through `Value`'s `Hash`.
//! The hash cannot be recomputed from the trace file. The bytes go in 8 at a time
//! (the last word zero-padded, then the event's length) through
//! `h = (h.rotate_left(5) ^ word) * 0x517cc1b727220a95`, from
//! `0xcbf29ce484222325`; the hash is `h` through splitmix64's finalizer.
//! So a run that keeps no text (a sweep's passing seeds) gets the same
//! hash as one that writes the trace out, without formatting a number.
//! (Before simulate 0.2 the hash was FNV-1a over the text lines.)

pub mod timeline;

use crate::core::PayloadHasher;
use std::fmt::{self, Write};

/// A run's trace as it is recorded: how many events it has, the running
/// hash that two runs compare to show they were the same, and, unless the
/// run keeps only its hash, the text.
#[derive(Clone, Debug)]
pub struct Trace {
    /// The text so far, one event per line; `None` when not kept.
    text: Option<String>,
    events: u64,
    hash: u64,
    /// Bytes hashed so far: the trace's size as a run's budget counts it.
    hashed_bytes: u64,
    /// The event being recorded, in the form the hash reads.
    parts: Vec<u8>,
    /// The event being recorded as text, when the text is kept: written
    /// from `str` pieces only, so it never needs a UTF-8 check.
    line: String,
    /// Also print each line to stderr as it is recorded.
    echo: bool,
}

/// The hash's starting state (FNV's offset basis, as good as any).
const HASH_START: u64 = 0xcbf2_9ce4_8422_2325;
/// Between an event's kind and its fields: no UTF-8 text holds this byte.
const FIELDS_MARK: u8 = 0xff;
/// Before a payload put in by [`Fields::payload`] (no UTF-8 text holds it
/// either), so that it never reads as text put in by [`Fields::text`].
const PAYLOAD_MARK: u8 = 0xfe;

impl Default for Trace {
    /// An empty trace that keeps its text.
    fn default() -> Self {
        Trace::new(true, false)
    }
}

impl Trace {
    /// An empty trace; with `keep_text`, it keeps the text of its events,
    /// and with `echo` (which keeps the text too) prints each to stderr.
    pub fn new(keep_text: bool, echo: bool) -> Self {
        Trace {
            text: (keep_text || echo).then(String::new),
            events: 0,
            hash: HASH_START,
            hashed_bytes: 0,
            parts: Vec::with_capacity(256),
            line: String::new(),
            echo,
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
    /// whose machinery costs more than the rest of recording, and numbers
    /// are formatted only when the text is kept.
    pub fn record_with(&mut self, time_ns: u64, kind: &str, fields: impl FnOnce(&mut Fields<'_>)) {
        let parts = &mut self.parts;
        parts.clear();
        parts.extend_from_slice(&time_ns.to_le_bytes());
        parts.extend_from_slice(kind.as_bytes());
        parts.push(FIELDS_MARK);
        if self.text.is_some() {
            let before_fields = start_line(&mut self.line, self.events, time_ns, kind);
            fields(&mut Fields {
                parts,
                line: Some(&mut self.line),
            });
            self.end_line(before_fields);
        } else {
            fields(&mut Fields { parts, line: None });
        }
        self.hash = fold_event(self.hash, &self.parts);
        self.hashed_bytes += self.parts.len() as u64;
        self.events += 1;
    }

    /// Puts the line being recorded (its fields start at `before_fields`)
    /// into the text.
    fn end_line(&mut self, before_fields: usize) {
        let (line, text) = (&mut self.line, self.text.as_mut().expect("keeping text"));
        if line.len() == before_fields + 1 {
            line.truncate(before_fields);
        }
        line.push('\n');
        let start = text.len();
        let written = line.as_str();
        if has_line_break(&line.as_bytes()[before_fields..line.len() - 1]) {
            // One event, one line, whatever a payload holds (a panic
            // message from assert_eq! spans several).
            let (head, fields) = written[..written.len() - 1].split_at(before_fields);
            text.push_str(head);
            text.push_str(&fields.replace('\n', "\\n").replace('\r', "\\r"));
            text.push('\n');
        } else {
            text.push_str(written);
        }
        if self.echo {
            eprint!("{}", &text[start..]);
        }
    }

    /// How many events were recorded: the sequence number the next one gets.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The hash of every event so far (see the module's doc).
    pub fn hash(&self) -> u64 {
        // splitmix64's finalizer: every input bit reaches every output bit.
        let mut x = self.hash;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }

    /// [`Trace::hash`] as 16 lower-case hex digits, as reports print it.
    pub fn hash_hex(&self) -> String {
        format!("{:016x}", self.hash())
    }

    /// How many bytes the hash has read: about the size of the text,
    /// whether it is kept or not (what a run's memory budget counts).
    pub fn hashed_bytes(&self) -> u64 {
        self.hashed_bytes
    }

    /// Whether the text is kept (see [`Trace::new`]).
    pub fn has_text(&self) -> bool {
        self.text.is_some()
    }

    /// The whole trace, one event per line, each ending in a newline.
    /// Only a trace that keeps its text has one: asking another is a bug
    /// (rerun the seed with the text kept, as reports do).
    pub fn text(&self) -> &str {
        self.text
            .as_deref()
            .expect("this run kept only its trace hash; run it again keeping the text")
    }
}

/// Starts the text line of event `seq`: `SEQ TIME KIND ` (the space before
/// the fields included); returns where the fields will begin, less one.
fn start_line(line: &mut String, seq: u64, time_ns: u64, kind: &str) -> usize {
    line.clear();
    let (secs, nanos) = (time_ns / 1_000_000_000, time_ns % 1_000_000_000);
    push_decimal(line, seq);
    line.push(' ');
    push_decimal(line, secs);
    line.push('.');
    push_nine_digits(line, nanos);
    line.push(' ');
    line.push_str(kind);
    let before_fields = line.len();
    line.push(' ');
    before_fields
}

/// Folds one event's parts into the running hash `h`, 8 bytes at a time;
/// the event's length goes last, so events never run into each other.
fn fold_event(mut h: u64, parts: &[u8]) -> u64 {
    let step = |h: u64, word: u64| (h.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    let mut words = parts.chunks_exact(8);
    for word in &mut words {
        h = step(h, u64::from_le_bytes(word.try_into().expect("eight bytes")));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        h = step(h, u64::from_le_bytes(last));
    }
    step(h, parts.len() as u64)
}

/// The fields of an event being recorded, written in line order (see
/// [`Trace::record_with`]): into the parts the hash reads and, when the
/// text is kept, the same text `format_args!` would give.
pub struct Fields<'a> {
    parts: &'a mut Vec<u8>,
    line: Option<&'a mut String>,
}

impl Fields<'_> {
    /// Text as it is.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.parts.extend_from_slice(text.as_bytes());
        if let Some(line) = &mut self.line {
            line.push_str(text);
        }
        self
    }

    /// A number in decimal, as `{}` writes it.
    pub fn number(&mut self, n: u64) -> &mut Self {
        self.parts.extend_from_slice(&n.to_le_bytes());
        if let Some(line) = &mut self.line {
            push_decimal(line, n);
        }
        self
    }

    /// A node's name, `n3`.
    pub fn node(&mut self, n: u32) -> &mut Self {
        self.named(b'n', n)
    }

    /// A client's name, `c3`.
    pub fn client(&mut self, c: u32) -> &mut Self {
        self.named(b'c', c)
    }

    fn named(&mut self, letter: u8, n: u32) -> &mut Self {
        self.parts.push(letter);
        if let Some(line) = &mut self.line {
            line.push(char::from(letter));
        }
        self.number(u64::from(n))
    }

    /// A payload, last on the line: `hash` puts it into the hash (see
    /// [`Node::hash_msg`](crate::core::Node::hash_msg)), and `text`, its
    /// text, is written only when the text is kept.
    pub fn payload(&mut self, hash: impl FnOnce(&mut PayloadHasher<'_>), text: fmt::Arguments<'_>) -> &mut Self {
        // Marks hashed bytes apart from text, which never holds this byte.
        self.parts.push(PAYLOAD_MARK);
        hash(&mut PayloadHasher::new(self.parts));
        if let Some(line) = &mut self.line {
            line.write_fmt(text).expect("writing to memory");
        }
        self
    }

    /// Formatted text, as `write!` gives it.
    pub fn args(&mut self, args: fmt::Arguments<'_>) -> &mut Self {
        match args.as_str() {
            Some(text) => self.text(text),
            None => {
                match &mut self.line {
                    Some(line) => {
                        let start = line.len();
                        line.write_fmt(args).expect("writing to memory");
                        self.parts.extend_from_slice(&line.as_bytes()[start..]);
                    }
                    None => Bytes(self.parts).write_fmt(args).expect("writing to memory"),
                }
                self
            }
        }
    }
}

impl fmt::Write for Fields<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.text(text);
        Ok(())
    }
}

/// Formatted text into bytes.
struct Bytes<'a>(&'a mut Vec<u8>);

impl fmt::Write for Bytes<'_> {
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
fn push_decimal(line: &mut String, n: u64) {
    line.push_str(itoa::Buffer::new().format(n));
}

/// `n` (below a billion) as exactly nine digits, as `{n:09}` writes it.
fn push_nine_digits(line: &mut String, n: u64) {
    debug_assert!(n < 1_000_000_000, "nanoseconds of a second: {n}");
    // A billion more has ten digits, the first a 1: the other nine are n's.
    line.push_str(&itoa::Buffer::new().format(n + 1_000_000_000)[1..]);
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
    parse_line_reusing(line, Vec::with_capacity(6))
}

/// [`parse_line`] with `fields` (cleared first) holding the fields: a
/// reader of a whole trace hands back the last line's, and allocates once.
pub fn parse_line_reusing<'a>(line: &'a str, mut fields: Vec<(&'a str, &'a str)>) -> Result<TraceLine<'a>, String> {
    fields.clear();
    if let Some((seq, time_ns, kind, at)) = plain_head(line) {
        let payload = split_fields(&line[at..], &mut fields)?;
        return Ok(TraceLine {
            seq,
            time_ns,
            kind,
            fields,
            payload,
        });
    }
    parse_general(line, fields)
}

/// A `send` or `deliver` line in exactly the form the world writes it:
/// `SEQ SECS.NNNNNNNNN send from=A to=B msg=N[ payload=...]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageLine<'a> {
    /// Global simulated time of the event.
    pub time_ns: u64,
    /// `send` or `deliver`.
    pub kind: &'a str,
    /// The `from` field's value.
    pub from: &'a str,
    /// The `to` field's value.
    pub to: &'a str,
    /// The `msg` field's value.
    pub msg: &'a str,
    /// Everything after `payload=`, if the line has one.
    pub payload: Option<&'a str>,
}

/// `line` as a [`MessageLine`], if it is one; `None` for anything else,
/// which [`parse_line_reusing`] reads (or rejects). Most of a trace is
/// sends and deliveries, and reading their three fields by place is a
/// third of what finding them by name costs; where this reads a line, it
/// reads what that one does (a test compares them).
pub fn message_line(line: &str) -> Option<MessageLine<'_>> {
    let (_, time_ns, kind, at) = plain_head(line)?;
    if kind != "send" && kind != "deliver" {
        return None;
    }
    let value = |rest: &'_ str, key: &str| -> Option<(usize, usize)> {
        let start = rest.strip_prefix(key).map(|_| key.len())?;
        let end = start + find_byte(&rest.as_bytes()[start..], b' ').unwrap_or(rest.len() - start);
        Some((start, end))
    };
    let rest = &line[at..];
    let (s, e) = value(rest, "from=")?;
    let (from, rest) = (&rest[s..e], rest.get(e + 1..)?);
    let (s, e) = value(rest, "to=")?;
    let (to, rest) = (&rest[s..e], rest.get(e + 1..)?);
    let (s, e) = value(rest, "msg=")?;
    let (msg, rest) = (&rest[s..e], &rest[e..]);
    let payload = match rest.strip_prefix(" payload=") {
        Some(payload) => Some(payload),
        None if rest.is_empty() => None,
        None => return None,
    };
    Some(MessageLine {
        time_ns,
        kind,
        from,
        to,
        msg,
        payload,
    })
}

/// [`parse_line_reusing`] for any line: the words one by one, each error
/// with its reason.
fn parse_general<'a>(line: &'a str, mut fields: Vec<(&'a str, &'a str)>) -> Result<TraceLine<'a>, String> {
    fields.clear();
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
    let payload = match words.at {
        Some(at) => split_fields(&line[at..], &mut fields)?,
        None => words.payload,
    };
    Ok(TraceLine {
        seq,
        time_ns,
        kind,
        fields,
        payload,
    })
}

/// `SEQ SECS.NNNNNNNNN KIND ` as [`Trace`] writes it, read in one pass:
/// the sequence number, the time, the kind and where the fields begin.
/// None for a line with no fields or anything unusual (more digits, a
/// missing word, a kind that starts `payload=`), which the general reader
/// then reads or rejects with the reason; where this reads a line, it
/// reads it as that one does (a test compares them).
fn plain_head(line: &str) -> Option<(u64, u64, &str, usize)> {
    let bytes = line.as_bytes();
    let digits = |from: usize, most: usize| -> Option<(u64, usize)> {
        let mut n = 0u64;
        let mut at = from;
        while let Some(&b) = bytes.get(at) {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 {
                break;
            }
            n = n * 10 + u64::from(digit);
            at += 1;
        }
        (at > from && at - from <= most).then_some((n, at))
    };
    let (seq, at) = digits(0, 19)?;
    let (secs, at) = digits(bytes.get(at).filter(|&&b| b == b' ').map(|_| at + 1)?, 10)?;
    let (nanos, end) = digits(bytes.get(at).filter(|&&b| b == b'.').map(|_| at + 1)?, 9)?;
    if end - at != 10 || bytes.get(end) != Some(&b' ') {
        return None;
    }
    let kind_at = end + 1;
    let kind_len = find_byte(&bytes[kind_at..], b' ')?;
    let kind = &line[kind_at..kind_at + kind_len];
    if kind.is_empty() || kind.starts_with("payload=") {
        return None;
    }
    Some((seq, secs * 1_000_000_000 + nanos, kind, kind_at + kind_len + 1))
}

/// Splits `rest`, the words after the kind, into `KEY=VALUE` fields up to a
/// word starting `payload=`, whose text (to the end) it returns: the
/// words [`LineWords`] gives, each scanned once for its space and its
/// first `=` (reports read whole traces back, line by line).
fn split_fields<'a>(mut rest: &'a str, fields: &mut Vec<(&'a str, &'a str)>) -> Result<Option<&'a str>, String> {
    const MARK: &str = "payload=";
    loop {
        if let Some(payload) = rest.strip_prefix(MARK) {
            return Ok(Some(payload));
        }
        let end = find_byte(rest.as_bytes(), b' ').unwrap_or(rest.len());
        let word = &rest[..end];
        match find_byte(word.as_bytes(), b'=') {
            Some(i) => fields.push((&word[..i], &word[i + 1..])),
            None => return Err(format!("field {word:?} is not KEY=VALUE")),
        }
        if end == rest.len() {
            return Ok(None);
        }
        rest = &rest[end + 1..];
    }
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
        match find_byte(rest.as_bytes(), b' ') {
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

/// Where the first `needle` (not 0) is in `bytes`. Eight bytes at a time:
/// a byte-by-byte search branches on every byte, and reports scan whole
/// traces, field by field.
fn find_byte(bytes: &[u8], needle: u8) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGHS: u64 = ONES << 7;
    debug_assert!(needle != 0, "the last word is padded with zeros");
    let pattern = ONES * u64::from(needle);
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let word = match rest.first_chunk::<8>() {
            Some(word) => u64::from_le_bytes(*word),
            None => {
                let mut last = [0u8; 8];
                last[..rest.len()].copy_from_slice(rest);
                u64::from_le_bytes(last)
            }
        };
        // The lowest byte the classic (x - 1) & !x marks is the first zero
        // byte of x: the first byte equal to the needle.
        let x = word ^ pattern;
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    None
}

/// `text` as a number if it is 1 to `most` ASCII digits (so no overflow
/// for `most` up to 19); anything else is left to `str::parse`, with its
/// errors.
pub(crate) fn plain_digits(text: &str, most: usize) -> Option<u64> {
    if !(1..=most).contains(&text.len()) {
        return None;
    }
    // One pass: each byte checked as it is added.
    text.bytes().try_fold(0, |n: u64, b| {
        let digit = b.wrapping_sub(b'0');
        (digit <= 9).then(|| n * 10 + u64::from(digit))
    })
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

    /// Records the same few events into `t`.
    fn sample(t: &mut Trace, payload: &str, at: u64) {
        t.record_with(at, "send", |line| {
            line.text("from=").node(0).text(" to=").client(12);
            line.text(" msg=").number(7).args(format_args!(" payload={payload:?}"));
        });
        t.record(at + 1, "heal", format_args!(""));
        t.record(at + 2, "phase", format_args!("name={}", "recover"));
    }

    #[test]
    fn the_hash_is_the_same_with_or_without_the_text() {
        let (mut kept, mut hashed) = (Trace::new(true, false), Trace::new(false, false));
        sample(&mut kept, "x", 5);
        sample(&mut hashed, "x", 5);
        assert!(kept.has_text() && !hashed.has_text());
        assert_eq!((kept.hash(), kept.events()), (hashed.hash(), hashed.events()));
        assert_eq!(kept.hashed_bytes(), hashed.hashed_bytes());
        assert_eq!(
            event_lines(kept.text()).next(),
            Some("0 0.000000005 send from=n0 to=c12 msg=7 payload=\"x\"")
        );
    }

    #[test]
    fn the_hash_changes_with_any_part_of_any_event() {
        let hash = |f: &dyn Fn(&mut Trace)| {
            let mut t = Trace::new(false, false);
            f(&mut t);
            t.hash()
        };
        let base = hash(&|t| sample(t, "x", 5));
        assert_ne!(base, hash(&|t| sample(t, "y", 5)), "payload");
        assert_ne!(base, hash(&|t| sample(t, "x", 6)), "time");
        assert_ne!(base, hash(&|t| sample(t, "xx", 5)), "length");
        let other_node = hash(&|t| {
            t.record_with(5, "send", |line| {
                line.text("from=").node(1).text(" to=").client(12);
                line.text(" msg=").number(7).args(format_args!(" payload={:?}", "x"));
            });
            t.record(6, "heal", format_args!(""));
            t.record(7, "phase", format_args!("name={}", "recover"));
        });
        assert_ne!(base, other_node, "a node");
        // The same bytes split into other events hash otherwise.
        let one = hash(&|t| t.record(1, "heal", format_args!("a=1 b=2")));
        let two = hash(&|t| {
            t.record(1, "heal", format_args!("a=1"));
        });
        assert_ne!(one, two);
        assert_ne!(hash(&|_| {}), one, "an empty trace");
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
    fn finds_a_byte_as_position_does() {
        let text = b"from=n0 to=c12 msg=123456789 reason=loss x";
        for len in 0..=text.len() {
            for start in 0..len.min(9) {
                let bytes = &text[start..len];
                for needle in [b' ', b'=', b'x', b'\n'] {
                    let expected = bytes.iter().position(|&b| b == needle);
                    assert_eq!(
                        find_byte(bytes, needle),
                        expected,
                        "{:?} {needle}",
                        std::str::from_utf8(bytes)
                    );
                }
            }
        }
        // A byte just above the needle borrows into the next: still found.
        assert_eq!(find_byte(b"!!!!!!!  ", b' '), Some(7));
        assert_eq!(find_byte(&[0x21, 0x20, 0x21, 0x20], b' '), Some(1));
    }

    #[test]
    fn the_fast_reading_of_a_line_agrees_with_the_general_one() {
        let mut trace = Trace::default();
        trace.record(0, "start", format_args!("node=n4"));
        trace.record(
            1_234_567_890_123,
            "send",
            format_args!("from=n0 to=c12 msg=77 payload=put \"k\" \"v 1\""),
        );
        trace.record(9_999_999_999_999_999_999, "heal", format_args!(""));
        trace.record(5, "drop", format_args!("from=n1 to=n2 msg=3 reason=loss"));
        trace.record(6, "x", format_args!("a=b=c payload="));
        let mut lines: Vec<String> = event_lines(trace.text()).map(str::to_string).collect();
        lines.extend(
            [
                "1 0.000000001 send from=n0 payload=a payload=b",
                "1 0.000000001 heal  x=1",
                "1 0.000000001 heal x=1 ",
                "1 0.000000001 heal x",
                "1 0.000000001 payload=x y=1",
                "1 0.000000001 send payload=",
                "12345678901234567890 0.000000001 heal x=1",
                "1 12345678901.000000001 heal x=1",
                "1 1.0000000001 heal x=1",
                "1 1.00000001 heal x=1",
                "1 +1.000000001 heal x=1",
                "01 001.000000001 heal x=1",
                "1 1.000000001  heal x=1",
                "1 1.000000001 heal",
                "1 1.000000001 ",
                "1 1.000000001",
                "ü 1.000000001 heal x=ü",
            ]
            .map(str::to_string),
        );
        for line in &lines {
            assert_eq!(parse_line(line), parse_general(line, Vec::new()), "{line:?}");
        }
        assert!(plain_head(&lines[1]).is_some(), "the usual line takes the fast way");
    }

    #[test]
    fn a_message_line_reads_as_the_general_reader_reads_it() {
        let lines = [
            "7 0.000000001 send from=n0 to=c12 msg=77 payload=put \"k\" \"v 1\"",
            "8 0.000000002 deliver from=c1 to=n2 msg=78",
            "9 0.000000002 deliver from=n1 to=n2 msg=78 payload=",
            "9 0.000000002 send from= to==x msg=5payload=y payload=z",
            // Not in the world's form: left to the general reader.
            "9 0.000000002 deliver from=n1 to=n2 msg=78 reason=x",
            "9 0.000000002 deliver to=n2 from=n1 msg=78",
            "9 0.000000002 deliver from=n1 to=n2",
            "9 0.000000002 deliver from=n1 to=n2 msg=7 ",
            "9 0.000000002 deliver from=n1 to=n2 msg=7  payload=x",
            "9 0.000000002 deliver from=n1  to=n2 msg=7",
            "9 0.000000002 drop from=n1 to=n2 msg=7",
            "9 0.000000002 send",
            "9 0.000000002 send ",
            "x 0.000000002 send from=n1 to=n2 msg=7",
        ];
        let read: Vec<bool> = lines.iter().map(|l| message_line(l).is_some()).collect();
        assert_eq!(
            read,
            [true, true, true, true, false, false, false, false, false, false, false, false, false, false]
        );
        for line in lines {
            let Some(m) = message_line(line) else { continue };
            let general = parse_line(line).unwrap();
            assert_eq!((general.time_ns, general.kind), (m.time_ns, m.kind), "{line}");
            assert_eq!(
                general.fields,
                [("from", m.from), ("to", m.to), ("msg", m.msg)],
                "{line}"
            );
            assert_eq!(general.payload, m.payload, "{line}");
        }
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
