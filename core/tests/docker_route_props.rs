//! `route` on arbitrary input: it never panics, and every error it answers is dockerd-shaped.

use bytes::Bytes;
use http::Request;
use mesoswarm_core::docker::{route, Routed};
use proptest::prelude::*;
use serde_json::Value;

/// Paths near the real routes, so the properties reach the parsers behind them.
fn path() -> impl Strategy<Value = String> {
    let prefix = prop_oneof![
        Just(String::new()),
        Just("/v1.44".to_string()),
        Just("/v1.24".to_string()),
        "/v[0-9.]{0,6}",
    ];
    let route = prop_oneof![
        Just("/_ping".to_string()),
        Just("/version".to_string()),
        Just("/info".to_string()),
        Just("/events".to_string()),
        Just("/containers/json".to_string()),
        Just("/containers/create".to_string()),
        "/containers/[a-z0-9%/._-]{0,12}/(start|stop|restart|kill|wait|rename|json|attach|attach/ws|logs)",
        "/containers/[a-z0-9%/._-]{0,12}",
        "/[a-zA-Z0-9%/._~-]{0,30}",
    ];
    (prefix, route).prop_map(|(p, r)| format!("{p}{r}"))
}

/// Query strings with the parameters routes read, values from anywhere.
fn query() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("name"),
        Just("t"),
        Just("signal"),
        Just("condition"),
        Just("filters"),
        Just("all"),
        Just("limit"),
        Just("size"),
        Just("force"),
        Just("v"),
        Just("link"),
        Just("since"),
        Just("until"),
    ];
    let value = prop_oneof![
        "[a-zA-Z0-9%+._/=-]{0,20}",
        Just("%7B%22label%22%3A%5B%22a%3Db%22%5D%7D".to_string()),
        Just("%7B%22status%22%3A%7B%22paused%22%3Atrue%7D%7D".to_string()),
        Just("%7B%22label%22%3A%7B%22a%22%3A1%7D%7D".to_string()),
    ];
    proptest::collection::vec((key, value), 0..4).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

/// Bodies: arbitrary bytes, or JSON shaped like (broken) create bodies.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let json_like = prop_oneof![
        Just(r#"{"Image":"busybox"}"#.to_string()),
        Just(
            r#"{"Image":"busybox","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"x"}]}}}"#
                .to_string()
        ),
        Just(
            r#"{"Image":"b","HostConfig":{"RestartPolicy":{"Name":"x"},"Memory":"1"}}"#.to_string()
        ),
        Just(r#"{"Image":"b","ExposedPorts":{"1-2/tcp":{}},"Cmd":"x","Entrypoint":7}"#.to_string()),
        "\\{\"[A-Za-z]{1,12}\":[\\[\\]{}\"0-9a-z:,/-]{0,40}\\}",
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        json_like.prop_map(String::into_bytes),
    ]
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("GET".to_string()),
        Just("POST".to_string()),
        Just("DELETE".to_string()),
        Just("HEAD".to_string()),
        Just("PUT".to_string()),
        Just("OPTIONS".to_string()),
        "[A-Z]{1,8}",
    ]
}

fn check(method: &str, uri: &str, body: Vec<u8>) -> Result<(), TestCaseError> {
    let Ok(req) = Request::builder()
        .method(method)
        .uri(uri)
        .body(Bytes::from(body))
    else {
        return Ok(()); // not an HTTP request the shell could have received
    };
    match route(&req) {
        Routed::Core { .. } | Routed::Proxy { .. } => Ok(()),
        Routed::Answer(r) => {
            prop_assert!(r.headers().contains_key("api-version"));
            if r.status().as_u16() >= 400 {
                prop_assert_eq!(r.headers()["content-type"].as_bytes(), b"application/json");
                let v: Value = serde_json::from_slice(r.body())
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(v["message"].is_string(), "{}", v);
            }
            Ok(())
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn route_never_panics_near_real_routes(m in method(), p in path(), q in query(), b in body()) {
        let uri = if q.is_empty() { p } else { format!("{p}?{q}") };
        check(&m, &uri, b)?;
    }

    #[test]
    fn route_never_panics_on_arbitrary_text(m in "\\PC{0,10}", uri in "\\PC{0,60}", b in proptest::collection::vec(any::<u8>(), 0..32)) {
        check(&m, &uri, b)?;
    }
}
