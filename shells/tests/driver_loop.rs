//! The driver around a real manager: link events in, Mesos calls out, timers, the store
//! thread, the request queue, `docker events` fan-out, clients leaving, and shutdown.

use std::time::Duration;

use mesoswarm_core::docker::request::{DockerRequest, EventsQuery, WaitCondition};
use mesoswarm_core::docker::DockerResponse;
use mesoswarm_core::spec::ContainerSpec;
use mesoswarm_core::{Config, Manager, Record};
use mesoswarm_proto::scheduler::{call, event, Event};
use mesoswarm_proto::v1::FrameworkId;
use mesoswarm_shell::driver::{
    spawn_driver, Driver, DriverHandle, DriverLimits, LinkCommand, LinkEvent, Responses,
};
use mesoswarm_shell::runtime::tokio::TokioRuntime;
use mesoswarm_shell::store::Store;

const STEP: Duration = Duration::from_secs(10);

struct Running {
    handle: DriverHandle,
    commands: async_channel::Receiver<LinkCommand>,
    events: async_channel::Sender<LinkEvent>,
}

fn run(config: Config, store: Store, limits: DriverLimits) -> Running {
    let (cmd_tx, commands) = async_channel::bounded(64);
    let (events, ev_rx) = async_channel::bounded(64);
    let handle = spawn_driver(
        &TokioRuntime,
        Manager::new(config),
        store,
        cmd_tx,
        ev_rx,
        limits,
    )
    .unwrap();
    Running {
        handle,
        commands,
        events,
    }
}

fn create_request(name: &str) -> DockerRequest {
    DockerRequest::ContainerCreate {
        name: Some(name.into()),
        spec: Box::new(ContainerSpec {
            image: "busybox".into(),
            ..ContainerSpec::default()
        }),
        warnings: vec![],
    }
}

async fn next(r: &mut Responses) -> Option<DockerResponse> {
    tokio::time::timeout(STEP, r.next())
        .await
        .expect("the driver answers in time")
}

async fn ask(handle: &DriverHandle, request: DockerRequest) -> DockerResponse {
    let mut r = handle.submit(request).expect("queued");
    next(&mut r).await.expect("an answer")
}

async fn command(commands: &async_channel::Receiver<LinkCommand>) -> LinkCommand {
    tokio::time::timeout(STEP, commands.recv())
        .await
        .expect("a command in time")
        .expect("the driver is running")
}

fn subscribed(framework_id: &str) -> Event {
    Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: FrameworkId {
                value: framework_id.into(),
            },
            heartbeat_interval_seconds: Some(15.0),
            master_info: None,
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn connecting_subscribes_and_a_silent_master_is_left_on_the_core_timer() {
    let config = Config {
        default_heartbeat_interval_ms: 100,
        heartbeat_misses_before_reconnect: 2,
        ..Config::default()
    };
    let d = run(config, Store::in_memory().unwrap(), DriverLimits::default());
    d.events
        .send(LinkEvent::Connected {
            master: "127.0.0.1:5050".into(),
        })
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    match command(&d.commands).await {
        LinkCommand::Call(c) => assert_eq!(c.r#type, Some(call::Type::Subscribe as i32)),
        other => panic!("expected SUBSCRIBE, got {other:?}"),
    }
    // No event for two heartbeat intervals: the core's timer fires through the driver.
    match command(&d.commands).await {
        LinkCommand::Reconnect { reason } => {
            assert!(reason.contains("heartbeat"), "{reason}")
        }
        other => panic!("expected a reconnect, got {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(190));
}

#[tokio::test]
async fn records_reach_the_file_before_shutdown_completes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let d = run(
        Config::default(),
        Store::open(&path).unwrap(),
        DriverLimits::default(),
    );
    d.events
        .send(LinkEvent::Connected {
            master: "127.0.0.1:5050".into(),
        })
        .await
        .unwrap();
    d.events
        .send(LinkEvent::Event(Box::new(subscribed("fw-7"))))
        .await
        .unwrap();
    let created = ask(&d.handle, create_request("web")).await;
    let DockerResponse::Created { id, .. } = created else {
        panic!("{created:?}")
    };
    d.handle.shutdown();
    tokio::time::timeout(STEP, d.handle.closed())
        .await
        .expect("the driver stops");
    // After shutdown new requests are refused with a 503.
    let refused = d.handle.submit(DockerRequest::Info).unwrap_err();
    let DockerResponse::Error(e) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(e.status.as_u16(), 503);

    // The driver has stopped, so the file is closed: it can be opened again at once.
    let records = Store::open(&path).unwrap().load().unwrap();
    assert_eq!(records[0], Record::FrameworkId(Some("fw-7".into())));
    assert!(
        records
            .iter()
            .any(|r| matches!(r, Record::Container(c) if c.id == id && c.name == "web")),
        "{records:?}"
    );
}

#[tokio::test]
async fn a_full_request_queue_is_a_503_at_once() {
    let (cmd_tx, _commands) = async_channel::bounded(1);
    let (_events, ev_rx) = async_channel::bounded(1);
    let limits = DriverLimits {
        max_queued_requests: 2,
        ..DriverLimits::default()
    };
    // Not running: nothing takes requests off the queue.
    let (_driver, handle) = Driver::new(
        TokioRuntime,
        Manager::new(Config::default()),
        Store::in_memory().unwrap(),
        cmd_tx,
        ev_rx,
        limits,
    )
    .unwrap();
    let _a = handle.submit(DockerRequest::Info).unwrap();
    let _b = handle.submit(DockerRequest::Info).unwrap();
    let refused = handle.submit(DockerRequest::Info).unwrap_err();
    let DockerResponse::Error(e) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(e.status.as_u16(), 503);
    assert!(e.message.contains("busy"), "{}", e.message);
}

#[tokio::test]
async fn events_fan_out_and_a_subscriber_that_falls_behind_is_dropped() {
    let limits = DriverLimits {
        event_subscriber_buffer: 1,
        ..DriverLimits::default()
    };
    let d = run(Config::default(), Store::in_memory().unwrap(), limits);
    let mut fast = d
        .handle
        .submit(DockerRequest::Events(EventsQuery::default()))
        .unwrap();
    let mut slow = d
        .handle
        .submit(DockerRequest::Events(EventsQuery::default()))
        .unwrap();
    assert_eq!(next(&mut fast).await, Some(DockerResponse::Events(vec![])));
    assert_eq!(next(&mut slow).await, Some(DockerResponse::Events(vec![])));
    for name in ["one", "two", "three"] {
        assert!(matches!(
            ask(&d.handle, create_request(name)).await,
            DockerResponse::Created { .. }
        ));
        // The fast subscriber keeps up.
        match next(&mut fast).await {
            Some(DockerResponse::Events(events)) => {
                assert_eq!(events.len(), 1);
                assert_eq!(events[0].action, "create");
                assert_eq!(events[0].name, name);
            }
            other => panic!("{other:?}"),
        }
    }
    // The slow one got what fit in its buffer, then its stream ended.
    let mut got = 0;
    while let Some(answer) = next(&mut slow).await {
        assert!(matches!(answer, DockerResponse::Events(_)));
        got += 1;
    }
    assert!(got < 3, "{got}");
}

#[tokio::test]
async fn a_dropped_request_is_reported_gone_to_the_core() {
    let mut config = Config::default();
    config.limits.max_waiting_requests = 1;
    let d = run(config, Store::in_memory().unwrap(), DriverLimits::default());
    assert!(matches!(
        ask(&d.handle, create_request("web")).await,
        DockerResponse::Created { .. }
    ));
    let wait = || DockerRequest::ContainerWait {
        container: "web".into(),
        condition: WaitCondition::NextExit,
    };
    let mut first = d.handle.submit(wait()).unwrap();
    assert_eq!(next(&mut first).await, Some(DockerResponse::WaitPending));
    // The only waiting slot is taken.
    assert!(matches!(
        ask(&d.handle, wait()).await,
        DockerResponse::Error(e) if e.status.as_u16() == 503
    ));
    drop(first);
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        match ask(&d.handle, wait()).await {
            DockerResponse::WaitPending => break,
            DockerResponse::Error(e) if e.status.as_u16() == 503 => {
                assert!(tokio::time::Instant::now() < deadline, "never forgotten");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            other => panic!("{other:?}"),
        }
    }
}
