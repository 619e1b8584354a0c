// Flavoured types for CO-RE checks across kernel versions, as libbpf-tools' core_fixes.bpf.h has.
#pragma once

struct task_struct___o {
    volatile long int state;
} __attribute__((preserve_access_index));

struct task_struct___x {
    unsigned int __state;
} __attribute__((preserve_access_index));
