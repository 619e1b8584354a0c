//! `map list|show|dump|update|delete`: loaded maps, their entries typed by their BTF.

use bpf_core::btf::Btf;
use bpf_core::btf::value::{Value as BtfValue, format_value, type_name};
use bpf_core::names;
use bpf_programs::btf::btf_by_id;
use bpf_programs::maps::{MapData, MapInfo, loaded_maps};
use bpf_sys::generated::bpf_map_type;
use clap::Subcommand;
use serde_json::{Value, json};

use crate::table::{Table, key_values};
use crate::{CliError, Context, Output};

#[derive(Debug, Subcommand)]
pub enum MapCommand {
    /// Every loaded map.
    List,
    /// One map's definition: by id, or by the path it is pinned at.
    Show { map: String },
    /// Every entry, keys and values formatted from the map's BTF.
    Dump { map: String },
    /// Sets one entry of a hash or array map. Bytes are written `hex:0a000000`, `u32:10`,
    /// `i64:-1` (the host's byte order) or as decimal bytes `"10 0 0 0"`.
    Update {
        map: String,
        #[arg(long)]
        key: String,
        #[arg(long)]
        value: String,
        /// Fail if the key exists (BPF_NOEXIST).
        #[arg(long, conflicts_with = "exist")]
        noexist: bool,
        /// Fail unless the key exists (BPF_EXIST).
        #[arg(long)]
        exist: bool,
    },
    /// Deletes one entry of a hash map.
    Delete {
        map: String,
        #[arg(long)]
        key: String,
    },
}

pub fn run(command: MapCommand, out: &Output) -> Result<(), CliError> {
    match command {
        MapCommand::List => list(out),
        MapCommand::Show { map } => show(&map, out),
        MapCommand::Dump { map } => dump(&map, out),
        MapCommand::Update {
            map,
            key,
            value,
            noexist,
            exist,
        } => update(&map, &key, &value, noexist, exist, out),
        MapCommand::Delete { map, key } => delete(&map, &key, out),
    }
}

/// Opens a map given as an id or a pin path.
fn open(spec: &str) -> Result<MapData, CliError> {
    match spec.parse::<u32>() {
        Ok(id) => MapData::from_id(id).context(|| format!("map {id}")),
        Err(_) => MapData::from_pin(spec).context(|| format!("map pinned at {spec}")),
    }
}

fn info_of(data: &MapData, spec: &str) -> Result<MapInfo, CliError> {
    data.info().context(|| format!("map {spec}"))
}

fn to_json(info: &MapInfo) -> Value {
    json!({
        "id": info.id(),
        "type": names::map_type(info.map_type()),
        "name": info.name(),
        "flags": info.map_flags(),
        "bytes_key": info.key_size(),
        "bytes_value": info.value_size(),
        "max_entries": info.max_entries(),
        "bytes_memlock": info.memlock(),
        "frozen": info.frozen(),
        "btf_id": (info.btf_id() != 0).then_some(info.btf_id()),
        "map_extra": info.map_extra(),
    })
}

fn list(out: &Output) -> Result<(), CliError> {
    let mut maps = Vec::new();
    for map in loaded_maps() {
        maps.push(map.context(|| "listing maps".to_owned())?);
    }
    let value = Value::Array(maps.iter().map(to_json).collect());
    out.emit(&value, || {
        let mut t = Table::new(&[
            "ID", "TYPE", "NAME", "KEY", "VALUE", "MAX", "FLAGS", "MEMLOCK", "BTF",
        ]);
        for m in &maps {
            t.row(vec![
                m.id().to_string(),
                names::map_type(m.map_type()),
                m.name().to_owned(),
                m.key_size().to_string(),
                m.value_size().to_string(),
                m.max_entries().to_string(),
                format!("{:#x}", m.map_flags()),
                m.memlock().map_or("-".into(), |v| v.to_string()),
                if m.btf_id() == 0 {
                    "-".into()
                } else {
                    m.btf_id().to_string()
                },
            ]);
        }
        t.render()
    });
    Ok(())
}

/// The map's BTF with its key and value type ids, when it has them.
struct Types {
    btf: Btf,
    key: u32,
    value: u32,
}

fn types(info: &MapInfo) -> Option<Types> {
    if info.btf_id() == 0 || info.btf_value_type_id() == 0 {
        return None;
    }
    let btf = btf_by_id(info.btf_id()).ok()?;
    Some(Types {
        btf,
        key: info.btf_key_type_id(),
        value: info.btf_value_type_id(),
    })
}

fn show(spec: &str, out: &Output) -> Result<(), CliError> {
    let data = open(spec)?;
    let info = info_of(&data, spec)?;
    let types = types(&info);
    let mut value = to_json(&info);
    if let Some(t) = &types {
        value["key_type"] = json!((t.key != 0).then(|| type_name(&t.btf, t.key)));
        value["value_type"] = json!(type_name(&t.btf, t.value));
    }
    out.emit(&value, || {
        let mut pairs = vec![
            ("id", info.id().to_string()),
            ("type", names::map_type(info.map_type())),
            ("name", info.name().to_owned()),
            ("key", format!("{} B", info.key_size())),
            ("value", format!("{} B", info.value_size())),
            ("max entries", info.max_entries().to_string()),
            ("flags", format!("{:#x}", info.map_flags())),
            (
                "memlock",
                info.memlock().map_or("-".into(), |m| format!("{m} B")),
            ),
            (
                "frozen",
                info.frozen().map_or("-".into(), |f| f.to_string()),
            ),
            (
                "btf id",
                if info.btf_id() == 0 {
                    "-".into()
                } else {
                    info.btf_id().to_string()
                },
            ),
        ];
        if let Some(t) = &types {
            if t.key != 0 {
                pairs.push(("key type", type_name(&t.btf, t.key)));
            }
            pairs.push(("value type", type_name(&t.btf, t.value)));
        }
        key_values(&pairs)
    });
    Ok(())
}

/// A BTF value as JSON: structs as objects, arrays as arrays, enums by name.
pub fn value_json(v: &BtfValue) -> Value {
    match v {
        BtfValue::Signed(n) => {
            i64::try_from(*n).map_or_else(|_| json!(n.to_string()), |n| json!(n))
        }
        BtfValue::Unsigned(n) => {
            u64::try_from(*n).map_or_else(|_| json!(n.to_string()), |n| json!(n))
        }
        BtfValue::Bool(b) => json!(b),
        BtfValue::Char(c) => json!(char::from(*c).to_string()),
        BtfValue::Float(f) => json!(f),
        BtfValue::Enum { name: Some(n), .. } => json!(n),
        BtfValue::Enum { name: None, value } => json!(value.to_string()),
        BtfValue::Pointer(p) => json!(format!("{p:#x}")),
        BtfValue::Text(t) => json!(t),
        BtfValue::Struct(members) => {
            let mut object = serde_json::Map::new();
            for (n, (name, value)) in members.iter().enumerate() {
                let key = if name.is_empty() {
                    format!("(anon {n})")
                } else {
                    name.clone()
                };
                object.insert(key, value_json(value));
            }
            Value::Object(object)
        }
        BtfValue::Array(items) => Value::Array(items.iter().map(value_json).collect()),
        BtfValue::Bytes(b) => json!(hex(b)),
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One key or value: typed when the BTF reads it, else hex.
fn shown(types: Option<&Types>, id: u32, bytes: &[u8]) -> (Value, String) {
    if let Some(t) = types.filter(|_| id != 0)
        && let Ok(v) = format_value(&t.btf, id, bytes)
    {
        return (value_json(&v), v.to_string());
    }
    (json!(hex(bytes)), hex(bytes))
}

fn dump(spec: &str, out: &Output) -> Result<(), CliError> {
    let data = open(spec)?;
    let info = info_of(&data, spec)?;
    use bpf_map_type::*;
    if matches!(
        info.map_type(),
        BPF_MAP_TYPE_RINGBUF
            | BPF_MAP_TYPE_USER_RINGBUF
            | BPF_MAP_TYPE_QUEUE
            | BPF_MAP_TYPE_STACK
            | BPF_MAP_TYPE_BLOOM_FILTER
            | BPF_MAP_TYPE_ARENA
    ) {
        return Err(CliError::msg(format!(
            "map {spec} ({}): this map type has no keys to walk",
            names::map_type(info.map_type())
        )));
    }
    let types = types(&info);
    let per_cpu = bpf_sys::map::is_per_cpu(info.map_type());
    let slot = (info.value_size() as usize).next_multiple_of(8);
    let mut entries = Vec::new();
    let mut text = String::new();
    for key in data.keys_bytes() {
        let key = key.context(|| format!("map {spec}: walking keys"))?;
        let Some(value) = data
            .lookup_bytes(&key)
            .context(|| format!("map {spec}: looking up key {}", hex(&key)))?
        else {
            continue;
        };
        let (key_json, key_text) = shown(types.as_ref(), types.as_ref().map_or(0, |t| t.key), &key);
        let value_id = types.as_ref().map_or(0, |t| t.value);
        if per_cpu {
            let mut values = Vec::new();
            text.push_str(&format!("key: {key_text}\n"));
            for (cpu, chunk) in value.chunks(slot.max(1)).enumerate() {
                let bytes = &chunk[..(info.value_size() as usize).min(chunk.len())];
                let (v_json, v_text) = shown(types.as_ref(), value_id, bytes);
                text.push_str(&format!("  cpu {cpu}: {v_text}\n"));
                values.push(json!({"cpu": cpu, "value": v_json}));
            }
            entries.push(json!({"key": key_json, "values": values}));
        } else {
            let (v_json, v_text) = shown(types.as_ref(), value_id, &value);
            text.push_str(&format!("key: {key_text}  value: {v_text}\n"));
            entries.push(json!({"key": key_json, "value": v_json}));
        }
    }
    text.push_str(&format!("Found {} elements\n", entries.len()));
    out.emit(&Value::Array(entries), || text);
    Ok(())
}

/// Bytes from `hex:…`, `u32:…`/`i64:…` (host order) or decimal bytes.
pub fn parse_bytes(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix("hex:") {
        let digits: String = hex.chars().filter(|c| !c.is_whitespace()).collect();
        if !digits.len().is_multiple_of(2) {
            return Err(format!("`{text}`: an odd number of hex digits"));
        }
        return (0..digits.len())
            .step_by(2)
            .map(|i| {
                u8::from_str_radix(&digits[i..i + 2], 16)
                    .map_err(|_| format!("`{text}`: `{}` is not hex", &digits[i..i + 2]))
            })
            .collect();
    }
    if let Some((kind, number)) = text.split_once(':') {
        let bad = || format!("`{text}`: `{number}` is not a {kind}");
        return Ok(match kind {
            "u8" => number
                .parse::<u8>()
                .map_err(|_| bad())?
                .to_ne_bytes()
                .to_vec(),
            "u16" => number
                .parse::<u16>()
                .map_err(|_| bad())?
                .to_ne_bytes()
                .to_vec(),
            "u32" => number
                .parse::<u32>()
                .map_err(|_| bad())?
                .to_ne_bytes()
                .to_vec(),
            "u64" => number
                .parse::<u64>()
                .map_err(|_| bad())?
                .to_ne_bytes()
                .to_vec(),
            "i8" => number
                .parse::<i8>()
                .map_err(|_| bad())?
                .to_ne_bytes()
                .to_vec(),
            "i16" => number
                .parse::<i16>()
                .map_err(|_| bad())?
                .to_ne_bytes()
                .to_vec(),
            "i32" => number
                .parse::<i32>()
                .map_err(|_| bad())?
                .to_ne_bytes()
                .to_vec(),
            "i64" => number
                .parse::<i64>()
                .map_err(|_| bad())?
                .to_ne_bytes()
                .to_vec(),
            _ => {
                return Err(format!(
                    "`{text}`: unknown kind `{kind}` (hex, u8..u64, i8..i64)"
                ));
            }
        });
    }
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .map(|t| {
            let parsed = match t.strip_prefix("0x") {
                Some(h) => u8::from_str_radix(h, 16),
                None => t.parse::<u8>(),
            };
            parsed.map_err(|_| format!("`{t}` is not a byte"))
        })
        .collect()
}

fn plain_map(info: &MapInfo, spec: &str, deleting: bool) -> Result<(), CliError> {
    use bpf_map_type::*;
    let ok = match info.map_type() {
        BPF_MAP_TYPE_HASH | BPF_MAP_TYPE_LRU_HASH => true,
        BPF_MAP_TYPE_ARRAY => !deleting,
        _ => false,
    };
    if ok {
        return Ok(());
    }
    Err(CliError::msg(format!(
        "map {spec} is a {} map: {} works on {}",
        names::map_type(info.map_type()),
        if deleting { "delete" } else { "update" },
        if deleting {
            "hash and lru_hash maps"
        } else {
            "hash, lru_hash and array maps"
        }
    )))
}

fn sized(bytes: Vec<u8>, expected: u32, what: &str, spec: &str) -> Result<Vec<u8>, CliError> {
    if bytes.len() == expected as usize {
        return Ok(bytes);
    }
    Err(CliError::msg(format!(
        "map {spec}: the {what} is {} bytes, the map's {what} is {expected}",
        bytes.len()
    )))
}

fn update(
    spec: &str,
    key: &str,
    value: &str,
    noexist: bool,
    exist: bool,
    out: &Output,
) -> Result<(), CliError> {
    let data = open(spec)?;
    let info = info_of(&data, spec)?;
    plain_map(&info, spec, false)?;
    let key = parse_bytes(key).map_err(|e| CliError::msg(format!("map {spec}: key {e}")))?;
    let value = parse_bytes(value).map_err(|e| CliError::msg(format!("map {spec}: value {e}")))?;
    let key = sized(key, info.key_size(), "key", spec)?;
    let value = sized(value, info.value_size(), "value", spec)?;
    let flags = if noexist {
        bpf_programs::maps::flags::BPF_NOEXIST
    } else if exist {
        bpf_programs::maps::flags::BPF_EXIST
    } else {
        0
    };
    data.update_bytes(&key, &value, flags)
        .context(|| format!("map {spec}: updating key {}", hex(&key)))?;
    out.emit(&json!({"updated": true}), String::new);
    Ok(())
}

fn delete(spec: &str, key: &str, out: &Output) -> Result<(), CliError> {
    let data = open(spec)?;
    let info = info_of(&data, spec)?;
    plain_map(&info, spec, true)?;
    let key = parse_bytes(key).map_err(|e| CliError::msg(format!("map {spec}: key {e}")))?;
    let key = sized(key, info.key_size(), "key", spec)?;
    let deleted = data
        .delete_bytes(&key)
        .context(|| format!("map {spec}: deleting key {}", hex(&key)))?;
    if !deleted {
        return Err(CliError::msg(format!(
            "map {spec}: no entry with key {}",
            hex(&key)
        )));
    }
    out.emit(&json!({"deleted": true}), String::new);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_parse_in_every_notation() {
        assert_eq!(parse_bytes("hex:0a 00 00 01").unwrap(), [10, 0, 0, 1]);
        assert_eq!(parse_bytes("u32:7").unwrap(), 7u32.to_ne_bytes());
        assert_eq!(parse_bytes("i16:-2").unwrap(), (-2i16).to_ne_bytes());
        assert_eq!(parse_bytes("1 2, 0x10").unwrap(), [1, 2, 16]);
        assert!(parse_bytes("hex:abc").unwrap_err().contains("odd"));
        assert!(parse_bytes("u8:300").unwrap_err().contains("not a u8"));
        assert!(parse_bytes("f32:1").unwrap_err().contains("unknown kind"));
        assert!(parse_bytes("256").unwrap_err().contains("not a byte"));
    }
}
