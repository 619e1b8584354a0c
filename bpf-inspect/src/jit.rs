//! `prog dump --jited`: the JIT's machine code, disassembled (x86-64), with source lines.

use std::collections::BTreeMap;
use std::fmt::Write;

use bpf_programs::programs::ProgramCode;
use iced_x86::{Decoder, DecoderOptions, Formatter, GasFormatter, Instruction};
use serde_json::{Value, json};

use crate::{CliError, Output};

pub fn dump(code: &ProgramCode, out: &Output) -> Result<(), CliError> {
    let bytes = code.jited();
    if bytes.is_empty() {
        return Err(CliError::msg(format!(
            "program {}: the kernel returned no machine code (not JIT-compiled, or needs CAP_SYS_ADMIN)",
            code.info().id()
        )));
    }
    if !cfg!(target_arch = "x86_64") {
        return Err(CliError::msg(
            "disassembling JIT code is implemented for x86-64 only".to_owned(),
        ));
    }
    let lines = code.lines();
    let line_at: BTreeMap<u64, &bpf_programs::programs::SourceLine> = lines
        .iter()
        .filter_map(|l| Some((l.jited_address?, l)))
        .collect();
    let mut text = String::new();
    let mut functions = Vec::new();
    let mut start = 0usize;
    let mut formatter = GasFormatter::new();
    for function in code.functions() {
        let len = if function.jited_len > 0 {
            function.jited_len as usize
        } else {
            bytes.len() - start
        };
        let Some(body) = bytes.get(start..start + len) else {
            break;
        };
        start += len;
        let header = function
            .signature
            .clone()
            .unwrap_or_else(|| function.name.clone());
        let _ = writeln!(text, "{header}:");
        let mut decoder = Decoder::with_ip(64, body, function.jited_address, DecoderOptions::NONE);
        let mut insn = Instruction::default();
        let mut json_insns: Vec<Value> = Vec::new();
        while decoder.can_decode() {
            decoder.decode_out(&mut insn);
            let address = insn.ip();
            if let Some(line) = line_at.get(&address) {
                let _ = writeln!(text, "; {}", line.text.trim());
            }
            let offset = address - function.jited_address;
            let raw = &body[offset as usize..offset as usize + insn.len()];
            let mut asm = String::new();
            formatter.format(&insn, &mut asm);
            let hex: Vec<String> = raw.iter().map(|b| format!("{b:02x}")).collect();
            let _ = writeln!(text, "{offset:>5x}:  {:<30} {asm}", hex.join(" "));
            json_insns.push(json!({"offset": offset, "bytes": hex.join(" "), "insn": asm}));
        }
        functions.push(json!({
            "name": function.name,
            "address": function.jited_address,
            "len": len,
            "insns": json_insns,
        }));
    }
    let value = json!({"id": code.info().id(), "functions": functions});
    out.emit(&value, || text);
    Ok(())
}
