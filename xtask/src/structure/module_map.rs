//! `cargo xtask check-structure --modules`: the import graph of each library crate folded to
//! its top-level modules (a folder or a file under `src/`), printed bottom first, so
//! docs/ARCHITECTURE.md's module map can be checked against the code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::cycles;
use super::modules::{Edge, ImportGraph};

/// Top-level module → the top-level modules it uses.
type ModuleEdges = BTreeMap<String, BTreeSet<String>>;

/// Prints each crate's top-level modules in layers: a module comes after everything it uses;
/// modules that use each other share a line, marked as a cycle.
pub fn print(krate: &str, src: &Path, graph: &ImportGraph) {
    let uses = fold_to_top_level(src, graph);
    println!("{krate}:");
    for layer in layers(&uses) {
        let used: BTreeSet<&String> = layer
            .iter()
            .flat_map(|module| &uses[module])
            .filter(|used| !layer.contains(used))
            .collect();
        let used: Vec<&str> = used.into_iter().map(String::as_str).collect();
        let marker = if layer.len() > 1 { "  (cycle)" } else { "" };
        println!(
            "  {:<40} uses {}{marker}",
            layer.join(" "),
            if used.is_empty() {
                "nothing of the crate".to_owned()
            } else {
                used.join(", ")
            }
        );
    }
}

fn top_level(src: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(src).unwrap_or(path);
    let first = relative
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_owned()
}

fn fold_to_top_level(src: &Path, graph: &ImportGraph) -> ModuleEdges {
    let names: Vec<String> = graph
        .files
        .iter()
        .map(|f| top_level(src, &f.path))
        .collect();
    let mut uses: ModuleEdges = names.iter().map(|n| (n.clone(), BTreeSet::new())).collect();
    for Edge { from, to, .. } in &graph.edges {
        if names[*from] != names[*to] {
            uses.entry(names[*from].clone())
                .or_default()
                .insert(names[*to].clone());
        }
    }
    uses.remove("lib");
    for used in uses.values_mut() {
        used.remove("lib");
    }
    uses
}

/// The strongly connected sets of modules in dependency order, bottom first.
fn layers(uses: &ModuleEdges) -> Vec<Vec<String>> {
    let names: Vec<&String> = uses.keys().collect();
    let index: BTreeMap<&String, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let edges: BTreeSet<Edge> = uses
        .iter()
        .flat_map(|(from, used)| {
            used.iter().map(|to| Edge {
                from: index[from],
                to: index[to],
                line: 0,
            })
        })
        .collect();
    let mut sets = cycles::strongly_connected(names.len(), &edges);
    let in_cycle: BTreeSet<usize> = sets.iter().flatten().copied().collect();
    sets.extend(
        (0..names.len())
            .filter(|i| !in_cycle.contains(i))
            .map(|i| vec![i]),
    );
    let mut placed: BTreeSet<usize> = BTreeSet::new();
    let mut ordered = Vec::new();
    while !sets.is_empty() {
        let ready = sets
            .iter()
            .position(|set| {
                set.iter().all(|&m| {
                    edges
                        .iter()
                        .filter(|e| e.from == m && !set.contains(&e.to))
                        .all(|e| placed.contains(&e.to))
                })
            })
            .unwrap_or(0);
        let set = sets.remove(ready);
        placed.extend(set.iter().copied());
        ordered.push(set.into_iter().map(|i| names[i].clone()).collect());
    }
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edges(pairs: &[(&str, &str)], alone: &[&str]) -> ModuleEdges {
        let mut uses: ModuleEdges = alone
            .iter()
            .map(|m| (m.to_string(), BTreeSet::new()))
            .collect();
        for (from, to) in pairs {
            uses.entry(to.to_string()).or_default();
            uses.entry(from.to_string())
                .or_default()
                .insert(to.to_string());
        }
        uses
    }

    #[test]
    fn a_module_comes_after_what_it_uses_and_a_cycle_shares_a_line() {
        let uses = edges(
            &[("top", "a"), ("a", "b"), ("b", "a"), ("a", "base")],
            &["lone"],
        );
        let layers = layers(&uses);
        let position = |m: &str| {
            layers
                .iter()
                .position(|l| l.iter().any(|n| n == m))
                .unwrap()
        };
        assert!(position("base") < position("a"));
        assert_eq!(position("a"), position("b"));
        assert!(position("a") < position("top"));
        assert_eq!(layers.iter().map(Vec::len).sum::<usize>(), 5);
    }
}
