//! A tiny hand-rolled protobuf writer, independent of prost, for building
//! expected wire bytes field by field.

#![allow(dead_code)]

/// Base-128 varint.
pub fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn key(field: u32, wire_type: u8) -> Vec<u8> {
    varint(u64::from(field) << 3 | u64::from(wire_type))
}

/// A varint field (int32/uint32/uint64/bool/enum with non-negative value).
pub fn vint(field: u32, v: u64) -> Vec<u8> {
    [key(field, 0), varint(v)].concat()
}

/// A `double` field (fixed64, little-endian).
pub fn double(field: u32, v: f64) -> Vec<u8> {
    [key(field, 1), v.to_le_bytes().to_vec()].concat()
}

/// A length-delimited field (string, bytes or embedded message).
pub fn ld(field: u32, payload: &[u8]) -> Vec<u8> {
    [
        key(field, 2),
        varint(payload.len() as u64),
        payload.to_vec(),
    ]
    .concat()
}

/// A string field.
pub fn string(field: u32, s: &str) -> Vec<u8> {
    ld(field, s.as_bytes())
}

/// An embedded message built from already-encoded fields.
pub fn msg(field: u32, parts: &[Vec<u8>]) -> Vec<u8> {
    ld(field, &parts.concat())
}

/// `{ value: s }`, the shape of every Mesos id message.
pub fn id(field: u32, s: &str) -> Vec<u8> {
    msg(field, &[string(1, s)])
}
