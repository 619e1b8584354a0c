//! glibc's `/etc/ld.so.cache` (the `glibc-ld.so.cache1.1` table, alone or after a legacy one):
//! which file each library soname resolves to. The file is in the machine's byte order.

const MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
const HEADER_LEN: usize = 48;
const ENTRY_LEN: usize = 24;

/// One library of the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LdCacheEntry<'data> {
    /// e.g. `libc.so.6`.
    pub soname: &'data str,
    /// e.g. `/lib/x86_64-linux-gnu/libc.so.6`.
    pub path: &'data str,
}

/// The entries of the cache `data`, in its order (glibc's lookup order); an entry whose strings
/// lie outside the table or are not UTF-8 is left out, and bytes without the table give none.
pub fn ld_cache_entries(data: &[u8]) -> impl Iterator<Item = LdCacheEntry<'_>> {
    // Old caches put the new-format table after a legacy one; its string offsets count from
    // its own start.
    let table = data
        .windows(MAGIC.len())
        .position(|w| w == MAGIC)
        .and_then(|start| data.get(start..))
        .unwrap_or_default();
    let count = table.get(20..24).map_or(0, |count| {
        u32::from_ne_bytes(count.try_into().unwrap_or_default()) as usize
    });
    let string_at = move |offset: u32| -> Option<&str> {
        let rest = table.get(offset as usize..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        std::str::from_utf8(&rest[..end]).ok()
    };
    let word = move |entry: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_ne_bytes(entry.get(at..at + 4)?.try_into().ok()?))
    };
    table
        .get(HEADER_LEN..)
        .unwrap_or_default()
        .chunks_exact(ENTRY_LEN)
        .take(count)
        .filter_map(move |entry| {
            Some(LdCacheEntry {
                soname: string_at(word(entry, 4)?)?,
                path: string_at(word(entry, 8)?)?,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache table with `entries` (soname, path), after `prefix` bytes of something else.
    fn cache(prefix: usize, entries: &[(&str, &str)]) -> Vec<u8> {
        let mut table = MAGIC.to_vec();
        table.extend_from_slice(&(entries.len() as u32).to_ne_bytes());
        table.resize(HEADER_LEN, 0);
        let strings_at = HEADER_LEN + entries.len() * ENTRY_LEN;
        let mut strings = Vec::new();
        for (soname, path) in entries {
            let key = (strings_at + strings.len()) as u32;
            strings.extend_from_slice(soname.as_bytes());
            strings.push(0);
            let value = (strings_at + strings.len()) as u32;
            strings.extend_from_slice(path.as_bytes());
            strings.push(0);
            let mut entry = 1i32.to_ne_bytes().to_vec();
            entry.extend_from_slice(&key.to_ne_bytes());
            entry.extend_from_slice(&value.to_ne_bytes());
            entry.resize(ENTRY_LEN, 0);
            table.extend(entry);
        }
        table.extend(strings);
        let mut data = vec![0x55; prefix];
        data.extend(table);
        data
    }

    #[test]
    fn entries_read_after_a_legacy_table() {
        let entries = [
            ("libc.so.6", "/lib/libc.so.6"),
            ("libz.so.1", "/usr/lib/libz.so.1"),
        ];
        for prefix in [0, 100] {
            let data = cache(prefix, &entries);
            let read: Vec<_> = ld_cache_entries(&data)
                .map(|e| (e.soname, e.path))
                .collect();
            assert_eq!(read, entries);
        }
    }

    #[test]
    fn truncated_or_foreign_bytes_give_what_is_whole() {
        assert_eq!(ld_cache_entries(b"").count(), 0);
        assert_eq!(ld_cache_entries(b"ld.so-1.7.0 and more").count(), 0);
        let data = cache(0, &[("a.so", "/a.so"), ("b.so", "/b.so")]);
        // The string table cut off: no entry can name its strings.
        assert_eq!(
            ld_cache_entries(&data[..HEADER_LEN + 2 * ENTRY_LEN]).count(),
            0
        );
        // The second entry cut off.
        assert_eq!(
            ld_cache_entries(&data[..HEADER_LEN + ENTRY_LEN + 4]).count(),
            0
        );
        let mut huge = data.clone();
        huge[20..24].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert_eq!(ld_cache_entries(&huge).count(), 2);
    }
}
