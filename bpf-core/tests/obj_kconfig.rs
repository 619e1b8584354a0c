//! Kernel config text and the encoding of `__kconfig` values.

use bpf_core::obj::{KconfigError, KconfigType, parse_kconfig};

#[test]
fn config_text_is_parsed() {
    let values = parse_kconfig(
        "#\n# comment\nCONFIG_BPF=y\nCONFIG_HZ=250\n# CONFIG_KPROBES is not set\nCONFIG_LOCALVERSION=\"-test\"\nCONFIG_NET_SCH_INGRESS=m\nnot a line\n",
    );
    assert_eq!(values.get("CONFIG_BPF").map(String::as_str), Some("y"));
    assert_eq!(values.get("CONFIG_HZ").map(String::as_str), Some("250"));
    assert_eq!(values.get("CONFIG_KPROBES").map(String::as_str), Some("n"));
    assert_eq!(
        values.get("CONFIG_LOCALVERSION").map(String::as_str),
        Some("\"-test\"")
    );
    assert_eq!(values.len(), 5);
}

#[test]
fn values_are_encoded_by_type() {
    assert_eq!(KconfigType::Bool.encode("X", "y").unwrap(), [1]);
    assert_eq!(KconfigType::Bool.encode("X", "m").unwrap(), [1]);
    assert_eq!(KconfigType::Bool.encode("X", "n").unwrap(), [0]);
    assert_eq!(
        KconfigType::Tristate.encode("X", "m").unwrap(),
        2u32.to_le_bytes()
    );
    assert_eq!(
        KconfigType::Tristate.encode("X", "y").unwrap(),
        1u32.to_le_bytes()
    );
    assert_eq!(KconfigType::Char.encode("X", "m").unwrap(), [b'm']);
    assert_eq!(
        KconfigType::Int {
            size: 4,
            signed: false
        }
        .encode("X", "0x60c00")
        .unwrap(),
        0x60c00u32.to_le_bytes()
    );
    assert_eq!(
        KconfigType::Int {
            size: 4,
            signed: true
        }
        .encode("X", "-3")
        .unwrap(),
        (-3i32).to_le_bytes()
    );
    assert_eq!(
        KconfigType::Int {
            size: 8,
            signed: false
        }
        .encode("X", "y")
        .unwrap(),
        1u64.to_le_bytes()
    );
    assert_eq!(
        KconfigType::CharArray { len: 4 }
            .encode("X", "\"abcdef\"")
            .unwrap(),
        *b"abc\0"
    );
    assert_eq!(
        KconfigType::CharArray { len: 6 }
            .encode("X", "\"ab\"")
            .unwrap(),
        *b"ab\0\0\0\0"
    );
}

#[test]
fn bad_values_name_the_extern() {
    let err = KconfigType::Int {
        size: 1,
        signed: false,
    }
    .encode("CONFIG_X", "300")
    .unwrap_err();
    assert!(matches!(&err, KconfigError::BadValue { name, .. } if name == "CONFIG_X"));
    assert!(err.to_string().contains("CONFIG_X") && err.to_string().contains("300"));
    assert!(KconfigType::Bool.encode("X", "maybe").is_err());
    assert!(
        KconfigType::CharArray { len: 4 }
            .encode("X", "unquoted")
            .is_err()
    );
    assert!(
        KconfigType::Int {
            size: 4,
            signed: true
        }
        .encode("X", "zz")
        .is_err()
    );
}
