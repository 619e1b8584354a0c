//! What the soak_* tests share: repeat attach → detach (or load → attach → drop) of one
//! attachment kind many times, then check that the process's fds and the kernel objects the
//! test itself created (programs, maps, links, BTF objects, found by id through the library's
//! `loaded_*` listings) are back where they started.
//!
//! Other processes on the machine load and attach programs at the same time, so nothing here
//! counts global totals: a [`Census`] remembers the ids of the objects this test created and
//! asks the kernel which of those still exist. The tests of one binary run one at a time (they
//! count the whole process's fds).

#![allow(dead_code)] // Each soak binary uses a different part.

use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bpf_programs::Bpf;
use bpf_programs::btf::loaded_btfs;
use bpf_programs::maps::loaded_maps;
use bpf_programs::programs::{
    Link, Program, ProgramError, ProgramInfo, loaded_links, loaded_programs,
};
use integration_tests::{fd_changes, open_fds};

/// Attach → detach cycles per kind. Every count below is exact (fds, and the test's own kernel
/// objects by id), so a leak of one per cycle shows as 12 survivors; 12 is a multiple of the
/// three and four ways a cycle can end, so each is exercised as often. Kept small for the
/// emulated guests, where a kprobe or trampoline attach takes 0.3–0.6 s; `SOAK_CYCLES`
/// overrides both counts (e.g. 2000 for a long local run).
pub const ATTACH_CYCLES: usize = 12;
/// Load → attach → drop cycles of a whole object per kind (a load costs more than an attach).
pub const OBJECT_CYCLES: usize = 6;

/// `default`, or `SOAK_CYCLES` from the environment.
pub fn cycles(default: usize) -> usize {
    std::env::var("SOAK_CYCLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// Serialises the tests of one soak binary: each counts the whole process's fds, so a test
/// takes this before anything that opens one (a skip probe included).
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How many of a census's objects the kernel still lists, per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Alive {
    pub programs: usize,
    pub maps: usize,
    pub links: usize,
    pub btfs: usize,
}

impl Alive {
    pub const NONE: Alive = Alive {
        programs: 0,
        maps: 0,
        links: 0,
        btfs: 0,
    };
}

/// The kernel objects one test created, by id (kernel ids are not reused until they wrap).
#[derive(Debug, Default)]
pub struct Census {
    pub programs: BTreeSet<u32>,
    pub maps: BTreeSet<u32>,
    pub links: BTreeSet<u32>,
    pub btfs: BTreeSet<u32>,
}

impl Census {
    /// Records a loaded program, the maps it uses and its BTF.
    pub fn record_program(&mut self, info: &ProgramInfo) {
        self.programs.insert(info.id());
        self.maps.extend(info.map_ids());
        self.btfs.extend(info.btf_id());
    }

    /// Records every loaded program and every map of `bpf`, and their BTF.
    pub fn record_bpf(&mut self, bpf: &Bpf) {
        for (_, program) in bpf.programs() {
            if let Ok(info) = program.info() {
                self.record_program(&info);
            }
        }
        for (_, map) in bpf.maps() {
            let info = map.data().info().expect("map info");
            self.maps.insert(info.id());
            if info.btf_id() != 0 {
                self.btfs.insert(info.btf_id());
            }
        }
    }

    /// Records the links the kernel lists for this census's programs; returns how many.
    pub fn record_links(&mut self) -> usize {
        let ids: Vec<u32> = loaded_links()
            .filter_map(Result::ok)
            .filter(|link| self.programs.contains(&link.program_id()))
            .map(|link| link.id())
            .collect();
        self.links.extend(&ids);
        ids.len()
    }

    /// Which of the recorded objects the kernel still lists (and links of recorded programs).
    pub fn alive(&self) -> Alive {
        Alive {
            programs: loaded_programs()
                .filter_map(Result::ok)
                .filter(|p| self.programs.contains(&p.id()))
                .count(),
            maps: loaded_maps()
                .filter_map(Result::ok)
                .filter(|m| self.maps.contains(&m.id()))
                .count(),
            links: loaded_links()
                .filter_map(Result::ok)
                .filter(|l| self.links.contains(&l.id()) || self.programs.contains(&l.program_id()))
                .count(),
            btfs: loaded_btfs()
                .filter_map(Result::ok)
                .filter(|b| self.btfs.contains(&b.id()))
                .count(),
        }
    }

    /// Waits (the kernel frees a program's maps and BTF after an RCU grace period, in a
    /// worker) until `alive()` is `expected`; panics with what is left after 10 s.
    pub fn wait_until(&self, label: &str, expected: Alive) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let alive = self.alive();
            if alive == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{label}: of the {} programs, {} maps, {} links and {} BTF objects this test \
                 created, the kernel still has {alive:?}, expected {expected:?}",
                self.programs.len(),
                self.maps.len(),
                self.links.len(),
                self.btfs.len(),
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn summary(&self) -> String {
        format!(
            "{} programs, {} maps, {} links, {} BTF objects",
            self.programs.len(),
            self.maps.len(),
            self.links.len(),
            self.btfs.len()
        )
    }
}

/// One soak run: counts fds from after the warm-up cycle, times the cycles, and reports.
pub struct Soak {
    label: String,
    cycles: usize,
    fds_before: std::collections::BTreeMap<i32, String>,
    started: Instant,
}

impl Soak {
    /// Starts counting: call after one warm-up cycle (it fills process-wide caches: feature
    /// probes, the kernel BTF, netlink sockets that hold no fds afterwards).
    pub fn start(label: &str, cycles: usize) -> Soak {
        Soak {
            label: label.to_owned(),
            cycles,
            fds_before: open_fds(),
            started: Instant::now(),
        }
    }

    /// Asserts the fd count is back, waits until none of the census's objects is left
    /// except `kept`, and prints the figures.
    pub fn finish(self, census: &Census, kept: Alive) {
        let elapsed = self.started.elapsed();
        let fds_after = open_fds();
        assert!(
            fds_after.len() == self.fds_before.len(),
            "{}: {} fds open before {} cycles, {} after; changed:\n{}",
            self.label,
            self.fds_before.len(),
            self.cycles,
            fds_after.len(),
            fd_changes(&self.fds_before, &fds_after)
        );
        census.wait_until(&self.label, kept);
        println!(
            "SOAK {}: {} cycles in {:.2?} ({:.2?}/cycle); fds {} -> {}; created {}; left {:?}",
            self.label,
            self.cycles,
            elapsed,
            elapsed / self.cycles.max(1) as u32,
            self.fds_before.len(),
            fds_after.len(),
            census.summary(),
            kept,
        );
    }
}

/// How a cycle ends the attachment it made; cycles rotate through all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// `program.detach(id)`.
    Detach,
    /// `program.take_link(id)`, then the link is dropped.
    TakeAndDrop,
    /// `program.take_link(id)`, then `Link::detach`.
    TakeAndDetach,
    /// Someone else ends the attachment first (the kind's `remove_elsewhere`), then
    /// `program.detach(id)` fails: its fds must be closed all the same.
    FailedDetach,
}

/// How a whole-object cycle lets go; cycles rotate through all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectEnding {
    /// The `Bpf` is dropped with the link still owned by its program.
    DropBpf,
    /// The link is taken, the `Bpf` dropped first, then the link.
    TakeLinkDropBpfFirst,
    /// `program.unload()` (detaches), then the `Bpf` is dropped.
    Unload,
}

/// The per-type methods a soak needs (typed programs share them by name, not by trait).
pub trait Attachable {
    type Id: Copy + std::fmt::Debug;
    type Link: Link;
    fn load_it(&mut self) -> Result<(), ProgramError>;
    fn detach_it(&mut self, id: Self::Id) -> Result<(), ProgramError>;
    fn take_it(&mut self, id: Self::Id) -> Result<Self::Link, ProgramError>;
    fn unload_it(&mut self) -> Result<(), ProgramError>;
}

/// Implements [`Attachable`] for typed programs: `attachable!(Xdp => xdp::XdpLink, ...)`.
#[macro_export]
macro_rules! attachable {
    ($($ty:ident => $link:ty),* $(,)?) => {
        $(
            impl $crate::soak_support::Attachable for bpf_programs::programs::$ty {
                type Id = <$link as bpf_programs::programs::Link>::Id;
                type Link = $link;
                fn load_it(&mut self) -> Result<(), bpf_programs::programs::ProgramError> {
                    self.load()
                }
                fn detach_it(
                    &mut self,
                    id: Self::Id,
                ) -> Result<(), bpf_programs::programs::ProgramError> {
                    self.detach(id)
                }
                fn take_it(
                    &mut self,
                    id: Self::Id,
                ) -> Result<$link, bpf_programs::programs::ProgramError> {
                    self.take_link(id)
                }
                fn unload_it(&mut self) -> Result<(), bpf_programs::programs::ProgramError> {
                    self.unload()
                }
            }
        )*
    };
}

/// One attachment kind to soak.
pub struct Kind<'f, P: Attachable> {
    /// Names the kind in messages and in the printed figures.
    pub label: &'f str,
    /// Opens the object (not yet loaded).
    pub open: &'f dyn Fn() -> Bpf,
    /// The program's name in the object.
    pub program: &'f str,
    /// Attaches the loaded program.
    pub attach: &'f dyn Fn(&mut P) -> Result<P::Id, ProgramError>,
    /// Makes the attachment fire and says whether the program ran.
    pub fire: &'f dyn Fn(&Bpf) -> bool,
    /// How many kernel links one attachment makes (0 for socket options, netlink,
    /// `BPF_PROG_ATTACH`).
    pub kernel_links: usize,
    /// Ends a live attachment behind the library's back, so that its detach fails.
    pub remove_elsewhere: Option<&'f dyn Fn(&Bpf)>,
}

fn program_of<'b, P>(bpf: &'b mut Bpf, name: &str) -> &'b mut P
where
    for<'a> &'a mut P: TryFrom<&'a mut Program, Error = ProgramError>,
{
    let program = bpf
        .program_mut(name)
        .unwrap_or_else(|| panic!("no program `{name}`"));
    program.try_into().expect("program of the expected type")
}

/// Attaches once and checks the attachment is live: the kernel shows its links, and it fires.
fn attach_live<P>(kind: &Kind<'_, P>, bpf: &mut Bpf, census: &mut Census, cycle: usize) -> P::Id
where
    for<'a> &'a mut P: TryFrom<&'a mut Program, Error = ProgramError>,
    P: Attachable,
{
    let id = (kind.attach)(program_of::<P>(bpf, kind.program))
        .unwrap_or_else(|e| panic!("{}: attach in cycle {cycle}: {e}", kind.label));
    let links = census.record_links();
    assert_eq!(
        links, kind.kernel_links,
        "{}: kernel links of the program while attached (cycle {cycle})",
        kind.label
    );
    assert!(
        (kind.fire)(bpf),
        "{}: the program did not run in cycle {cycle}",
        kind.label
    );
    id
}

/// `cycles(ATTACH_CYCLES)` attach → detach cycles on one loaded object, then
/// `cycles(OBJECT_CYCLES)` open → load → attach → drop cycles of the whole object; each
/// attachment must fire, and afterwards fds and the test's kernel objects must be back.
pub fn soak<P>(kind: Kind<'_, P>)
where
    for<'a> &'a mut P: TryFrom<&'a mut Program, Error = ProgramError>,
    P: Attachable,
{
    let mut census = Census::default();
    let endings: &[Ending] = if kind.remove_elsewhere.is_some() {
        &[
            Ending::Detach,
            Ending::TakeAndDrop,
            Ending::TakeAndDetach,
            Ending::FailedDetach,
        ]
    } else {
        &[Ending::Detach, Ending::TakeAndDrop, Ending::TakeAndDetach]
    };

    let mut bpf = (kind.open)();
    program_of::<P>(&mut bpf, kind.program)
        .load_it()
        .unwrap_or_else(|e| panic!("{}: load: {e}", kind.label));
    census.record_bpf(&bpf);
    let loaded = Alive {
        programs: census.programs.len(),
        maps: census.maps.len(),
        links: 0,
        btfs: census.btfs.len(),
    };
    let n = cycles(ATTACH_CYCLES);
    let mut soak = None;
    for cycle in 0..=n {
        if cycle == 1 {
            soak = Some(Soak::start(&format!("{} attach/detach", kind.label), n));
        }
        let id = attach_live(&kind, &mut bpf, &mut census, cycle);
        let ending = endings[cycle % endings.len()];
        if ending == Ending::FailedDetach {
            (kind
                .remove_elsewhere
                .expect("rotation includes it only when set"))(&bpf);
        }
        let program = program_of::<P>(&mut bpf, kind.program);
        match ending {
            Ending::Detach => program.detach_it(id).unwrap(),
            Ending::TakeAndDrop => drop(program.take_it(id).unwrap()),
            Ending::TakeAndDetach => program.take_it(id).unwrap().detach().unwrap(),
            Ending::FailedDetach => {
                let error = program
                    .detach_it(id)
                    .expect_err("detach after removal fails");
                assert!(error.errno().is_some(), "{}: {error}", kind.label);
            }
        }
    }
    soak.expect("at least one cycle").finish(&census, loaded);
    drop(bpf);
    census.wait_until(kind.label, Alive::NONE);

    let mut census = Census::default();
    let n = cycles(OBJECT_CYCLES);
    let mut soak = None;
    for cycle in 0..=n {
        if cycle == 1 {
            soak = Some(Soak::start(
                &format!("{} object load/attach/drop", kind.label),
                n,
            ));
        }
        let mut bpf = (kind.open)();
        program_of::<P>(&mut bpf, kind.program).load_it().unwrap();
        census.record_bpf(&bpf);
        let id = attach_live(&kind, &mut bpf, &mut census, cycle);
        match [
            ObjectEnding::DropBpf,
            ObjectEnding::TakeLinkDropBpfFirst,
            ObjectEnding::Unload,
        ][cycle % 3]
        {
            ObjectEnding::DropBpf => drop(bpf),
            ObjectEnding::TakeLinkDropBpfFirst => {
                let link = program_of::<P>(&mut bpf, kind.program).take_it(id).unwrap();
                drop(bpf);
                drop(link);
            }
            ObjectEnding::Unload => {
                program_of::<P>(&mut bpf, kind.program).unload_it().unwrap();
                drop(bpf);
            }
        }
    }
    soak.expect("at least one cycle")
        .finish(&census, Alive::NONE);
}

/// Whether the running kernel's BTF names `name` (an enumerator such as `BPF_TCX_INGRESS`):
/// an independent fact about what the kernel knows, read without the library.
pub fn kernel_btf_names(name: &str) -> bool {
    let Ok(btf) = std::fs::read("/sys/kernel/btf/vmlinux") else {
        return false;
    };
    // Names sit NUL-separated in the string section.
    let needle: Vec<u8> = [&[0], name.as_bytes(), &[0]].concat();
    btf.windows(needle.len()).any(|w| w == needle.as_slice())
}
