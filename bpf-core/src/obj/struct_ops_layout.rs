//! The value of a struct_ops map as the kernel wants it: the object's struct, member by member
//! and by name, laid out as the running kernel's `bpf_struct_ops_<name>`.

use crate::btf::{Btf, BtfError, BtfKind, Composite, Member, TypeKind};

use super::StructOps;

/// Prefix of the kernel type wrapping a struct_ops struct in a map value.
const VALUE_TYPE_PREFIX: &str = "bpf_struct_ops_";

/// Why a struct_ops map's value cannot be built for the kernel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StructOpsLayoutError {
    #[error("the object has no BTF describing it")]
    NoObjectBtf,
    #[error("the kernel has no struct `{type_name}`")]
    NoKernelStruct { type_name: String },
    #[error(
        "the kernel has no `{VALUE_TYPE_PREFIX}{type_name}`: `{type_name}` is not a struct_ops type of this kernel"
    )]
    NoValueType { type_name: String },
    #[error("the kernel's `{VALUE_TYPE_PREFIX}{type_name}` has no member of type `{type_name}`")]
    NoStructInValue { type_name: String },
    #[error("member `{member}` is set, but the kernel's `{type_name}` has no such member")]
    MissingMember { type_name: String, member: String },
    #[error("member `{member}` is a bitfield, which struct_ops maps do not support")]
    Bitfield { member: String },
    #[error("member `{member}` is a {object:?} in the object but a {kernel:?} in the kernel")]
    KindMismatch {
        member: String,
        object: BtfKind,
        kernel: BtfKind,
    },
    #[error(
        "member `{member}` is set to program `{program}`, but the kernel's member is not a function pointer"
    )]
    NotFunctionPointer { member: String, program: String },
    #[error("member `{member}` is {object} bytes in the object but {kernel} bytes in the kernel")]
    SizeMismatch {
        member: String,
        object: u32,
        kernel: u32,
    },
    #[error("member `{member}` lies outside the struct (object data or kernel value)")]
    OutOfBounds { member: String },
    #[error("the kernel's struct has no member `{member}` holding data (not a function pointer)")]
    NoDataMember { member: String },
    #[error("member `{member}` is {expected} bytes, {actual} given")]
    ValueSize {
        member: String,
        expected: u32,
        actual: usize,
    },
    #[error("reading the struct types' BTF")]
    Btf(#[from] BtfError),
}

/// A function pointer slot of the value, to be filled with a program fd at registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructOpsProgramSlot {
    /// Member name (e.g. `ssthresh`).
    pub member: String,
    /// Index of the member in the kernel struct: the program's `expected_attach_type`.
    pub member_index: u32,
    /// Byte offset of the 8-byte slot in [`StructOpsLayout::value`].
    pub value_offset: u32,
    /// The program the object sets the member to.
    pub program: String,
}

/// A struct_ops map value laid out for one kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructOpsLayout {
    /// Kernel BTF id of the struct (e.g. `tcp_congestion_ops`): the programs' `attach_btf_id`.
    pub type_id: u32,
    /// Kernel BTF id of `bpf_struct_ops_<name>`: the map's `btf_vmlinux_value_type_id`.
    pub value_type_id: u32,
    /// The value with every non-function member copied; function pointer slots are zero.
    pub value: Vec<u8>,
    /// Function pointer members set to programs, in member order.
    pub programs: Vec<StructOpsProgramSlot>,
    /// `(member, program)` pairs left out because the kernel's struct lacks the member.
    pub dropped_programs: Vec<(String, String)>,
    /// The kernel struct's members other than pointers, which user space may set.
    pub data_members: Vec<StructOpsDataMember>,
}

/// A member of the kernel struct holding data (not a pointer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructOpsDataMember {
    pub name: String,
    /// Byte offset in [`StructOpsLayout::value`].
    pub value_offset: u32,
    pub size: u32,
}

impl StructOpsLayout {
    /// The value with each program slot set to the fd `program_fd` gives for its program.
    pub fn value_with_fds(&self, mut program_fd: impl FnMut(&str) -> Option<i32>) -> Vec<u8> {
        let mut value = self.value.clone();
        for slot in &self.programs {
            let Some(fd) = program_fd(&slot.program) else {
                continue;
            };
            let start = slot.value_offset as usize;
            if let Some(bytes) = value.get_mut(start..start + 8) {
                bytes.copy_from_slice(&i64::from(fd).to_ne_bytes());
            }
        }
        value
    }

    /// The bytes of data member `member` in the value.
    pub fn member(&self, member: &str) -> Result<&[u8], StructOpsLayoutError> {
        let range = self.member_range(member)?;
        self.value
            .get(range)
            .ok_or_else(|| StructOpsLayoutError::OutOfBounds {
                member: member.to_owned(),
            })
    }

    /// Overwrites data member `member` (e.g. a congestion control's `name`, a scheduler's
    /// `flags`); `bytes` must be exactly the kernel member's size.
    pub fn set_member(&mut self, member: &str, bytes: &[u8]) -> Result<(), StructOpsLayoutError> {
        let range = self.member_range(member)?;
        if range.len() != bytes.len() {
            return Err(StructOpsLayoutError::ValueSize {
                member: member.to_owned(),
                expected: range.len() as u32,
                actual: bytes.len(),
            });
        }
        self.value
            .get_mut(range)
            .ok_or_else(|| StructOpsLayoutError::OutOfBounds {
                member: member.to_owned(),
            })?
            .copy_from_slice(bytes);
        Ok(())
    }

    fn member_range(&self, member: &str) -> Result<std::ops::Range<usize>, StructOpsLayoutError> {
        let found = self
            .data_members
            .iter()
            .find(|m| m.name == member)
            .ok_or_else(|| StructOpsLayoutError::NoDataMember {
                member: member.to_owned(),
            })?;
        let start = found.value_offset as usize;
        Ok(start..start + found.size as usize)
    }

    /// The slot of `program`, when the struct points at it.
    pub fn slot_of(&self, program: &str) -> Option<&StructOpsProgramSlot> {
        self.programs.iter().find(|s| s.program == program)
    }
}

/// A type's id and kind after typedefs and modifiers.
fn resolved_kind(btf: &Btf, id: u32) -> Result<(u32, BtfKind), BtfError> {
    let resolved = btf.resolve(id)?;
    Ok((resolved, btf.kind(resolved)?))
}

fn is_function_pointer(btf: &Btf, ptr_id: u32) -> Result<bool, BtfError> {
    let TypeKind::Ptr { target } = btf.type_by_id(ptr_id)?.kind else {
        return Ok(false);
    };
    Ok(btf.resolve_type(target)?.kind.kind() == BtfKind::FuncProto)
}

impl StructOps {
    /// Lays out the map value for `kernel`: `data` is the object's initial value of the struct
    /// (described by `object_btf`). Members are matched by name; members the kernel lacks must be
    /// zero; the others must have the same kind and size on both sides.
    pub fn kernel_layout(
        &self,
        object_btf: &Btf,
        data: &[u8],
        kernel: &Btf,
    ) -> Result<StructOpsLayout, StructOpsLayoutError> {
        let kernel = KernelStruct::find(kernel, &self.type_name)?;
        let TypeKind::Struct(object_struct) = object_btf.resolve_type(self.type_id)?.kind else {
            return Err(BtfError::UnexpectedKind {
                id: self.type_id,
                expected: "struct",
                found: object_btf.kind(self.type_id)?,
            }
            .into());
        };
        let mut layout = Layout {
            ops: self,
            object_btf,
            data,
            kernel: &kernel,
            value: vec![0u8; kernel.value_size as usize],
            programs: Vec::new(),
            dropped_programs: Vec::new(),
        };
        for member in object_struct.members() {
            layout.place(&member?)?;
        }
        let data_members = kernel.data_members(layout.value.len())?;
        Ok(StructOpsLayout {
            type_id: kernel.type_id,
            value_type_id: kernel.value_type_id,
            value: layout.value,
            programs: layout.programs,
            dropped_programs: layout.dropped_programs,
            data_members,
        })
    }
}

/// The kernel's side of a struct_ops type: the struct, and the map value type wrapping it.
struct KernelStruct<'k> {
    btf: &'k Btf,
    type_name: &'k str,
    type_id: u32,
    value_type_id: u32,
    value_size: u32,
    /// Byte offset of the struct inside the value.
    data_offset: usize,
    members: Composite<'k>,
}

impl<'k> KernelStruct<'k> {
    /// Struct `type_name` of `kernel` and its `bpf_struct_ops_<name>`.
    fn find(kernel: &'k Btf, type_name: &'k str) -> Result<Self, StructOpsLayoutError> {
        let no_struct = || StructOpsLayoutError::NoKernelStruct {
            type_name: type_name.to_owned(),
        };
        let no_value_type = || StructOpsLayoutError::NoValueType {
            type_name: type_name.to_owned(),
        };
        let type_id = kernel
            .find_by_name_kind(type_name, BtfKind::Struct)
            .ok_or_else(no_struct)?;
        let value_type_id = kernel
            .find_by_name_kind(&format!("{VALUE_TYPE_PREFIX}{type_name}"), BtfKind::Struct)
            .ok_or_else(no_value_type)?;
        let TypeKind::Struct(value_type) = kernel.type_by_id(value_type_id)?.kind else {
            return Err(no_value_type());
        };
        let mut data_offset = None;
        for member in value_type.members() {
            let member = member?;
            if kernel.resolve(member.type_id)? == type_id {
                data_offset = Some(member.bit_offset / 8);
                break;
            }
        }
        let data_offset = data_offset.ok_or_else(|| StructOpsLayoutError::NoStructInValue {
            type_name: type_name.to_owned(),
        })? as usize;
        let TypeKind::Struct(members) = kernel.type_by_id(type_id)?.kind else {
            return Err(no_struct());
        };
        Ok(KernelStruct {
            btf: kernel,
            type_name,
            type_id,
            value_type_id,
            value_size: value_type.size,
            data_offset,
            members,
        })
    }

    /// The member named `name` and its index.
    fn member(&self, name: &str) -> Option<(usize, Result<Member<'k>, BtfError>)> {
        self.members
            .members()
            .enumerate()
            .find(|(_, m)| m.as_ref().is_ok_and(|m| m.name == name))
    }

    /// The members other than pointers that fit in a value of `value_len` bytes.
    fn data_members(&self, value_len: usize) -> Result<Vec<StructOpsDataMember>, BtfError> {
        let kernel = self.btf;
        let mut data_members = Vec::new();
        for member in self.members.members() {
            let member = member?;
            if member.bitfield_size != 0 || member.name.is_empty() {
                continue;
            }
            let (_, kind) = resolved_kind(kernel, member.type_id)?;
            // Members without a size (flexible arrays) cannot be set.
            let Ok(size) = kernel.type_size(member.type_id) else {
                continue;
            };
            let value_offset = self.data_offset + (member.bit_offset / 8) as usize;
            if kind == BtfKind::Ptr || value_offset + size as usize > value_len {
                continue;
            }
            data_members.push(StructOpsDataMember {
                name: member.name.to_owned(),
                value_offset: value_offset as u32,
                size,
            });
        }
        Ok(data_members)
    }
}

/// A value being laid out: the object's members placed one by one at the kernel's offsets.
struct Layout<'a> {
    ops: &'a StructOps,
    object_btf: &'a Btf,
    /// The object's initial value of the struct.
    data: &'a [u8],
    kernel: &'a KernelStruct<'a>,
    value: Vec<u8>,
    programs: Vec<StructOpsProgramSlot>,
    dropped_programs: Vec<(String, String)>,
}

impl Layout<'_> {
    /// Places object member `member`: a program in a function pointer slot, data copied, or
    /// nothing for a member the kernel lacks (which must then be unset).
    fn place(&mut self, member: &Member<'_>) -> Result<(), StructOpsLayoutError> {
        let name = member.name.to_owned();
        let offset = member.bit_offset / 8;
        let program = self
            .ops
            .members
            .iter()
            .find(|m| m.offset == offset)
            .map(|m| m.program.clone());
        let size = self.object_btf.type_size(member.type_id)?;
        let bytes = self
            .data
            .get(offset as usize..(offset as usize).saturating_add(size as usize))
            .ok_or_else(|| StructOpsLayoutError::OutOfBounds {
                member: name.clone(),
            })?;
        let Some((member_index, kernel_member)) = self.kernel.member(member.name) else {
            // Programs for callbacks an older kernel lacks are left out, as libbpf does.
            if let Some(program) = program {
                self.dropped_programs.push((name, program));
            } else if bytes.iter().any(|&b| b != 0) {
                return Err(StructOpsLayoutError::MissingMember {
                    type_name: self.kernel.type_name.to_owned(),
                    member: name,
                });
            }
            return Ok(());
        };
        let kernel_member = kernel_member?;
        if member.bitfield_size != 0 || kernel_member.bitfield_size != 0 {
            return Err(StructOpsLayoutError::Bitfield { member: name });
        }
        let kernel = self.kernel.btf;
        let (_, object_kind) = resolved_kind(self.object_btf, member.type_id)?;
        let (kernel_type, kernel_kind) = resolved_kind(kernel, kernel_member.type_id)?;
        if object_kind != kernel_kind {
            return Err(StructOpsLayoutError::KindMismatch {
                member: name,
                object: object_kind,
                kernel: kernel_kind,
            });
        }
        let kernel_offset = self.kernel.data_offset + (kernel_member.bit_offset / 8) as usize;
        if object_kind != BtfKind::Ptr {
            return self.copy_data(name, bytes, kernel_type, kernel_offset);
        }
        // Only function pointers set to programs can be expressed; others stay NULL.
        let Some(program) = program else {
            return Ok(());
        };
        if !is_function_pointer(kernel, kernel_type)? {
            return Err(StructOpsLayoutError::NotFunctionPointer {
                member: name,
                program,
            });
        }
        if kernel_offset + 8 > self.value.len() {
            return Err(StructOpsLayoutError::OutOfBounds { member: name });
        }
        self.programs.push(StructOpsProgramSlot {
            member: name,
            member_index: member_index as u32,
            value_offset: kernel_offset as u32,
            program,
        });
        Ok(())
    }

    /// Copies data member `name` (the object's `bytes`) to `kernel_offset` of the value, if the
    /// kernel's type `kernel_type` has the same size.
    fn copy_data(
        &mut self,
        name: String,
        bytes: &[u8],
        kernel_type: u32,
        kernel_offset: usize,
    ) -> Result<(), StructOpsLayoutError> {
        let size = bytes.len() as u32;
        let kernel_size = self.kernel.btf.type_size(kernel_type)?;
        if kernel_size != size {
            return Err(StructOpsLayoutError::SizeMismatch {
                member: name,
                object: size,
                kernel: kernel_size,
            });
        }
        self.value
            .get_mut(kernel_offset..kernel_offset + bytes.len())
            .ok_or(StructOpsLayoutError::OutOfBounds { member: name })?
            .copy_from_slice(bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obj::StructOpsMember;

    /// Builds BTF blobs type by type; ids start at 1 in call order.
    #[derive(Default)]
    struct Builder {
        types: Vec<u32>,
        strings: Vec<u8>,
        count: u32,
    }

    impl Builder {
        fn name(&mut self, name: &str) -> u32 {
            if name.is_empty() {
                return 0;
            }
            if self.strings.is_empty() {
                self.strings.push(0);
            }
            let offset = self.strings.len() as u32;
            self.strings.extend_from_slice(name.as_bytes());
            self.strings.push(0);
            offset
        }

        fn push(&mut self, words: &[u32]) -> u32 {
            self.types.extend_from_slice(words);
            self.count += 1;
            self.count
        }

        fn int(&mut self, name: &str, size: u32) -> u32 {
            let name = self.name(name);
            self.push(&[name, 1 << 24, size, size * 8])
        }

        fn func_proto(&mut self, ret: u32) -> u32 {
            self.push(&[0, 13 << 24, ret])
        }

        fn ptr(&mut self, target: u32) -> u32 {
            self.push(&[0, 2 << 24, target])
        }

        fn array(&mut self, elem: u32, index: u32, len: u32) -> u32 {
            self.push(&[0, 3 << 24, 0, elem, index, len])
        }

        fn structure(&mut self, name: &str, size: u32, members: &[(&str, u32, u32)]) -> u32 {
            let name = self.name(name);
            let mut words = vec![name, (4 << 24) | members.len() as u32, size];
            for &(member, type_id, byte_offset) in members {
                words.extend([self.name(member), type_id, byte_offset * 8]);
            }
            self.push(&words)
        }

        fn build(mut self) -> Btf {
            if self.strings.is_empty() {
                self.strings.push(0);
            }
            let types: Vec<u8> = self.types.iter().flat_map(|w| w.to_le_bytes()).collect();
            let mut out = vec![0x9f, 0xeb, 1, 0];
            for word in [
                24,
                0,
                types.len() as u32,
                types.len() as u32,
                self.strings.len() as u32,
            ] {
                out.extend_from_slice(&u32::to_le_bytes(word));
            }
            out.extend_from_slice(&types);
            out.extend_from_slice(&self.strings);
            Btf::parse_owned(out, None).unwrap()
        }
    }

    /// The object's `struct ops { int (*run)(void); char name[4]; int flags;
    /// int (*newer_run)(void); int newer; }` (32 bytes, `struct ops` is id 6).
    fn object_btf() -> Btf {
        let mut b = Builder::default();
        let int = b.int("int", 4);
        let proto = b.func_proto(int);
        let ptr = b.ptr(proto);
        let char_ = b.int("char", 1);
        let name = b.array(char_, int, 4);
        let ops = b.structure(
            "ops",
            32,
            &[
                ("run", ptr, 0),
                ("name", name, 8),
                ("flags", int, 12),
                ("newer_run", ptr, 16),
                ("newer", int, 24),
            ],
        );
        assert_eq!(ops, 6);
        b.build()
    }

    struct KernelShape {
        name_len: u32,
        flags_is_pointer: bool,
        run_points_at_int: bool,
        value_type: bool,
    }

    const USUAL: KernelShape = KernelShape {
        name_len: 4,
        flags_is_pointer: false,
        run_points_at_int: false,
        value_type: true,
    };

    /// The kernel's `struct ops { int flags; char name[N]; int (*run)(void); }` (ordered
    /// differently) and `struct bpf_struct_ops_ops { int refcnt; struct ops data; }` (data at 8).
    fn kernel_btf(shape: KernelShape) -> Btf {
        let mut b = Builder::default();
        let int = b.int("int", 4);
        let proto = b.func_proto(int);
        let run = if shape.run_points_at_int {
            b.ptr(int)
        } else {
            b.ptr(proto)
        };
        let char_ = b.int("char", 1);
        let name = b.array(char_, int, shape.name_len);
        let flags = if shape.flags_is_pointer { run } else { int };
        let ops = b.structure(
            "ops",
            24,
            &[("flags", flags, 0), ("name", name, 4), ("run", run, 16)],
        );
        if shape.value_type {
            b.structure(
                "bpf_struct_ops_ops",
                32,
                &[("refcnt", int, 0), ("data", ops, 8)],
            );
        }
        b.build()
    }

    fn struct_ops() -> StructOps {
        StructOps {
            type_name: "ops".to_owned(),
            type_id: 6,
            link: false,
            members: vec![
                StructOpsMember {
                    name: "run".to_owned(),
                    offset: 0,
                    program: "do_run".to_owned(),
                },
                StructOpsMember {
                    name: "newer_run".to_owned(),
                    offset: 16,
                    program: "do_newer_run".to_owned(),
                },
            ],
        }
    }

    fn object_data() -> Vec<u8> {
        let mut data = vec![0u8; 32];
        data[8..12].copy_from_slice(b"abc\0");
        data[12..16].copy_from_slice(&7i32.to_ne_bytes());
        data
    }

    #[test]
    fn members_move_to_the_kernel_layout_by_name() {
        let layout = struct_ops()
            .kernel_layout(&object_btf(), &object_data(), &kernel_btf(USUAL))
            .unwrap();
        assert_eq!(layout.type_id, 6);
        assert_eq!(layout.value_type_id, 7);
        let mut expected = vec![0u8; 32];
        expected[8..12].copy_from_slice(&7i32.to_ne_bytes());
        expected[12..16].copy_from_slice(b"abc\0");
        assert_eq!(layout.value, expected);
        assert_eq!(
            layout.programs,
            [StructOpsProgramSlot {
                member: "run".to_owned(),
                member_index: 2,
                value_offset: 24,
                program: "do_run".to_owned(),
            }]
        );
        assert_eq!(
            layout.dropped_programs,
            [("newer_run".to_owned(), "do_newer_run".to_owned())]
        );
        assert_eq!(layout.slot_of("do_run").map(|s| s.member_index), Some(2));
        assert!(layout.slot_of("do_newer_run").is_none());

        assert_eq!(layout.member("name").unwrap(), b"abc\0");
        assert_eq!(
            layout.member("run"),
            Err(StructOpsLayoutError::NoDataMember {
                member: "run".to_owned()
            })
        );
        let mut renamed = layout.clone();
        renamed.set_member("name", b"xyz\0").unwrap();
        assert_eq!(renamed.value[12..16], *b"xyz\0");
        assert_eq!(
            renamed.set_member("flags", &[1, 2]),
            Err(StructOpsLayoutError::ValueSize {
                member: "flags".to_owned(),
                expected: 4,
                actual: 2,
            })
        );

        let value = layout.value_with_fds(|program| (program == "do_run").then_some(42));
        assert_eq!(value[24..32], 42i64.to_ne_bytes());
        assert_eq!(value[..24], expected[..24]);
    }

    #[test]
    fn a_set_member_the_kernel_lacks_is_an_error() {
        let mut data = object_data();
        data[24] = 1;
        let error = struct_ops()
            .kernel_layout(&object_btf(), &data, &kernel_btf(USUAL))
            .unwrap_err();
        assert_eq!(
            error,
            StructOpsLayoutError::MissingMember {
                type_name: "ops".to_owned(),
                member: "newer".to_owned(),
            }
        );
    }

    #[test]
    fn kernel_differences_are_reported_per_member() {
        let layout = |shape| {
            struct_ops()
                .kernel_layout(&object_btf(), &object_data(), &kernel_btf(shape))
                .unwrap_err()
        };
        assert_eq!(
            layout(KernelShape {
                name_len: 8,
                ..USUAL
            }),
            StructOpsLayoutError::SizeMismatch {
                member: "name".to_owned(),
                object: 4,
                kernel: 8,
            }
        );
        assert_eq!(
            layout(KernelShape {
                flags_is_pointer: true,
                ..USUAL
            }),
            StructOpsLayoutError::KindMismatch {
                member: "flags".to_owned(),
                object: BtfKind::Int,
                kernel: BtfKind::Ptr,
            }
        );
        assert_eq!(
            layout(KernelShape {
                run_points_at_int: true,
                ..USUAL
            }),
            StructOpsLayoutError::NotFunctionPointer {
                member: "run".to_owned(),
                program: "do_run".to_owned(),
            }
        );
        assert_eq!(
            layout(KernelShape {
                value_type: false,
                ..USUAL
            }),
            StructOpsLayoutError::NoValueType {
                type_name: "ops".to_owned(),
            }
        );
    }

    #[test]
    fn a_struct_the_kernel_lacks_is_an_error() {
        let mut ops = struct_ops();
        ops.type_name = "other_ops".to_owned();
        let error = ops
            .kernel_layout(&object_btf(), &object_data(), &kernel_btf(USUAL))
            .unwrap_err();
        assert_eq!(
            error,
            StructOpsLayoutError::NoKernelStruct {
                type_name: "other_ops".to_owned(),
            }
        );
    }

    #[test]
    fn data_shorter_than_the_struct_is_an_error_not_a_panic() {
        let error = struct_ops()
            .kernel_layout(&object_btf(), &object_data()[..10], &kernel_btf(USUAL))
            .unwrap_err();
        assert_eq!(
            error,
            StructOpsLayoutError::OutOfBounds {
                member: "name".to_owned(),
            }
        );
    }
}
