//! Fuzzes `mesoswarm_proto::recordio::Decoder` with arbitrary bytes fed in
//! arbitrary splits.
//!
//! Input layout: byte 0 picks the configuration (maximum record size and
//! whether empty records are allowed), byte 1 the number `n` (0..=15) of
//! split-size bytes that follow, and everything after them is the stream.
//! The stream is fed in chunks whose sizes cycle through the split sizes.
//!
//! Checked: no panic; the decoder's buffer never exceeds the maximum record
//! plus the longest length prefix; no record exceeds the maximum; no more
//! payload comes out than went in; errors are sticky; and the records and
//! the error are the same as when the whole stream is fed at once.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mesoswarm_proto::recordio::{
    Decoder, RecordIoError, DEFAULT_MAX_RECORD_BYTES, MAX_PREFIX_BYTES,
};

const MAX_CHOICES: [usize; 8] = [0, 1, 2, 10, 255, 4096, 65_536, DEFAULT_MAX_RECORD_BYTES];

fn new_decoder(config: u8) -> Decoder {
    let max = MAX_CHOICES[usize::from(config & 7)];
    Decoder::with_max_record_bytes(max).allow_empty_records(config & 0x80 != 0)
}

/// Pulls every available record; returns the error if one is reported.
fn drain(decoder: &mut Decoder, out: &mut Vec<Vec<u8>>) -> Option<RecordIoError> {
    loop {
        match decoder.next_record() {
            Ok(Some(record)) => {
                assert!(record.len() <= decoder.max_record_bytes());
                out.push(record.to_vec());
            }
            Ok(None) => return None,
            Err(err) => {
                // Sticky: asking again gives the same error.
                assert_eq!(decoder.next_record(), Err(err.clone()));
                assert!(decoder.is_failed());
                return Some(err);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [config, n_splits, rest @ ..] = data else {
        return;
    };
    let n_splits = usize::from(n_splits & 15).min(rest.len());
    let (splits, stream) = rest.split_at(n_splits);

    let mut decoder = new_decoder(*config);
    let bound = decoder.max_record_bytes() + MAX_PREFIX_BYTES;
    let mut records = Vec::new();
    let mut error = None;
    let mut offset = 0;
    let mut i = 0;
    while offset < stream.len() {
        let size = splits
            .get(i % splits.len().max(1))
            .map_or(stream.len(), |&s| usize::from(s).max(1));
        let end = (offset + size).min(stream.len());
        decoder.feed(&stream[offset..end]);
        assert!(decoder.buffered_bytes() <= bound, "buffer over bound");
        if let Some(err) = drain(&mut decoder, &mut records) {
            error.get_or_insert(err.clone());
            assert_eq!(error.as_ref(), Some(&err));
        }
        offset = end;
        i += 1;
    }
    let payload: usize = records.iter().map(Vec::len).sum();
    assert!(payload <= stream.len());
    let finish = decoder.finish();
    if let Some(err) = &error {
        assert_eq!(finish.as_ref(), Err(err));
    }
    assert_eq!(decoder.is_at_boundary(), finish.is_ok());

    // Split-independence: one big feed gives the same outcome.
    let mut whole = new_decoder(*config);
    whole.feed(stream);
    let mut whole_records = Vec::new();
    let whole_error = drain(&mut whole, &mut whole_records);
    assert_eq!(whole_records, records);
    assert_eq!(whole_error, error);
    assert_eq!(whole.finish(), finish);
});
