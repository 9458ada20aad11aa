//! The architecture, checked: every file of the core library imports only from
//! its own layer or below, the top-level modules form no cycle, and the core
//! names nothing of the crates above it (the lab, the binary).
//!
//! The check reads the sources: each `crate::<module>` path (also inside
//! `use crate::{…}` groups) and each `super::` chain that climbs out of its
//! top-level module is a reference from the file's top-level module to
//! `<module>`. Comments are ignored. A new top-level module must be given a
//! layer in [`CORE_LAYERS`] (the test fails on a module it does not know).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The core's top-level modules, bottom layer first. A module may use its own
/// layer and the layers below it.
const CORE_LAYERS: &[&[&str]] = &[
    // Foundation: the error type, crash-safe files, the unknown-key helper,
    // what `lib.rs` itself holds (`VERSION`), the names of a run's output
    // files, and numbers with units for people.
    &[
        "lib",
        "error",
        "atomic_file",
        "config_keys",
        "layout",
        "units",
    ],
    // Readers and writers of IQ recordings.
    &["iq"],
    // The Welch PSD engine and windows.
    &["dsp"],
    // The chain of custody: hash chain, Ed25519 keys, verification.
    &["custody"],
    // The alert vocabulary (kinds, events), the alert log, the output directory.
    &["alert"],
    // Pipeline sources: files, SoapySDR devices, the buffer pool.
    &["source"],
    // Baseline profiles and site configuration.
    &["profile"],
    // Detectors and tracker; evidence recorders and renderers; the stage threads.
    &["detect", "evidence", "pipeline"],
    // The assembled monitor: detect stage, sink, summary.
    &["watch"],
    // The commands' runs: learn, analyze, the core's part of monitor.
    &["run"],
];

/// The lab's top-level modules; they may use any core module.
const LAB_MODULES: &[&str] = &["score", "synth"];
/// The core modules the lab binds at its root (`use rfsentry_core::{alert, iq, …}`).
const LAB_CORE_BINDINGS: &[&str] = &["alert", "iq", "Error", "Result"];

/// Items of the core's `lib.rs` and the module they belong to.
fn root_item(name: &str) -> Option<&'static str> {
    match name {
        "Error" | "Result" => Some("error"),
        "VERSION" => Some("lib"),
        _ => None,
    }
}

fn layer_of(module: &str) -> Option<usize> {
    CORE_LAYERS.iter().position(|layer| layer.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
}

/// The file's module path under `src` (`alert/mod.rs` → `[alert]`,
/// `alert/log.rs` → `[alert, log]`, `lib.rs` → `[lib]`).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.len() > 1 && parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The source without `//` comments (doc comments included) and without the
/// contents of string literals.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if in_str {
                if c == '"' && prev != '\\' {
                    in_str = false;
                    out.push('"');
                }
                prev = if prev == '\\' && c == '\\' { ' ' } else { c };
                continue;
            }
            if c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\'' {
                in_str = true;
                prev = ' ';
            } else {
                prev = c;
            }
            out.push(c);
        }
        out.push('\n');
    }
    out
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// Every name a file reaches at the crate root, with its line, and whether
/// it was reached by a `super::` chain (which may also name an item of the
/// file's own module from an inline `mod tests`: only module names count).
fn root_references(code: &str, depth: usize) -> Vec<(usize, String, bool)> {
    let mut refs = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            let before = rest[..i].chars().last();
            rest = &rest[i + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue; // `rfsentry_crate::`, `$crate::`
            }
            if let Some(group) = rest.strip_prefix('{') {
                refs.extend(
                    group_heads(group, code, n)
                        .into_iter()
                        .map(|h| (n + 1, h, false)),
                );
            } else {
                refs.push((n + 1, ident_at(rest).to_string(), false));
            }
        }
        // A `super::` chain long enough to leave the file's top-level module.
        let mut rest = line;
        while let Some(i) = rest.find("super::") {
            let before = rest[..i].chars().last();
            rest = &rest[i..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                rest = &rest["super::".len()..];
                continue;
            }
            let mut k = 0;
            while let Some(r) = rest.strip_prefix("super::") {
                rest = r;
                k += 1;
            }
            if k >= depth {
                refs.push((n + 1, ident_at(rest).to_string(), true));
            }
        }
    }
    refs
}

/// The first names of the items in a `crate::{…}` group (which may span lines).
fn group_heads(first_line_rest: &str, code: &str, line: usize) -> Vec<String> {
    let mut text = first_line_rest.to_string();
    for l in code.lines().skip(line + 1) {
        if text.contains('}') {
            break;
        }
        text.push_str(l);
    }
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut at_head = true;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => at_head = true,
            c if at_head && (c.is_alphanumeric() || c == '_') => {
                heads.push(ident_at(&text[i..]).to_string());
                at_head = false;
            }
            _ => {}
        }
    }
    heads
}

struct Graph {
    /// (from, to) → the first place it is seen.
    edges: BTreeMap<(String, String), String>,
    problems: Vec<String>,
}

fn scan(src: &Path, resolve: &dyn Fn(&str) -> Option<String>) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut graph = Graph {
        edges: BTreeMap::new(),
        problems: Vec::new(),
    };
    for file in &files {
        let path = module_path(src, file);
        let from = path[0].clone();
        let code = code_only(&std::fs::read_to_string(file).unwrap());
        let shown = file.strip_prefix(root()).unwrap();
        for (line, name, via_super) in root_references(&code, path.len()) {
            if matches!(name.as_str(), "self" | "crate" | "") {
                continue;
            }
            let Some(to) = resolve(&name) else {
                if via_super {
                    continue;
                }
                graph.problems.push(format!(
                    "{}:{line}: `crate::{name}` is no module this test knows: give it a layer",
                    shown.display()
                ));
                continue;
            };
            if to != from {
                graph
                    .edges
                    .entry((from.clone(), to))
                    .or_insert_with(|| format!("{}:{line}", shown.display()));
            }
        }
        for needle in ["rfsentry_lab", "rfsentry::"] {
            if src.ends_with("crates/core/src") && code.contains(needle) {
                graph.problems.push(format!(
                    "{}: names `{needle}`, a crate above the core",
                    shown.display()
                ));
            }
        }
    }
    graph
}

/// A cycle among the modules, if there is one.
fn find_cycle(edges: &BTreeMap<(String, String), String>) -> Option<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        next.entry(from).or_default().push(to);
    }
    fn visit<'a>(
        m: &'a str,
        next: &BTreeMap<&'a str, Vec<&'a str>>,
        done: &mut BTreeSet<&'a str>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|s| *s == m) {
            let mut cycle: Vec<String> = stack[at..].iter().map(|s| s.to_string()).collect();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if !done.insert(m) {
            return None;
        }
        stack.push(m);
        for n in next.get(m).into_iter().flatten() {
            if let Some(c) = visit(n, next, done, stack) {
                return Some(c);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    for m in next.keys() {
        if let Some(c) = visit(m, &next, &mut done, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn core_imports_only_from_its_own_layer_or_below() {
    let resolve = |name: &str| {
        if let Some(m) = root_item(name) {
            return Some(m.to_string());
        }
        layer_of(name).map(|_| name.to_string())
    };
    let graph = scan(&root().join("crates/core/src"), &resolve);
    let mut problems = graph.problems;
    for ((from, to), at) in &graph.edges {
        let (Some(lf), Some(lt)) = (layer_of(from), layer_of(to)) else {
            problems.push(format!("{at}: module `{from}` has no layer: give it one"));
            continue;
        };
        if lt > lf {
            problems.push(format!(
                "{at}: `{from}` (layer {lf}) uses `{to}` (layer {lt}), a layer above it"
            ));
        }
    }
    if let Some(cycle) = find_cycle(&graph.edges) {
        problems.push(format!("a cycle between modules: {}", cycle.join(" → ")));
    }
    // Every declared module exists (a stale table checks nothing).
    for module in CORE_LAYERS.iter().flat_map(|l| l.iter()) {
        let src = root().join("crates/core/src");
        if !src.join(format!("{module}.rs")).exists() && !src.join(module).is_dir() {
            problems.push(format!(
                "CORE_LAYERS names `{module}`, which is not in crates/core/src"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "layering broken:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn lab_uses_only_the_core_and_itself_without_cycles() {
    let resolve = |name: &str| {
        if LAB_MODULES.contains(&name) {
            Some(name.to_string())
        } else if LAB_CORE_BINDINGS.contains(&name) {
            Some("core".to_string())
        } else if name == "lib" {
            Some("lib".to_string())
        } else {
            None
        }
    };
    let graph = scan(&root().join("crates/lab/src"), &resolve);
    let mut problems = graph.problems;
    if let Some(cycle) = find_cycle(&graph.edges) {
        problems.push(format!("a cycle between modules: {}", cycle.join(" → ")));
    }
    assert!(
        problems.is_empty(),
        "lab layering broken:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn core_and_lab_depend_on_nothing_above_them() {
    let manifest = |p: &str| std::fs::read_to_string(root().join(p)).unwrap();
    let core = manifest("crates/core/Cargo.toml");
    for above in [
        "rfsentry-lab",
        "rfsentry =",
        "rfsentry.",
        "clap",
        "indicatif",
    ] {
        assert!(
            !core.contains(above),
            "crates/core/Cargo.toml names `{above}`"
        );
    }
    let lab = manifest("crates/lab/Cargo.toml");
    for above in ["rfsentry =", "rfsentry.", "clap", "indicatif"] {
        assert!(
            !lab.contains(above),
            "crates/lab/Cargo.toml names `{above}`"
        );
    }
}

#[test]
fn the_scanner_sees_what_it_must() {
    // Plain paths, groups across lines, and super chains leaving the module.
    let code = code_only(
        "use crate::iq::Sample; // crate::watch in a comment\n\
         let s = \"crate::watch in a string\";\n\
         use crate::{\n    dsp::psd,\n    Error,\n};\n\
         let x = super::super::alert::AlertKind::Tone;\n",
    );
    let refs: Vec<String> = root_references(&code, 2)
        .into_iter()
        .map(|(_, n, _)| n)
        .collect();
    assert_eq!(refs, ["iq", "dsp", "Error", "alert"]);
    // A cycle is found.
    let mut edges = BTreeMap::new();
    edges.insert(("a".to_string(), "b".to_string()), String::new());
    edges.insert(("b".to_string(), "a".to_string()), String::new());
    assert!(find_cycle(&edges).is_some());
}
