//! The Mesos link against fake masters over real HTTP on loopback: subscribe, events,
//! calls with the stream id, redirects, a master list, reconnections, chunking, basic auth.

mod mesos_support;

use base64::Engine as _;
use mesoswarm_proto::scheduler::{call, event};
use mesoswarm_shell::mesos::{Credential, LinkCommand, MasterSource};

use mesos_support::fake_master::{Behaviour, FakeMaster};
use mesos_support::{decline_call, subscribe_call, test_config, Link};

fn only(master: &FakeMaster) -> MasterSource {
    MasterSource::Static(vec![("127.0.0.1".into(), master.port)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribes_and_forwards_events() {
    let master = FakeMaster::start().await;
    let link = Link::start(test_config(only(&master)));
    assert_eq!(link.connected().await, master.addr);

    link.call(subscribe_call()).await;
    let subscribed = link.event(event::Type::Subscribed).await;
    let s = subscribed.subscribed.unwrap();
    assert_eq!(s.framework_id.value, "fake-master-0000");
    assert_eq!(s.heartbeat_interval_seconds, Some(15.0));
    link.event(event::Type::Heartbeat).await;
    let offers = link.event(event::Type::Offers).await;
    assert_eq!(offers.offers.unwrap().offers.len(), 1);

    let got = master.next_call().await;
    assert_eq!(got.call.r#type(), call::Type::Subscribe);
    assert_eq!(got.status, 200);
    assert_eq!(got.stream_id, None, "SUBSCRIBE must not carry a stream id");
    assert_eq!(got.accept.as_deref(), Some("application/x-protobuf"));
    assert_eq!(got.authorization, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_carry_the_stream_id() {
    let master = FakeMaster::start().await;
    let link = Link::start(test_config(only(&master)));
    link.connected().await;
    // Not subscribed yet: dropped, never sent.
    link.call(decline_call("too-early")).await;
    link.subscribe_and_expect_events().await;
    let stream = master.current_stream().unwrap();

    link.call(decline_call("offer-1")).await;
    link.call(decline_call("offer-2")).await;
    let first = master.next_call().await;
    assert_eq!(
        first.call.r#type(),
        call::Type::Subscribe,
        "the early DECLINE was dropped"
    );
    for offer in ["offer-1", "offer-2"] {
        let got = master.next_call().await;
        assert_eq!(got.call.r#type(), call::Type::Decline);
        assert_eq!(
            got.call.decline.unwrap().offer_ids[0].value,
            offer,
            "calls arrive in order"
        );
        assert_eq!(got.stream_id.as_deref(), Some(stream.as_str()));
        assert_eq!(got.status, 202);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_a_redirect_to_the_leader() {
    let leader = FakeMaster::start().await;
    let follower = FakeMaster::with(Behaviour {
        redirect_to: Some(format!(
            "//127.0.0.1:{}/master/api/v1/scheduler",
            leader.port
        )),
        ..Behaviour::default()
    })
    .await;
    let link = Link::start(test_config(only(&follower)));
    assert_eq!(link.connected().await, follower.addr);
    link.subscribe_and_expect_events().await;
    assert_eq!(follower.next_call().await.status, 307);
    assert_eq!(leader.next_call().await.status, 200);

    // Calls go to the leader too.
    link.call(decline_call("offer-1")).await;
    let got = leader.next_call_of(call::Type::Decline).await;
    assert_eq!(got.status, 202);
    assert_eq!(got.stream_id, leader.current_stream());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skips_a_master_that_refuses_connections() {
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = refused.local_addr().unwrap().port();
    drop(refused);
    let master = FakeMaster::start().await;
    let link = Link::start(test_config(MasterSource::Static(vec![
        ("127.0.0.1".into(), dead_port),
        ("127.0.0.1".into(), master.port),
    ])));
    assert_eq!(link.connected().await, master.addr);
    link.subscribe_and_expect_events().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_when_the_stream_ends() {
    let master = FakeMaster::start().await;
    let link = Link::start(test_config(only(&master)));
    link.connected().await;
    link.subscribe_and_expect_events().await;
    let first = master.current_stream().unwrap();

    master.close_streams();
    let reason = link.disconnected().await;
    assert!(reason.contains("ended"), "{reason}");
    assert_eq!(link.connected().await, master.addr);
    link.subscribe_and_expect_events().await;
    let second = master.current_stream().unwrap();
    assert_ne!(first, second);

    link.call(decline_call("offer-x")).await;
    let got = master.next_call_of(call::Type::Decline).await;
    assert_eq!(got.stream_id.as_deref(), Some(second.as_str()));
    assert_eq!(got.status, 202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_stream_id_means_reconnect() {
    let master = FakeMaster::start().await;
    let link = Link::start(test_config(only(&master)));
    link.connected().await;
    link.subscribe_and_expect_events().await;
    let first = master.current_stream().unwrap();

    master.steal_framework();
    link.call(decline_call("offer-1")).await;
    let reason = link.disconnected().await;
    assert!(reason.contains("didn't match the stream ID"), "{reason}");
    assert_eq!(master.next_call_of(call::Type::Decline).await.status, 400);
    master.stream_closed_by_client(&first).await;

    assert_eq!(link.connected().await, master.addr);
    link.subscribe_and_expect_events().await;
    assert_ne!(master.current_stream().unwrap(), first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_core_can_ask_for_a_reconnect() {
    let master = FakeMaster::start().await;
    let link = Link::start(test_config(only(&master)));
    link.connected().await;
    link.subscribe_and_expect_events().await;
    let first = master.current_stream().unwrap();

    let reason = "no event for 5 heartbeat intervals".to_string();
    link.commands
        .send(LinkCommand::Reconnect {
            reason: reason.clone(),
        })
        .await
        .unwrap();
    assert_eq!(link.disconnected().await, reason);
    master.stream_closed_by_client(&first).await;
    assert_eq!(link.connected().await, master.addr);
    link.subscribe_and_expect_events().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscribe_for_a_superseded_connection_is_dropped() {
    let master = FakeMaster::start().await;
    let link = Link::start(test_config(only(&master)));
    link.connected().await;
    // The connection is given up before the core's SUBSCRIBE arrives...
    link.commands
        .send(LinkCommand::Reconnect {
            reason: "test".into(),
        })
        .await
        .unwrap();
    link.disconnected().await;
    link.connected().await;
    // ...so of the two SUBSCRIBEs (one per Connected) only the second is sent.
    link.call(subscribe_call()).await;
    link.subscribe_and_expect_events().await;
    link.call(decline_call("offer-1")).await;
    assert_eq!(
        master.next_call().await.call.r#type(),
        call::Type::Subscribe
    );
    assert_eq!(master.next_call().await.call.r#type(), call::Type::Decline);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_a_master_that_is_not_ready() {
    let master = FakeMaster::with(Behaviour {
        unavailable_subscribes: 2,
        ..Behaviour::default()
    })
    .await;
    let link = Link::start(test_config(only(&master)));
    for _ in 0..2 {
        link.connected().await;
        link.call(subscribe_call()).await;
        let reason = link.disconnected().await;
        assert!(reason.contains("503"), "{reason}");
    }
    link.connected().await;
    link.subscribe_and_expect_events().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_split_across_tiny_chunks() {
    for chunk_bytes in [1, 2, 7] {
        let master = FakeMaster::with(Behaviour {
            chunk_bytes,
            ..Behaviour::default()
        })
        .await;
        let link = Link::start(test_config(only(&master)));
        link.connected().await;
        link.subscribe_and_expect_events().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_basic_auth_when_configured() {
    let master = FakeMaster::start().await;
    let mut config = test_config(only(&master));
    config.credential = Some(Credential {
        principal: "swarm".into(),
        secret: "s3cret".into(),
    });
    let link = Link::start(config);
    link.connected().await;
    link.subscribe_and_expect_events().await;
    link.call(decline_call("offer-1")).await;

    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("swarm:s3cret")
    );
    let subscribe = master.next_call_of(call::Type::Subscribe).await;
    assert_eq!(subscribe.authorization.as_deref(), Some(expected.as_str()));
    let decline = master.next_call_of(call::Type::Decline).await;
    assert_eq!(decline.authorization.as_deref(), Some(expected.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stops_when_the_driver_goes_away() {
    let master = FakeMaster::start().await;
    let link = Link::start(test_config(only(&master)));
    link.connected().await;
    link.subscribe_and_expect_events().await;
    let stream = master.current_stream().unwrap();
    let Link { commands, events } = link;
    drop(commands);
    drop(events);
    master.stream_closed_by_client(&stream).await;
}
