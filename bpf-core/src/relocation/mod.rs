//! Instruction relocations: maps and global data, bpf-to-bpf calls, externs, CO-RE.
