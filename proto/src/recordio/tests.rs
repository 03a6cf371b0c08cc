use proptest::prelude::*;

use super::*;

/// Feeds `input` in one piece and pulls every record until `Ok(None)` or an
/// error.
fn decode_all(decoder: &mut Decoder, input: &[u8]) -> (Vec<Bytes>, Option<RecordIoError>) {
    decoder.feed(input);
    drain(decoder)
}

fn drain(decoder: &mut Decoder) -> (Vec<Bytes>, Option<RecordIoError>) {
    let mut records = Vec::new();
    loop {
        match decoder.next_record() {
            Ok(Some(r)) => records.push(r),
            Ok(None) => return (records, None),
            Err(e) => return (records, Some(e)),
        }
    }
}

fn first_error(input: &[u8]) -> RecordIoError {
    let mut d = Decoder::new();
    let (_, err) = decode_all(&mut d, input);
    err.expect("expected an error")
}

#[test]
fn encodes_heartbeat_like_the_master() {
    let mut out = Vec::new();
    encode(br#"{"type":"HEARTBEAT"}"#, &mut out);
    assert_eq!(out, b"20\n{\"type\":\"HEARTBEAT\"}");
}

#[test]
fn encode_appends_and_has_no_trailing_newline() {
    let mut out = b"x".to_vec();
    encode(b"ab", &mut out);
    encode(b"c", &mut out);
    assert_eq!(out, b"x2\nab1\nc");
}

#[test]
fn encode_empty_and_multi_digit_lengths() {
    let mut out = Vec::new();
    encode(b"", &mut out);
    assert_eq!(out, b"0\n");
    let payload = vec![7u8; 1234];
    let bytes = encode_to_bytes(&payload);
    assert_eq!(&bytes[..5], b"1234\n");
    assert_eq!(&bytes[5..], &payload[..]);
}

#[test]
fn decodes_records_fed_byte_by_byte() {
    let mut wire = Vec::new();
    encode(b"hello", &mut wire);
    encode(br#"{"type":"HEARTBEAT"}"#, &mut wire);
    encode(&[0u8; 10], &mut wire);
    let mut d = Decoder::new();
    let mut got = Vec::new();
    for b in &wire {
        d.feed(std::slice::from_ref(b));
        while let Some(r) = d.next_record().unwrap() {
            got.push(r);
        }
    }
    assert_eq!(got.len(), 3);
    assert_eq!(&got[0][..], b"hello");
    assert_eq!(&got[1][..], br#"{"type":"HEARTBEAT"}"#);
    assert_eq!(&got[2][..], &[0u8; 10]);
    assert!(d.is_at_boundary());
    assert_eq!(d.finish(), Ok(()));
}

#[test]
fn empty_feed_and_empty_stream_are_fine() {
    let mut d = Decoder::new();
    d.feed(b"");
    assert_eq!(d.next_record(), Ok(None));
    assert!(d.is_at_boundary());
    assert_eq!(d.finish(), Ok(()));
}

#[test]
fn partial_record_is_not_returned_early() {
    let mut d = Decoder::new();
    d.feed(b"5\nabc");
    assert_eq!(d.next_record(), Ok(None));
    assert!(!d.is_at_boundary());
    assert_eq!(d.buffered_bytes(), 3);
    d.feed(b"de3");
    assert_eq!(d.next_record().unwrap().as_deref(), Some(&b"abcde"[..]));
    assert_eq!(d.next_record(), Ok(None));
    assert!(!d.is_at_boundary());
    assert_eq!(d.buffered_bytes(), 1);
}

#[test]
fn rejects_non_digit_in_prefix() {
    assert_eq!(
        first_error(b"1a\nx"),
        RecordIoError::InvalidLengthByte {
            byte: b'a',
            offset: 1
        }
    );
    // Offsets count from the start of the stream, across records.
    assert_eq!(
        first_error(b"1\nx-1\nx"),
        RecordIoError::InvalidLengthByte {
            byte: b'-',
            offset: 3
        }
    );
    for bad in [&b"+1\nx"[..], b" 1\nx", b"1 \nx", b"1\r\nx", b"\xff"] {
        assert!(
            matches!(first_error(bad), RecordIoError::InvalidLengthByte { .. }),
            "{bad:?}"
        );
    }
}

#[test]
fn rejects_empty_prefix() {
    assert_eq!(
        first_error(b"\n"),
        RecordIoError::EmptyLengthPrefix { offset: 0 }
    );
    // A trailing newline after a payload (a common encoder bug) shows up as
    // an empty prefix.
    assert_eq!(
        first_error(b"1\nx\n1\ny"),
        RecordIoError::EmptyLengthPrefix { offset: 3 }
    );
}

#[test]
fn rejects_prefix_with_too_many_digits() {
    // 21 digits, even if the value is tiny.
    let prefix = format!("{}1\n", "0".repeat(20));
    assert_eq!(
        first_error(prefix.as_bytes()),
        RecordIoError::LengthPrefixTooLong { offset: 20 }
    );
}

#[test]
fn rejects_prefix_overflowing_u64() {
    // With no size limit to trip first, 20 digits can still overflow u64.
    let mut d = Decoder::with_max_record_bytes(usize::MAX);
    d.feed(b"18446744073709551615"); // u64::MAX: fits (when usize is 64-bit).
    if usize::BITS == 64 {
        assert!(!d.is_failed());
    }
    let mut d = Decoder::with_max_record_bytes(usize::MAX);
    let (_, err) = decode_all(&mut d, b"18446744073709551616\n");
    let err = err.unwrap();
    if usize::BITS == 64 {
        assert_eq!(err, RecordIoError::LengthPrefixTooLong { offset: 19 });
    } else {
        assert!(matches!(err, RecordIoError::RecordTooLarge { .. }));
    }
}

#[test]
fn rejects_record_over_max_before_newline() {
    let mut d = Decoder::with_max_record_bytes(10);
    d.feed(b"10\n0123456789");
    assert_eq!(
        d.next_record().unwrap().as_deref(),
        Some(&b"0123456789"[..])
    );
    // "100" exceeds 10 at its third digit; no newline needed.
    d.feed(b"100");
    assert_eq!(
        d.next_record(),
        Err(RecordIoError::RecordTooLarge {
            length: 100,
            max: 10
        })
    );
    assert_eq!(d.buffered_bytes(), 0);
}

#[test]
fn zero_length_is_rejected_by_default() {
    assert_eq!(
        first_error(b"0\n"),
        RecordIoError::ZeroLengthRecord { offset: 1 }
    );
    assert_eq!(
        first_error(b"00\n"),
        RecordIoError::ZeroLengthRecord { offset: 2 }
    );
}

#[test]
fn zero_length_can_be_allowed() {
    let mut d = Decoder::new().allow_empty_records(true);
    let (records, err) = decode_all(&mut d, b"0\n1\nx0\n");
    assert_eq!(err, None);
    assert_eq!(
        records,
        vec![Bytes::new(), Bytes::from_static(b"x"), Bytes::new()]
    );
    assert_eq!(d.finish(), Ok(()));
}

#[test]
fn finish_detects_truncation() {
    let mut d = Decoder::new();
    d.feed(b"12");
    assert_eq!(
        d.finish(),
        Err(RecordIoError::TruncatedLengthPrefix { digits: 2 })
    );
    d.feed(b"\nabc");
    assert_eq!(
        d.finish(),
        Err(RecordIoError::TruncatedRecord {
            expected: 12,
            received: 3
        })
    );
    d.feed(b"defghijkl");
    assert_eq!(d.finish(), Ok(()));
    // Finish does not care about records not yet pulled.
    assert_eq!(d.pending_records(), 1);
}

#[test]
fn errors_are_sticky_and_earlier_records_survive() {
    let mut d = Decoder::new();
    d.feed(b"1\na2\nbcX1\nz");
    assert_eq!(d.next_record().unwrap().as_deref(), Some(&b"a"[..]));
    assert_eq!(d.next_record().unwrap().as_deref(), Some(&b"bc"[..]));
    let err = RecordIoError::InvalidLengthByte {
        byte: b'X',
        offset: 7,
    };
    assert_eq!(d.next_record(), Err(err.clone()));
    assert!(d.is_failed());
    assert!(!d.is_at_boundary());
    // Valid input afterwards is discarded; the error repeats.
    d.feed(b"1\nq");
    assert_eq!(d.next_record(), Err(err.clone()));
    assert_eq!(d.finish(), Err(err));
    assert_eq!(d.pending_records(), 0);
}

#[test]
fn error_messages_are_readable() {
    let e = RecordIoError::RecordTooLarge {
        length: 99,
        max: 10,
    };
    assert_eq!(
        e.to_string(),
        "RecordIO record of at least 99 bytes exceeds the maximum of 10 bytes"
    );
    let e = RecordIoError::InvalidLengthByte {
        byte: b'a',
        offset: 4,
    };
    assert_eq!(
        e.to_string(),
        "invalid byte 0x61 in RecordIO length prefix at offset 4"
    );
}

#[test]
fn payload_capacity_never_exceeds_declared_length() {
    let mut d = Decoder::with_max_record_bytes(1 << 20);
    d.feed(b"1000000\n");
    assert!(d.partial.capacity() == 0, "nothing reserved before payload");
    for _ in 0..999 {
        d.feed(&[1u8; 1000]);
        assert!(d.partial.capacity() <= 1_000_000);
    }
    d.feed(&[1u8; 1000]);
    let r = d.next_record().unwrap().unwrap();
    assert_eq!(r.len(), 1_000_000);
}

/// Splits `data` into consecutive chunks at the given (unsorted) cut points.
fn split_at_points<'a>(data: &'a [u8], cuts: &[prop::sample::Index]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|i| i.index(data.len() + 1)).collect();
    points.push(0);
    points.push(data.len());
    points.sort_unstable();
    points.windows(2).map(|w| &data[w[0]..w[1]]).collect()
}

proptest! {
    #[test]
    fn roundtrip_any_split(
        records in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..300), 0..20),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..40),
    ) {
        let mut wire = Vec::new();
        for r in &records {
            encode(r, &mut wire);
        }
        let mut d = Decoder::new();
        let mut got = Vec::new();
        for chunk in split_at_points(&wire, &cuts) {
            d.feed(chunk);
            prop_assert!(d.buffered_bytes() <= d.max_record_bytes() + MAX_PREFIX_BYTES);
            while let Some(r) = d.next_record().unwrap() {
                got.push(r.to_vec());
            }
        }
        prop_assert_eq!(got, records);
        prop_assert!(d.is_at_boundary());
        prop_assert_eq!(d.finish(), Ok(()));
    }

    #[test]
    fn roundtrip_with_empty_records_allowed(
        records in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 0..20),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..40),
    ) {
        let mut wire = Vec::new();
        for r in &records {
            encode(r, &mut wire);
        }
        let mut d = Decoder::new().allow_empty_records(true);
        let mut got = Vec::new();
        for chunk in split_at_points(&wire, &cuts) {
            d.feed(chunk);
            while let Some(r) = d.next_record().unwrap() {
                got.push(r.to_vec());
            }
        }
        prop_assert_eq!(got, records);
        prop_assert_eq!(d.finish(), Ok(()));
    }

    #[test]
    fn truncated_stream_is_detected(
        records in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..50), 1..10),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut wire = Vec::new();
        let mut boundaries = vec![0];
        for r in &records {
            encode(r, &mut wire);
            boundaries.push(wire.len());
        }
        let end = cut.index(wire.len() + 1);
        let mut d = Decoder::new();
        d.feed(&wire[..end]);
        let (got, err) = drain(&mut d);
        prop_assert_eq!(err, None);
        let complete = boundaries.iter().filter(|&&b| b > 0 && b <= end).count();
        prop_assert_eq!(got.len(), complete);
        prop_assert_eq!(d.finish().is_ok(), boundaries.contains(&end));
        prop_assert_eq!(d.is_at_boundary(), boundaries.contains(&end));
    }

    #[test]
    fn byte_soup_never_panics_and_stays_bounded(
        soup in prop::collection::vec(any::<u8>(), 0..2000),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..40),
        max in 0usize..600,
        allow_empty in any::<bool>(),
    ) {
        let mut d = Decoder::with_max_record_bytes(max).allow_empty_records(allow_empty);
        let mut total = 0;
        for chunk in split_at_points(&soup, &cuts) {
            d.feed(chunk);
            prop_assert!(d.buffered_bytes() <= max + MAX_PREFIX_BYTES);
            prop_assert!(d.partial.capacity() <= max);
            let (records, err) = drain(&mut d);
            for r in &records {
                prop_assert!(r.len() <= max);
                total += r.len();
            }
            if let Some(err) = err {
                // Sticky: the same error again, and finish agrees.
                prop_assert_eq!(d.next_record(), Err(err.clone()));
                prop_assert_eq!(d.finish(), Err(err));
            }
        }
        prop_assert!(total <= soup.len());
        let _ = d.finish();
    }

    #[test]
    fn soup_with_digit_bias_never_panics(
        soup in prop::collection::vec(prop::sample::select(b"0123456789\n\nab".to_vec()), 0..500),
        max in 0usize..64,
    ) {
        let mut d = Decoder::with_max_record_bytes(max);
        for b in &soup {
            d.feed(std::slice::from_ref(b));
            prop_assert!(d.buffered_bytes() <= max + MAX_PREFIX_BYTES);
            let _ = drain(&mut d);
        }
        let _ = d.finish();
    }
}
