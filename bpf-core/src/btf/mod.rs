//! BTF: parsing, marshalling, sanitising, `.BTF.ext` and CO-RE.
