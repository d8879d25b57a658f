//! A seed corpus (`simulate sweep --corpus DIR`): per scenario, the seeds
//! that once failed unexpectedly or could not decide, so that later sweeps
//! run them again, whatever their range.
//!
//! DIR holds one plain text file per scenario, `<folder>.seeds`, named as
//! the scenario's report folder is (see [`crate::report::unique_folder_names`]):
//! one seed per line, after `#` why it was added (the checks that did not
//! pass). Files are keyed by the scenario's name only, not by a hash of
//! its text: after an edit a seed that found a bug may still find it, and
//! a seed that now passes is still a regression test. So seeds are only
//! ever added; delete a line by hand to drop one.

use super::summary::{Finding, FindingKind};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The corpus of each scenario of a sweep, as read before it ran.
pub struct Corpus {
    /// Each scenario's file, in the sweep's order.
    files: Vec<PathBuf>,
    /// Each scenario's seeds.
    pub seeds: Vec<BTreeSet<u64>>,
}

impl Corpus {
    /// Reads the files of the scenarios whose report folders are
    /// `folders` from `dir`, creating `dir` if it does not exist (a first
    /// sweep, or a CI cache that is still empty). A missing file is an
    /// empty corpus.
    pub fn open(dir: &Path, folders: &[String]) -> Result<Self, String> {
        let shown = dir.display();
        if !dir.exists() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create the corpus folder {shown}: {e}"))?;
        }
        if !dir.is_dir() {
            return Err(format!(
                "{shown} is not a directory; expected a folder of seed corpus files for --corpus"
            ));
        }
        let files: Vec<PathBuf> = folders.iter().map(|f| dir.join(format!("{f}.seeds"))).collect();
        let seeds = files.iter().map(|f| read(f)).collect::<Result<_, _>>()?;
        Ok(Corpus { files, seeds })
    }

    /// Adds to scenario `i`'s file the seeds of `findings` it does not
    /// hold yet, each with the checks that did not pass, writing the file
    /// atomically; returns the seeds added. `name` heads a new file.
    pub fn add(&mut self, i: usize, name: &str, findings: &[Finding]) -> Result<Vec<u64>, String> {
        let new: Vec<&Finding> = findings.iter().filter(|f| !self.seeds[i].contains(&f.seed)).collect();
        if new.is_empty() {
            return Ok(Vec::new());
        }
        let path = &self.files[i];
        let mut text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => header(name),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        for f in &new {
            text.push_str(&line(f));
            self.seeds[i].insert(f.seed);
        }
        crate::report::write_atomic(path, text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(new.iter().map(|f| f.seed).collect())
    }

    /// Scenario `i`'s file.
    pub fn file(&self, i: usize) -> &Path {
        &self.files[i]
    }
}

/// The first lines of a new file.
fn header(name: &str) -> String {
    format!(
        "# Seed corpus of scenario {name:?}: seeds that once failed unexpectedly or could not decide.\n\
         # `simulate sweep --corpus DIR` runs them (those outside its range first) and adds new ones here.\n\
         # One seed per line; after '#', the checks that did not pass.\n"
    )
}

/// A finding's line: its seed, and why.
fn line(f: &Finding) -> String {
    let outcome = match f.outcome {
        FindingKind::Failed => "failed",
        FindingKind::Unknown => "unknown",
    };
    let checks: Vec<String> = f
        .checks
        .iter()
        .map(|c| format!("{} ({})", c.check, c.verdict.as_str()))
        .collect();
    format!("{}  # {outcome}: {}\n", f.seed, checks.join(", "))
}

/// The seeds of a corpus file; none if it does not exist.
fn read(path: &Path) -> Result<BTreeSet<u64>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    parse(&path.display().to_string(), &text)
}

/// The seeds of a corpus file's text; `file` names it in errors.
fn parse(file: &str, text: &str) -> Result<BTreeSet<u64>, String> {
    let mut seeds = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("");
        let seed = content.trim();
        if seed.is_empty() {
            continue;
        }
        let column = content.len() - content.trim_start().len() + 1;
        let seed: u64 = seed.parse().map_err(|_| {
            format!(
                "{file}:{}:{column}: {seed:?} is not a seed; expected one seed per line (a whole number from 0 to {}), then optionally '#' and a comment",
                n + 1,
                u64::MAX
            )
        })?;
        seeds.insert(seed);
    }
    Ok(seeds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Verdict;
    use crate::cli::summary::CheckVerdict;

    #[test]
    fn seeds_parse_with_comments_and_bad_lines_say_where() {
        let text = "# head\n\n3  # failed: X (fail)\n 17\n3\n";
        assert_eq!(parse("c.seeds", text), Ok(BTreeSet::from([3, 17])));
        let err = parse("c.seeds", "1\n  x2 # oops\n").unwrap_err();
        assert!(
            err.starts_with("c.seeds:2:3: \"x2\" is not a seed; expected one seed per line"),
            "{err}"
        );
        assert!(parse("c.seeds", "-1\n").is_err());
        assert!(parse("c.seeds", "18446744073709551616\n").is_err());
    }

    #[test]
    fn a_line_reads_back_as_its_seed() {
        let f = Finding {
            seed: 42,
            verdict: Verdict::Fail,
            outcome: FindingKind::Failed,
            checks: vec![CheckVerdict {
                check: "ElectionSafety".into(),
                verdict: Verdict::Fail,
            }],
            replay: String::new(),
        };
        assert_eq!(line(&f), "42  # failed: ElectionSafety (fail)\n");
        let text = header("a \"b\"") + &line(&f);
        assert_eq!(parse("c.seeds", &text), Ok(BTreeSet::from([42])));
    }
}
