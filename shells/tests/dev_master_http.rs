//! The simulated master behind real HTTP answers like a real Mesos 1.11 master for what a
//! framework uses: status codes, headers, RecordIO framing of protobuf events, redirects
//! from a non-leading master.

mod mesos_support;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use mesoswarm_core::config::FrameworkConfig;
use mesoswarm_core::manager::calls;
use mesoswarm_proto::recordio::Decoder;
use mesoswarm_proto::scheduler::{event, Event};
use mesoswarm_shell::clock::Clock;
use mesoswarm_shell::dev::master_http::SimMasterServer;
use mesoswarm_shell::mesos::MasterSource;
use mesoswarm_shell::runtime::{tokio::TokioRuntime, Runtime};
use mesoswarm_sim::{ClusterConfig, SimCluster};
use prost::Message;

use mesos_support::{test_config, Link};

const PATH: &str = "/master/api/v1/scheduler";

async fn start_master(follower_of: Option<String>) -> u16 {
    let rt = TokioRuntime;
    let listener = rt.bind_tcp("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let port: u16 = listener
        .local_addr()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut cluster = SimCluster::new(ClusterConfig {
        agents: 2,
        ..ClusterConfig::default()
    });
    cluster.set_master_address("127.0.0.1", port);
    // Simulated agents run tasks themselves: nothing is sent to an outside executor.
    let (tx, _rx) = async_channel::bounded(16);
    let mut server = SimMasterServer::new(rt.clone(), Clock::new(), cluster, tx);
    if let Some(leader) = follower_of {
        server = server.follower_of(&leader);
    }
    rt.spawn(Box::pin(server.serve(listener)));
    port
}

/// One request on a fresh connection; returns the response with its body still streaming.
async fn post(
    port: u16,
    method: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> http::Response<hyper::body::Incoming> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = http::Request::builder()
        .method(method)
        .uri(PATH)
        .header("host", format!("127.0.0.1:{port}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send.send_request(req.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap()
}

fn subscribe_body() -> Vec<u8> {
    calls::subscribe(&FrameworkConfig::default(), None, false).encode_to_vec()
}

const PROTOBUF: (&str, &str) = ("content-type", "application/x-protobuf");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_codes_and_headers_follow_the_real_master() {
    let port = start_master(None).await;
    let r = post(port, "GET", &[], Vec::new()).await;
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
    assert_eq!(
        post(port, "POST", &[], subscribe_body()).await.status(),
        400,
        "no Content-Type"
    );
    let r = post(
        port,
        "POST",
        &[("content-type", "application/json; charset=utf-8")],
        subscribe_body(),
    )
    .await;
    assert_eq!(r.status(), 415, "Content-Type must match exactly");
    let r = post(
        port,
        "POST",
        &[PROTOBUF, ("mesos-stream-id", "x")],
        subscribe_body(),
    )
    .await;
    assert_eq!(r.status(), 400, "SUBSCRIBE must not carry Mesos-Stream-Id");
    let r = post(
        port,
        "POST",
        &[PROTOBUF, ("accept", "text/plain")],
        subscribe_body(),
    )
    .await;
    assert_eq!(r.status(), 406);
    assert_eq!(
        post(port, "POST", &[PROTOBUF], b"\xff\xff".to_vec())
            .await
            .status(),
        400,
        "not a Call"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_streams_recordio_protobuf_events_and_calls_need_the_stream_id() {
    let port = start_master(None).await;
    let r = post(
        port,
        "POST",
        &[PROTOBUF, ("accept", "application/x-protobuf")],
        subscribe_body(),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-protobuf");
    let stream_id = r.headers()["mesos-stream-id"].to_str().unwrap().to_string();
    assert_eq!(stream_id.len(), 36, "a UUID");
    let mut body = r.into_body();
    let mut decoder = Decoder::new();
    let mut events: Vec<Event> = Vec::new();
    while events.len() < 3 {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame())
            .await
            .expect("events in time");
        let data = frame.expect("stream open").unwrap().into_data().unwrap();
        decoder.feed(&data);
        while let Some(rec) = decoder.next_record().unwrap() {
            events.push(Event::decode(rec).unwrap());
        }
    }
    let types: Vec<_> = events.iter().map(|e| e.r#type()).collect();
    assert_eq!(
        types[..2],
        [event::Type::Subscribed, event::Type::Heartbeat],
        "SUBSCRIBED, then a HEARTBEAT at once"
    );
    let fw = events[0]
        .subscribed
        .as_ref()
        .unwrap()
        .framework_id
        .value
        .clone();
    let revive = calls::revive(&fw, "*").encode_to_vec();
    assert_eq!(
        post(port, "POST", &[PROTOBUF], revive.clone())
            .await
            .status(),
        400,
        "no stream id"
    );
    assert_eq!(
        post(
            port,
            "POST",
            &[PROTOBUF, ("mesos-stream-id", "stale")],
            revive.clone()
        )
        .await
        .status(),
        400
    );
    assert_eq!(
        post(
            port,
            "POST",
            &[PROTOBUF, ("mesos-stream-id", stream_id.as_str())],
            revive
        )
        .await
        .status(),
        202
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_redirects_to_the_leader_and_the_client_follows() {
    let leader = start_master(None).await;
    let follower = start_master(Some(format!("127.0.0.1:{leader}"))).await;
    let r = post(follower, "POST", &[PROTOBUF], subscribe_body()).await;
    assert_eq!(r.status(), 307);
    assert_eq!(
        r.headers()["location"],
        format!("//127.0.0.1:{leader}{PATH}")
    );
    // mesoswarm's own Mesos client, pointed at the follower, ends up subscribed at the leader.
    let link = Link::start(test_config(MasterSource::Static(vec![(
        "127.0.0.1".into(),
        follower,
    )])));
    link.connected().await;
    link.call(calls::subscribe(&FrameworkConfig::default(), None, false))
        .await;
    let s = link.event_skipping(event::Type::Subscribed).await;
    assert!(s.subscribed.unwrap().framework_id.value.ends_with("-0000"));
}
