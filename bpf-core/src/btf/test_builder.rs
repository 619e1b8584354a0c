//! Hand-built BTF for unit tests: types get ids 1, 2, ... in the order they are added.

use std::sync::Arc;

use super::Btf;

#[derive(Debug, Default)]
pub(crate) struct BtfBuilder {
    types: Vec<u8>,
    strings: Vec<u8>,
    next_id: u32,
    /// String offset of a split BTF's first string (the base's table length).
    str_base: u32,
}

impl BtfBuilder {
    pub fn new() -> BtfBuilder {
        BtfBuilder {
            strings: vec![0],
            next_id: 1,
            ..Default::default()
        }
    }

    /// A builder for split BTF on top of `base`.
    pub fn split(base: &Btf) -> BtfBuilder {
        BtfBuilder {
            strings: Vec::new(),
            next_id: base.end_id(),
            str_base: base.strings().len() as u32,
            ..Default::default()
        }
    }

    fn string(&mut self, s: &str) -> u32 {
        if s.is_empty() && self.str_base == 0 {
            return 0;
        }
        let off = self.str_base + self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        off
    }

    fn record(
        &mut self,
        name: &str,
        kind: u32,
        kind_flag: bool,
        vlen: u32,
        size_or_type: u32,
        extra: &[u32],
    ) -> u32 {
        let name_off = self.string(name);
        let info = (u32::from(kind_flag) << 31) | (kind << 24) | vlen;
        for w in [name_off, info, size_or_type].iter().chain(extra) {
            self.types.extend_from_slice(&w.to_le_bytes());
        }
        self.next_id += 1;
        self.next_id - 1
    }

    pub fn int(&mut self, name: &str, size: u32, signed: bool) -> u32 {
        let encoding = u32::from(signed);
        self.record(name, 1, false, 0, size, &[(encoding << 24) | (size * 8)])
    }

    pub fn bool_(&mut self) -> u32 {
        self.record("_Bool", 1, false, 0, 1, &[(4 << 24) | 8])
    }

    pub fn float(&mut self, name: &str, size: u32) -> u32 {
        self.record(name, 16, false, 0, size, &[])
    }

    pub fn ptr(&mut self, target: u32) -> u32 {
        self.record("", 2, false, 0, target, &[])
    }

    pub fn array(&mut self, elem: u32, index: u32, n: u32) -> u32 {
        self.record("", 3, false, 0, 0, &[elem, index, n])
    }

    /// Members: (name, type, bit offset, bitfield width).
    fn composite(
        &mut self,
        kind: u32,
        name: &str,
        size: u32,
        members: &[(&str, u32, u32, u32)],
    ) -> u32 {
        let bitfields = members.iter().any(|m| m.3 != 0);
        let mut extra = Vec::new();
        for &(n, t, off, bits) in members {
            let off = if bitfields { (bits << 24) | off } else { off };
            extra.extend([self.string(n), t, off]);
        }
        self.record(name, kind, bitfields, members.len() as u32, size, &extra)
    }

    pub fn structure(&mut self, name: &str, size: u32, members: &[(&str, u32, u32, u32)]) -> u32 {
        self.composite(4, name, size, members)
    }

    pub fn union(&mut self, name: &str, size: u32, members: &[(&str, u32, u32, u32)]) -> u32 {
        self.composite(5, name, size, members)
    }

    pub fn enumeration(
        &mut self,
        name: &str,
        size: u32,
        signed: bool,
        values: &[(&str, i64)],
    ) -> u32 {
        let mut extra = Vec::new();
        for &(n, v) in values {
            extra.extend([self.string(n), v as u32]);
        }
        self.record(name, 6, signed, values.len() as u32, size, &extra)
    }

    pub fn enum64(&mut self, name: &str, size: u32, signed: bool, values: &[(&str, u64)]) -> u32 {
        let mut extra = Vec::new();
        for &(n, v) in values {
            extra.extend([self.string(n), v as u32, (v >> 32) as u32]);
        }
        self.record(name, 19, signed, values.len() as u32, size, &extra)
    }

    pub fn fwd(&mut self, name: &str, is_union: bool) -> u32 {
        self.record(name, 7, is_union, 0, 0, &[])
    }

    pub fn typedef(&mut self, name: &str, target: u32) -> u32 {
        self.record(name, 8, false, 0, target, &[])
    }

    pub fn volatile(&mut self, target: u32) -> u32 {
        self.record("", 9, false, 0, target, &[])
    }

    pub fn constant(&mut self, target: u32) -> u32 {
        self.record("", 10, false, 0, target, &[])
    }

    pub fn restrict(&mut self, target: u32) -> u32 {
        self.record("", 11, false, 0, target, &[])
    }

    pub fn func(&mut self, name: &str, proto: u32) -> u32 {
        self.record(name, 12, false, 1, proto, &[])
    }

    pub fn func_proto(&mut self, ret: u32, params: &[(&str, u32)]) -> u32 {
        let mut extra = Vec::new();
        for &(n, t) in params {
            extra.extend([self.string(n), t]);
        }
        self.record("", 13, false, params.len() as u32, ret, &extra)
    }

    pub fn decl_tag(&mut self, name: &str, target: u32, component: i32) -> u32 {
        self.record(name, 17, false, 0, target, &[component as u32])
    }

    pub fn type_tag(&mut self, name: &str, target: u32, attribute: bool) -> u32 {
        self.record(name, 18, attribute, 0, target, &[])
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = vec![0x9f, 0xeb, 1, 0];
        for w in [
            24u32,
            0,
            self.types.len() as u32,
            self.types.len() as u32,
            self.strings.len() as u32,
        ] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strings);
        out
    }

    pub fn build(&self) -> Btf {
        Btf::parse(&self.bytes()).expect("test BTF parses")
    }

    pub fn build_split(&self, base: Arc<Btf>) -> Btf {
        Btf::parse_split(&self.bytes(), base).expect("test split BTF parses")
    }
}
