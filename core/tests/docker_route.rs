//! The routing table as Docker clients exercise it.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use mesoswarm_core::container::DockerStatus;
use mesoswarm_core::docker::proxy_route::{ProxyOp, ProxyRoute};
use mesoswarm_core::docker::request::{ContainerFilters, WaitCondition};
use mesoswarm_core::docker::route::{payload_too_large, route_with_limits, RouteLimits};
use mesoswarm_core::docker::{route, ApiVersion, DockerRequest, Routed, DEFAULT_MAX_BODY_BYTES};
use mesoswarm_core::time::Instant;
use serde_json::Value;

fn req(method: &str, uri: &str, body: &str) -> Request<Bytes> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(Bytes::from(body.to_string()))
        .unwrap()
}

fn answer(method: &str, uri: &str, body: &str) -> Response<Bytes> {
    match route(&req(method, uri, body)) {
        Routed::Answer(r) => r,
        Routed::Core { request, .. } => panic!("{method} {uri} went to the core as {request:?}"),
        Routed::Proxy { route, .. } => panic!("{method} {uri} was proxied as {route:?}"),
    }
}

fn core(method: &str, uri: &str) -> DockerRequest {
    core_versioned(method, uri, "").0
}

fn core_versioned(method: &str, uri: &str, body: &str) -> (DockerRequest, ApiVersion) {
    match route(&req(method, uri, body)) {
        Routed::Core { request, version } => (request, version),
        Routed::Answer(r) => panic!("{method} {uri} was answered {}: {:?}", r.status(), r.body()),
        Routed::Proxy { route, .. } => panic!("{method} {uri} was proxied as {route:?}"),
    }
}

/// The status and `message` of an error answer, checking it is dockerd-shaped.
fn error(method: &str, uri: &str, body: &str) -> (StatusCode, String) {
    let r = answer(method, uri, body);
    error_of(&r)
}

fn error_of(r: &Response<Bytes>) -> (StatusCode, String) {
    assert_eq!(
        r.headers()["content-type"],
        "application/json",
        "exactly, without charset"
    );
    let v: Value = serde_json::from_slice(r.body()).expect("error body is JSON");
    (
        r.status(),
        v["message"].as_str().expect("a message string").to_string(),
    )
}

fn json(r: &Response<Bytes>) -> Value {
    serde_json::from_slice(r.body()).unwrap()
}

#[test]
fn head_ping_has_the_headers_clients_negotiate_with() {
    let r = answer("HEAD", "/_ping", "");
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers();
    assert_eq!(
        h["api-version"], "1.44",
        "without it CLI 28 falls back to API 1.24"
    );
    assert_eq!(h["ostype"], "linux");
    assert_eq!(h["docker-experimental"], "false");
    assert!(h["server"].to_str().unwrap().starts_with("Docker/"));
    assert!(h["server"].to_str().unwrap().ends_with(" (linux)"));
    assert_eq!(h["content-type"], "text/plain; charset=utf-8");
    assert_eq!(h["content-length"], "0");
    assert_eq!(h["cache-control"], "no-cache, no-store, must-revalidate");
    assert_eq!(h["pragma"], "no-cache");
    assert!(r.body().is_empty());
}

#[test]
fn get_ping_says_ok_versioned_or_not() {
    for uri in ["/_ping", "/v1.44/_ping", "/v1.24/_ping"] {
        let r = answer("GET", uri, "");
        assert_eq!(r.status(), StatusCode::OK, "{uri}");
        assert_eq!(&r.body()[..], b"OK");
        assert_eq!(r.headers()["api-version"], "1.44");
    }
}

#[test]
fn version_reports_the_api_range() {
    for uri in ["/version", "/v1.44/version", "/v1.41/version"] {
        let r = answer("GET", uri, "");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/json");
        let v = json(&r);
        assert_eq!(
            v["ApiVersion"], "1.44",
            "docker-py, compose and bollard need it"
        );
        assert_eq!(v["MinAPIVersion"], "1.24");
        assert_eq!(v["Os"], "linux");
        assert_eq!(v["Components"][0]["Name"], "Engine");
        assert_eq!(v["Components"][0]["Details"]["ApiVersion"], "1.44");
        let parsed: bollard_stubs::models::SystemVersion =
            serde_json::from_slice(r.body()).unwrap();
        assert!(parsed.version.unwrap().contains("mesoswarm"));
    }
}

#[test]
fn versions_out_of_range_get_dockerds_400() {
    let (status, msg) = error("GET", "/v1.50/containers/json", "");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        msg,
        "client version 1.50 is too new. Maximum supported API version is 1.44"
    );
    let (status, msg) = error("GET", "/v1.12/info", "");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        msg,
        "client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade \
         your client to a newer version"
    );
}

#[test]
fn the_request_carries_the_client_version() {
    assert_eq!(
        core_versioned("GET", "/v1.41/info", "").1,
        ApiVersion(1, 41)
    );
    assert_eq!(core_versioned("GET", "/info", "").1, ApiVersion(1, 44));
    assert_eq!(core("GET", "/v1.44/info"), DockerRequest::Info);
}

#[test]
fn unknown_and_unimplemented_routes_are_404_naming_the_route() {
    for (method, uri, shown) in [
        ("GET", "/v1.44/images/json", "GET /images/json"),
        (
            "POST",
            "/v1.44/containers/web/commit",
            "POST /containers/web/commit",
        ),
        (
            "POST",
            "/containers/web/logs?stdout=1",
            "POST /containers/web/logs",
        ),
        ("POST", "/build/prune", "POST /build/prune"),
        ("GET", "/nonsense", "GET /nonsense"),
    ] {
        let (status, msg) = error(method, uri, "");
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(
            msg,
            format!("page not found: mesoswarm does not implement {shown} yet")
        );
    }
}

#[test]
fn a_wrong_method_on_a_known_path_is_404_like_moby() {
    for (method, uri) in [
        ("GET", "/containers/create"),
        ("PUT", "/containers/web/start"),
        ("POST", "/containers/json"),
        ("DELETE", "/info"),
        ("HEAD", "/version"),
        ("POST", "/_ping"),
    ] {
        let (status, msg) = error(method, uri, "");
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {uri}");
        assert!(msg.starts_with("page not found"), "{msg}");
    }
}

#[test]
fn attach_is_proxied_and_the_websocket_variant_is_refused_with_501() {
    let req = http::Request::builder()
        .method("POST")
        .uri("/v1.44/containers/web/attach?stderr=1&stdout=1&stream=1")
        .body(bytes::Bytes::new())
        .unwrap();
    match route(&req) {
        Routed::Proxy {
            route: ProxyRoute::Container { container, op },
            version,
        } => {
            assert_eq!(container, "web");
            assert_eq!(op, ProxyOp::Attach);
            assert_eq!(version, ApiVersion(1, 44));
        }
        other => panic!("{other:?}"),
    }
    let (status, msg) = error("GET", "/containers/web/attach/ws", "");
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert!(msg.contains("does not support attaching"), "{msg}");
    assert!(msg.contains("HTTP upgrade"), "{msg}");
}

#[test]
fn options_is_200_anywhere() {
    assert_eq!(
        answer("OPTIONS", "/v1.44/containers/json", "").status(),
        StatusCode::OK
    );
    assert_eq!(
        answer("OPTIONS", "/anything/at/all", "").status(),
        StatusCode::OK
    );
}

#[test]
fn container_actions_route_with_their_parameters() {
    assert_eq!(
        core("POST", "/v1.44/containers/web/start"),
        DockerRequest::ContainerStart {
            container: "web".into()
        }
    );
    assert_eq!(
        core("POST", "/containers/web/stop?signal=SIGINT&t=5"),
        DockerRequest::ContainerStop {
            container: "web".into(),
            timeout_secs: Some(5),
            signal: Some("SIGINT".into())
        }
    );
    assert_eq!(
        core("POST", "/containers/web/stop"),
        DockerRequest::ContainerStop {
            container: "web".into(),
            timeout_secs: None,
            signal: None
        }
    );
    assert_eq!(
        core("POST", "/containers/web/restart?t=-1"),
        DockerRequest::ContainerRestart {
            container: "web".into(),
            timeout_secs: Some(-1),
            signal: None
        }
    );
    assert_eq!(
        core("POST", "/containers/abc123/kill?signal=9"),
        DockerRequest::ContainerKill {
            container: "abc123".into(),
            signal: Some("SIGKILL".into())
        }
    );
    assert_eq!(
        core("GET", "/containers/%2Fweb/json?size=1"),
        DockerRequest::ContainerInspect {
            container: "/web".into(),
            size: true
        }
    );
    assert_eq!(
        core("POST", "/containers/web/rename?name=%2Fweb2"),
        DockerRequest::ContainerRename {
            container: "web".into(),
            new_name: "web2".into()
        }
    );
}

#[test]
fn bad_parameters_are_400() {
    assert_eq!(
        error("POST", "/containers/web/kill?signal=BOGUS", ""),
        (StatusCode::BAD_REQUEST, "Invalid signal: BOGUS".into())
    );
    let (status, msg) = error("POST", "/containers/web/stop?t=soon", "");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(msg.contains("invalid value for t"), "{msg}");
    let (status, msg) = error("POST", "/containers/web/rename?name=", "");
    assert_eq!(
        (status, msg.as_str()),
        (
            StatusCode::BAD_REQUEST,
            "Neither old nor new names may be empty"
        )
    );
    let (status, msg) = error("POST", "/containers/web/rename?name=bad%20name", "");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        msg,
        "Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
    );
    let (status, msg) = error("GET", "/containers/json?filters=%zz", "");
    assert_eq!(
        (status, msg.as_str()),
        (StatusCode::BAD_REQUEST, "invalid URL escape \"%zz\"")
    );
}

#[test]
fn rm_reads_bool_params_like_moby() {
    assert_eq!(
        core("DELETE", "/v1.44/containers/web?force=True&v=0"),
        DockerRequest::ContainerRemove {
            container: "web".into(),
            force: true,
            volumes: false
        }
    );
    assert_eq!(
        core("DELETE", "/containers/web?force=no&v=yes"),
        DockerRequest::ContainerRemove {
            container: "web".into(),
            force: false,
            volumes: true
        }
    );
    assert_eq!(
        core("DELETE", "/containers/web"),
        DockerRequest::ContainerRemove {
            container: "web".into(),
            force: false,
            volumes: false
        }
    );
    assert_eq!(
        error("DELETE", "/containers/web?link=1", "").0,
        StatusCode::BAD_REQUEST
    );
}

#[test]
fn wait_conditions() {
    let wait = |uri: &str| match core("POST", uri) {
        DockerRequest::ContainerWait { condition, .. } => condition,
        other => panic!("{other:?}"),
    };
    assert_eq!(wait("/containers/web/wait"), WaitCondition::NotRunning);
    assert_eq!(
        wait("/containers/web/wait?condition="),
        WaitCondition::NotRunning
    );
    assert_eq!(
        wait("/containers/web/wait?condition=next-exit"),
        WaitCondition::NextExit
    );
    assert_eq!(
        wait("/containers/web/wait?condition=removed"),
        WaitCondition::Removed
    );
    assert_eq!(
        error("POST", "/containers/web/wait?condition=x", ""),
        (
            StatusCode::BAD_REQUEST,
            "invalid condition: \"x\"".to_string()
        )
    );
}

fn list(uri: &str) -> mesoswarm_core::docker::request::ListQuery {
    match core("GET", uri) {
        DockerRequest::ContainerList(q) => q,
        other => panic!("{other:?}"),
    }
}

#[test]
fn ps_query_parameters() {
    let q = list("/v1.44/containers/json?all=1&limit=3&size=1");
    assert!(q.all && q.size);
    assert_eq!(q.limit, Some(3));
    let q = list("/containers/json");
    assert!(!q.all && !q.size);
    assert_eq!(q.limit, None);
    assert_eq!(q.filters, ContainerFilters::default());
    assert_eq!(list("/containers/json?limit=-1").limit, None);
    assert_eq!(
        error("GET", "/containers/json?limit=many", "").0,
        StatusCode::BAD_REQUEST
    );
}

#[test]
fn filters_arrive_in_both_shapes() {
    // docker CLI: map form; docker-compose 1.29 and docker-py: list form (the exact compose query).
    let cli = list("/v1.44/containers/json?all=1&filters=%7B%22label%22%3A%7B%22com.docker.compose.project%3Dp%22%3Atrue%7D%7D");
    let compose = list(
        "/v1.41/containers/json?limit=-1&all=0&size=0&trunc_cmd=0&filters=%7B%22label%22%3A+%5B%22com.docker.compose.project%3Dp%22%5D%7D",
    );
    assert_eq!(cli.filters, compose.filters);
    assert_eq!(cli.filters.label.len(), 1);
    assert_eq!(cli.filters.label[0].key, "com.docker.compose.project");
    assert_eq!(cli.filters.label[0].value.as_deref(), Some("p"));
    assert!(!compose.all);
}

#[test]
fn filter_errors_use_dockerds_text() {
    let bad_key = "/containers/json?filters=%7B%22bogus%22%3A%7B%22x%22%3Atrue%7D%7D";
    assert_eq!(
        error("GET", bad_key, ""),
        (StatusCode::BAD_REQUEST, "invalid filter 'bogus'".into())
    );
    let bad_status = "/containers/json?filters=%7B%22status%22%3A%5B%22bogus%22%5D%7D";
    assert_eq!(
        error("GET", bad_status, ""),
        (
            StatusCode::BAD_REQUEST,
            "invalid filter 'status=bogus'".into()
        )
    );
    let (status, msg) = error("GET", "/containers/json?filters=%7Bnot-json", "");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(msg.starts_with("invalid filter"), "{msg}");
}

#[test]
fn a_status_filter_lists_stopped_containers_too() {
    let q = list("/containers/json?filters=%7B%22status%22%3A%5B%22exited%22%5D%7D");
    assert!(q.all, "dockerd sets All for a status filter");
    assert_eq!(q.filters.status, vec![DockerStatus::Exited]);
}

#[test]
fn events_query() {
    match core("GET", "/v1.44/events?since=1795317274&until=1795317280.5&filters=%7B%22type%22%3A%7B%22container%22%3Atrue%7D%7D") {
        DockerRequest::Events(q) => {
            assert_eq!(q.since, Some(Instant::from_unix_secs(1_795_317_274)));
            assert_eq!(q.until, Some(Instant::from_unix_nanos(1_795_317_280_500_000_000)));
            assert_eq!(q.filters.event_type, vec!["container".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        error("GET", "/events?since=yesterday", "").0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        error("GET", "/events?filters=%7B%22bogus%22%3A%5B%5D%7D", "").1,
        "invalid filter 'bogus'"
    );
}

const CREATE_BODY: &str =
    r#"{"Image":"busybox","Cmd":["sleep","100"],"HostConfig":{"NetworkMode":"default"}}"#;

#[test]
fn create_routes_with_name_and_spec() {
    let r = Request::builder()
        .method("POST")
        .uri("/v1.44/containers/create?name=%2Fweb")
        .header("content-type", "application/json")
        .body(Bytes::from_static(CREATE_BODY.as_bytes()))
        .unwrap();
    match route(&r) {
        Routed::Core {
            request:
                DockerRequest::ContainerCreate {
                    name,
                    spec,
                    warnings,
                },
            version,
        } => {
            assert_eq!(name.as_deref(), Some("web"), "one leading / is dropped");
            assert!(warnings.is_empty(), "{warnings:?}");
            assert_eq!(spec.image, "busybox");
            assert_eq!(version, ApiVersion(1, 44));
        }
        other => panic!("{other:?}"),
    }
    match core_versioned("POST", "/containers/create?name=", CREATE_BODY).0 {
        DockerRequest::ContainerCreate { name, .. } => {
            assert_eq!(name, None, "empty name = generated")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn create_carries_the_warnings_of_what_mesos_cannot_honour() {
    let body = r#"{"Image":"busybox","HostConfig":{"RestartPolicy":{"Name":"always"}}}"#;
    match core_versioned("POST", "/containers/create", body).0 {
        DockerRequest::ContainerCreate { warnings, .. } => {
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert!(warnings[0].contains("restart policy"), "{warnings:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn create_rejects_bad_names_bodies_and_content_types() {
    let (status, msg) = error("POST", "/containers/create?name=bad%20name", CREATE_BODY);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        msg,
        "Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
    );
    let (status, msg) = error("POST", "/containers/create", "{\"Image\": busybox}");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(msg.starts_with("invalid JSON: "), "{msg}");
    let (status, msg) = error("POST", "/containers/create", "");
    assert_eq!(
        (status, msg.as_str()),
        (
            StatusCode::BAD_REQUEST,
            "invalid JSON: request body is empty"
        )
    );
    let r = Request::builder()
        .method("POST")
        .uri("/containers/create")
        .header("content-type", "text/plain")
        .body(Bytes::from_static(CREATE_BODY.as_bytes()))
        .unwrap();
    let Routed::Answer(r) = route(&r) else {
        panic!("text/plain create went through")
    };
    let (status, msg) = error_of(&r);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        msg,
        "unsupported Content-Type header (text/plain): must be 'application/json'"
    );
}

#[test]
fn oversize_bodies_are_413() {
    let small = RouteLimits { max_body_bytes: 16 };
    let Routed::Answer(r) =
        route_with_limits(&req("POST", "/containers/create", CREATE_BODY), &small)
    else {
        panic!("oversize body went through");
    };
    let (status, msg) = error_of(&r);
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(msg.contains("16 bytes"), "{msg}");
    let big = "x".repeat(DEFAULT_MAX_BODY_BYTES + 1);
    assert_eq!(
        error("POST", "/containers/create", &big).0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        error_of(&payload_too_large(10)).0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[test]
fn an_update_that_changes_nothing_goes_to_the_core_and_any_change_is_refused_with_the_reason() {
    match core_versioned(
        "POST",
        "/containers/web/update",
        r#"{"Memory":0,"RestartPolicy":{"Name":""}}"#,
    )
    .0
    {
        DockerRequest::ContainerUpdate { container } => assert_eq!(container, "web"),
        other => panic!("{other:?}"),
    }
    let (status, msg) = error(
        "POST",
        "/containers/web/update",
        r#"{"Memory":268435456,"CpuShares":0}"#,
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        msg.contains("Memory") && msg.contains("Mesos fixes"),
        "{msg}"
    );
    assert!(
        !msg.contains("CpuShares"),
        "only what would change is named: {msg}"
    );
    let (status, _) = error("POST", "/containers/web/update", "{not json");
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[test]
fn networks_are_explained_and_a_lookup_is_a_plain_404() {
    let (status, msg) = error("GET", "/v1.41/networks/proj_default", "");
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(msg, "network proj_default not found");
    let (status, msg) = error(
        "POST",
        "/v1.41/networks/create",
        r#"{"Name":"proj_default"}"#,
    );
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert!(msg.contains("network_mode: bridge"), "{msg}");
}
