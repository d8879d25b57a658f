//! The module map in src/lib.rs is true: every module uses only modules
//! listed above it (its own tests may use any).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The modules of the map, lowest first.
fn map() -> Vec<String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let mut modules = Vec::new();
    for line in lib.lines().filter(|l| l.starts_with("//! - [`")) {
        let name = &line["//! - [`".len()..];
        modules.push(name[..name.find('`').unwrap()].to_string());
    }
    modules
}

/// The source files of module `m`, without their `#[cfg(test)]` parts.
fn sources(m: &str) -> Vec<String> {
    let dir = src().join(m);
    let mut files = Vec::new();
    if dir.is_dir() {
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("tests.rs") {
                    files.push(path);
                }
            }
        }
    } else {
        files.push(src().join(format!("{m}.rs")));
    }
    let text = |p: &PathBuf| {
        let all = std::fs::read_to_string(p).unwrap();
        match all.find("#[cfg(test)]") {
            Some(i) => all[..i].to_string(),
            None => all,
        }
    };
    files.iter().map(text).collect()
}

/// The crate modules a source names as `crate::x`.
fn used(source: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in source.match_indices("crate::") {
        let rest = &source[i + "crate::".len()..];
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        out.insert(name);
    }
    out
}

#[test]
fn every_module_uses_only_the_modules_above_it_in_the_map() {
    let map = map();
    assert!(map.len() >= 15, "{map:?}");
    let mut bad = Vec::new();
    for (i, m) in map.iter().enumerate() {
        for source in sources(m) {
            for u in used(&source) {
                // `path!` is the scenario module's macro, exported at the root.
                let u = if u == "path" { "scenario".to_string() } else { u };
                match map.iter().position(|x| *x == u) {
                    Some(j) if j > i => bad.push(format!("{m} uses {u}, which is below it")),
                    _ => {}
                }
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn the_map_lists_every_module_once() {
    let map = map();
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let declared: BTreeSet<String> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';').to_string())
        .collect();
    let listed: BTreeSet<String> = map.iter().cloned().collect();
    assert_eq!(listed.len(), map.len(), "a module is listed twice: {map:?}");
    assert_eq!(listed, declared);
}
