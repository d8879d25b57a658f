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
        let start = self.text.len();
        let (secs, nanos) = (time_ns / 1_000_000_000, time_ns % 1_000_000_000);
        write!(self.text, "{} {secs}.{nanos:09} {kind}", self.events).expect("writing to a String");
        let before_fields = self.text.len();
        write!(self.text, " {fields}").expect("writing to a String");
        if self.text.len() == before_fields + 1 {
            self.text.truncate(before_fields);
        }
        if self.text[before_fields..].contains(['\n', '\r']) {
            // One event, one line, whatever a payload holds (a panic
            // message from assert_eq! spans several).
            let fields = self.text.split_off(before_fields);
            self.text.push_str(&fields.replace('\n', "\\n").replace('\r', "\\r"));
        }
        self.text.push('\n');
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
    let (head, payload) = match line.find(" payload=") {
        Some(i) => (&line[..i], Some(&line[i + " payload=".len()..])),
        None => (line, None),
    };
    let mut words = head.split(' ');
    let mut next = |what: &str| {
        words
            .next()
            .filter(|w| !w.is_empty())
            .ok_or_else(|| format!("missing {what} in {line:?}"))
    };
    let seq = next("sequence number")?
        .parse()
        .map_err(|e| format!("bad sequence number: {e}"))?;
    let time_ns = parse_time(next("time")?)?;
    let kind = next("kind")?;
    let fields = words
        .map(|w| w.split_once('=').ok_or_else(|| format!("field {w:?} is not KEY=VALUE")))
        .collect::<Result<_, _>>()?;
    Ok(TraceLine {
        seq,
        time_ns,
        kind,
        fields,
        payload,
    })
}

fn parse_time(t: &str) -> Result<u64, String> {
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
    fn hash_is_fnv_of_the_lines() {
        let mut t = Trace::default();
        t.record(5, "heal", format_args!(""));
        assert_eq!(t.hash(), crate::fnv::hash(b"0 0.000000005 heal\n"));
        let mut u = Trace::default();
        u.record(6, "heal", format_args!(""));
        assert_ne!(t.hash(), u.hash());
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
