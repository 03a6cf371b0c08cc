//! The Docker API server over real TCP, with a manager that has no Mesos master: the
//! requests that need none work, and errors look like dockerd's.

mod docker_server_support;

use docker_server_support::{call, create, start, Client};
use http::{Method, StatusCode};
use mesoswarm_core::Config;
use mesoswarm_shell::docker_server::ServerLimits;

#[tokio::test]
async fn ping_answers_get_and_head_with_the_api_version() {
    let s = start(Config::default(), ServerLimits::default()).await;
    let mut c = Client::tcp(s.addr).await;
    let get = c.call(Method::GET, "/_ping", None).await;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(get.text(), "OK");
    assert_eq!(get.headers["api-version"], "1.44");
    assert_eq!(get.headers["content-type"], "text/plain; charset=utf-8");
    // Same connection (keep-alive).
    let head = c.call(Method::HEAD, "/_ping", None).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(head.headers["api-version"], "1.44");
    assert_eq!(head.headers["content-length"], "0");
    let versioned = c.call(Method::GET, "/v1.41/_ping", None).await;
    assert_eq!(versioned.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_route_is_a_404_with_dockerds_json() {
    let s = start(Config::default(), ServerLimits::default()).await;
    let a = call(s.addr, Method::GET, "/v1.44/images/json", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.headers["content-type"], "application/json");
    assert_eq!(
        a.json()["message"],
        "page not found: mesoswarm does not implement GET /images/json yet"
    );
}

#[tokio::test]
async fn create_inspect_list_and_remove_work_without_a_master() {
    let s = start(Config::default(), ServerLimits::default()).await;
    let id = create(s.addr, "web").await;
    assert_eq!(id.len(), 64);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));

    let mut c = Client::tcp(s.addr).await;
    let inspect = c
        .call(Method::GET, "/v1.44/containers/web/json", None)
        .await;
    assert_eq!(inspect.status, StatusCode::OK);
    let body = inspect.json();
    assert_eq!(body["Id"], id.as_str());
    assert_eq!(body["Name"], "/web");
    assert_eq!(body["State"]["Status"], "created");
    assert_eq!(body["Config"]["Image"], "busybox");

    let by_prefix = c
        .call(
            Method::GET,
            &format!("/containers/{}/json", &id[..12]),
            None,
        )
        .await;
    assert_eq!(by_prefix.status, StatusCode::OK);

    let running = c.call(Method::GET, "/v1.44/containers/json", None).await;
    assert_eq!(running.status, StatusCode::OK);
    assert_eq!(running.json(), serde_json::json!([]));
    let all = c
        .call(Method::GET, "/v1.44/containers/json?all=1", None)
        .await;
    let list = all.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["Id"], id.as_str());
    assert_eq!(list[0]["Names"][0], "/web");

    let rm = c.call(Method::DELETE, "/v1.44/containers/web", None).await;
    assert_eq!(rm.status, StatusCode::NO_CONTENT);
    assert!(rm.body.is_empty());
    let gone = c
        .call(Method::GET, "/v1.44/containers/web/json", None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.json()["message"], "No such container: web");
}

#[tokio::test]
async fn a_taken_name_is_a_409() {
    let s = start(Config::default(), ServerLimits::default()).await;
    let id = create(s.addr, "web").await;
    let a = call(
        s.addr,
        Method::POST,
        "/v1.44/containers/create?name=web",
        Some(r#"{"Image":"busybox"}"#),
    )
    .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.headers["content-type"], "application/json");
    let message = a.json()["message"].as_str().unwrap().to_string();
    assert!(message.contains("\"/web\" is already in use"), "{message}");
    assert!(message.contains(&id), "{message}");
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let s = start(Config::default(), ServerLimits::default()).await;
    let a = call(
        s.addr,
        Method::POST,
        "/v1.44/containers/create",
        Some(r#"{"Image": "busybox""#),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.headers["content-type"], "application/json");
    assert!(a.json()["message"].is_string());
}

#[tokio::test]
async fn waiting_for_a_container_that_is_not_running_answers_at_once() {
    let s = start(Config::default(), ServerLimits::default()).await;
    create(s.addr, "web").await;
    let a = call(s.addr, Method::POST, "/v1.44/containers/web/wait", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers["content-type"], "application/json");
    assert_eq!(a.text(), "{\"Error\":null,\"StatusCode\":0}\n");
    let missing = call(s.addr, Method::POST, "/v1.44/containers/nope/wait", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn info_and_version_are_served() {
    let s = start(Config::default(), ServerLimits::default()).await;
    let info = call(s.addr, Method::GET, "/v1.44/info", None).await;
    assert_eq!(info.status, StatusCode::OK);
    assert!(info.json()["Name"].is_string());
    let version = call(s.addr, Method::GET, "/version", None).await;
    assert_eq!(version.status, StatusCode::OK);
    assert_eq!(version.json()["ApiVersion"], "1.44");
}
