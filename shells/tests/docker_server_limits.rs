//! The server's limits: body size, connections, header read time; and inputs that must not
//! break it.

mod docker_server_support;

use std::time::Duration;

use docker_server_support::{call, create, read, start, Client, STEP};
use http::{Method, StatusCode};
use mesoswarm_core::Config;
use mesoswarm_shell::docker_server::ServerLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the peer closes (or `STEP` passes) and returns what came.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(STEP, stream.read_to_end(&mut out))
        .await
        .expect("the server closes the connection");
    out
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_without_reading_it_all() {
    let limits = ServerLimits {
        max_body_bytes: 1024,
        ..ServerLimits::default()
    };
    let s = start(Config::default(), limits).await;

    // Declared too long: answered before the body is sent at all.
    let mut raw = TcpStream::connect(s.addr).await.unwrap();
    raw.write_all(
        b"POST /v1.44/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n{\"Image\":",
    )
    .await
    .unwrap();
    let answer = String::from_utf8(read_to_close(&mut raw).await).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
        "{answer}"
    );
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(
        answer.ends_with("{\"message\":\"request body is larger than the limit of 1024 bytes\"}\n"),
        "{answer}"
    );

    // Chunked, with no length: cut off at the limit.
    let mut raw = TcpStream::connect(s.addr).await.unwrap();
    raw.write_all(
        b"POST /v1.44/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    )
    .await
    .unwrap();
    let chunk = format!("800\r\n{}\r\n", "x".repeat(0x800));
    raw.write_all(chunk.as_bytes()).await.unwrap();
    let answer = String::from_utf8(read_to_close(&mut raw).await).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
        "{answer}"
    );

    // The server is fine.
    let ping = call(s.addr, Method::GET, "/_ping", None).await;
    assert_eq!(ping.status, StatusCode::OK);
    // A body within the limit is fine too.
    create(s.addr, "web").await;
}

#[tokio::test]
async fn connections_over_the_limit_get_a_503() {
    let limits = ServerLimits {
        max_connections: 1,
        ..ServerLimits::default()
    };
    let s = start(Config::default(), limits).await;
    let mut first = Client::tcp(s.addr).await;
    assert_eq!(
        first.call(Method::GET, "/_ping", None).await.status,
        StatusCode::OK
    );
    // The first connection is still open (keep-alive): the second is refused.
    let refused = call(s.addr, Method::GET, "/_ping", None).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers["content-type"], "application/json");
    assert_eq!(
        refused.json()["message"],
        "too many connections to mesoswarm (limit 1); try again"
    );
    // Once the first one goes, there is room again.
    drop(first);
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let a = call(s.addr, Method::GET, "/_ping", None).await;
        if a.status == StatusCode::OK {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot was never freed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_client_that_sends_no_headers_is_disconnected() {
    let limits = ServerLimits {
        header_read_timeout: Duration::from_millis(200),
        ..ServerLimits::default()
    };
    let s = start(Config::default(), limits).await;
    let mut raw = TcpStream::connect(s.addr).await.unwrap();
    raw.write_all(b"GET /_ping HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    let _ = read_to_close(&mut raw).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    let ping = call(s.addr, Method::GET, "/_ping", None).await;
    assert_eq!(ping.status, StatusCode::OK);
}

#[tokio::test]
async fn garbage_does_not_break_the_server() {
    let s = start(Config::default(), ServerLimits::default()).await;
    let inputs: Vec<Vec<u8>> = vec![
        b"\x00\x01\x02\xff\xfe garbage\r\n\r\n".to_vec(),
        b"GET /%ff%00/../json HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n\xff\xfe\x00{["
            .to_vec(),
        b"POST /containers/create?name=%zz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
            .to_vec(),
        b"GET /events?since=abc&filters=%7B HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"DELETE /containers/ HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /v99.0/info HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100_000)).into_bytes(),
    ];
    for input in inputs {
        let mut raw = TcpStream::connect(s.addr).await.unwrap();
        let _ = raw.write_all(&input).await;
        let _ = raw.shutdown().await;
        let answer = read_to_close(&mut raw).await;
        if !answer.is_empty() {
            let head = String::from_utf8_lossy(&answer[..answer.len().min(12)]).into_owned();
            assert!(
                head.starts_with("HTTP/1.1 4"),
                "{head}: {:?}",
                String::from_utf8_lossy(&answer)
            );
        }
    }
    let ping = call(s.addr, Method::GET, "/_ping", None).await;
    assert_eq!(ping.status, StatusCode::OK);
}

#[tokio::test]
async fn a_client_that_leaves_while_its_start_waits_is_forgotten() {
    // Without a master, a start waits for an offer. One waiting request at most: the wait
    // afterwards only succeeds if the start's waiter was dropped when its client left.
    let mut config = Config::default();
    config.limits.max_waiting_requests = 1;
    let s = start(config, ServerLimits::default()).await;
    create(s.addr, "web").await;
    let mut raw = TcpStream::connect(s.addr).await.unwrap();
    raw.write_all(
        b"POST /v1.44/containers/web/start HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    )
    .await
    .unwrap();
    // Let the start reach the core, then leave.
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(raw);
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let mut c = Client::tcp(s.addr).await;
        let resp = c
            .send(Method::POST, "/v1.44/containers/web/wait", None)
            .await;
        if resp.status() == StatusCode::OK {
            break;
        }
        let a = read(resp).await;
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.text());
        assert!(
            tokio::time::Instant::now() < deadline,
            "the start's waiter was never dropped"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
