//! Socket maps: `BPF_MAP_TYPE_SOCKMAP`.

use super::fd_array::fd_array_map;

fd_array_map! {
    /// Sockets by index, for redirection by sk_skb/sk_msg programs (`BPF_MAP_TYPE_SOCKMAP`).
    SockMap, BPF_MAP_TYPE_SOCKMAP, "the socket"
}
