//! bpf-inspect against bpftool on the same kernel objects: ids, names and types of the
//! programs, maps and links this test loaded; struct values dumped with field names; the
//! translated dump; probed features. Only objects this test created are compared, since other
//! tests load programs at the same time.

use bpf_programs::programs::TestRunOptions;
use std::process::Command;

use bpf_inspect::run_args;
use bpf_programs::programs::{RawTracePoint, loaded_links};
use bpf_programs::{Bpf, BpfLoader};
use integration_tests::{gettid, skip};
use serde_json::{Value, json};

const OBJECT: &[u8] = include_bytes!("../bpf/obj/inspect_programs.bpf.o");
const OBJECT_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/bpf/obj/inspect_programs.bpf.o"
);

/// `bpftool -j <args>`, or `None` (after the SKIPPED line) where bpftool is missing.
fn bpftool(test: &str, args: &[&str]) -> Option<Value> {
    match Command::new("bpftool").arg("-j").args(args).output() {
        Ok(out) if out.status.success() => {
            Some(serde_json::from_slice(&out.stdout).expect("bpftool prints JSON"))
        }
        Ok(out) => panic!(
            "bpftool {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            skip(test, format!("bpftool is not runnable here: {e}"));
            None
        }
    }
}

fn ours(args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    run_args(&all)
        .unwrap_or_else(|e| panic!("bpf-inspect {args:?}: {}", e.chain()))
        .0
}

fn by_id(list: &Value, id: u32) -> Option<&Value> {
    list.as_array()?.iter().find(|e| e["id"] == json!(id))
}

fn open() -> Bpf {
    BpfLoader::new()
        .set_global("target_tid", &gettid())
        .load(OBJECT)
        .unwrap()
}

#[test]
fn inspect_lists_agree_with_bpftool() {
    const TEST: &str = "inspect_cli::inspect_lists_agree_with_bpftool";
    let mut bpf = open();
    let program: &mut RawTracePoint = bpf
        .program_mut("inspect_sys_enter")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    program.attach("sys_enter").unwrap();
    let info = program.info().unwrap();
    let prog_id = info.id();
    let map_ids = info.map_ids().to_vec();
    let link_ids: Vec<u32> = loaded_links()
        .filter_map(Result::ok)
        .filter(|l| l.program_id() == prog_id)
        .map(|l| l.id())
        .collect();
    assert_eq!(link_ids.len(), 1, "one raw tracepoint link");

    let Some(their_progs) = bpftool(TEST, &["prog", "list"]) else {
        return;
    };
    let (their_maps, their_links) = (
        bpftool(TEST, &["map", "list"]).unwrap(),
        bpftool(TEST, &["link", "list"]).unwrap(),
    );
    let (our_progs, our_maps, our_links) = (
        ours(&["prog", "list"]),
        ours(&["map", "list"]),
        ours(&["link", "list"]),
    );

    let (a, b) = (
        by_id(&our_progs, prog_id).expect("our list has the program"),
        by_id(&their_progs, prog_id).expect("bpftool's list has the program"),
    );
    for field in ["name", "type", "tag", "btf_id", "map_ids", "bytes_xlated"] {
        assert_eq!(a[field], b[field], "program field {field}");
    }
    assert_eq!(map_ids.len(), 3, "conns, per_cpu_conns, .rodata");
    for &id in &map_ids {
        let (a, b) = (
            by_id(&our_maps, id).expect("our list has the map"),
            by_id(&their_maps, id).expect("bpftool's list has the map"),
        );
        for field in [
            "name",
            "type",
            "bytes_key",
            "bytes_value",
            "max_entries",
            "btf_id",
        ] {
            assert_eq!(a[field], b[field], "map {id} field {field}");
        }
    }
    let (a, b) = (
        by_id(&our_links, link_ids[0]).expect("our list has the link"),
        by_id(&their_links, link_ids[0]).expect("bpftool's list has the link"),
    );
    assert_eq!(a["type"], b["type"]);
    assert_eq!(a["prog_id"], b["prog_id"]);
    assert_eq!(a["target_name"], b["tp_name"]);
    // Counted over what this test owns: one program, its three maps, one link, in both lists.
    let count = |list: &Value, ids: &[u32]| {
        list.as_array()
            .unwrap()
            .iter()
            .filter(|e| ids.iter().any(|&id| e["id"] == json!(id)))
            .count()
    };
    assert_eq!(
        count(&our_progs, &[prog_id]),
        count(&their_progs, &[prog_id])
    );
    assert_eq!(count(&our_maps, &map_ids), count(&their_maps, &map_ids));
    assert_eq!(count(&our_links, &link_ids), count(&their_links, &link_ids));

    let shown = ours(&["prog", "show", &prog_id.to_string()]);
    assert_eq!(shown["links"][0]["id"], json!(link_ids[0]));
    assert_eq!(shown["links"][0]["type"], json!("raw_tracepoint"));
}

fn conn_bytes() -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&0x0100_007fu32.to_ne_bytes()); // saddr
    v.extend_from_slice(&8080u16.to_ne_bytes()); // port
    v.extend_from_slice(&(5u16 | (100 << 4)).to_ne_bytes()); // flags:4 = 5, prio:12 = 100
    v.extend_from_slice(&3u32.to_ne_bytes()); // state = CONN_RUNNING
    v.extend_from_slice(b"bash\0\0\0\0"); // comm
    v.extend_from_slice(&[0; 4]); // padding before bytes[]
    v.extend_from_slice(&7u64.to_ne_bytes());
    v.extend_from_slice(&9u64.to_ne_bytes());
    v
}

#[test]
fn inspect_dumps_struct_values_with_field_names_like_bpftool() {
    const TEST: &str = "inspect_cli::inspect_dumps_struct_values_with_field_names_like_bpftool";
    let bpf = open();
    let conns = bpf.map("conns").unwrap().data().info().unwrap().id();
    let per_cpu = bpf
        .map("per_cpu_conns")
        .unwrap()
        .data()
        .info()
        .unwrap()
        .id();
    let id = conns.to_string();
    let hex: String = conn_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let value = format!("hex:{hex}");
    ours(&["map", "update", &id, "--key", "u32:1", "--value", &value]);
    let dump = ours(&["map", "dump", &id]);
    let expected = json!([{
        "key": 1,
        "value": {
            "saddr": 16777343,
            "port": 8080,
            "flags": 5,
            "prio": 100,
            "state": "CONN_RUNNING",
            "comm": "bash",
            "bytes": [7, 9],
        }
    }]);
    assert_eq!(dump, expected);
    let text = run_args(&["map", "dump", &id]).unwrap().1;
    assert!(
        text.contains(r#"{ saddr: 16777343, port: 8080, flags: 5, prio: 100, state: CONN_RUNNING, comm: "bash", bytes: [7, 9] }"#),
        "{text}"
    );

    let Some(theirs) = bpftool(TEST, &["map", "dump", "id", &id]) else {
        return;
    };
    // bpftool prints bitfields as hex strings; we print numbers.
    let mut their_value = theirs[0]["formatted"]["value"].clone();
    for field in ["flags", "prio"] {
        let hex = their_value[field].as_str().expect("a hex string");
        their_value[field] = json!(u64::from_str_radix(&hex[2..], 16).unwrap());
    }
    assert_eq!(their_value, dump[0]["value"]);
    assert_eq!(theirs[0]["formatted"]["key"], dump[0]["key"]);

    // Per-CPU: one value per possible CPU, each with its field names.
    let ours_per_cpu = ours(&["map", "dump", &per_cpu.to_string()]);
    let theirs_per_cpu = bpftool(TEST, &["map", "dump", "id", &per_cpu.to_string()]).unwrap();
    let cpus = bpf_programs::maps::nr_cpus().unwrap();
    assert_eq!(ours_per_cpu.as_array().unwrap().len(), 2, "two keys");
    assert_eq!(ours_per_cpu[0]["values"].as_array().unwrap().len(), cpus);
    assert_eq!(
        ours_per_cpu[0]["values"][0]["value"]["state"],
        json!("CONN_IDLE")
    );
    for n in 0..2 {
        let mut their = theirs_per_cpu[n]["formatted"]["values"].clone();
        for cpu in their.as_array_mut().unwrap() {
            for field in ["flags", "prio"] {
                let hex = cpu["value"][field]
                    .as_str()
                    .expect("a hex string")
                    .to_owned();
                cpu["value"][field] = json!(u64::from_str_radix(&hex[2..], 16).unwrap());
            }
        }
        assert_eq!(their, ours_per_cpu[n]["values"], "key {n}");
    }

    // Delete, then the entry is gone and a second delete names the missing key.
    ours(&["map", "delete", &id, "--key", "u32:1"]);
    assert_eq!(ours(&["map", "dump", &id]), json!([]));
    let err = run_args(&["map", "delete", &id, "--key", "u32:1"]).unwrap_err();
    assert!(
        err.chain().contains("no entry with key 01 00 00 00"),
        "{}",
        err.chain()
    );
    // Arrays cannot delete; a key of the wrong size is refused before the kernel sees it.
    let err = run_args(&["map", "delete", &per_cpu.to_string(), "--key", "u32:0"]).unwrap_err();
    assert!(
        err.chain().contains("delete works on hash"),
        "{}",
        err.chain()
    );
    let err = run_args(&["map", "update", &id, "--key", "u64:1", "--value", "u32:0"]).unwrap_err();
    assert!(
        err.chain()
            .contains("the key is 8 bytes, the map's key is 4"),
        "{}",
        err.chain()
    );
}

#[test]
fn inspect_translated_dump_matches_bpftool() {
    const TEST: &str = "inspect_cli::inspect_translated_dump_matches_bpftool";
    let mut bpf = open();
    let program: &mut RawTracePoint = bpf
        .program_mut("inspect_sys_enter")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    let id = program.info().unwrap().id().to_string();
    let (json_dump, text) = run_args(&["prog", "dump", &id, "--xlated"]).unwrap();
    let ours: Vec<String> = json_dump["insns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| format!("{}: {}", i["pc"], i["insn"].as_str().unwrap()))
        .collect();
    assert!(ours.len() > 10, "{ours:?}");
    assert!(
        text.contains("int inspect_sys_enter(void * ctx):"),
        "{text}"
    );
    assert!(
        text.contains("; c = bpf_map_lookup_elem(&conns, &key);"),
        "{text}"
    );
    // The JIT's code (x86-64 here): one function, decoded to its epilogue, source lines beside it.
    if cfg!(target_arch = "x86_64") {
        let (jited, text) = run_args(&["prog", "dump", &id, "--jited"]).unwrap();
        let function = &jited["functions"][0];
        assert_eq!(function["name"], json!("inspect_sys_enter"));
        let insns = function["insns"].as_array().unwrap();
        assert!(insns.len() > 10, "{text}");
        assert!(
            // `leave` then `ret`, or a jump to the return thunk under retbleed mitigations.
            insns
                .iter()
                .any(|i| i["insn"].as_str().unwrap().starts_with("leave")),
            "{text}"
        );
        assert!(
            text.contains("; c = bpf_map_lookup_elem(&conns, &key);"),
            "{text}"
        );
    }
    let Ok(out) = Command::new("bpftool")
        .args(["prog", "dump", "xlated", "id", &id])
        .output()
    else {
        skip(TEST, "bpftool is not runnable here");
        return;
    };
    let theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| {
            l.split_once(": (")
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
        })
        .map(str::to_owned)
        .collect();
    assert_eq!(ours, theirs);
}

#[test]
fn inspect_features_agree_with_bpftool() {
    const TEST: &str = "inspect_cli::inspect_features_agree_with_bpftool";
    let Some(theirs) = bpftool(TEST, &["feature", "probe", "kernel"]) else {
        return;
    };
    let ours = ours(&["feature", "--helpers", "--prog-type", "xdp"]);
    let mut compared = 0;
    for (section, suffix) in [("program_types", "prog_type"), ("map_types", "map_type")] {
        for entry in ours[section].as_array().unwrap() {
            let name = entry["name"].as_str().unwrap();
            let Some(their) = theirs[section][format!("have_{name}_{suffix}")].as_bool() else {
                continue;
            };
            match entry["supported"].as_str().unwrap() {
                "yes" => assert!(their, "{name}: we found it, bpftool did not"),
                "no" => assert!(!their, "{name}: bpftool found it, we did not"),
                _ => continue,
            }
            compared += 1;
        }
    }
    assert!(compared > 40, "compared only {compared} types");
    let mut our_helpers: Vec<&str> = ours["helpers"]["xdp"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    let mut their_helpers: Vec<&str> = theirs["helpers"]["xdp_available_helpers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    our_helpers.sort();
    their_helpers.sort();
    // Neither tool loads callers of the helpers whose load warns in the kernel log.
    assert!(!our_helpers.contains(&"bpf_trace_printk"));
    assert_eq!(our_helpers, their_helpers);
}

#[test]
fn inspect_object_lists_programs_maps_globals_and_relocations() {
    let summary = ours(&["object", OBJECT_PATH]);
    assert_eq!(summary["programs"][0]["name"], json!("inspect_sys_enter"));
    assert_eq!(summary["programs"][0]["type"], json!("raw_tracepoint"));
    assert_eq!(summary["programs"][0]["section"], json!("raw_tp/sys_enter"));
    let maps: Vec<(&str, &str)> = summary["maps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["type"].as_str().unwrap()))
        .collect();
    assert!(maps.contains(&("conns", "hash")), "{maps:?}");
    assert!(
        maps.contains(&("per_cpu_conns", "percpu_array")),
        "{maps:?}"
    );
    assert_eq!(summary["globals"][0]["name"], json!("target_tid"));
    let core = ours(&[
        "object",
        concat!(env!("CARGO_MANIFEST_DIR"), "/bpf/obj/reloc_core.bpf.o"),
    ]);
    let relos = core["core_relocations"].as_array().unwrap();
    let tgid = relos
        .iter()
        .find(|r| r["access"] == json!("task_struct___local.tgid"))
        .expect("the tgid relocation is listed");
    assert_eq!(tgid["kind"], json!("byte_off"));
    assert_eq!(tgid["resolves"], json!("yes"));
}

#[test]
fn inspect_errors_name_what_was_asked() {
    let err = run_args(&["map", "show", "4294967295"]).unwrap_err();
    let chain = err.chain();
    assert!(chain.starts_with("map 4294967295"), "{chain}");
    assert!(chain.contains("No such file or directory"), "{chain}");
    let err = run_args(&["prog", "dump", "4294967295"]).unwrap_err();
    assert!(
        err.chain().starts_with("program 4294967295"),
        "{}",
        err.chain()
    );
    let err = run_args(&["object", "/nonexistent/x.o"]).unwrap_err();
    assert!(
        err.chain().starts_with("object /nonexistent/x.o"),
        "{}",
        err.chain()
    );
    let err = run_args(&["btf", "dump", "4294967295", "--format", "c"]).unwrap_err();
    assert!(
        err.chain().starts_with("BTF object 4294967295"),
        "{}",
        err.chain()
    );
}

#[test]
fn inspect_btf_dump_of_a_loaded_program_as_c_and_rust() {
    let mut bpf = open();
    let program: &mut RawTracePoint = bpf
        .program_mut("inspect_sys_enter")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    let btf_id = program
        .info()
        .unwrap()
        .btf_id()
        .expect("the program was loaded with its BTF")
        .to_string();
    // The kernel's copy of the object's BTF writes the same types as the file's.
    for format in ["c", "rust"] {
        let args = |source: &str| {
            run_args(&["btf", "dump", source, "--format", format, "--type", "conn"])
                .unwrap_or_else(|e| panic!("btf dump {source} --format {format}: {}", e.chain()))
                .1
        };
        let (loaded, file) = (args(&btf_id), args(OBJECT_PATH));
        assert!(loaded.contains("struct conn"), "{loaded}");
        assert_eq!(loaded, file, "--format {format}");
    }
    let header = run_args(&["btf", "dump", &btf_id, "--format", "c"])
        .unwrap()
        .1;
    assert!(header.contains("enum conn_state {"), "{header}");
}

#[test]
fn inspect_tracelog_reads_a_programs_printk_lines() {
    const TEST: &str = "inspect_cli::inspect_tracelog_reads_a_programs_printk_lines";
    if !std::fs::read_to_string("/proc/mounts").is_ok_and(|m| m.contains(" tracefs ")) {
        skip(TEST, "tracefs is not mounted");
        return;
    }
    let mut bpf = BpfLoader::new()
        .load(include_bytes!("../bpf/obj/log_programs.bpf.o"))
        .unwrap();
    let program: &mut bpf_programs::programs::Xdp =
        bpf.program_mut("printk_bench").unwrap().try_into().unwrap();
    program.load().unwrap();
    let id = program.info().unwrap().id().to_string();
    let reader = std::thread::spawn(move || {
        run_args(&[
            "--json",
            "prog",
            "tracelog",
            &id,
            "--count",
            "2",
            "--timeout",
            "10",
        ])
    });
    // The reader's tracefs instance must exist before the lines are printed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let lines = loop {
        program
            .test_run(TestRunOptions::new().data(&[0u8; 64]))
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        if reader.is_finished() || std::time::Instant::now() > deadline {
            break reader.join().unwrap().unwrap().0;
        }
    };
    let lines = lines.as_array().unwrap();
    assert_eq!(lines.len(), 2, "{lines:?}");
    for line in lines {
        let message = line["message"].as_str().unwrap();
        assert!(
            message.starts_with("packet ") && message.ends_with(" of 64 bytes"),
            "{message}"
        );
    }
}
