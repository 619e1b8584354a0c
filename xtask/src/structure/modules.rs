//! The module tree of one crate, the names each module binds, and the paths each source file
//! uses, resolved to the file that defines what they name: the import graph between files.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use syn::spanned::Spanned;
use syn::visit::Visit;

use super::source::{SourceFile, is_test_only};

/// A module's path inside its crate (`[]` is the crate root).
pub type ModPath = Vec<String>;

/// What a name bound in a module stands for.
#[derive(Debug, Clone)]
enum Binding {
    /// An item (struct, fn, macro, …) defined in the module's file.
    Item,
    /// A child module.
    Module(ModPath),
    /// A `use`: the path as written, resolved from the module declaring it.
    Alias(Vec<String>),
}

#[derive(Debug, Default)]
struct Module {
    /// Index of the file holding the module (inline modules share their file's).
    file: usize,
    names: HashMap<String, Vec<Binding>>,
    /// `use path::*`: paths as written.
    globs: Vec<Vec<String>>,
}

/// Where a path leads inside the crate.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Module(ModPath),
    /// An item defined in this file.
    Item(usize),
}

/// One import of a file: the file it uses something of, and the line where it does.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub line: usize,
}

/// A crate's source files and the imports between them.
#[derive(Debug)]
pub struct ImportGraph {
    pub files: Vec<SourceFile>,
    pub edges: BTreeSet<Edge>,
}

/// Reads the crate whose root is `src/lib.rs` and resolves every path of its non-test code;
/// modules under `opaque` (generated code, which uses nothing of the crate) are not read.
pub fn import_graph(src: &Path, opaque: Option<&Path>) -> Result<ImportGraph, String> {
    let mut tree = Tree {
        opaque: opaque.map(Path::to_path_buf),
        ..Tree::default()
    };
    tree.load_file(src.join("lib.rs"), src.to_path_buf(), Vec::new())?;
    let mut edges = BTreeSet::new();
    for (index, file) in tree.files.iter().enumerate() {
        let root = tree.file_roots[index].clone();
        let mut visitor = PathVisitor {
            tree: &tree,
            file: index,
            module: root,
            edges: &mut edges,
        };
        for item in &file.syntax.items {
            visitor.visit_item(item);
        }
    }
    Ok(ImportGraph {
        files: tree.files,
        edges,
    })
}

#[derive(Debug, Default)]
struct Tree {
    files: Vec<SourceFile>,
    /// The module path of each file.
    file_roots: Vec<ModPath>,
    modules: BTreeMap<ModPath, Module>,
    opaque: Option<PathBuf>,
}

impl Tree {
    /// Parses `path` as module `module`; `dir` is where its child module files live.
    fn load_file(&mut self, path: PathBuf, dir: PathBuf, module: ModPath) -> Result<(), String> {
        let file = SourceFile::read(&path)?;
        let index = self.files.len();
        let items = file.syntax.items.clone();
        self.files.push(file);
        self.file_roots.push(module.clone());
        self.load_items(&items, index, &dir, module)
    }

    fn load_items(
        &mut self,
        items: &[syn::Item],
        file: usize,
        dir: &Path,
        module: ModPath,
    ) -> Result<(), String> {
        self.modules.entry(module.clone()).or_default().file = file;
        for item in items {
            if is_test_only(item_attrs(item)) {
                continue;
            }
            match item {
                syn::Item::Mod(m) => {
                    let name = m.ident.to_string();
                    let mut child = module.clone();
                    child.push(name.clone());
                    self.bind(&module, &name, Binding::Module(child.clone()));
                    let child_dir = dir.join(&name);
                    match &m.content {
                        Some((_, inner)) => self.load_items(inner, file, &child_dir, child)?,
                        None => {
                            let (path, child_dir) = module_file(dir, &name, &m.attrs)?;
                            if !self.opaque.as_ref().is_some_and(|o| path.starts_with(o)) {
                                self.load_file(path, child_dir, child)?;
                            }
                        }
                    }
                }
                syn::Item::Use(u) => {
                    let mut leaves = Vec::new();
                    use_leaves(&u.tree, &mut Vec::new(), &mut leaves);
                    for leaf in leaves {
                        match leaf.name {
                            Some(name) => self.bind(&module, &name, Binding::Alias(leaf.path)),
                            None => self.module_mut(&module).globs.push(leaf.path),
                        }
                    }
                }
                other => {
                    for name in item_names(other) {
                        self.bind(&module, &name, Binding::Item);
                    }
                }
            }
        }
        Ok(())
    }

    fn module_mut(&mut self, module: &ModPath) -> &mut Module {
        self.modules.entry(module.clone()).or_default()
    }

    fn bind(&mut self, module: &ModPath, name: &str, binding: Binding) {
        self.module_mut(module)
            .names
            .entry(name.to_owned())
            .or_default()
            .push(binding);
    }

    /// Resolves `path` as used in module `from`; `None` for what lies outside the crate.
    fn resolve(&self, from: &ModPath, path: &[String], depth: usize) -> Option<Target> {
        if depth > 16 {
            return None;
        }
        let (first, rest) = path.split_first()?;
        let mut current = match first.as_str() {
            "crate" | "$crate" => Target::Module(Vec::new()),
            "self" => Target::Module(from.clone()),
            "super" => Target::Module(from.get(..from.len().checked_sub(1)?)?.to_vec()),
            name => self.lookup(from, name, depth)?,
        };
        for segment in rest {
            let Target::Module(module) = &current else {
                // Past an item: an associated item or a variant.
                return Some(current);
            };
            current = match segment.as_str() {
                "super" => Target::Module(module.get(..module.len().checked_sub(1)?)?.to_vec()),
                "self" => current.clone(),
                name => self.lookup(module, name, depth)?,
            };
        }
        Some(current)
    }

    /// What `name` means in `module`: its own names first, then its glob imports.
    fn lookup(&self, module: &ModPath, name: &str, depth: usize) -> Option<Target> {
        let entry = self.modules.get(module)?;
        if let Some(bindings) = entry.names.get(name) {
            // A module first (a path may go on through it), then what an alias leads to.
            let mut found = None;
            for binding in bindings {
                let target = match binding {
                    Binding::Item => Some(Target::Item(entry.file)),
                    Binding::Module(child) => Some(Target::Module(child.clone())),
                    Binding::Alias(path) => self.resolve(module, path, depth + 1),
                };
                match target {
                    Some(Target::Module(m)) => return Some(Target::Module(m)),
                    Some(item) => found = found.or(Some(item)),
                    None => {}
                }
            }
            return found;
        }
        entry
            .globs
            .iter()
            .find_map(|glob| match self.resolve(module, glob, depth + 1)? {
                Target::Module(source) if &source != module => {
                    self.lookup(&source, name, depth + 1)
                }
                _ => None,
            })
    }

    fn target_file(&self, target: &Target) -> Option<usize> {
        match target {
            Target::Item(file) => Some(*file),
            Target::Module(module) => self.modules.get(module).map(|m| m.file),
        }
    }
}

/// The file of `mod name;` declared by a module whose children live in `dir`, and the
/// directory of that file's own children.
fn module_file(
    dir: &Path,
    name: &str,
    attrs: &[syn::Attribute],
) -> Result<(PathBuf, PathBuf), String> {
    if attrs.iter().any(|attr| attr.path().is_ident("path")) {
        return Err(format!(
            "module `{name}`: `#[path]` modules are not followed by this check"
        ));
    }
    let flat = dir.join(format!("{name}.rs"));
    if flat.is_file() {
        return Ok((flat, dir.join(name)));
    }
    let nested = dir.join(name).join("mod.rs");
    if nested.is_file() {
        return Ok((nested, dir.join(name)));
    }
    Err(format!(
        "module `{name}`: neither {} nor {} exists",
        flat.display(),
        nested.display()
    ))
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::ExternCrate(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::ForeignMod(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::TraitAlias(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Union(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

/// The names an item (not a module or `use`) binds in its module.
fn item_names(item: &syn::Item) -> Vec<String> {
    let ident = match item {
        syn::Item::Const(i) => &i.ident,
        syn::Item::Enum(i) => &i.ident,
        syn::Item::Fn(i) => &i.sig.ident,
        syn::Item::Static(i) => &i.ident,
        syn::Item::Struct(i) => &i.ident,
        syn::Item::Trait(i) => &i.ident,
        syn::Item::TraitAlias(i) => &i.ident,
        syn::Item::Type(i) => &i.ident,
        syn::Item::Union(i) => &i.ident,
        syn::Item::Macro(i) => match &i.ident {
            Some(ident) => ident,
            None => return Vec::new(),
        },
        syn::Item::ForeignMod(f) => {
            return f
                .items
                .iter()
                .filter_map(|i| match i {
                    syn::ForeignItem::Fn(f) => Some(f.sig.ident.to_string()),
                    syn::ForeignItem::Static(s) => Some(s.ident.to_string()),
                    _ => None,
                })
                .collect();
        }
        _ => return Vec::new(),
    };
    vec![ident.to_string()]
}

/// One leaf of a `use` tree: the full path, and the name it binds (`None` for a glob).
#[derive(Debug)]
struct UseLeaf {
    path: Vec<String>,
    name: Option<String>,
    line: usize,
}

fn use_leaves(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<UseLeaf>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_leaves(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => out.push(leaf(prefix, &n.ident, &n.ident)),
        syn::UseTree::Rename(r) => out.push(leaf(prefix, &r.ident, &r.rename)),
        syn::UseTree::Glob(g) => out.push(UseLeaf {
            path: prefix.clone(),
            name: None,
            line: g.span().start().line,
        }),
        syn::UseTree::Group(g) => {
            for tree in &g.items {
                use_leaves(tree, prefix, out);
            }
        }
    }
}

fn leaf(prefix: &[String], ident: &syn::Ident, bound: &syn::Ident) -> UseLeaf {
    // `use a::b::{self}` binds `b`.
    if ident == "self" {
        return UseLeaf {
            path: prefix.to_vec(),
            name: prefix.last().cloned(),
            line: ident.span().start().line,
        };
    }
    let mut path = prefix.to_vec();
    path.push(ident.to_string());
    UseLeaf {
        path,
        name: Some(bound.to_string()).filter(|n| n != "_"),
        line: ident.span().start().line,
    }
}

/// Walks one file's non-test items, recording an edge for every path that leads into another
/// file of the crate.
struct PathVisitor<'t> {
    tree: &'t Tree,
    file: usize,
    module: ModPath,
    edges: &'t mut BTreeSet<Edge>,
}

impl PathVisitor<'_> {
    /// Records the edge of `path` (used at `line`); a path in code must reach an item (a name
    /// alone that matches a module is a variable, not a use of it).
    fn record(&mut self, path: &[String], line: usize, items_only: bool) {
        let Some(target) = self.tree.resolve(&self.module, path, 0) else {
            return;
        };
        if items_only && matches!(target, Target::Module(_)) {
            return;
        }
        if let Some(to) = self.tree.target_file(&target)
            && to != self.file
        {
            self.edges.insert(Edge {
                from: self.file,
                to,
                line,
            });
        }
    }

    /// Paths written inside macro input (`a::b::c`, `$crate::x`), which syn leaves as tokens.
    fn record_tokens(&mut self, tokens: proc_macro2::TokenStream) {
        let tokens: Vec<proc_macro2::TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            if let proc_macro2::TokenTree::Group(group) = &tokens[i] {
                self.record_tokens(group.stream());
                i += 1;
                continue;
            }
            let (path, line, next) = token_path(&tokens, i);
            if path.len() > 1 {
                self.record(&path, line, true);
            }
            i = next.max(i + 1);
        }
    }
}

/// The `::`-separated path starting at `tokens[start]` (`$crate` counts as one segment), its
/// line, and the index after it.
fn token_path(tokens: &[proc_macro2::TokenTree], start: usize) -> (Vec<String>, usize, usize) {
    use proc_macro2::TokenTree as T;
    let mut path = Vec::new();
    let mut i = start;
    let line = tokens[start].span().start().line;
    loop {
        match (tokens.get(i), tokens.get(i + 1)) {
            (Some(T::Punct(p)), Some(T::Ident(ident)))
                if p.as_char() == '$' && ident == "crate" =>
            {
                path.push("$crate".to_owned());
                i += 2;
            }
            (Some(T::Ident(ident)), _) => {
                path.push(ident.to_string());
                i += 1;
            }
            _ => return (path, line, i),
        }
        match (tokens.get(i), tokens.get(i + 1)) {
            (Some(T::Punct(a)), Some(T::Punct(b))) if a.as_char() == ':' && b.as_char() == ':' => {
                i += 2;
            }
            _ => return (path, line, i),
        }
    }
}

impl<'ast> Visit<'ast> for PathVisitor<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !is_test_only(item_attrs(item)) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        // Out-of-line modules are their own files, visited on their own.
        if let Some((_, items)) = &m.content {
            self.module.push(m.ident.to_string());
            for item in items {
                self.visit_item(item);
            }
            self.module.pop();
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        // A re-export only passes a name on (a `mod.rs` listing its children's items); what the
        // module's own code uses of it is recorded where the code uses it.
        if u.leading_colon.is_some() || !matches!(u.vis, syn::Visibility::Inherited) {
            return;
        }
        let mut leaves = Vec::new();
        use_leaves(&u.tree, &mut Vec::new(), &mut leaves);
        for leaf in leaves.into_iter().filter(|l| l.name.is_some()) {
            self.record(&leaf.path, leaf.line, false);
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_test_only(&f.attrs) {
            syn::visit::visit_impl_item_fn(self, f);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() {
            let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            self.record(&segments, path.span().start().line, true);
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.record_tokens(mac.tokens.clone());
        syn::visit::visit_macro(self, mac);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `files` (path under src, contents) as a crate and returns its edges as
    /// (from, to) file names.
    fn edges_of(files: &[(&str, &str)]) -> Vec<(String, String)> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("xtask-structure-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let graph = import_graph(&dir, None).unwrap();
        let name = |i: usize| {
            graph.files[i]
                .path
                .strip_prefix(&dir)
                .unwrap()
                .display()
                .to_string()
        };
        let mut edges: Vec<(String, String)> = graph
            .edges
            .iter()
            .map(|e| (name(e.from), name(e.to)))
            .collect();
        edges.sort();
        edges.dedup();
        std::fs::remove_dir_all(&dir).unwrap();
        edges
    }

    fn pair(from: &str, to: &str) -> (String, String) {
        (from.to_owned(), to.to_owned())
    }

    #[test]
    fn re_exports_lead_to_the_defining_file() {
        let edges = edges_of(&[
            ("lib.rs", "pub mod a;\nmod b;\npub use b::Thing;\n"),
            ("a.rs", "use crate::Thing;\npub fn f(_: Thing) {}\n"),
            ("b.rs", "pub struct Thing;\n"),
        ]);
        // lib.rs only passes `Thing` on: no edge from it, none back to it.
        assert_eq!(edges, [pair("a.rs", "b.rs")]);
    }

    #[test]
    fn a_child_using_what_its_parent_defines_is_a_cycle_only_if_the_parent_uses_it() {
        let edges = edges_of(&[
            ("lib.rs", "mod p;\n"),
            (
                "p/mod.rs",
                "mod c;\npub use c::Child;\npub struct Parent;\npub enum All { C(Child) }\n",
            ),
            ("p/c.rs", "use super::Parent;\npub struct Child(Parent);\n"),
        ]);
        assert_eq!(
            edges,
            [pair("p/c.rs", "p/mod.rs"), pair("p/mod.rs", "p/c.rs")]
        );
    }

    #[test]
    fn globs_aliases_macros_and_test_code() {
        let edges = edges_of(&[
            ("lib.rs", "mod m;\nmod n;\nmod t;\nmod u;\n"),
            ("m.rs", "pub fn f() {}\npub struct S;\n"),
            // A glob, then a name through it; a module alias used in code.
            ("n.rs", "use crate::m::*;\nfn g() { f(); }\n"),
            (
                "t.rs",
                "use crate::m as mm;\nfn h() { let _ = format!(\"{:?}\", 1); mm::f(); }\n",
            ),
            // Paths in macro input and in test code.
            (
                "u.rs",
                "fn k() { vec![crate::m::S]; }\n#[cfg(test)]\nmod tests { use crate::t; }\n",
            ),
        ]);
        assert_eq!(
            edges,
            [
                pair("n.rs", "m.rs"),
                pair("t.rs", "m.rs"),
                pair("u.rs", "m.rs")
            ]
        );
    }

    #[test]
    fn a_variable_named_like_a_module_is_no_use_of_it() {
        let edges = edges_of(&[
            (
                "lib.rs",
                "mod data;\nfn f() { let data = 1; let _ = data; }\n",
            ),
            ("data.rs", "pub fn g() {}\n"),
        ]);
        assert!(edges.is_empty(), "{edges:?}");
    }
}
