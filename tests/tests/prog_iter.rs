//! Task iterators: create the link, read an instance, find this thread in the output.

use std::io::Read;

use bpf_programs::programs::{Iter, IterError, ProgramError};
use bpf_sys::ids::{ObjectKind, fd_by_id};
use integration_tests::{counter, gettid, open_for_this_thread};

const OBJECT: &[u8] = integration_tests::bpf_object!("prog_iter.bpf.o");

#[test]
fn iter_task_lists_this_thread() {
    let mut bpf = open_for_this_thread(OBJECT);
    let program: &mut Iter = bpf.program_mut("dump_tasks").unwrap().try_into().unwrap();
    program.load().unwrap();
    let link = program.attach().unwrap();
    let mut output = String::new();
    program
        .open(link)
        .unwrap()
        .read_to_string(&mut output)
        .unwrap();
    let wanted = format!("{} {}", gettid(), std::process::id());
    assert!(
        output.lines().any(|line| line == wanted),
        "`{wanted}` not among {} lines",
        output.lines().count()
    );
    assert_eq!(counter(&bpf, "hits"), output.lines().count() as u64);

    // A taken link still makes new instances; after dropping it the program stops running.
    let program: &mut Iter = bpf.program_mut("dump_tasks").unwrap().try_into().unwrap();
    let link = program.take_link(link).unwrap();
    let link_id = link.inner().info().unwrap().id();
    let mut again = String::new();
    link.open().unwrap().read_to_string(&mut again).unwrap();
    assert!(again.lines().count() > 1);
    let ran = counter(&bpf, "hits");
    assert_eq!(ran, (output.lines().count() + again.lines().count()) as u64);
    drop(link);
    let program: &mut Iter = bpf.program_mut("dump_tasks").unwrap().try_into().unwrap();
    assert_eq!(program.data().link_count(), 0);
    // An iterator runs only through its link: the kernel itself must have freed it (a child
    // forked meanwhile by a parallel test holds the fd until it execs, hence the wait).
    let gone = (0..100).any(|_| {
        let lookup = fd_by_id(ObjectKind::Link, link_id, 0);
        let gone = lookup
            .as_ref()
            .is_err_and(|e| e.errno() == Some(libc::ENOENT));
        if !gone {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        gone
    });
    assert!(
        gone,
        "link {link_id} still exists in the kernel after its drop"
    );
    assert_eq!(counter(&bpf, "hits"), ran, "ran after its link dropped");
}

#[test]
fn iter_unknown_target_is_typed_error() {
    let mut bpf = open_for_this_thread(OBJECT);
    let program: &mut Iter = bpf.program_mut("bad_target").unwrap().try_into().unwrap();
    let err = program.load().unwrap_err();
    assert!(
        matches!(&err, ProgramError::Iter(IterError::TargetNotFound { target, .. }) if target == "no_such_iterator_target"),
        "{err:?}"
    );
    assert!(err.to_string().contains("no_such_iterator_target"));
}
