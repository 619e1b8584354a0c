//! Batch lookup of whole maps (`BPF_MAP_LOOKUP_BATCH`), with a key-walk fallback.

use bpf_sys::map::BatchBuffers;
use bpf_sys::pod::{Pod, slice_bytes_mut, zeroed};

use super::map_data::syscall;
use super::{MapData, MapError};

/// Entries fetched per batch call unless the caller says otherwise.
pub const DEFAULT_BATCH_SIZE: u32 = 4096;

/// The kernel's `ENOTSUPP` (not in libc): the map type has no batch operations.
const ENOTSUPP: i32 = 524;

/// What a batch walk of the whole map returned.
pub(crate) enum BatchResult {
    /// Entries were appended to the output vectors.
    Done,
    /// The map type has no batch lookup; walk it key by key instead.
    Unsupported,
}

/// Replaces the contents of `keys` and `values` with every entry of the map (`per_entry`
/// elements of `VB` per value), fetching `chunk` entries per call; deletes them too when
/// `delete` is set. The elements already there are written over by the kernel, not zeroed
/// first: a caller that passes the same vectors again pays for no memset.
pub(crate) fn lookup_all<K: Pod, VB: Pod>(
    data: &MapData,
    per_entry: usize,
    keys: &mut Vec<K>,
    values: &mut Vec<VB>,
    chunk: u32,
    delete: bool,
) -> Result<BatchResult, MapError> {
    let token_len = (data.key_size() as usize).max(size_of::<u32>());
    let mut in_token = vec![0u8; token_len];
    let mut out_token = vec![0u8; token_len];
    let mut first = true;
    let mut chunk = chunk.max(1);
    // Entries read so far; the vectors may be longer (room kept from an earlier walk).
    let mut filled = 0;
    loop {
        let want = chunk as usize;
        if keys.len() < filled + want {
            keys.resize(filled + want, zeroed());
        }
        if values.len() < (filled + want) * per_entry {
            values.resize((filled + want) * per_entry, zeroed());
        }
        let bufs = BatchBuffers {
            in_batch: if first { None } else { Some(&in_token) },
            out_batch: &mut out_token,
            keys: slice_bytes_mut(&mut keys[filled..filled + want]),
            values: slice_bytes_mut(&mut values[filled * per_entry..(filled + want) * per_entry]),
        };
        let fd = data.map_fd();
        let result = if delete {
            fd.lookup_and_delete_batch(bufs, chunk, 0)
        } else {
            fd.lookup_batch(bufs, chunk, 0)
        };
        match result {
            Ok(outcome) => {
                filled += (outcome.count as usize).min(want);
                if outcome.done {
                    keys.truncate(filled);
                    values.truncate(filled * per_entry);
                    return Ok(BatchResult::Done);
                }
                std::mem::swap(&mut in_token, &mut out_token);
                first = false;
            }
            Err(e) => match e.errno() {
                // A hash bucket holds more entries than the chunk: retry with more room.
                Some(libc::ENOSPC) if chunk < u32::MAX / 2 => chunk *= 2,
                Some(ENOTSUPP | libc::EOPNOTSUPP) if first => {
                    keys.clear();
                    values.clear();
                    return Ok(BatchResult::Unsupported);
                }
                _ => {
                    keys.truncate(filled);
                    values.truncate(filled * per_entry);
                    return Err(syscall(data.name(), e));
                }
            },
        }
    }
}

/// Default chunk for a map: its size, capped.
pub(crate) fn default_chunk(data: &MapData) -> u32 {
    data.max_entries().clamp(1, DEFAULT_BATCH_SIZE)
}
