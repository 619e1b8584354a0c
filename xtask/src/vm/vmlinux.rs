//! Unpacks the ELF `vmlinux` out of a bzImage so qemu can boot it through the PVH entry point.
//!
//! Under TCG the bzImage's own decompressor and the firmware take about 5 s of a 13 s run;
//! booting the uncompressed ELF skips both. The result is cached next to the build.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Offsets in the bzImage boot header (Documentation/arch/x86/boot.rst).
const SETUP_SECTS: usize = 0x1f1;
const HEADER_MAGIC: usize = 0x202;
const PAYLOAD_OFFSET: usize = 0x248;
const PAYLOAD_LENGTH: usize = 0x24c;

/// The compressed payload of a bzImage: the tool that decompresses it, the compressed stream and
/// the uncompressed size the kernel build appends after it.
pub fn payload(bzimage: &[u8]) -> Result<(&'static str, &[u8], usize), String> {
    if bzimage.get(HEADER_MAGIC..HEADER_MAGIC + 4) != Some(b"HdrS") {
        return Err("not a bzImage (no HdrS boot header)".into());
    }
    let u32_at = |at: usize| {
        bzimage
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let setup_sects = match bzimage.get(SETUP_SECTS).copied() {
        Some(0) => 4,
        Some(n) => usize::from(n),
        None => return Err("truncated boot header".into()),
    };
    let protected_mode_start = (setup_sects + 1) * 512;
    let offset = u32_at(PAYLOAD_OFFSET).ok_or("truncated boot header")? as usize;
    let length = u32_at(PAYLOAD_LENGTH).ok_or("truncated boot header")? as usize;
    let start = protected_mode_start
        .checked_add(offset)
        .ok_or("payload offset overflows")?;
    let payload = start
        .checked_add(length)
        .and_then(|end| bzimage.get(start..end))
        .ok_or("payload lies outside the file")?;
    let (stream, size) = payload
        .split_at_checked(payload.len().saturating_sub(4))
        .ok_or("empty payload")?;
    let size = u32::from_le_bytes(
        size.try_into()
            .map_err(|_| "payload shorter than its size suffix")?,
    ) as usize;
    if payload.starts_with(b"\xfd7zXZ\0") {
        Ok(("xz", stream, size))
    } else if payload.starts_with(b"\x1f\x8b") {
        // gzip's own trailer ends with the size, so the stream keeps its last 4 bytes.
        Ok(("gzip", payload, size))
    } else if payload.starts_with(b"\x28\xb5\x2f\xfd") {
        Ok(("zstd", stream, size))
    } else {
        Err("payload compressed with a method vm-test does not unpack (xz, gzip, zstd)".into())
    }
}

/// Returns a cached uncompressed vmlinux for `bzimage` under `cache_dir`, unpacking it if needed.
pub fn unpack(bzimage: &Path, release: &str, cache_dir: &Path) -> Result<PathBuf, String> {
    let metadata = std::fs::metadata(bzimage).map_err(|e| format!("{}: {e}", bzimage.display()))?;
    let stamp = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    let key = format!("{}-{}", metadata.len(), stamp.map_or(0, |d| d.as_secs()));
    let cached = cache_dir.join(format!("vmlinux-{release}-{key}"));
    if cached.exists() {
        return Ok(cached);
    }
    let image = std::fs::read(bzimage).map_err(|e| format!("{}: {e}", bzimage.display()))?;
    let (tool, compressed, size) = payload(&image)?;
    let mut child = Command::new(tool)
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running {tool}: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("stdin not piped")?;
    let compressed = compressed.to_vec();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &compressed));
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{tool}: {e}"))?;
    let _ = writer.join();
    if !out.status.success() || out.stdout.len() != size || !out.stdout.starts_with(b"\x7fELF") {
        return Err(format!(
            "{tool} -dc on the payload of {} gave {} bytes, not an ELF file of {size}: {}",
            bzimage.display(),
            out.stdout.len(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    std::fs::create_dir_all(cache_dir).map_err(|e| format!("{}: {e}", cache_dir.display()))?;
    let partial = cached.with_extension("partial");
    std::fs::write(&partial, &out.stdout).map_err(|e| format!("{}: {e}", partial.display()))?;
    std::fs::rename(&partial, &cached).map_err(|e| format!("{}: {e}", cached.display()))?;
    Ok(cached)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_bzimage(setup_sects: u8, payload: &[u8]) -> Vec<u8> {
        let start = (usize::from(setup_sects) + 1) * 512;
        let mut image = vec![0; start + 16 + payload.len()];
        image[SETUP_SECTS] = setup_sects;
        image[HEADER_MAGIC..HEADER_MAGIC + 4].copy_from_slice(b"HdrS");
        image[PAYLOAD_OFFSET..PAYLOAD_OFFSET + 4].copy_from_slice(&16u32.to_le_bytes());
        image[PAYLOAD_LENGTH..PAYLOAD_LENGTH + 4]
            .copy_from_slice(&(payload.len() as u32).to_le_bytes());
        image[start + 16..].copy_from_slice(payload);
        image
    }

    #[test]
    fn payload_is_found_through_the_boot_header() {
        let image = fake_bzimage(2, b"\xfd7zXZ\0rest\x10\0\0\0");
        assert_eq!(payload(&image), Ok(("xz", &b"\xfd7zXZ\0rest"[..], 16)));
    }

    #[test]
    fn a_gzip_payload_keeps_its_trailer() {
        let image = fake_bzimage(2, b"\x1f\x8brest\x10\0\0\0");
        assert_eq!(
            payload(&image),
            Ok(("gzip", &b"\x1f\x8brest\x10\0\0\0"[..], 16))
        );
    }

    #[test]
    fn bad_images_are_refused() {
        assert!(payload(b"short").is_err());
        let mut image = fake_bzimage(2, b"LZ4?\0\0\0\0");
        assert!(payload(&image).is_err());
        image[PAYLOAD_LENGTH..PAYLOAD_LENGTH + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(payload(&image).is_err());
    }
}
