//! Which BTF kinds the kernel accepts: each probe loads a tiny hand-made BTF blob once.

use std::sync::OnceLock;

use bpf_core::btf::BtfFeatures;
use bpf_sys::btf::btf_load;

const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_ENUM: u32 = 6;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_FLOAT: u32 = 16;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

/// Offsets into [`STRINGS`].
const NAME_INT: u32 = 1;
const NAME_X: u32 = 5;
const NAME_DATA: u32 = 7;
const NAME_FLOAT: u32 = 13;
const NAME_TAG: u32 = 19;
const NAME_E: u32 = 23;
const STRINGS: &[u8] = b"\0int\0x\0.data\0float\0tag\0e\0";

fn info(kind: u32, vlen: u32) -> u32 {
    (kind << 24) | vlen
}

/// The kind flag bit of `info`.
const KIND_FLAG: u32 = 1 << 31;

/// `int`: a 32-bit signed integer, always type id 1 in the probes.
fn int_type() -> [u32; 4] {
    [NAME_INT, info(KIND_INT, 0), 4, (1 << 24) | 32]
}

/// A BTF blob of `types` (already encoded words) and the probe string table.
fn blob(types: &[u32]) -> Vec<u8> {
    let type_len = (types.len() * 4) as u32;
    let mut out = Vec::new();
    out.extend_from_slice(&0xeb9fu16.to_le_bytes());
    out.extend_from_slice(&[1, 0]);
    for word in [24, 0, type_len, type_len, STRINGS.len() as u32] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    for word in types {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(STRINGS);
    out
}

fn loads(types: &[u32]) -> bool {
    btf_load(&blob(types), 0, None).is_ok()
}

fn probe_all() -> BtfFeatures {
    let int = int_type();
    let with_int = |rest: &[u32]| -> Vec<u32> { int.iter().chain(rest).copied().collect() };
    let func = loads(&with_int(&[
        0,
        info(KIND_FUNC_PROTO, 0),
        1,
        NAME_X,
        info(KIND_FUNC, 0),
        2,
    ]));
    let func_global = loads(&with_int(&[
        0,
        info(KIND_FUNC_PROTO, 0),
        1,
        NAME_X,
        info(KIND_FUNC, 1),
        2,
    ]));
    let datasec = loads(&with_int(&[
        NAME_X,
        info(KIND_VAR, 0),
        1,
        1,
        NAME_DATA,
        info(KIND_DATASEC, 1),
        4,
        2,
        0,
        4,
    ]));
    let float = loads(&[NAME_FLOAT, info(KIND_FLOAT, 0), 4]);
    let decl_tag = loads(&with_int(&[
        NAME_X,
        info(KIND_VAR, 0),
        1,
        1,
        NAME_TAG,
        info(KIND_DECL_TAG, 0),
        2,
        u32::MAX,
    ]));
    let type_tag = loads(&with_int(&[
        NAME_TAG,
        info(KIND_TYPE_TAG, 0),
        1,
        0,
        info(KIND_PTR, 0),
        2,
    ]));
    let enum64 = loads(&[NAME_E, info(KIND_ENUM64, 1), 8, NAME_X, 0, 1]);
    let signed_enum = loads(&[NAME_E, KIND_FLAG | info(KIND_ENUM, 1), 4, NAME_X, u32::MAX]);
    let empty_datasec = loads(&[NAME_DATA, info(KIND_DATASEC, 0), 4]);
    let features = BtfFeatures {
        func,
        func_global,
        datasec,
        float,
        decl_tag,
        type_tag,
        enum64,
        signed_enum,
        empty_datasec,
    };
    log::debug!("feature probe: BTF kinds: {features:?}");
    features
}

/// BTF kinds the running kernel accepts (probed on first use, then cached).
pub fn btf_features() -> BtfFeatures {
    static CACHE: OnceLock<BtfFeatures> = OnceLock::new();
    *CACHE.get_or_init(probe_all)
}

/// Whether the kernel loads BTF at all (`BPF_BTF_LOAD`, Linux 4.18).
pub fn btf() -> bool {
    static CACHE: OnceLock<bool> = OnceLock::new();
    *CACHE.get_or_init(|| loads(&int_type()))
}
