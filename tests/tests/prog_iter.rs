//! Task iterators: create the link, read an instance, find this thread in the output.

use std::io::Read;

use bpf_programs::programs::{Iter, IterError, ProgramError};
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
    let mut again = String::new();
    link.open().unwrap().read_to_string(&mut again).unwrap();
    assert!(again.lines().count() > 1);
    drop(link);
    let program: &mut Iter = bpf.program_mut("dump_tasks").unwrap().try_into().unwrap();
    assert_eq!(program.data().link_count(), 0);
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
