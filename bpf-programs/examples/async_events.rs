//! The demo's exec stream read from a Tokio task: an `AsyncRingBuf` awaited in one
//! `tokio::select!` with a ticker and a deadline, so one task serves every event source.
//!
//! Run as root: `cargo run --release -p bpf-programs --features tokio --example async_events`.

use std::process::Command;
use std::time::Duration;

use bpf_programs::BpfLoader;
use bpf_programs::maps::{AsyncRingBuf, GlobalData, Pod, RingBuf};
use bpf_programs::programs::TracePoint;

/// `struct exec_event` of demo.bpf.c.
#[derive(Clone, Copy)]
#[repr(C)]
struct ExecEvent {
    pid: u32,
    ppid: u32,
    child_of_demo: u32,
    comm: [u8; 16],
    filename: [u8; 64],
}

// SAFETY: integers and byte arrays laid out without padding; every bit pattern valid.
unsafe impl Pod for ExecEvent {}

const OBJECT: &[u8] = include_bytes!("bpf/obj/demo.bpf.o");

fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut bpf = BpfLoader::new()
        .set_global("demo_pid", &std::process::id())
        .load(OBJECT)?;
    let execs: &mut TracePoint = bpf
        .program_mut("report_exec")
        .ok_or("no program `report_exec` in the object")?
        .try_into()?;
    execs.load()?;
    execs.attach_default()?;
    let ring = RingBuf::try_from(bpf.take_map("exec_events").ok_or("no ring buffer")?)?;
    let mut events = AsyncRingBuf::new(ring)?;

    // Something to see on an idle machine: a few commands of our own, in the background.
    let children = tokio::task::spawn_blocking(|| {
        for program in ["uname", "true", "id"] {
            let _ = Command::new(program).output();
            std::thread::sleep(Duration::from_millis(200));
        }
    });

    println!("{:<8} {:<8} {:<16} EXECUTED", "PID", "PPID", "COMM");
    let mut ticker = tokio::time::interval(Duration::from_millis(500));
    let deadline = tokio::time::sleep(Duration::from_secs(2));
    tokio::pin!(deadline);
    let mut received = 0;
    loop {
        tokio::select! {
            record = events.next() => {
                let event: ExecEvent = record?.read()?;
                received += 1;
                println!(
                    "{:<8} {:<8} {:<16} {}",
                    event.pid,
                    event.ppid,
                    text(&event.comm),
                    text(&event.filename)
                );
            }
            _ = ticker.tick() => println!("… {received} execs so far"),
            _ = &mut deadline => break,
        }
    }
    children.await?;
    let bss = GlobalData::try_from(bpf.map(".bss").ok_or("no .bss")?)?;
    let seen: u64 = bss.get("execs_seen")?;
    println!("{received} execs read, {seen} seen by the program");
    Ok(())
}
