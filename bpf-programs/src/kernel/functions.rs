//! Kernel functions matching a glob pattern (`tcp_*`, `vfs_rea?`), for `kprobe.multi/<pattern>`:
//! tracefs `available_filter_functions` lists what ftrace can probe; `/proc/kallsyms` text
//! symbols stand in where that file is missing, unreadable or matches nothing.

use std::collections::BTreeSet;
use std::io;

/// Whether `name` matches `pattern`, where `*` matches any run of characters and `?` any one.
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    let (pattern, name) = (pattern.as_bytes(), name.as_bytes());
    let (mut p, mut n) = (0, 0);
    // Where the last `*` was and the name position it currently absorbs up to.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == b'?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((star_p, star_n)) => {
                    p = star_p + 1;
                    n = star_n + 1;
                    star = Some((star_p, star_n + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Names in `available_filter_functions` text (`name` or `name [module]` per line) matching
/// `pattern`, deduplicated and sorted.
pub(crate) fn matching_filter_functions(text: &str, pattern: &str) -> Vec<String> {
    let names: BTreeSet<&str> = text
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| glob_matches(pattern, name))
        .collect();
    names.into_iter().map(str::to_owned).collect()
}

/// Text symbols (`t`/`T`) of `/proc/kallsyms` text matching `pattern`, without compiler
/// suffixes like `.cold` or `.isra.0` that cannot be probed by name.
pub(crate) fn matching_kallsyms_functions(text: &str, pattern: &str) -> Vec<String> {
    let names: BTreeSet<&str> = text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_, kind, name) = (fields.next()?, fields.next()?, fields.next()?);
            matches!(kind, "t" | "T").then_some(name)
        })
        .filter(|name| !name.contains('.') && glob_matches(pattern, name))
        .collect();
    names.into_iter().map(str::to_owned).collect()
}

/// The kernel functions matching `pattern` on this machine. A plain name is taken as is (the
/// kernel resolves it, even where tracefs does not list it, e.g. `__x64_sys_*` wrappers on some
/// builds); a glob is matched against what ftrace lists, else against kallsyms.
pub(crate) fn kernel_functions_matching(pattern: &str) -> io::Result<Vec<String>> {
    if !pattern.contains(['*', '?']) {
        return Ok(vec![pattern.to_owned()]);
    }
    let listed = super::fs::tracefs()
        .ok()
        .and_then(|root| std::fs::read_to_string(root.join("available_filter_functions")).ok());
    if let Some(text) = listed {
        let names = matching_filter_functions(&text, pattern);
        if !names.is_empty() {
            return Ok(names);
        }
    }
    Ok(matching_kallsyms_functions(
        &super::kallsyms::read_file()?,
        pattern,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_stars_and_question_marks() {
        assert!(glob_matches("tcp_*", "tcp_sendmsg"));
        assert!(glob_matches("tcp_*", "tcp_"));
        assert!(!glob_matches("tcp_*", "udp_sendmsg"));
        assert!(glob_matches("*sendmsg", "tcp_sendmsg"));
        assert!(glob_matches("*_send*", "tcp_sendmsg_locked"));
        assert!(glob_matches("vfs_rea?", "vfs_read"));
        assert!(!glob_matches("vfs_rea?", "vfs_readv"));
        assert!(glob_matches("a*b*c", "aXXbYYbZc"));
        assert!(!glob_matches("a*b*c", "aXXbYYbZ"));
        assert!(glob_matches("exact", "exact"));
        assert!(!glob_matches("exact", "exactly"));
        assert!(glob_matches("*", ""));
        assert!(!glob_matches("?", ""));
    }

    #[test]
    fn filter_functions_keep_module_functions_once() {
        let text = "tcp_v4_connect\nudp_sendmsg\ntcp_close\nveth_xmit [veth]\ntcp_close\n";
        assert_eq!(
            matching_filter_functions(text, "tcp_*"),
            ["tcp_close", "tcp_v4_connect"]
        );
        assert_eq!(matching_filter_functions(text, "veth_*"), ["veth_xmit"]);
        assert!(matching_filter_functions(text, "nothing*").is_empty());
    }

    #[test]
    fn kallsyms_keeps_text_symbols_without_suffixes() {
        let text = "ffffffff81000000 T tcp_close\n\
                    ffffffff81000010 t tcp_helper.cold\n\
                    ffffffff81000020 D tcp_hashinfo\n\
                    ffffffff81000030 t tcp_fastopen_init [some_mod]\n";
        assert_eq!(
            matching_kallsyms_functions(text, "tcp_*"),
            ["tcp_close", "tcp_fastopen_init"]
        );
    }
}
