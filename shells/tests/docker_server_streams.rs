//! Streamed answers: a wait's headers go out before its body, `docker events` streams live
//! events and ends at `until`, and a client leaving mid-wait is noticed.

mod docker_server_support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use docker_server_support::{call, create, read, start, Client, STEP};
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use mesoswarm_core::Config;
use mesoswarm_shell::docker_server::ServerLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn unix_now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[tokio::test]
async fn wait_headers_arrive_before_the_container_exits() {
    let s = start(Config::default(), ServerLimits::default()).await;
    create(s.addr, "web").await;
    let mut waiter = Client::tcp(s.addr).await;
    // Returns once the status line and headers are in.
    let resp = waiter
        .send(
            Method::POST,
            "/v1.44/containers/web/wait?condition=next-exit",
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.headers()["api-version"], "1.44");
    let mut body = resp.into_body();
    // The body is still pending: the container has not exited.
    let early = tokio::time::timeout(Duration::from_millis(300), body.frame()).await;
    assert!(
        early.is_err(),
        "the wait body came before the exit: {early:?}"
    );

    let rm = call(
        s.addr,
        Method::DELETE,
        "/v1.44/containers/web?force=1",
        None,
    )
    .await;
    assert_eq!(rm.status, StatusCode::NO_CONTENT);
    let rest = tokio::time::timeout(STEP, body.collect())
        .await
        .expect("the wait ends when the container is removed")
        .unwrap()
        .to_bytes();
    assert_eq!(&rest[..], b"{\"Error\":null,\"StatusCode\":0}\n");
}

#[tokio::test]
async fn events_stream_live_events_and_end_at_until() {
    let s = start(Config::default(), ServerLimits::default()).await;
    let until = unix_now_secs() + 1.5;
    let mut watcher = Client::tcp(s.addr).await;
    let resp = watcher
        .send(
            Method::GET,
            &format!(
                "/v1.44/events?until={until:.3}&filters=%7B%22event%22%3A%5B%22create%22%5D%7D"
            ),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let mut body = resp.into_body();

    let id = create(s.addr, "web").await;
    // A destroy does not pass the filter.
    let rm = call(s.addr, Method::DELETE, "/v1.44/containers/web", None).await;
    assert_eq!(rm.status, StatusCode::NO_CONTENT);

    let frame = tokio::time::timeout(STEP, body.frame())
        .await
        .expect("the create event arrives")
        .expect("the stream is open")
        .unwrap();
    let line = frame.into_data().unwrap();
    let event: serde_json::Value = serde_json::from_slice(&line).unwrap();
    assert_eq!(event["Type"], "container");
    assert_eq!(event["Action"], "create");
    assert_eq!(event["status"], "create");
    assert_eq!(event["Actor"]["ID"], id.as_str());
    assert_eq!(event["Actor"]["Attributes"]["name"], "web");
    assert!(line.ends_with(b"\n"));

    // Nothing else passes the filter, and the stream ends at `until`.
    let rest = tokio::time::timeout(STEP, body.collect())
        .await
        .expect("the stream ends at until")
        .unwrap()
        .to_bytes();
    assert!(rest.is_empty(), "{rest:?}");
    assert!(unix_now_secs() >= until - 0.05);
}

#[tokio::test]
async fn events_since_and_until_in_the_past_replay_the_history_and_end() {
    let s = start(Config::default(), ServerLimits::default()).await;
    let since = unix_now_secs() - 60.0;
    create(s.addr, "one").await;
    create(s.addr, "two").await;
    let until = unix_now_secs() + 0.001;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let a = call(
        s.addr,
        Method::GET,
        &format!("/events?since={since:.3}&until={until:.6}"),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let names: Vec<String> = a
        .text()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!(
                "{} {}",
                v["Action"].as_str().unwrap(),
                v["Actor"]["Attributes"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(names, ["create one", "create two"]);
}

#[tokio::test]
async fn a_client_that_leaves_mid_wait_is_forgotten_and_the_server_goes_on() {
    // One waiting request at most: the second wait only succeeds if the first one's
    // waiter was dropped when its client left.
    let mut config = Config::default();
    config.limits.max_waiting_requests = 1;
    let s = start(config, ServerLimits::default()).await;
    create(s.addr, "web").await;

    let mut raw = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    raw.write_all(
        b"POST /v1.44/containers/web/wait?condition=next-exit HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    )
    .await
    .unwrap();
    let mut head = vec![0u8; 1024];
    let n = tokio::time::timeout(STEP, raw.read(&mut head))
        .await
        .unwrap()
        .unwrap();
    assert!(
        head[..n].starts_with(b"HTTP/1.1 200 OK\r\n"),
        "{:?}",
        String::from_utf8_lossy(&head[..n])
    );
    drop(raw);

    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let mut c = Client::tcp(s.addr).await;
        let resp = c
            .send(
                Method::POST,
                "/v1.44/containers/web/wait?condition=next-exit",
                None,
            )
            .await;
        if resp.status() == StatusCode::OK {
            break;
        }
        let a = read(resp).await;
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.text());
        assert!(
            tokio::time::Instant::now() < deadline,
            "the first waiter was never dropped"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ping = call(s.addr, Method::GET, "/_ping", None).await;
    assert_eq!(ping.status, StatusCode::OK);
}
