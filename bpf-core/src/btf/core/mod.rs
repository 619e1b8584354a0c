//! CO-RE: relocating field offsets, sizes, existence, type ids and enum values in instructions
//! compiled against local BTF so they fit a target BTF (the running kernel's, or any given).

mod compat;
mod outcome;
mod patch;
mod spec;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, OnceLock};

use bpf_sys::generated::bpf_insn;

use super::error::BtfError;
use super::ext::{CoreRelo, CoreReloKind};
use super::parse::{Btf, essential_name};
use compat::kinds_compat;
use outcome::Outcome;
pub use outcome::{POISON_HELPER_ID, PatchError};
use patch::{calc_relo, patch_insn};
use spec::{Spec, SpecError, match_spec};

/// Produces module BTFs when a relocation first needs them (the loader reads
/// `/sys/kernel/btf/<module>`); bpf-core only calls it.
pub type ModuleSource = dyn Fn() -> Vec<Arc<Btf>> + Send + Sync;

/// The BTF relocations are resolved against: vmlinux plus module BTFs (searched after vmlinux,
/// only when vmlinux has no candidate). Name indexes are built once, on first use.
#[derive(Clone)]
pub struct CoreTarget {
    btfs: Vec<Arc<Btf>>,
    lazy_modules: Option<Arc<LazyModules>>,
}

struct LazyModules {
    source: Box<ModuleSource>,
    loaded: OnceLock<Vec<Arc<Btf>>>,
}

impl std::fmt::Debug for CoreTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreTarget")
            .field("btfs", &self.btfs.len())
            .field(
                "lazy_modules",
                &self
                    .lazy_modules
                    .as_ref()
                    .map(|m| m.loaded.get().map(Vec::len)),
            )
            .finish()
    }
}

impl CoreTarget {
    pub fn new(vmlinux: Arc<Btf>, modules: Vec<Arc<Btf>>) -> Self {
        let mut btfs = vec![vmlinux];
        btfs.extend(modules);
        CoreTarget {
            btfs,
            lazy_modules: None,
        }
    }

    /// vmlinux, with module BTFs produced by `modules` the first time a type is not found in
    /// vmlinux (most objects never need them, and reading every module's BTF is not free).
    pub fn with_lazy_modules(
        vmlinux: Arc<Btf>,
        modules: impl Fn() -> Vec<Arc<Btf>> + Send + Sync + 'static,
    ) -> Self {
        CoreTarget {
            btfs: vec![vmlinux],
            lazy_modules: Some(Arc::new(LazyModules {
                source: Box::new(modules),
                loaded: OnceLock::new(),
            })),
        }
    }

    pub fn from_btf(btf: Btf) -> Self {
        Self::new(Arc::new(btf), Vec::new())
    }

    /// The main (vmlinux) BTF.
    pub fn btf(&self) -> &Btf {
        &self.btfs[0]
    }

    /// The lazily read module BTFs, read now if they were not yet.
    fn lazy(&self) -> &[Arc<Btf>] {
        match &self.lazy_modules {
            Some(m) => m.loaded.get_or_init(|| (m.source)()),
            None => &[],
        }
    }

    /// BTF number `index`: the eager ones (vmlinux first), then the lazy ones.
    fn btf_at(&self, index: usize) -> &Btf {
        match self.btfs.get(index) {
            Some(btf) => btf,
            None => &self.lazy()[index - self.btfs.len()],
        }
    }

    /// Target types named like local type `local_id` (ignoring `___flavor`) of a compatible kind,
    /// from the first BTF that has any; the lazy module BTFs are read only if no eager one has.
    fn candidates(&self, local: &Btf, local_id: u32) -> Result<Vec<(usize, u32)>, BtfError> {
        let local_t = local.type_by_id(local_id)?;
        let local_kind = local_t.kind.kind();
        let want = essential_name(local_t.name.as_bytes());
        let matching = |btf: &Btf| -> Result<Vec<u32>, BtfError> {
            let mut ids = Vec::new();
            for id in btf.core_candidate_ids(want) {
                let t = btf.raw(id)?;
                if kinds_compat(local_kind, t.kind())
                    && essential_name(btf.string_bytes_at(t.name_off)?) == want
                {
                    ids.push(id);
                }
            }
            Ok(ids)
        };
        let eager = self.btfs.iter().enumerate();
        // Reached (and the modules read) only when no eager BTF has a candidate.
        let lazy = std::iter::once(()).flat_map(|()| (self.btfs.len()..).zip(self.lazy()));
        for (index, btf) in eager.chain(lazy) {
            let ids = matching(btf)?;
            if !ids.is_empty() {
                return Ok(ids.into_iter().map(|id| (index, id)).collect());
            }
        }
        Ok(Vec::new())
    }
}

/// A relocation that could not be satisfied: its instruction now calls `POISON_HELPER_ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoisonedRelo {
    /// Instruction index within the slice given to `relocate`.
    pub insn_index: usize,
    pub kind: CoreReloKind,
    /// E.g. `task_struct.nonexistent_field`.
    pub access: String,
}

/// What `relocate` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoreReport {
    pub applied: usize,
    pub poisoned: Vec<PoisonedRelo>,
}

/// Why relocation failed (the object is inconsistent, or the result would be ambiguous).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CoreError {
    #[error("CO-RE relocation at insn #{insn} ({kind})")]
    Btf {
        insn: usize,
        kind: &'static str,
        #[source]
        source: BtfError,
    },
    #[error("CO-RE relocation at insn #{insn} ({kind}) is invalid: {reason}")]
    InvalidRelo {
        insn: usize,
        kind: &'static str,
        reason: String,
    },
    /// The relocation's value could not be computed from the local or target spec.
    #[error("CO-RE relocation at insn #{insn} ({kind}) is invalid")]
    InvalidValue {
        insn: usize,
        kind: &'static str,
        #[source]
        source: PatchError,
    },
    #[error("CO-RE relocation at insn #{insn} ({kind}, {access}) is ambiguous: {reason}")]
    Ambiguous {
        insn: usize,
        kind: &'static str,
        access: String,
        reason: String,
    },
    #[error("CO-RE relocation at insn #{insn} ({kind}, {access}): cannot patch instruction")]
    Patch {
        insn: usize,
        kind: &'static str,
        access: String,
        #[source]
        source: PatchError,
    },
}

/// The access a relocation names, e.g. `task_struct.real_parent.tgid` (for listing them).
pub fn describe_access(local: &Btf, relo: &CoreRelo) -> Result<String, CoreError> {
    Ok(local_spec(local, relo)?.describe())
}

/// The relocation's access string resolved against the local BTF.
fn local_spec<'a>(local: &'a Btf, relo: &CoreRelo) -> Result<Spec<'a>, CoreError> {
    let insn = (relo.insn_off / 8) as usize;
    let kind = relo.kind.name();
    let access = local
        .string_at(relo.access_str_off)
        .map_err(|source| CoreError::Btf { insn, kind, source })?;
    Spec::parse(local, relo.type_id, access, relo.kind).map_err(|e| match e {
        SpecError::Btf(source) => CoreError::Btf { insn, kind, source },
        SpecError::Invalid(reason) => CoreError::InvalidRelo { insn, kind, reason },
    })
}

/// Applies `relos` (instruction offsets in bytes relative to `insns`) to `insns`, resolving each
/// against `target`. Unsatisfiable relocations poison their instruction and are reported.
pub fn relocate(
    insns: &mut [bpf_insn],
    relos: &[CoreRelo],
    local: &Btf,
    target: &CoreTarget,
) -> Result<CoreReport, CoreError> {
    let mut report = CoreReport::default();
    let mut candidates = CandidateCache::default();
    for relo in relos {
        let insn = insn_index(relo, insns.len())?;
        let kind = relo.kind.name();
        let local_spec = local_spec(local, relo)?;
        let described = local_spec.describe();
        let outcome = if relo.kind == CoreReloKind::TypeIdLocal {
            local_type_id_outcome(relo)
        } else {
            let cands = candidates.of(local, target, relo)?;
            resolve_in_target(relo, &local_spec, &described, target, cands)?
        };
        let poisoned = patch_insn(insns, insn, &outcome).map_err(|source| CoreError::Patch {
            insn,
            kind,
            access: described.clone(),
            source,
        })?;
        if poisoned {
            log::debug!("CO-RE: insn #{insn} {kind} {described}: no match in target, poisoned");
            report.poisoned.push(PoisonedRelo {
                insn_index: insn,
                kind: relo.kind,
                access: described,
            });
        } else {
            report.applied += 1;
        }
    }
    Ok(report)
}

/// The index of the instruction `relo` patches, checked to lie within `insn_count`.
fn insn_index(relo: &CoreRelo, insn_count: usize) -> Result<usize, CoreError> {
    let insn = (relo.insn_off / 8) as usize;
    if !relo.insn_off.is_multiple_of(8) || insn >= insn_count {
        return Err(CoreError::InvalidRelo {
            insn,
            kind: relo.kind.name(),
            reason: format!("instruction offset {} outside the function", relo.insn_off),
        });
    }
    Ok(insn)
}

/// `bpf_core_type_id_local`: the local id, needing no target.
fn local_type_id_outcome(relo: &CoreRelo) -> Outcome {
    Outcome {
        orig_val: u64::from(relo.type_id),
        new_val: u64::from(relo.type_id),
        validate: false,
        ..Outcome::default()
    }
}

/// Target candidates `(BTF index, type id)` per local root type id, looked up once per call of
/// `relocate`.
#[derive(Default)]
struct CandidateCache(HashMap<u32, Vec<(usize, u32)>>);

impl CandidateCache {
    /// The candidates of `relo`'s root type, which must be named.
    fn of(
        &mut self,
        local: &Btf,
        target: &CoreTarget,
        relo: &CoreRelo,
    ) -> Result<&[(usize, u32)], CoreError> {
        let insn = (relo.insn_off / 8) as usize;
        let kind = relo.kind.name();
        let btf_err = |source| CoreError::Btf { insn, kind, source };
        if local.type_name(relo.type_id).map_err(btf_err)?.is_empty() {
            return Err(CoreError::InvalidRelo {
                insn,
                kind,
                reason: "anonymous root types cannot be relocated".into(),
            });
        }
        Ok(match self.0.entry(relo.type_id) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => {
                new.insert(target.candidates(local, relo.type_id).map_err(btf_err)?)
            }
        })
    }
}

/// Resolves a relocation against each target candidate; they must all agree. With no candidate
/// matching, the outcome poisons the instruction (or says "absent" for existence checks).
fn resolve_in_target(
    relo: &CoreRelo,
    local_spec: &Spec<'_>,
    described: &str,
    target: &CoreTarget,
    cands: &[(usize, u32)],
) -> Result<Outcome, CoreError> {
    let insn = (relo.insn_off / 8) as usize;
    let kind = relo.kind.name();
    let invalid_value = |source| CoreError::InvalidValue { insn, kind, source };
    let mut chosen: Option<(Outcome, u64)> = None;
    for &(btf_idx, cand_id) in cands {
        let targ_btf = target.btf_at(btf_idx);
        let Some(targ_spec) = match_spec(local_spec, targ_btf, cand_id)
            .map_err(|source| CoreError::Btf { insn, kind, source })?
        else {
            continue;
        };
        let res = calc_relo(relo.kind, local_spec, Some(&targ_spec)).map_err(invalid_value)?;
        match &chosen {
            None => chosen = Some((res, targ_spec.bit_offset)),
            Some(prev) => {
                check_candidates_agree(relo, described, prev, (&res, targ_spec.bit_offset))?
            }
        }
    }
    match chosen {
        Some((res, _)) => Ok(res),
        None => calc_relo(relo.kind, local_spec, None).map_err(invalid_value),
    }
}

/// Two candidates that both match must place the field alike and resolve to the same value.
fn check_candidates_agree(
    relo: &CoreRelo,
    described: &str,
    (prev, prev_bit_offset): &(Outcome, u64),
    (res, bit_offset): (&Outcome, u64),
) -> Result<(), CoreError> {
    let ambiguous = |reason| CoreError::Ambiguous {
        insn: (relo.insn_off / 8) as usize,
        kind: relo.kind.name(),
        access: described.to_string(),
        reason,
    };
    if *prev_bit_offset != bit_offset {
        return Err(ambiguous(format!(
            "field offset {prev_bit_offset} != {bit_offset} bits"
        )));
    }
    if prev.poison != res.poison || prev.new_val != res.new_val {
        return Err(ambiguous(format!(
            "candidates resolve to {} and {}",
            prev.new_val, res.new_val
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    #[test]
    fn patch_errors_are_the_source_not_repeated_in_the_message() {
        let error = CoreError::Patch {
            insn: 3,
            kind: CoreReloKind::FieldByteOffset.name(),
            access: "task_struct.pid".into(),
            source: PatchError::UnexpectedOffset {
                found: 4,
                expected: 8,
            },
        };
        assert_eq!(
            error.to_string(),
            "CO-RE relocation at insn #3 (byte_off, task_struct.pid): cannot patch instruction"
        );
        let source = error.source().expect("the patch error is the source");
        assert_eq!(source.to_string(), "memory offset is 4, expected 8");
    }
}
