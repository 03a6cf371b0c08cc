//! Fuzzes the Docker API router: the first line of the input is `METHOD PATH[?QUERY]`, the
//! rest is the body. `route` must never panic, and every error answer must be dockerd's
//! `{"message": "..."}` with `Content-Type: application/json`.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use mesoswarm_core::docker::{route, Routed};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let (line, rest) = data.split_at(split);
    let body = rest.get(1..).unwrap_or(&[]);
    let line = String::from_utf8_lossy(line);
    let (method, uri) = line.split_once(' ').unwrap_or(("GET", &line));
    let Ok(req) = http::Request::builder()
        .method(method)
        .uri(uri)
        .body(Bytes::copy_from_slice(body))
    else {
        return;
    };
    if let Routed::Answer(resp) = route(&req) {
        if resp.status().as_u16() >= 400 {
            assert_eq!(resp.headers()["content-type"], "application/json");
            let v: serde_json::Value =
                serde_json::from_slice(resp.body()).expect("error body is JSON");
            assert!(v["message"].is_string());
        }
    }
});
