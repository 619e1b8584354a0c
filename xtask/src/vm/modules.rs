//! Picks the kernel modules the tests need out of `/lib/modules/<release>`, with their
//! dependencies, in an order `insmod` can load them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules the integration tests rely on when the kernel does not build them in:
/// veth pairs, the clsact/ingress qdisc, cls_bpf and act_bpf for tc, dummy links, and
/// nf_conntrack for kfuncs defined by a module.
pub const WANTED: &[&str] = &[
    "veth",
    "sch_ingress",
    "cls_bpf",
    "act_bpf",
    "dummy",
    "crc32c_generic", // libcrc32c (under nf_conntrack) needs a crc32c; a soft dependency.
    "nf_conntrack",
];

/// A module file to put into the initramfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Path relative to `/lib/modules/<release>`, as written in `modules.dep`, without any
    /// compression suffix.
    pub relative: String,
    /// The file on the host (possibly compressed).
    pub source: PathBuf,
}

/// What resolving [`WANTED`] found.
#[derive(Debug, Default)]
pub struct Resolution {
    /// In load order: dependencies before the modules needing them.
    pub load_order: Vec<Module>,
    pub builtin: Vec<String>,
    pub missing: Vec<String>,
}

/// `veth`, `kernel/drivers/net/veth.ko.xz` → `veth`; module names treat `-` and `_` alike.
fn module_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split(".ko").next().unwrap_or(file);
    stem.replace('-', "_")
}

fn strip_compression(path: &str) -> &str {
    [".xz", ".zst", ".gz"]
        .iter()
        .find_map(|suffix| path.strip_suffix(suffix))
        .unwrap_or(path)
}

/// Resolves `wanted` against the text of `modules.dep` and `modules.builtin`.
pub fn resolve(
    modules_dir: &Path,
    dep_text: &str,
    builtin_text: &str,
    wanted: &[&str],
) -> Resolution {
    let builtin: BTreeSet<String> = builtin_text.lines().map(module_name).collect();
    let mut deps: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for line in dep_text.lines() {
        let Some((path, rest)) = line.split_once(':') else {
            continue;
        };
        let requires = rest.split_whitespace().map(str::to_string).collect();
        deps.insert(module_name(path), (path.to_string(), requires));
    }
    let mut resolution = Resolution::default();
    let mut visited = BTreeSet::new();
    for name in wanted {
        let name = name.replace('-', "_");
        if builtin.contains(&name) {
            resolution.builtin.push(name);
        } else if deps.contains_key(&name) {
            visit(
                &name,
                &deps,
                modules_dir,
                &mut visited,
                &mut resolution.load_order,
            );
        } else {
            resolution.missing.push(name);
        }
    }
    resolution
}

/// Depth-first, dependencies first, so every module follows all it needs.
fn visit(
    name: &str,
    deps: &BTreeMap<String, (String, Vec<String>)>,
    modules_dir: &Path,
    visited: &mut BTreeSet<String>,
    order: &mut Vec<Module>,
) {
    if !visited.insert(name.to_string()) {
        return;
    }
    let Some((path, requires)) = deps.get(name) else {
        return;
    };
    for required in requires {
        visit(&module_name(required), deps, modules_dir, visited, order);
    }
    order.push(Module {
        relative: strip_compression(path).to_string(),
        source: modules_dir.join(path),
    });
}

/// The module's bytes, decompressed with the matching tool when the kernel packs them.
pub fn read_uncompressed(module: &Module) -> Result<Vec<u8>, String> {
    let source = module.source.to_string_lossy();
    let tool = if source.ends_with(".xz") {
        "xz"
    } else if source.ends_with(".zst") {
        "zstd"
    } else if source.ends_with(".gz") {
        "gzip"
    } else {
        return std::fs::read(&module.source).map_err(|e| format!("{source}: {e}"));
    };
    let out = std::process::Command::new(tool)
        .args(["-dc"])
        .arg(&module.source)
        .output()
        .map_err(|e| format!("running {tool} to decompress {source}: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!(
            "{tool} -dc {source}: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEP: &str = "\
kernel/net/sched/cls_bpf.ko:
kernel/drivers/net/veth.ko.xz: kernel/net/core/helper.ko.xz kernel/net/core/base.ko.xz
kernel/net/core/helper.ko.xz: kernel/net/core/base.ko.xz
kernel/net/core/base.ko.xz:
";

    #[test]
    fn dependencies_come_first_and_builtins_are_left_out() {
        let builtin = "kernel/net/sched/sch_ingress.ko\n";
        let resolution = resolve(
            Path::new("/m"),
            DEP,
            builtin,
            &["veth", "sch-ingress", "cls_bpf", "nope"],
        );
        let order: Vec<&str> = resolution
            .load_order
            .iter()
            .map(|m| m.relative.as_str())
            .collect();
        // helper needs base, so base precedes helper although veth lists helper first.
        assert_eq!(
            order,
            [
                "kernel/net/core/base.ko",
                "kernel/net/core/helper.ko",
                "kernel/drivers/net/veth.ko",
                "kernel/net/sched/cls_bpf.ko",
            ]
        );
        assert_eq!(
            resolution.load_order[2].source,
            Path::new("/m/kernel/drivers/net/veth.ko.xz")
        );
        assert_eq!(resolution.builtin, ["sch_ingress"]);
        assert_eq!(resolution.missing, ["nope"]);
    }
}
