//! `cargo xtask check-structure`: the structure rules of the library crates, checked from their
//! source.
//!
//! - No import cycles between modules (files) of bpf-sys, bpf-core and bpf-programs: a file
//!   uses another when one of its non-test paths (`use`, a path in code, a path inside macro
//!   input) names an item that file defines; re-exports are followed to the defining file, so
//!   a `mod.rs` re-exporting its children is no cycle, a child using what `mod.rs` itself
//!   defines while `mod.rs` uses the child is one.
//! - No `Result<_, String>` in library code: errors stay typed and inspectable.
//! - No function longer than 80 lines outside generated code.
//!
//! Violations known when the rules came are listed in `xtask/structure-allow.txt`, each with
//! what will remove it. The check fails on a violation not listed, and on a listed one that is
//! gone (remove its line); `--report` prints everything and never fails; `--modules` prints
//! each crate's top-level modules bottom first, with what each uses.

mod cycles;
mod module_map;
mod modules;
mod rules;
mod source;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

/// The library crates: all three are checked for every rule.
const CRATES: [&str; 3] = ["bpf-sys", "bpf-core", "bpf-programs"];
/// Bindgen's output, not read: it uses nothing of its crate and follows no rule of ours.
const GENERATED: &str = "bpf-sys/src/generated";
const ALLOW_LIST: &str = "xtask/structure-allow.txt";

/// One violation, with the key that names it in the allow-list and the details that explain it.
#[derive(Debug)]
struct Violation {
    key: String,
    details: Vec<String>,
}

pub fn run(args: &[String]) -> Result<(), String> {
    let report = match args {
        [] => false,
        [flag] if flag == "--report" => true,
        [flag] if flag == "--modules" => return print_module_map(),
        _ => return Err("usage: cargo xtask check-structure [--report | --modules]".to_owned()),
    };
    let started = Instant::now();
    let root = crate::workspace_root();
    let violations = find_violations(&root)?;
    let allowed = read_allow_list(&root.join(ALLOW_LIST))?;
    let elapsed = started.elapsed();

    let found: BTreeSet<&str> = violations.iter().map(|v| v.key.as_str()).collect();
    let new: Vec<&Violation> = violations
        .iter()
        .filter(|v| !allowed.contains_key(&v.key))
        .collect();
    let stale: Vec<(&String, &String)> = allowed
        .iter()
        .filter(|(key, _)| !found.contains(key.as_str()))
        .collect();
    if report {
        for violation in &violations {
            let note = match allowed.get(&violation.key) {
                Some(comment) => format!("   (allowed: {comment})"),
                None => "   (NEW: not in the allow-list)".to_owned(),
            };
            print_violation(violation, &note);
        }
    } else {
        for violation in &new {
            print_violation(violation, "");
        }
    }
    for (key, comment) in &stale {
        println!("{ALLOW_LIST}: `{key}` no longer occurs ({comment}): remove its line");
    }
    println!(
        "check-structure: {} violations ({} allowed, {} new), {} stale allow-list entries; {:.2} s",
        violations.len(),
        violations.len() - new.len(),
        new.len(),
        stale.len(),
        elapsed.as_secs_f64()
    );
    if report || (new.is_empty() && stale.is_empty()) {
        Ok(())
    } else {
        Err(format!(
            "{} new violations, {} stale entries in {ALLOW_LIST}",
            new.len(),
            stale.len()
        ))
    }
}

fn print_module_map() -> Result<(), String> {
    let root = crate::workspace_root();
    for krate in CRATES {
        let src = root.join(krate).join("src");
        let graph = modules::import_graph(&src, Some(&root.join(GENERATED)))?;
        module_map::print(krate, &src, &graph);
    }
    Ok(())
}

fn print_violation(violation: &Violation, note: &str) {
    println!("{}{note}", violation.key);
    for line in &violation.details {
        println!("    {line}");
    }
}

fn find_violations(root: &Path) -> Result<Vec<Violation>, String> {
    let mut violations = Vec::new();
    for krate in CRATES {
        let src = root.join(krate).join("src");
        let graph = modules::import_graph(&src, Some(&root.join(GENERATED)))?;
        let relative = |index: usize| -> String {
            let path = &graph.files[index].path;
            path.strip_prefix(&src)
                .unwrap_or(path)
                .display()
                .to_string()
        };
        for set in cycles::strongly_connected(graph.files.len(), &graph.edges) {
            let mut members: Vec<String> = set.iter().map(|&i| relative(i)).collect();
            members.sort();
            let first = set
                .iter()
                .copied()
                .min_by_key(|&i| relative(i))
                .unwrap_or(set[0]);
            let cycle = cycles::shortest_cycle(first, &set, &graph.edges);
            let mut details = vec![format!("{} files import each other, e.g.:", set.len())];
            details.extend(cycle.iter().map(|edge| {
                format!(
                    "{}:{} uses {}",
                    relative(edge.from),
                    edge.line,
                    relative(edge.to)
                )
            }));
            violations.push(Violation {
                key: format!("cycle {krate}: {}", members.join(" ")),
                details,
            });
        }
        for file in &graph.files {
            let path = file
                .path
                .strip_prefix(root)
                .unwrap_or(&file.path)
                .display()
                .to_string();
            let findings = rules::check_file(&file.syntax);
            for v in findings.string_errors {
                violations.push(Violation {
                    key: format!("string-error {path} {}", v.name),
                    details: vec![format!("{path}:{}: Result<_, String>", v.line)],
                });
            }
            for v in findings.long_fns {
                violations.push(Violation {
                    key: format!("long-fn {path} {}", v.name),
                    details: vec![format!(
                        "{path}:{}: {} lines (at most {})",
                        v.line,
                        v.lines,
                        rules::MAX_FN_LINES
                    )],
                });
            }
        }
    }
    Ok(violations)
}

/// The allow-list: key → the comment saying what will remove the violation. Every entry must
/// carry one (`<key>  # <what removes it>`).
fn read_allow_list(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let mut allowed = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, comment)) = line.split_once(" # ") else {
            return Err(format!(
                "{}:{}: an entry needs ` # <what will remove it>` after it",
                path.display(),
                number + 1
            ));
        };
        allowed.insert(key.trim().to_owned(), comment.trim().to_owned());
    }
    Ok(allowed)
}
