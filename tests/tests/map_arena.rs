//! BPF arenas (`BPF_MAP_TYPE_ARENA`, Linux 6.9+): the loader maps each arena when creating it,
//! places the object's `__arena` globals at its end, and `maps::Arena` reads and writes what
//! programs see. Where a raw arena map create is refused (no arenas in the kernel, or no
//! CAP_SYS_RESOURCE) each test prints a SKIPPED line naming the cause.

use bpf_programs::maps::{Arena, GlobalData, MapError};
use bpf_programs::programs::{ProgramError, Syscall};
use bpf_programs::{Bpf, BpfError, BpfLoader};
use bpf_sys::util::page_size;
use integration_tests::{arena_refusal, skip};

const OBJECT: &[u8] = integration_tests::bpf_object!("map_arena.bpf.o");
const FIXED: &[u8] = integration_tests::bpf_object!("map_arena_fixed.bpf.o");

const PAGE_MAGIC: u64 = 0x1122_3344_5566_7788;
/// `map_extra` of `fixed_arena` in map_arena_fixed.bpf.c.
const FIXED_ADDRESS: u64 = (1 << 44) + (1 << 20);

/// True after printing the SKIPPED line where a raw arena map create is refused here; the
/// library's own errors are never a reason to skip.
fn skipped(test: &str) -> bool {
    arena_refusal().map(|reason| skip(test, reason)).is_some()
}

fn open(result: Result<Bpf, BpfError>) -> Bpf {
    result.expect("the object opens")
}

fn run(bpf: &mut Bpf, program: &str) -> u32 {
    let program: &mut Syscall = bpf.program_mut(program).unwrap().try_into().unwrap();
    match program.load() {
        Ok(()) | Err(ProgramError::AlreadyLoaded { .. }) => {}
        Err(e) => panic!("loading {}: {e}", program.name()),
    }
    program.run(&[]).unwrap()
}

fn bss_u64(bpf: &Bpf, name: &str) -> u64 {
    let bss = GlobalData::try_from(bpf.map(".bss").unwrap()).unwrap();
    bss.get(name).unwrap()
}

#[test]
fn arena_pages_and_globals_are_shared_with_programs() {
    let test = "map_arena::arena_pages_and_globals_are_shared_with_programs";
    if skipped(test) {
        return;
    }
    let mut bpf = open(Bpf::load(OBJECT));
    let mut arena = Arena::try_from(bpf.take_map("arena").unwrap()).unwrap();
    let page = page_size();
    assert_eq!(arena.len(), 4 * page);
    assert_ne!(arena.address(), 0);
    // The globals sit in the arena's last page, with the object's initial values.
    let offsets: Vec<(&str, u32)> = arena
        .variables()
        .iter()
        .map(|v| (v.name.as_str(), v.offset))
        .collect();
    let last = (3 * page) as u32;
    assert_eq!(offsets, [("arena_init", last), ("arena_counter", last + 8)]);
    assert_eq!(arena.get::<i32>("arena_init").unwrap(), 5);
    assert_eq!(arena.get::<u64>("arena_counter").unwrap(), 0);

    // The program allocates a page, writes into it and into both globals.
    assert_eq!(run(&mut bpf, "arena_alloc"), 0);
    let address = bss_u64(&bpf, "page_address");
    let offset = arena.offset_of(address).unwrap_or_else(|| {
        panic!(
            "{address:#x} is outside the arena at {:#x}",
            arena.address()
        )
    });
    // The kernel hands out the lowest free page first: the arena's start.
    assert_eq!(offset, 0);
    assert_eq!(arena.read_at::<u64>(offset).unwrap(), PAGE_MAGIC);
    assert_eq!(arena.read_at::<u64>(offset + 8).unwrap(), 42);
    assert_eq!(arena.read_at::<u64>(offset + 511 * 8).unwrap(), 7);
    let mut bytes = [0u8; 8];
    arena.read_bytes(offset, &mut bytes).unwrap();
    assert_eq!(u64::from_ne_bytes(bytes), PAGE_MAGIC);
    assert_eq!(arena.get::<u64>("arena_counter").unwrap(), 100);
    assert_eq!(arena.get::<i32>("arena_init").unwrap(), 6);

    // User space writes a global and the page; the next run sees both.
    arena.set("arena_init", &40i32).unwrap();
    arena.write_at(offset + 8, &43u64).unwrap();
    arena.write_bytes(offset + 16, &[1, 2, 3]).unwrap();
    assert_eq!(run(&mut bpf, "arena_read"), 40);
    assert_eq!(bss_u64(&bpf, "seen_init"), 40);
    assert_eq!(arena.get::<u64>("arena_counter").unwrap(), 101);
    assert_eq!(arena.read_at::<u64>(offset + 8).unwrap(), 43);
    let mut three = [0u8; 3];
    arena.read_bytes(offset + 16, &mut three).unwrap();
    assert_eq!(three, [1, 2, 3]);
}

#[test]
fn arena_globals_take_loader_values_and_misuse_is_typed() {
    let test = "map_arena::arena_globals_take_loader_values_and_misuse_is_typed";
    if skipped(test) {
        return;
    }
    let mut bpf = open(
        BpfLoader::new()
            .set_global("arena_init", &9i32)
            .load(OBJECT),
    );
    assert_eq!(run(&mut bpf, "arena_read"), 9);

    let map = bpf.map("arena").unwrap();
    let arena = Arena::try_from(map).unwrap();
    let len = arena.len();
    assert!(matches!(
        arena.read_at::<u64>(len - 4),
        Err(MapError::ArenaOutOfBounds { offset, len: 8, size, .. }) if offset == len - 4 && size == len
    ));
    assert!(matches!(
        arena.get::<u32>("arena_counter"),
        Err(MapError::VariableSize {
            expected: 8,
            actual: 4,
            ..
        })
    ));
    assert!(matches!(
        arena.get::<u32>("nope"),
        Err(MapError::NoSuchVariable { .. })
    ));
    assert_eq!(arena.offset_of(arena.address() + len as u64), None);
    assert_eq!(arena.offset_of(arena.address().wrapping_sub(1)), None);

    // A second handle has no mapping: the first one keeps it.
    let clone = map.data().try_clone().unwrap();
    assert!(matches!(
        Arena::new(clone),
        Err(MapError::ArenaNotMapped { .. })
    ));
    assert!(matches!(
        Arena::try_from(bpf.map(".bss").unwrap()),
        Err(MapError::WrongType { .. })
    ));
    let mut writable = Arena::try_from(bpf.map_mut("arena").unwrap()).unwrap();
    assert!(matches!(
        writable.write_bytes(len, &[1]),
        Err(MapError::ArenaOutOfBounds { .. })
    ));
}

#[test]
fn arena_at_map_extra_address_refuses_a_taken_range() {
    let test = "map_arena::arena_at_map_extra_address_refuses_a_taken_range";
    if skipped(test) {
        return;
    }
    let mut bpf = open(Bpf::load(FIXED));
    {
        let arena = Arena::try_from(bpf.map("fixed_arena").unwrap()).unwrap();
        assert_eq!(arena.address(), FIXED_ADDRESS);
        assert_eq!(arena.len(), 2 * page_size());
    }
    assert_eq!(run(&mut bpf, "fixed_alloc"), 0);
    assert_eq!(bss_u64(&bpf, "page_address"), FIXED_ADDRESS);
    let arena = Arena::try_from(bpf.map("fixed_arena").unwrap()).unwrap();
    assert_eq!(arena.read_at::<u32>(0).unwrap(), 0xabcd);

    // A second copy of the object wants the same range, which the first one's arena holds:
    // refused with a typed error, and the first mapping is untouched.
    match Bpf::load(FIXED) {
        Err(BpfError::Map {
            name,
            source:
                MapError::ArenaAddressInUse {
                    address,
                    len,
                    name: _,
                },
        }) => {
            assert_eq!(name, "fixed_arena");
            assert_eq!((address, len), (FIXED_ADDRESS, 2 * page_size()));
        }
        other => panic!("expected ArenaAddressInUse, got {other:?}"),
    }
    assert_eq!(arena.read_at::<u32>(0).unwrap(), 0xabcd);
}
