//! Loads two builds of one program object into this kernel and compares what the kernel made of
//! each: per program, the translated instructions, or the load's refusal.

use std::path::PathBuf;

use bpf_programs::BpfLoader;
use bpf_programs::programs::ProgramCode;

/// `BPF_LD | BPF_DW | BPF_IMM`: the first half of a 64-bit immediate load.
const LD_IMM64: u8 = 0x18;
/// `BPF_PSEUDO_MAP_FD`, `BPF_PSEUDO_MAP_VALUE`: the kernel dumps a map reference as its id.
const MAP_REFERENCES: [u8; 2] = [1, 2];

/// What the kernel made of one program: its translated instructions as (code, registers, off,
/// imm), map ids blanked (each load creates its own maps), or why it refused it.
type Outcome = Result<Vec<(u8, u8, i16, i32)>, String>;

/// Each program of `object` loaded alone, in name order; an object the loader refuses as a
/// whole gives one outcome named `(object)`.
fn outcomes(object: &[u8], pins: &std::path::Path) -> Vec<(String, Outcome)> {
    let _ = std::fs::create_dir_all(pins);
    let mut bpf = match BpfLoader::new().map_pin_path(pins).load(object) {
        Ok(bpf) => bpf,
        Err(e) => return vec![("(object)".into(), Err(e.to_string()))],
    };
    let mut outcomes = Vec::new();
    for (name, program) in bpf.programs_mut() {
        let outcome = program
            .load()
            .and_then(|()| ProgramCode::from_fd(std::os::fd::AsFd::as_fd(program.fd()?)))
            .map(|code| {
                code.xlated()
                    .iter()
                    .map(|insn| {
                        let map = insn.code == LD_IMM64 && MAP_REFERENCES.contains(&insn.src_reg());
                        let registers = insn.src_reg() << 4 | insn.dst_reg();
                        (
                            insn.code,
                            registers,
                            insn.off,
                            if map { 0 } else { insn.imm },
                        )
                    })
                    .collect()
            })
            .map_err(|e| e.to_string());
        outcomes.push((name.to_owned(), outcome));
    }
    outcomes.sort_by(|a, b| a.0.cmp(&b.0));
    outcomes
}

/// How two builds of one object loaded.
pub struct LoadComparison {
    /// Programs the kernel took from both, with the same translated code.
    pub loaded: usize,
    /// Programs the kernel refused from both, with the same error.
    pub refused: usize,
    /// Programs that loaded differently, each with how.
    pub different: Vec<String>,
}

/// Loads `a` and `b` (two builds of the same source) and compares them program by program.
pub fn compare(a: &[u8], b: &[u8]) -> LoadComparison {
    let pins = PathBuf::from(format!(
        "/sys/fs/bpf/xtask_btf_roundtrip_{}",
        std::process::id()
    ));
    let (first, second) = (outcomes(a, &pins.join("a")), outcomes(b, &pins.join("b")));
    let _ = std::fs::remove_dir_all(&pins);
    let mut comparison = LoadComparison {
        loaded: 0,
        refused: 0,
        different: Vec::new(),
    };
    if first.len() != second.len() {
        comparison
            .different
            .push(format!("{} programs against {}", first.len(), second.len()));
        return comparison;
    }
    for ((name, x), (other, y)) in first.iter().zip(&second) {
        match (x, y) {
            _ if name != other => comparison
                .different
                .push(format!("program {name} against {other}")),
            (Ok(x), _) if x.is_empty() => comparison.different.push(format!(
                "{name}: loaded, but its translated code is not readable"
            )),
            (Ok(x), Ok(y)) if x == y => comparison.loaded += 1,
            (Err(x), Err(y)) if x == y => comparison.refused += 1,
            (Ok(x), Ok(y)) => comparison.different.push(format!(
                "{name}: translated code differs ({} and {} instructions)",
                x.len(),
                y.len()
            )),
            (Ok(_), Err(e)) | (Err(e), Ok(_)) => comparison
                .different
                .push(format!("{name}: loads from one build only: {e}")),
            (Err(x), Err(y)) => comparison
                .different
                .push(format!("{name}: refused differently: {x} / {y}")),
        }
    }
    comparison
}
