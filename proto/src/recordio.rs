//! Mesos RecordIO framing: `<decimal length>\n<payload>`, repeated, with no
//! separator after the payload.
//!
//! The SUBSCRIBE response body is a stream of such records, each holding one
//! `mesos.v1.scheduler.Event`. Record boundaries are unrelated to HTTP chunk
//! boundaries, so the [`Decoder`] accepts the de-chunked byte stream split at
//! any points.
//!
//! ```
//! use mesoswarm_proto::recordio::{self, Decoder};
//!
//! let mut wire = Vec::new();
//! recordio::encode(br#"{"type":"HEARTBEAT"}"#, &mut wire);
//! assert_eq!(&wire[..], &b"20\n{\"type\":\"HEARTBEAT\"}"[..]);
//!
//! let mut decoder = Decoder::new();
//! for chunk in wire.chunks(3) {
//!     decoder.feed(chunk);
//! }
//! let record = decoder.next_record().unwrap().unwrap();
//! assert_eq!(&record[..], br#"{"type":"HEARTBEAT"}"#);
//! assert!(decoder.finish().is_ok());
//! ```
//!
//! # Zero-length records
//!
//! The grammar allows a length of `0`, but Mesos documents that a length is
//! never 0 (every event has at least a `type`). A `0` length therefore most
//! likely means the stream is not what we think it is, so the decoder rejects
//! it with [`RecordIoError::ZeroLengthRecord`] unless built with
//! [`Decoder::allow_empty_records`]. [`encode`] itself does not refuse an
//! empty payload (it writes `0\n`).

use std::collections::VecDeque;

use bytes::Bytes;
use thiserror::Error;

/// Default upper bound on a single record's payload: 16 MiB.
///
/// Large clusters can produce big OFFERS events; 16 MiB leaves ample room
/// while still bounding memory if the peer misbehaves.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// Longest length prefix accepted, in digits: `u64::MAX` has 20 decimal
/// digits. Leading zeros count towards this limit.
pub const MAX_LENGTH_PREFIX_DIGITS: usize = 20;

/// Bytes the framing of one record can take besides its payload: the
/// longest length prefix plus the `\n`.
pub const MAX_PREFIX_BYTES: usize = MAX_LENGTH_PREFIX_DIGITS + 1;

/// Appends one RecordIO record (`<len>\n<payload>`) to `out`.
pub fn encode(payload: &[u8], out: &mut Vec<u8>) {
    let mut digits = [0u8; MAX_LENGTH_PREFIX_DIGITS];
    let mut n = payload.len() as u64;
    let mut start = digits.len();
    loop {
        start -= 1;
        // `n % 10` is below 10, so the cast cannot truncate.
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.reserve(digits.len() - start + 1 + payload.len());
    out.extend_from_slice(&digits[start..]);
    out.push(b'\n');
    out.extend_from_slice(payload);
}

/// Returns one RecordIO record (`<len>\n<payload>`) as [`Bytes`].
pub fn encode_to_bytes(payload: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(payload.len() + MAX_PREFIX_BYTES);
    encode(payload, &mut out);
    Bytes::from(out)
}

/// Why a RecordIO stream could not be decoded.
///
/// `offset` fields are 0-based positions in the whole stream fed so far.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RecordIoError {
    /// A byte other than an ASCII digit (or the terminating `\n`) appeared in
    /// a length prefix.
    #[error("invalid byte 0x{byte:02x} in RecordIO length prefix at offset {offset}")]
    InvalidLengthByte {
        /// The offending byte.
        byte: u8,
        /// Its position in the stream.
        offset: u64,
    },
    /// A length prefix had no digits: the record started with `\n`.
    #[error("empty RecordIO length prefix at offset {offset}")]
    EmptyLengthPrefix {
        /// Position of the `\n`.
        offset: u64,
    },
    /// A length prefix had more than [`MAX_LENGTH_PREFIX_DIGITS`] digits, or
    /// its value does not fit in a `u64`.
    #[error("RecordIO length prefix too long at offset {offset}")]
    LengthPrefixTooLong {
        /// Position of the first digit that made it too long.
        offset: u64,
    },
    /// A record's declared length exceeds the decoder's maximum. Reported as
    /// soon as the prefix digits read so far exceed it, before the `\n`.
    #[error("RecordIO record of at least {length} bytes exceeds the maximum of {max} bytes")]
    RecordTooLarge {
        /// The declared length (or the part of it read so far).
        length: u64,
        /// The decoder's maximum record size.
        max: usize,
    },
    /// A record declared a length of 0, which Mesos never sends (see the
    /// module docs; [`Decoder::allow_empty_records`] accepts it).
    #[error("zero-length RecordIO record at offset {offset}")]
    ZeroLengthRecord {
        /// Position of the `\n` ending the `0` prefix.
        offset: u64,
    },
    /// The stream ended inside a length prefix (reported by
    /// [`Decoder::finish`]).
    #[error("RecordIO stream truncated inside a length prefix ({digits} digits read)")]
    TruncatedLengthPrefix {
        /// Digits of the unfinished prefix.
        digits: usize,
    },
    /// The stream ended inside a record's payload (reported by
    /// [`Decoder::finish`]).
    #[error("RecordIO stream truncated: record of {expected} bytes has only {received}")]
    TruncatedRecord {
        /// The record's declared length.
        expected: usize,
        /// Payload bytes received before the end.
        received: usize,
    },
}

/// Where the decoder is inside the stream.
#[derive(Debug)]
enum State {
    /// Reading a length prefix; `digits` digits with value `value` so far.
    Length { value: u64, digits: usize },
    /// Reading a payload of `expected` bytes into `partial`.
    Payload { expected: usize },
    /// A framing error happened; the stream cannot be resynchronised.
    Failed(RecordIoError),
}

/// Incremental RecordIO decoder.
///
/// Feed it the byte stream in pieces of any size with [`Decoder::feed`] and
/// pull whole records with [`Decoder::next_record`]. At end of stream, call
/// [`Decoder::finish`] to detect truncation.
///
/// # Memory bound
///
/// Input is parsed as it is fed: complete records move to a queue of
/// [`Bytes`] (each payload is copied once, out of the fed slice), and the
/// decoder's internal buffer only ever holds the record being assembled, so
/// [`Decoder::buffered_bytes`] never exceeds
/// `max_record_bytes + MAX_PREFIX_BYTES`. A declared length
/// above the maximum is rejected before any of its payload is buffered, and
/// payload space is reserved as bytes arrive, not up front. Completed records
/// wait in the queue until pulled, so pull after every `feed` to keep total
/// memory at that bound plus one fed chunk.
///
/// # Errors are final
///
/// After a framing error the decoder is *failed*: the stream cannot be
/// resynchronised, later input is discarded, and once the records completed
/// before the error have been pulled, every `next_record` (and `finish`)
/// returns the same error. Start a new decoder on a new stream.
#[derive(Debug)]
pub struct Decoder {
    max_record_bytes: usize,
    allow_empty: bool,
    state: State,
    /// Payload of the record being assembled. Its capacity never exceeds
    /// the declared length.
    partial: Vec<u8>,
    /// Completed records not yet pulled.
    ready: VecDeque<Bytes>,
    /// Bytes of the stream consumed so far (for error offsets).
    offset: u64,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder accepting records up to [`DEFAULT_MAX_RECORD_BYTES`].
    pub fn new() -> Self {
        Self::with_max_record_bytes(DEFAULT_MAX_RECORD_BYTES)
    }

    /// A decoder accepting records up to `max_record_bytes` payload bytes.
    pub fn with_max_record_bytes(max_record_bytes: usize) -> Self {
        Decoder {
            max_record_bytes,
            allow_empty: false,
            state: State::Length {
                value: 0,
                digits: 0,
            },
            partial: Vec::new(),
            ready: VecDeque::new(),
            offset: 0,
        }
    }

    /// Accept zero-length records (yielded as empty [`Bytes`]) instead of
    /// failing with [`RecordIoError::ZeroLengthRecord`].
    #[must_use]
    pub fn allow_empty_records(mut self, allow: bool) -> Self {
        self.allow_empty = allow;
        self
    }

    /// The maximum payload size this decoder accepts.
    pub fn max_record_bytes(&self) -> usize {
        self.max_record_bytes
    }

    /// Bytes held for the record being assembled (prefix digits plus payload
    /// so far); at most `max_record_bytes() + MAX_PREFIX_BYTES`.
    pub fn buffered_bytes(&self) -> usize {
        match self.state {
            State::Length { digits, .. } => digits,
            State::Payload { .. } => self.partial.len(),
            State::Failed(_) => 0,
        }
    }

    /// Number of complete records waiting to be pulled.
    pub fn pending_records(&self) -> usize {
        self.ready.len()
    }

    /// True when the input so far ends exactly at a record boundary (or is
    /// empty) and no error happened, i.e. the stream could end here cleanly.
    pub fn is_at_boundary(&self) -> bool {
        matches!(self.state, State::Length { digits: 0, .. })
    }

    /// True once a framing error has happened (see the type docs).
    pub fn is_failed(&self) -> bool {
        matches!(self.state, State::Failed(_))
    }

    /// Feeds the next piece of the stream. Any split is fine, including empty
    /// pieces. Errors are reported by [`Decoder::next_record`]; input fed
    /// after an error is discarded.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let consumed = match self.state {
                State::Failed(_) => return,
                State::Length { value, digits } => {
                    self.feed_length_byte(bytes[0], value, digits);
                    1
                }
                State::Payload { expected } => self.feed_payload(bytes, expected),
            };
            self.offset += consumed as u64;
            bytes = &bytes[consumed..];
        }
    }

    /// Pulls the next complete record, if any.
    ///
    /// Returns `Ok(None)` when more input is needed. Records completed before
    /// a framing error are still returned; after them the error is returned,
    /// on this and every later call.
    pub fn next_record(&mut self) -> Result<Option<Bytes>, RecordIoError> {
        if let Some(record) = self.ready.pop_front() {
            return Ok(Some(record));
        }
        match &self.state {
            State::Failed(err) => Err(err.clone()),
            _ => Ok(None),
        }
    }

    /// Checks that the stream may end here: no error happened and the input
    /// ends at a record boundary. Records still waiting in the queue are not
    /// an error; pull them with [`Decoder::next_record`].
    pub fn finish(&self) -> Result<(), RecordIoError> {
        match &self.state {
            State::Failed(err) => Err(err.clone()),
            State::Length { digits: 0, .. } => Ok(()),
            State::Length { digits, .. } => {
                Err(RecordIoError::TruncatedLengthPrefix { digits: *digits })
            }
            State::Payload { expected } => Err(RecordIoError::TruncatedRecord {
                expected: *expected,
                received: self.partial.len(),
            }),
        }
    }

    fn fail(&mut self, err: RecordIoError) {
        self.partial = Vec::new();
        self.state = State::Failed(err);
    }

    fn feed_length_byte(&mut self, byte: u8, value: u64, digits: usize) {
        let offset = self.offset;
        match byte {
            b'0'..=b'9' => {
                if digits >= MAX_LENGTH_PREFIX_DIGITS {
                    return self.fail(RecordIoError::LengthPrefixTooLong { offset });
                }
                let Some(value) = value
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u64::from(byte - b'0')))
                else {
                    return self.fail(RecordIoError::LengthPrefixTooLong { offset });
                };
                if value > self.max_record_bytes as u64 {
                    return self.fail(RecordIoError::RecordTooLarge {
                        length: value,
                        max: self.max_record_bytes,
                    });
                }
                self.state = State::Length {
                    value,
                    digits: digits + 1,
                };
            }
            b'\n' if digits == 0 => self.fail(RecordIoError::EmptyLengthPrefix { offset }),
            b'\n' if value == 0 => {
                if self.allow_empty {
                    self.ready.push_back(Bytes::new());
                    self.state = State::Length {
                        value: 0,
                        digits: 0,
                    };
                } else {
                    self.fail(RecordIoError::ZeroLengthRecord { offset });
                }
            }
            b'\n' => {
                // `value <= max_record_bytes`, a usize, so this cannot fail.
                let expected = usize::try_from(value).unwrap_or(usize::MAX);
                self.partial = Vec::new();
                self.state = State::Payload { expected };
            }
            _ => self.fail(RecordIoError::InvalidLengthByte { byte, offset }),
        }
    }

    /// Copies as much of `bytes` as the current payload needs; returns the
    /// number of bytes consumed.
    fn feed_payload(&mut self, bytes: &[u8], expected: usize) -> usize {
        let have = self.partial.len();
        let take = (expected - have).min(bytes.len());
        if self.partial.capacity() - have < take {
            // Grow geometrically, but never beyond the declared length, so a
            // peer announcing a big record costs nothing until it sends it.
            let target = (have * 2).max(have + take).min(expected);
            self.partial.reserve_exact(target - have);
        }
        self.partial.extend_from_slice(&bytes[..take]);
        if self.partial.len() == expected {
            let record = Bytes::from(std::mem::take(&mut self.partial));
            self.ready.push_back(record);
            self.state = State::Length {
                value: 0,
                digits: 0,
            };
        }
        take
    }
}

#[cfg(test)]
mod tests;
