//! Every program type and every map wrapper carries a rustdoc example (which `cargo test --doc`
//! compiles): the types are read from the `program_types!` and `map_variants!` lists, their
//! definitions found in the sources, and the doc comment above each checked for a code block.

use std::path::Path;

fn sources(dir: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (path.display().to_string(), text)
        })
        .collect();
    files.sort();
    files
}

/// The lines of the `name! { ... }` invocation (the list of types) in `text`.
fn invocation<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let start = text
        .find(&format!("\n{name}! {{"))
        .unwrap_or_else(|| panic!("no {name}! invocation"));
    text[start..]
        .lines()
        .skip(1)
        .take_while(|line| !line.starts_with('}'))
        .collect()
}

/// The doc comment just above the definition of `ty` (a `pub struct` or `pub type` alias, else a
/// name line inside a defining macro's invocation), if `ty` is defined in `files`.
fn doc_of(files: &[(String, String)], ty: &str) -> Option<String> {
    let is_struct = |line: &str| {
        line.starts_with(&format!("pub struct {ty}<"))
            || line.starts_with(&format!("pub struct {ty} "))
            || line.starts_with(&format!("pub type {ty} = "))
            || line.starts_with(&format!("pub type {ty}<"))
    };
    let is_macro_name =
        |line: &str| line == format!("{ty},") || line.starts_with(&format!("{ty}, BPF_"));
    for matches in [&is_struct as &dyn Fn(&str) -> bool, &is_macro_name] {
        for (_, text) in files {
            let lines: Vec<&str> = text.lines().collect();
            let Some(definition) = lines.iter().position(|line| matches(line.trim())) else {
                continue;
            };
            let doc: Vec<&str> = lines[..definition]
                .iter()
                .rev()
                .map(|line| line.trim())
                .skip_while(|line| line.starts_with("#["))
                .take_while(|line| line.starts_with("///"))
                .collect();
            return Some(doc.into_iter().rev().collect::<Vec<_>>().join("\n"));
        }
    }
    None
}

fn assert_examples(files: &[(String, String)], types: &[&str], kind: &str) -> usize {
    let mut missing = Vec::new();
    let mut checked = 0;
    for ty in types {
        match doc_of(files, ty) {
            Some(doc) if doc.contains("/// ```") => checked += 1,
            Some(_) => missing.push(*ty),
            // A map type the library has no wrapper for yet (the `Map` enum still names it).
            None if kind == "map" => {}
            None => panic!("no definition of program type {ty} found"),
        }
    }
    assert!(
        missing.is_empty(),
        "{kind} types without a rustdoc example: {missing:?}"
    );
    checked
}

#[test]
fn every_program_type_has_an_example() {
    let files = sources("programs");
    let (_, module) = files
        .iter()
        .find(|(path, _)| path.ends_with("programs/mod.rs"))
        .unwrap();
    let types: Vec<&str> = invocation(module, "program_types")
        .into_iter()
        .filter_map(|line| {
            let inner = line.split_once('(')?.1.split_once(')')?.0;
            Some(inner)
        })
        .filter(|ty| !matches!(*ty, "UnsupportedProgram" | "UnknownProgram"))
        .collect();
    assert!(types.len() >= 35, "{types:?}");
    assert_eq!(assert_examples(&files, &types, "program"), types.len());
}

#[test]
fn every_map_wrapper_has_an_example() {
    let files = sources("maps");
    let (_, module) = files
        .iter()
        .find(|(path, _)| path.ends_with("maps/map_enum.rs"))
        .unwrap();
    let mut types: Vec<&str> = invocation(module, "map_variants")
        .into_iter()
        .filter_map(|line| line.trim().split_once(" =>").map(|(ty, _)| ty))
        .collect();
    assert!(types.len() >= 30, "{types:?}");
    // Not map types of their own, but how data sections and perf buffers are read.
    types.extend(["GlobalData", "PerfEventArray"]);
    assert!(assert_examples(&files, &types, "map") >= 32);
}
