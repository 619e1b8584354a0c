//! AF_XDP socket maps: `BPF_MAP_TYPE_XSKMAP`.

use super::fd_array::fd_array_map;

fd_array_map! {
    /// AF_XDP sockets by queue index, for `bpf_redirect_map` from XDP (`BPF_MAP_TYPE_XSKMAP`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::os::fd::AsFd;
    ///
    /// use bpf_programs::Bpf;
    /// use bpf_programs::maps::XskMap;
    /// # let xsk = std::fs::File::open("/dev/null")?; // an AF_XDP socket, set up elsewhere
    ///
    /// let mut bpf = Bpf::load_file("prog.bpf.o")?;
    /// let mut sockets = XskMap::try_from(bpf.map_mut("xsks").unwrap())?;
    /// sockets.set(0, xsk.as_fd(), 0)?; // frames of queue 0 go to this AF_XDP socket
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    XskMap, BPF_MAP_TYPE_XSKMAP, "the AF_XDP socket"
}
