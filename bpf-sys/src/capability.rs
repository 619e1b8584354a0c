//! Dropping capabilities from the calling thread's effective set (capabilities are per
//! thread): a loader can give up what it no longer needs once its programs are attached.

use std::io;

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Removes the capabilities whose bits are set in `mask` (bit `n` is capability number `n`)
/// from the calling thread's effective set; they stay permitted, so
/// [`raise_effective_capabilities`] can take them back.
pub fn drop_effective_capabilities(mask: u64) -> io::Result<()> {
    update_effective(|effective, _| effective & !mask)
}

/// Adds back permitted capabilities whose bits are set in `mask` to the calling thread's
/// effective set.
pub fn raise_effective_capabilities(mask: u64) -> io::Result<()> {
    update_effective(|effective, permitted| effective | (mask & permitted))
}

fn update_effective(change: impl FnOnce(u64, u64) -> u64) -> io::Result<()> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and a two-element data array, the layout capget(2) takes for version 3.
    let ret = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    let join = |low: u32, high: u32| u64::from(low) | (u64::from(high) << 32);
    let effective = join(data[0].effective, data[1].effective);
    let permitted = join(data[0].permitted, data[1].permitted);
    let wanted = change(effective, permitted);
    data[0].effective = wanted as u32;
    data[1].effective = (wanted >> 32) as u32;
    // SAFETY: as above; capset only reads both structures.
    let ret = unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
