//! bpf_log.h: records from C programs decoded by `BpfLogger` (every argument kind, levels
//! filtered at compile time and at run time, the `log` crate, losses on a full ring buffer).

use bpf_programs::programs::TestRunOptions;
use std::sync::Mutex;

use bpf_programs::logger::{BpfLogger, LoggerError, set_bpf_log_level};
use bpf_programs::maps::GlobalData;
use bpf_programs::programs::{TracePoint, Xdp};
use bpf_programs::{Bpf, BpfLoader};
use integration_tests::gettid;

const OBJECT: &[u8] = include_bytes!("../bpf/obj/log_programs.bpf.o");
const FILTERED: &[u8] = include_bytes!("../bpf/obj/log_filtered.bpf.o");

fn open(level: Option<log::LevelFilter>) -> Bpf {
    let mut loader = BpfLoader::new();
    loader.set_global("target_tid", &gettid());
    if let Some(level) = level {
        set_bpf_log_level(&mut loader, level);
    }
    loader.load(OBJECT).expect("object opens")
}

fn attach(bpf: &mut Bpf, name: &str) {
    let program: &mut TracePoint = bpf.program_mut(name).unwrap().try_into().unwrap();
    program.load().unwrap();
    program.attach_default().unwrap();
}

fn records(logger: &mut BpfLogger) -> Vec<(log::Level, String, String)> {
    let mut seen = Vec::new();
    logger.drain(|r| seen.push((r.level, r.target.to_owned(), r.message.to_owned())));
    seen
}

#[test]
fn log_every_argument_kind_from_a_tracepoint() {
    let mut bpf = open(None);
    attach(&mut bpf, "log_getpid");
    let mut logger = BpfLogger::init(&mut bpf).unwrap();
    std::hint::black_box(std::process::id());
    let mut seen = records(&mut logger);
    for record in &mut seen {
        for errno in [libc::EFAULT, libc::ERANGE] {
            record.2 = record.2.replace(&format!("<fault -{errno}>"), "<fault>");
        }
    }
    let comm = std::fs::read_to_string("/proc/thread-self/comm").unwrap();
    let expected = [
        (
            log::Level::Info,
            "log_getpid",
            format!("getpid from {} tid {}", comm.trim_end(), gettid()),
        ),
        (
            log::Level::Warn,
            "log_getpid",
            "ints -5 -6 -7 4000000000 beef BEEF 1122334455667788 z    42|7   |-0042".into(),
        ),
        (
            log::Level::Error,
            "log_getpid",
            "net 127.0.0.1 2001:db8::1 02:00:5e:10:20:ff".into(),
        ),
        (
            log::Level::Trace,
            "log_getpid",
            "hex 02 00 5e 10 20 ff enum 7 ptr-null 0x0".into(),
        ),
        (log::Level::Debug, "log_getpid", "no arguments".into()),
        // EFAULT, or ERANGE on kernels that refuse low addresses before trying them.
        (log::Level::Info, "log_getpid", "bad <fault>".into()),
        (
            log::Level::Debug,
            "log_from_subprogram",
            "subprogram sees 41".into(),
        ),
    ];
    let expected: Vec<(log::Level, String, String)> = expected
        .into_iter()
        .map(|(l, t, m)| (l, t.to_owned(), m))
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(logger.dropped(), 0);
}

#[test]
fn log_reads_user_memory_strings() {
    let mut bpf = open(None);
    attach(&mut bpf, "log_user_string");
    let text = std::ffi::CString::new("hello from the test").unwrap();
    let mut bss = GlobalData::try_from(bpf.map_mut(".bss").unwrap()).unwrap();
    bss.set("user_pointer", &(text.as_ptr() as u64)).unwrap();
    let mut logger = BpfLogger::init(&mut bpf).unwrap();
    // SAFETY: getppid has no preconditions.
    let _ = unsafe { libc::getppid() };
    let seen = records(&mut logger);
    assert_eq!(
        seen,
        vec![(
            log::Level::Info,
            "log_user_string".to_owned(),
            "user says hello from the test".to_owned()
        )]
    );
}

#[test]
fn log_run_time_level_filters_in_the_kernel() {
    let mut bpf = open(Some(log::LevelFilter::Warn));
    attach(&mut bpf, "log_getpid");
    let mut logger = BpfLogger::init(&mut bpf).unwrap();
    std::hint::black_box(std::process::id());
    let levels: Vec<log::Level> = records(&mut logger).into_iter().map(|r| r.0).collect();
    assert_eq!(levels, [log::Level::Warn, log::Level::Error]);
}

#[test]
fn log_run_time_level_set_between_open_and_load() {
    let mut open = Bpf::open(OBJECT).unwrap();
    open.set_global("target_tid", &gettid()).unwrap();
    bpf_programs::logger::set_open_bpf_log_level(&mut open, log::LevelFilter::Error).unwrap();
    let mut bpf = open.load().unwrap();
    attach(&mut bpf, "log_getpid");
    let mut logger = BpfLogger::init(&mut bpf).unwrap();
    std::hint::black_box(std::process::id());
    let levels: Vec<log::Level> = records(&mut logger).into_iter().map(|r| r.0).collect();
    assert_eq!(levels, [log::Level::Error]);
}

#[test]
fn log_compile_time_level_leaves_no_trace_of_filtered_calls() {
    let mut bpf = BpfLoader::new()
        .set_global("target_tid", &gettid())
        .load(FILTERED)
        .unwrap();
    attach(&mut bpf, "log_filtered");
    let mut logger = BpfLogger::init(&mut bpf).unwrap();
    let mut formats: Vec<&str> = logger.sites().sites().map(|s| s.format.as_str()).collect();
    formats.sort();
    assert_eq!(formats, ["error %d", "info %d", "warn %d"]);
    std::hint::black_box(std::process::id());
    let messages: Vec<String> = records(&mut logger).into_iter().map(|r| r.2).collect();
    assert_eq!(messages, ["error 1", "warn 2", "info 3"]);
}

fn run_xdp(bpf: &mut Bpf, name: &str, repeat: u32) {
    let program: &mut Xdp = bpf.program_mut(name).unwrap().try_into().unwrap();
    program.load().unwrap();
    let packet = [0u8; 64];
    program
        .test_run(TestRunOptions::new().data(&packet).repeat(repeat))
        .unwrap();
}

#[test]
fn log_xdp_records_and_losses_on_a_full_ring_buffer() {
    let mut bpf = open(None);
    run_xdp(&mut bpf, "log_bench", 100);
    let mut logger = BpfLogger::init(&mut bpf).unwrap();
    let seen = records(&mut logger);
    assert_eq!(seen.len(), 100);
    assert_eq!(seen[0].2, "packet 0 of 64 bytes");
    assert_eq!(seen[99].2, "packet 99 of 64 bytes");
    assert_eq!(seen[0].1, "log_bench");

    // 4 KiB holds 4096 / (16 + 8 header) records: the rest are counted as lost.
    let mut bpf = BpfLoader::new()
        .set_max_entries("bpf_log_events", 4096)
        .load(OBJECT)
        .unwrap();
    run_xdp(&mut bpf, "log_bench", 1000);
    let mut logger = BpfLogger::init(&mut bpf).unwrap();
    let read = logger.drain(|_| {});
    assert!(read > 0 && read < 1000, "read {read}");
    assert_eq!(read as u64 + logger.dropped(), 1000);
}

#[test]
fn log_init_names_what_is_missing() {
    let mut bpf =
        Bpf::load(include_bytes!("../bpf/obj/prog_tracepoint.bpf.o")).expect("object opens");
    let err = BpfLogger::init(&mut bpf).unwrap_err();
    assert!(matches!(err, LoggerError::NoLogSection), "{err:?}");
    assert!(err.to_string().contains("bpf_log.h"), "{err}");
}

/// Records through the `log` crate: one global logger for the whole test binary, so only this
/// test installs it.
struct Capture(Mutex<Vec<(log::Level, String, String)>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        self.0.lock().unwrap().push((
            record.level(),
            record.target().to_owned(),
            record.args().to_string(),
        ));
    }
    fn flush(&self) {}
}

static CAPTURE: Capture = Capture(Mutex::new(Vec::new()));

#[test]
fn log_forwards_to_the_log_crate_from_a_thread() {
    log::set_logger(&CAPTURE).unwrap();
    log::set_max_level(log::LevelFilter::Info);
    let mut bpf = open(None);
    attach(&mut bpf, "log_getpid");
    let logger = BpfLogger::init(&mut bpf).unwrap();
    let thread = logger.spawn().unwrap();
    std::hint::black_box(std::process::id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let ours = |c: &Vec<(log::Level, String, String)>| {
        c.iter()
            .filter(|(_, target, _)| target == "log_getpid")
            .count()
    };
    while ours(&CAPTURE.0.lock().unwrap()) < 4 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    thread.stop().expect("the logger comes back");
    let captured = CAPTURE.0.lock().unwrap();
    let mine: Vec<&(log::Level, String, String)> = captured
        .iter()
        .filter(|(_, target, _)| target == "log_getpid")
        .collect();
    // Info and above: info, warn, error, info ("bad"); debug and trace stay below max_level.
    let levels: Vec<log::Level> = mine.iter().map(|r| r.0).collect();
    assert_eq!(
        levels,
        [
            log::Level::Info,
            log::Level::Warn,
            log::Level::Error,
            log::Level::Info
        ]
    );
    assert!(mine[2].2.starts_with("net 127.0.0.1"), "{:?}", mine[2]);
}

/// The async logger waits on the Tokio reactor: records already there come at once, a wait
/// with nothing to read is cancelled by a timeout without losing what comes next.
#[test]
fn log_async_logger_waits_on_the_reactor() {
    use bpf_programs::logger::AsyncBpfLogger;
    use std::time::Duration;

    let mut bpf = open(None);
    run_xdp(&mut bpf, "log_bench", 10);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut logger = AsyncBpfLogger::new(BpfLogger::init(&mut bpf).unwrap()).unwrap();
        let mut messages = Vec::new();
        let read = logger
            .drain(|r| messages.push(r.message.to_owned()))
            .await
            .unwrap();
        assert_eq!(read, 10);
        assert_eq!(messages.first().unwrap(), "packet 0 of 64 bytes");
        assert_eq!(messages.last().unwrap(), "packet 9 of 64 bytes");

        let idle = tokio::time::timeout(Duration::from_millis(100), logger.drain(|_| {})).await;
        assert!(
            idle.is_err(),
            "nothing was logged, yet the wait returned {idle:?}"
        );

        // The program runs on another thread while this task waits: the commit wakes it (the
        // program numbers packets across runs).
        let producer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            let program: &mut Xdp = bpf.program_mut("log_bench").unwrap().try_into().unwrap();
            let packet = [0u8; 64];
            program
                .test_run(TestRunOptions::new().data(&packet).repeat(5))
                .unwrap();
            bpf
        });
        let mut later = Vec::new();
        while later.len() < 5 {
            let waited = tokio::time::timeout(
                Duration::from_secs(10),
                logger.drain(|r| later.push(r.message.to_owned())),
            )
            .await;
            waited.expect("the commit wakes the reactor").unwrap();
        }
        assert_eq!(
            later,
            (10..15)
                .map(|i| format!("packet {i} of 64 bytes"))
                .collect::<Vec<_>>()
        );
        producer.join().unwrap();
    });
}
