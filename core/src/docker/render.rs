//! Rendering answers as dockerd writes them: typed bodies, then HTTP responses.
//!
//! JSON bodies are written with object keys sorted (so the same answer is the same bytes,
//! whatever the hash order of bollard's maps) and end with `\n` like Go's `json.Encoder`.
//! Every response carries the headers of [`crate::docker::version::stamp_headers`].

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};
use serde::Serialize;
use serde_json::{json, Map, Value};

use bollard_stubs::models::ContainerCreateResponse;

use crate::docker::error::ApiError;
use crate::docker::response::DockerResponse;
use crate::docker::version::stamp_headers;

pub use crate::docker::humanize::human_duration;
pub use crate::docker::render_container::{container_inspect, container_summary, status_text};
pub use crate::docker::render_event::{event_json_line, event_message};
pub use crate::docker::render_info::{info_body, system_info};

/// `application/json`, exactly: the Go client compares the error `Content-Type` literally.
pub const JSON: &str = "application/json";

/// The HTTP response for a core answer.
///
/// * `Created` → 201 `{"Id":…,"Warnings":[…]}` (`Warnings` always an array);
/// * `NoContent` → 204 and `NotModified` → 304, both without body or `Content-Type`;
/// * `Inspect`, `List`, `Info` → 200 JSON;
/// * `WaitPending` → 200 `application/json` with an empty body: the shell flushes it at once
///   and streams [`wait_body`] when the matching `WaitDone` comes;
/// * `WaitDone` → 200 with the wait body (for a shell that did not flush early);
/// * `Events` → 200 `application/json` with one JSON line per buffered event (live events
///   follow, rendered with [`event_json_line`]);
/// * `Updated` → 200 `{"Warnings":[]}`; `NotOnAgent` → 409;
/// * `Located`, `LocatePending`, `Engines` are for the shell's proxy (500 if rendered);
/// * `Error` → [`error_response`].
pub fn to_http(resp: &DockerResponse) -> Response<Bytes> {
    match resp {
        DockerResponse::Created { id, warnings } => json_response(
            StatusCode::CREATED,
            json_body(&ContainerCreateResponse {
                id: id.to_hex(),
                warnings: warnings.clone(),
            }),
        ),
        DockerResponse::NoContent => empty(StatusCode::NO_CONTENT),
        DockerResponse::NotModified => empty(StatusCode::NOT_MODIFIED),
        DockerResponse::Inspect(inspect) => json_response(StatusCode::OK, json_body(inspect)),
        DockerResponse::List(list) => json_response(StatusCode::OK, json_body(list)),
        DockerResponse::Info(info) => json_response(StatusCode::OK, info_body(info)),
        DockerResponse::WaitPending => json_response(StatusCode::OK, Bytes::new()),
        DockerResponse::WaitDone { status_code, error } => {
            json_response(StatusCode::OK, wait_body(*status_code, error.as_deref()))
        }
        DockerResponse::Events(events) => {
            let mut body = Vec::new();
            for e in events {
                body.extend_from_slice(&event_json_line(e));
            }
            json_response(StatusCode::OK, Bytes::from(body))
        }
        DockerResponse::Error(e) => error_response(e),
        DockerResponse::Updated => json_response(
            StatusCode::OK,
            Bytes::from_static(b"{\"Warnings\":[]}"),
        ),
        DockerResponse::NotOnAgent { name, .. } => error_response(&ApiError::conflict(format!(
            "container {name} has not run on an agent yet, so no Docker engine has it: start it first"
        ))),
        // Answers for the shell's proxy; a shell that does not proxy cannot use them.
        DockerResponse::Located(_)
        | DockerResponse::LocatePending { .. }
        | DockerResponse::Engines(_) => error_response(&ApiError::internal(
            "this request must be proxied to an agent's Docker engine, and this shell does not",
        )),
    }
}

/// An error as dockerd sends it: its status, `Content-Type: application/json` and
/// `{"message":"…"}`. A status that cannot carry a body (304, 204, 1xx) gets none.
pub fn error_response(e: &ApiError) -> Response<Bytes> {
    let status = e.status;
    if status == StatusCode::NOT_MODIFIED
        || status == StatusCode::NO_CONTENT
        || status.is_informational()
    {
        return empty(status);
    }
    json_response(status, json_body(&json!({ "message": e.message })))
}

/// The body of a finished wait, one line:
/// `{"Error":null,"StatusCode":N}` or `{"Error":{"Message":"…"},"StatusCode":N}`.
pub fn wait_body(status_code: i64, error: Option<&str>) -> Bytes {
    let error = match error {
        Some(m) => json!({ "Message": m }),
        None => Value::Null,
    };
    json_body(&json!({ "StatusCode": status_code, "Error": error }))
}

/// `v` as compact JSON with sorted object keys, followed by `\n`.
pub fn json_body<T: Serialize + ?Sized>(v: &T) -> Bytes {
    let value = serde_json::to_value(v).unwrap_or(Value::Null);
    json_value_body(value)
}

/// [`json_body`] for a value already built.
pub fn json_value_body(value: Value) -> Bytes {
    let mut out = serde_json::to_vec(&sorted(value)).unwrap_or_else(|_| b"null".to_vec());
    out.push(b'\n');
    Bytes::from(out)
}

/// `value` with the keys of every object in sorted order.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut out = Map::new();
            for (k, v) in entries {
                out.insert(k, sorted(v));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// A stamped response with `Content-Type: application/json`.
pub fn json_response(status: StatusCode, body: Bytes) -> Response<Bytes> {
    let mut resp = response(status, body);
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
    resp
}

/// A stamped response without body or `Content-Type`.
pub fn empty(status: StatusCode) -> Response<Bytes> {
    response(status, Bytes::new())
}

/// A stamped response with `body` and no `Content-Type`.
pub fn response(status: StatusCode, body: Bytes) -> Response<Bytes> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    stamp_headers(resp.headers_mut());
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_bodies() {
        assert_eq!(
            &wait_body(3, None)[..],
            b"{\"Error\":null,\"StatusCode\":3}\n"
        );
        assert_eq!(
            &wait_body(1, Some("boom"))[..],
            b"{\"Error\":{\"Message\":\"boom\"},\"StatusCode\":1}\n"
        );
    }

    #[test]
    fn errors_are_json_with_the_exact_content_type() {
        let r = error_response(&ApiError::no_such_container("web"));
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(r.headers()["api-version"], "1.44");
        assert_eq!(&r.body()[..], b"{\"message\":\"No such container: web\"}\n");
        let r = error_response(&ApiError::new(
            StatusCode::NOT_MODIFIED,
            "container is already running",
        ));
        assert!(r.body().is_empty());
        assert!(r.headers().get(CONTENT_TYPE).is_none());
    }

    #[test]
    fn keys_are_sorted_deeply() {
        let v = json!({"b": 1, "a": [{"d": 1, "c": 2}]});
        assert_eq!(
            &json_value_body(v)[..],
            b"{\"a\":[{\"c\":2,\"d\":1}],\"b\":1}\n"
        );
    }
}
