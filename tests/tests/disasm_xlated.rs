//! The disassembler against bpftool: every program of the test suite's objects that loads
//! here is dumped by the library and by `bpftool prog dump xlated`, and the two texts must be
//! the same byte for byte (plain and with `linum`).

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::Command;

use bpf_core::disasm::ListingOptions;
use bpf_programs::BpfLoader;
use bpf_programs::programs::ProgramCode;
use bpf_programs::programs::kernel_functions::KernelSymbols;
use integration_tests::skip;

const TEST: &str = "disasm_xlated::every_loadable_test_program_dumps_as_bpftool_does";

fn objects() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bpf/obj");
    let mut paths: Vec<PathBuf> = [dir.clone(), dir.join("core")]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).expect("bpf/obj is readable"))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    paths.sort();
    paths
}

fn bpftool(id: u32, linum: bool) -> Result<String, String> {
    let mut command = Command::new("bpftool");
    command.args(["prog", "dump", "xlated", "id", &id.to_string()]);
    if linum {
        command.arg("linum");
    }
    let out = command.output().map_err(|e| format!("bpftool: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "bpftool failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("bpftool output: {e}"))
}

/// The first differing line of two dumps, for the failure message.
fn first_difference(ours: &str, theirs: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
    for i in 0..a.len().max(b.len()) {
        if a.get(i) != b.get(i) {
            return format!(
                "line {}: library {:?}, bpftool {:?}",
                i + 1,
                a.get(i),
                b.get(i)
            );
        }
    }
    "same lines, different line endings".to_owned()
}

#[test]
fn every_loadable_test_program_dumps_as_bpftool_does() {
    if Command::new("bpftool").arg("version").output().is_err() {
        skip(TEST, "no bpftool in this guest");
        return;
    }
    // Under TCG (the vm-test guests) one bpftool run takes seconds (it reads and sorts all of
    // kallsyms), the whole suite 20 minutes: there the comparison stops after a budget that
    // fits the guest's per-test timeout (120 s).
    let budget = std::env::var_os("VMTEST_KERNEL")
        .map(|_| std::time::Instant::now() + std::time::Duration::from_secs(60));
    let out_of_time = || budget.is_some_and(|end| std::time::Instant::now() > end);
    let (mut compared, mut matched, mut not_loaded) = (0, 0, 0);
    let mut mismatches = Vec::new();
    for path in objects() {
        if out_of_time() {
            println!("time budget of this guest spent: stopping before {path:?}");
            break;
        }
        let bytes = std::fs::read(&path).expect("object is readable");
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        // Some objects leave their stack map for user space to size.
        let opened = BpfLoader::new().load(&bytes).or_else(|first| {
            BpfLoader::new()
                .set_max_entries("stacks", 64)
                .set_value_size("stacks", 127 * 8)
                .load(&bytes)
                .map_err(|_| first)
        });
        let mut bpf = match opened {
            Ok(bpf) => bpf,
            Err(e) => {
                println!("{file}: the object does not open here: {e}");
                continue;
            }
        };
        let mut loaded = Vec::new();
        for (name, program) in bpf.programs_mut() {
            match program.load() {
                Ok(()) => loaded.push(name.to_owned()),
                Err(e) => {
                    println!("{file}/{name} does not load here: {e}");
                    not_loaded += 1;
                }
            }
        }
        // Subprogram calls are named by the new programs' symbols: read them after the load,
        // as bpftool does.
        let symbols = KernelSymbols::read().expect("/proc/kallsyms is readable");
        for name in loaded {
            if out_of_time() {
                break;
            }
            let fd = bpf.program(&name).expect("listed").fd().expect("loaded");
            let code = ProgramCode::from_fd(fd.as_fd()).expect("program code");
            let id = code.info().id();
            for linum in [false, true] {
                let options = ListingOptions {
                    source_lines: true,
                    line_numbers: linum,
                };
                let ours = code.xlated_listing(&symbols, options);
                let theirs = bpftool(id, linum).unwrap_or_else(|e| panic!("{file}/{name}: {e}"));
                compared += 1;
                if ours == theirs {
                    matched += 1;
                } else {
                    mismatches.push(format!(
                        "{file}/{name} (id {id}, linum {linum}): {}",
                        first_difference(&ours, &theirs)
                    ));
                }
            }
        }
    }
    println!(
        "{matched}/{compared} dumps identical to bpftool's ({} programs, each plain and with \
         linum; {not_loaded} programs do not load on this kernel)",
        compared / 2
    );
    assert!(
        mismatches.is_empty(),
        "{} dumps differ from bpftool's:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    let least = if budget.is_some() { 2 } else { 40 };
    assert!(compared >= least, "only {compared} dumps compared");
}

#[test]
fn a_refused_program_shows_the_instruction_the_verifier_names() {
    const RAW_TP: &[u8] = include_bytes!("../bpf/obj/prog_raw_tracepoint.bpf.o");
    let mut bpf = BpfLoader::new().load(RAW_TP).expect("object opens");
    let error = bpf
        .program_mut("unchecked_lookup")
        .expect("program exists")
        .load()
        .expect_err("the verifier refuses a dereference of a lookup not checked for NULL");
    let log = &error.verifier_log().expect("a verifier log").text;
    let rejected = error
        .rejected_instruction()
        .unwrap_or_else(|| panic!("no rejected instruction named in: {error}\n{log}"));
    // The verifier printed the instruction as it checked it: ours must read the same.
    let marked = rejected
        .context
        .lines()
        .find_map(|l| l.strip_prefix("> "))
        .expect("the rejected instruction is marked");
    assert!(
        marked.starts_with(&format!("{}: (", rejected.index)),
        "{marked}"
    );
    assert!(
        log.lines().any(|l| l.starts_with(marked)),
        "`{marked}` is not in the verifier log:\n{log}"
    );
    assert!(
        rejected.context.lines().count() > 1,
        "neighbours shown: {}",
        rejected.context
    );
    let message = error.to_string();
    assert!(
        message.contains(&format!(
            "the verifier refused instruction {}:\n",
            rejected.index
        )) && message.contains(marked),
        "{message}"
    );
    println!("{message}");
}
