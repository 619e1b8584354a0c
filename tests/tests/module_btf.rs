//! Kernel module BTF: CO-RE finds a type that only a module's split BTF describes (veth, where
//! it is a module), and fentry attaches to a module function (on kernels allowing trampolines).

#[path = "net_support/mod.rs"]
mod net_support;

use bpf_programs::programs::TestRunOptions;
use std::sync::Arc;

use bpf_core::btf::{BtfKind, TypeKind};
use bpf_programs::Bpf;
use bpf_programs::btf::{read_btf_file, read_split_btf_file};
use bpf_programs::maps::GlobalData;
use bpf_programs::programs::{FEntry, FEntryError, ProgramError, Syscall, Xdp};
use integration_tests::{kernel_btf_has_name, skip, skipped_unsupported, trampoline_refusal};
use net_support::TestNetns;

const OBJECT: &[u8] = integration_tests::bpf_object!("module_btf.bpf.o");

/// Where the kernel describes `struct veth_priv`: its size, the bit offset of `dropped`, and
/// the module whose BTF has it (`None`: vmlinux).
struct VethPriv {
    size: u64,
    dropped_offset: u64,
    module: Option<String>,
}

fn kernel_veth_priv() -> Option<VethPriv> {
    let vmlinux = Arc::new(read_btf_file("/sys/kernel/btf/vmlinux").unwrap());
    let mut btfs = vec![(None, vmlinux.clone())];
    for entry in std::fs::read_dir("/sys/kernel/btf").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name != "vmlinux" {
            let module = read_split_btf_file(entry.path(), vmlinux.clone()).unwrap();
            btfs.push((Some(name), Arc::new(module)));
        }
    }
    btfs.into_iter().find_map(|(module, btf)| {
        // vmlinux comes first, so a module only answers for a type vmlinux lacks.
        let id = btf.find_by_name_kind("veth_priv", BtfKind::Struct)?;
        let TypeKind::Struct(s) = btf.type_by_id(id).unwrap().kind else {
            return None;
        };
        let dropped = s
            .members()
            .map(Result::unwrap)
            .find(|m| m.name == "dropped")?;
        Some(VethPriv {
            size: u64::from(btf.type_size(id).unwrap()),
            dropped_offset: u64::from(dropped.bit_offset / 8),
            module,
        })
    })
}

#[test]
fn core_finds_types_in_module_btf() {
    let test = "module_btf::core_finds_types_in_module_btf";
    let Some(expected) = kernel_veth_priv() else {
        skip(
            test,
            "no BTF describes struct veth_priv (veth neither built in nor loaded)",
        );
        return;
    };
    println!(
        "{test}: struct veth_priv is in {} BTF",
        expected.module.as_deref().unwrap_or("vmlinux")
    );
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program: &mut Syscall = bpf
        .program_mut("probe_module_types")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    assert_eq!(program.run(&[0u8; 8]).unwrap(), 0);
    let bss = GlobalData::try_from(bpf.map(".bss").unwrap()).unwrap();
    assert_eq!(bss.get::<u64>("veth_priv_exists").unwrap(), 1);
    assert_eq!(bss.get::<u64>("veth_priv_size").unwrap(), expected.size);
    assert_eq!(
        bss.get::<u64>("veth_dropped_offset").unwrap(),
        expected.dropped_offset
    );
    assert_eq!(bss.get::<u64>("missing_type_exists").unwrap(), 0);
}

/// Whether some BTF describes `veth_open`: vmlinux where veth is built in, else the module's
/// split BTF, which kernels before 5.11 do not have.
fn veth_open_described() -> bool {
    kernel_btf_has_name("veth_open") || std::path::Path::new("/sys/kernel/btf/veth").exists()
}

fn veth_opens(bpf: &Bpf) -> u64 {
    GlobalData::try_from(bpf.map(".bss").unwrap())
        .unwrap()
        .get::<u64>("veth_opens")
        .unwrap()
}

#[test]
fn fentry_on_module_function_fires() {
    let test = "module_btf::fentry_on_module_function_fires";
    if !veth_open_described() {
        skip(
            test,
            "no BTF describes veth_open (veth is a module and the kernel has no module BTF)",
        );
        return;
    }
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program: &mut FEntry = bpf
        .program_mut("count_veth_open")
        .unwrap()
        .try_into()
        .unwrap();
    let loaded = program.load();
    if skipped_unsupported(test, &loaded) {
        return;
    }
    loaded.unwrap();
    let link = program.attach(0).unwrap();
    {
        let netns = TestNetns::enter();
        netns.add_veth_pair();
    }
    let fired = veth_opens(&bpf);
    assert!(
        fired >= 2,
        "veth_open ran {fired} times for two ends set up"
    );
    let program: &mut FEntry = bpf
        .program_mut("count_veth_open")
        .unwrap()
        .try_into()
        .unwrap();
    program.detach(link).unwrap();
    {
        let netns = TestNetns::enter();
        netns.add_veth_pair();
    }
    assert_eq!(veth_opens(&bpf), fired, "fired after detach");
}

#[test]
fn kfuncs_of_a_module_are_called() {
    let test = "module_btf::kfuncs_of_a_module_are_called";
    let module = std::path::Path::new("/sys/kernel/btf/nf_conntrack").exists();
    if !module
        && !std::fs::read_to_string("/proc/kallsyms")
            .unwrap()
            .contains(" bpf_xdp_ct_lookup\n")
    {
        skip(
            test,
            "no nf_conntrack kfuncs (neither built in nor a loaded module)",
        );
        return;
    }
    println!(
        "{test}: bpf_xdp_ct_lookup is in {} BTF",
        if module { "nf_conntrack" } else { "vmlinux" }
    );
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program: &mut Xdp = bpf
        .program_mut("lookup_conntrack")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    // clang leaves the parameters of extern (kfunc) prototypes unnamed, which the kernel
    // refuses: the loader names them, or the whole object BTF would be dropped.
    assert!(
        program.info().unwrap().btf_id().is_some(),
        "the object's BTF loaded with its kfunc declarations"
    );
    let out = program
        .test_run(TestRunOptions::new().data(&[0u8; 64]).repeat(2))
        .unwrap();
    assert_eq!(out.return_value, 2, "XDP_PASS");
    let bss = GlobalData::try_from(bpf.map(".bss").unwrap()).unwrap();
    assert_eq!(bss.get::<u64>("ct_lookups").unwrap(), 2);
    let data = GlobalData::try_from(bpf.map(".data").unwrap()).unwrap();
    assert_eq!(
        data.get::<i64>("ct_lookup_error").unwrap(),
        -i64::from(libc::ENOENT),
        "the lookup of a connection nobody made finds nothing"
    );
}

#[test]
fn attach_each_reports_every_program_without_stopping() {
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let outcomes = bpf.attach_each();
    let names: Vec<&str> = outcomes.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        ["count_veth_open", "lookup_conntrack", "probe_module_types"]
    );
    // The one program whose section names its target is attached where a raw fentry program
    // loads, and refused as not supported where it does not; either way the others (no
    // target in their sections) still get their turn and are left unattached.
    let refusal = trampoline_refusal();
    for (name, outcome) in &outcomes {
        match (name.as_str(), outcome, &refusal) {
            ("count_veth_open", Ok(true), None) => {}
            ("count_veth_open", Err(ProgramError::ProgramNotSupported { .. }), Some(_)) => {}
            // Or unknown to a kernel without module BTF (5.10).
            (
                "count_veth_open",
                Err(ProgramError::FEntry(FEntryError::FunctionNotFound { function, .. })),
                None,
            ) if function == "veth_open" && !veth_open_described() => {}
            ("lookup_conntrack" | "probe_module_types", Ok(false), _) => {}
            (name, other, refusal) => panic!("{name}: {other:?} (raw fentry probe: {refusal:?})"),
        }
    }
    if refusal.is_none() && veth_open_described() {
        // Attached means firing: setting up a veth pair opens both ends.
        {
            let netns = TestNetns::enter();
            netns.add_veth_pair();
        }
        let fired = veth_opens(&bpf);
        assert!(
            fired >= 2,
            "veth_open ran {fired} times for two ends set up"
        );
    }
}
