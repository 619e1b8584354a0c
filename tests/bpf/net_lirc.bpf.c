// lirc_mode2: a decoder for the loopback remote-control device. Every sample (pulse, space,
// timeout) is counted, in `hits` and in `samples`, and a pulse of SCANCODE_PULSE + n
// microseconds (n < 10000) is reported as the keypress of scancode n. Refused by kernels built
// without CONFIG_BPF_LIRC_MODE2.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "prog_counter.h"

// <linux/lirc.h>: a mode2 sample is a type in the top byte and a duration in the low 24 bits.
#define LIRC_MODE2_MASK 0xff000000
#define LIRC_MODE2_PULSE 0x01000000
#define LIRC_VALUE_MASK 0x00ffffff
#define RC_PROTO_NEC 9

#define SCANCODE_PULSE 20000

__u64 samples;
__u64 pulses;
__u64 keydowns;

SEC("lirc_mode2")
int decode_ir(unsigned int *sample)
{
    unsigned int value = *sample;
    unsigned int duration = value & LIRC_VALUE_MASK;

    bump(0);
    __sync_fetch_and_add(&samples, 1);
    if ((value & LIRC_MODE2_MASK) != LIRC_MODE2_PULSE)
        return 0;
    __sync_fetch_and_add(&pulses, 1);
    if (duration >= SCANCODE_PULSE && duration < SCANCODE_PULSE + 10000) {
        bpf_rc_keydown(sample, RC_PROTO_NEC, duration - SCANCODE_PULSE, 0);
        __sync_fetch_and_add(&keydowns, 1);
    }
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
