//! The same server on a unix socket (`--host unix:///path`), next to a TCP listener.

mod docker_server_support;

use std::net::SocketAddr;

use docker_server_support::{call, driver, serve, Client};
use http::{Method, StatusCode};
use mesoswarm_core::Config;
use mesoswarm_shell::docker_server::ServerLimits;
use mesoswarm_shell::runtime::tokio::TokioRuntime;
use mesoswarm_shell::runtime::Runtime;

#[tokio::test]
async fn a_unix_socket_and_tcp_serve_the_same_manager() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mesoswarm.sock");
    let (handle, _commands, _events) = driver(Config::default());
    let unix = TokioRuntime.bind_unix(&path).await.unwrap();
    assert_eq!(unix.local_addr(), path.display().to_string());
    let tcp = TokioRuntime
        .bind_tcp("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr: SocketAddr = tcp.local_addr().parse().unwrap();
    serve(vec![unix, tcp], handle, ServerLimits::default());

    let mut c = Client::unix(&path).await;
    let ping = c.call(Method::GET, "/_ping", None).await;
    assert_eq!(ping.status, StatusCode::OK);
    assert_eq!(ping.headers["api-version"], "1.44");
    let created = c
        .call(
            Method::POST,
            "/v1.44/containers/create?name=over-unix",
            Some(r#"{"Image":"busybox"}"#),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());

    // Seen over TCP too: one manager behind both listeners.
    let inspect = call(addr, Method::GET, "/containers/over-unix/json", None).await;
    assert_eq!(inspect.status, StatusCode::OK);
    assert_eq!(inspect.json()["Id"], created.json()["Id"]);
}
