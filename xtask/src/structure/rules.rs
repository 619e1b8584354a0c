//! The rules checked inside each function and type of library code: no `Result<_, String>`
//! (an error must stay inspectable), no function longer than [`MAX_FN_LINES`].

use syn::spanned::Spanned;
use syn::visit::Visit;

use super::source::is_test_only;

/// Longest function body allowed, from its `fn` line to its closing brace.
pub const MAX_FN_LINES: usize = 80;

/// A rule broken by one item: `name` is its path inside the file (`Type::method`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemViolation {
    pub name: String,
    pub line: usize,
    /// For long functions, the length in lines.
    pub lines: usize,
}

/// The items of `file` that use `Result<_, String>`, and the functions over the limit.
#[derive(Debug, Default)]
pub struct FileFindings {
    pub string_errors: Vec<ItemViolation>,
    pub long_fns: Vec<ItemViolation>,
}

pub fn check_file(file: &syn::File) -> FileFindings {
    let mut visitor = RuleVisitor::default();
    visitor.visit_file(file);
    visitor.findings
}

#[derive(Default)]
struct RuleVisitor {
    /// Names of the enclosing items, outermost first.
    scope: Vec<String>,
    findings: FileFindings,
}

impl RuleVisitor {
    fn within(&mut self, name: String, visit: impl FnOnce(&mut Self)) {
        self.scope.push(name);
        visit(self);
        self.scope.pop();
    }

    fn check_length(&mut self, fn_token: &syn::token::Fn, block: &syn::Block) {
        let start = fn_token.span().start().line;
        let end = block.brace_token.span.close().end().line;
        let lines = end.saturating_sub(start) + 1;
        if lines > MAX_FN_LINES {
            self.findings.long_fns.push(ItemViolation {
                name: self.scope.join("::"),
                line: start,
                lines,
            });
        }
    }
}

/// Whether `ty` is `Result<_, String>` (the error type written as `String`).
fn is_string_result(ty: &syn::TypePath) -> bool {
    let Some(last) = ty.path.segments.last() else {
        return false;
    };
    if last.ident != "Result" {
        return false;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return false;
    };
    let types: Vec<&syn::Type> = args
        .args
        .iter()
        .filter_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .collect();
    matches!(types.as_slice(), [_, syn::Type::Path(error)]
        if error.path.segments.last().is_some_and(|s| s.ident == "String" && s.arguments.is_empty()))
}

fn type_name(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map_or_else(|| "_".to_owned(), |s| s.ident.to_string()),
        _ => "_".to_owned(),
    }
}

impl<'ast> Visit<'ast> for RuleVisitor {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Fn(i) => &i.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Mod(i) => &i.attrs,
            syn::Item::Struct(i) => &i.attrs,
            syn::Item::Enum(i) => &i.attrs,
            syn::Item::Static(i) => &i.attrs,
            syn::Item::Const(i) => &i.attrs,
            syn::Item::Type(i) => &i.attrs,
            syn::Item::Trait(i) => &i.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if is_test_only(attrs) {
            return;
        }
        let name = match item {
            syn::Item::Fn(i) => Some(i.sig.ident.to_string()),
            syn::Item::Impl(i) => Some(type_name(&i.self_ty)),
            syn::Item::Mod(i) => Some(i.ident.to_string()),
            syn::Item::Struct(i) => Some(i.ident.to_string()),
            syn::Item::Enum(i) => Some(i.ident.to_string()),
            syn::Item::Static(i) => Some(i.ident.to_string()),
            syn::Item::Const(i) => Some(i.ident.to_string()),
            syn::Item::Type(i) => Some(i.ident.to_string()),
            syn::Item::Trait(i) => Some(i.ident.to_string()),
            _ => None,
        };
        match name {
            Some(name) => self.within(name, |v| syn::visit::visit_item(v, item)),
            None => syn::visit::visit_item(self, item),
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.check_length(&f.sig.fn_token, &f.block);
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if is_test_only(&f.attrs) {
            return;
        }
        self.within(f.sig.ident.to_string(), |v| {
            v.check_length(&f.sig.fn_token, &f.block);
            syn::visit::visit_impl_item_fn(v, f);
        });
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        self.within(f.sig.ident.to_string(), |v| {
            if let Some(block) = &f.default {
                v.check_length(&f.sig.fn_token, block);
            }
            syn::visit::visit_trait_item_fn(v, f);
        });
    }

    fn visit_type_path(&mut self, ty: &'ast syn::TypePath) {
        if is_string_result(ty) {
            let name = self.scope.join("::");
            let line = ty.span().start().line;
            if !self.findings.string_errors.iter().any(|v| v.name == name) {
                self.findings.string_errors.push(ItemViolation {
                    name,
                    line,
                    lines: 0,
                });
            }
        }
        syn::visit::visit_type_path(self, ty);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(source: &str) -> FileFindings {
        check_file(&syn::parse_file(source).unwrap())
    }

    #[test]
    fn string_results_are_found_where_they_are_written() {
        let findings = check(
            "fn a() -> Result<u32, String> { todo!() }\n\
             fn b() -> std::result::Result<(), std::string::String> { todo!() }\n\
             fn fine() -> Result<u32, MyError> { todo!() }\n\
             static CACHE: OnceLock<Result<Arc<Btf>, String>> = OnceLock::new();\n\
             impl Thing { fn c(&self) { let _: Result<u8, String> = Ok(1); } }\n\
             #[cfg(test)] mod tests { fn d() -> Result<(), String> { Ok(()) } }\n",
        );
        let names: Vec<&str> = findings
            .string_errors
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        assert_eq!(names, ["a", "b", "CACHE", "Thing::c"]);
    }

    #[test]
    fn functions_over_the_limit_are_found() {
        let body = "    let _x = 1;\n".repeat(MAX_FN_LINES - 2);
        let source = format!(
            "fn at_limit() {{\n{body}}}\nimpl T {{ fn over() {{\n{body}\n}} }}\n\
             #[test]\nfn test_over() {{\n{body}\n}}\n"
        );
        let findings = check(&source);
        let long: Vec<(&str, usize)> = findings
            .long_fns
            .iter()
            .map(|v| (v.name.as_str(), v.lines))
            .collect();
        assert_eq!(long, [("T::over", MAX_FN_LINES + 1)]);
    }
}
