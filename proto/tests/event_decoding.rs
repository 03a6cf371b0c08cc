//! Decodes `Event`s built byte by byte (with the prost-independent writer in
//! `common`) from the field numbers in the reference tables, so a wrong
//! number in our `.proto` files shows up as a wrong or missing value.

mod common;

use common::*;
use mesoswarm_proto::recordio;
use mesoswarm_proto::scheduler::{event, Event};
use mesoswarm_proto::v1::{self, task_status, value, TaskState};
use prost::Message;

fn uuid() -> Vec<u8> {
    (0u8..16).collect()
}

/// Event{type: UPDATE, update{status{...}}} with most TaskStatus fields.
fn update_bytes() -> Vec<u8> {
    let ip_address = msg(5, &[vint(1, 1), string(2, "10.0.0.5")]); // NetworkInfo.ip_addresses
    let container_status = msg(
        13,
        &[
            id(4, "ctr"),                      // container_id
            msg(1, &[ip_address]),             // network_infos
            msg(2, &[msg(1, &[vint(1, 42)])]), // cgroup_info.net_cls.classid
            vint(3, 123),                      // executor_pid
        ],
    );
    let status = msg(
        1,
        &[
            id(1, "t1"),                                           // task_id
            vint(2, 1),                                            // state = TASK_RUNNING
            string(4, "ok"),                                       // message
            vint(9, 2),                                            // source = SOURCE_EXECUTOR
            vint(10, 29),    // reason = REASON_TASK_HEALTH_CHECK_STATUS_UPDATED
            ld(3, b"[{}]"),  // data
            id(5, "a1"),     // agent_id
            id(7, "e1"),     // executor_id
            double(6, 1.5),  // timestamp
            ld(11, &uuid()), // uuid
            vint(8, 1),      // healthy
            msg(15, &[vint(1, 3), msg(4, &[vint(1, 1)])]), // check_status: TCP, succeeded
            msg(12, &[msg(1, &[string(1, "k"), string(2, "v")])]), // labels
            container_status,
            msg(14, &[vint(1, 7)]), // unreachable_time.nanoseconds
            msg(16, &[]),           // limitation (tag 16: two-byte key)
        ],
    );
    [vint(1, 4), msg(5, &[status])].concat()
}

#[test]
fn decodes_a_hand_built_update() {
    let event = Event::decode(&update_bytes()[..]).unwrap();
    assert_eq!(event.r#type(), event::Type::Update);
    let s = event.update.unwrap().status;
    assert_eq!(s.task_id.value, "t1");
    assert_eq!(s.state(), TaskState::TaskRunning);
    assert_eq!(s.message(), "ok");
    assert_eq!(s.source(), task_status::Source::Executor);
    assert_eq!(
        s.reason(),
        task_status::Reason::TaskHealthCheckStatusUpdated
    );
    assert_eq!(s.data(), b"[{}]");
    assert_eq!(s.agent_id.as_ref().unwrap().value, "a1");
    assert_eq!(s.executor_id.as_ref().unwrap().value, "e1");
    assert_eq!(s.timestamp, Some(1.5));
    assert_eq!(s.uuid(), &uuid()[..]);
    assert_eq!(s.healthy, Some(true));
    let check = s.check_status.unwrap();
    assert_eq!(check.r#type(), v1::check_info::Type::Tcp);
    assert_eq!(check.tcp.unwrap().succeeded, Some(true));
    let label = &s.labels.unwrap().labels[0];
    assert_eq!((label.key.as_str(), label.value()), ("k", "v"));
    let cs = s.container_status.unwrap();
    assert_eq!(cs.container_id.unwrap().value, "ctr");
    assert_eq!(cs.network_infos[0].ip_addresses[0].ip_address(), "10.0.0.5");
    assert_eq!(cs.cgroup_info.unwrap().net_cls.unwrap().classid, Some(42));
    assert_eq!(cs.executor_pid, Some(123));
    assert_eq!(s.unreachable_time.unwrap().nanoseconds, 7);
    assert!(s.limitation.is_some());
}

#[test]
fn reencoding_the_update_gives_the_same_bytes() {
    // prost writes fields in tag order; our hand-built bytes use table
    // order, so compare after a decode/encode/decode round trip instead.
    let event = Event::decode(&update_bytes()[..]).unwrap();
    let again = Event::decode(&event.encode_to_vec()[..]).unwrap();
    assert_eq!(event, again);
}

#[test]
fn decodes_subscribed_with_master_info() {
    let master_info = msg(
        3,
        &[
            string(1, "master-uuid"),
            vint(2, 16_777_343),
            vint(3, 5050),
            string(4, "master@127.0.0.1:5050"),
            string(5, "localhost"),
            string(6, "1.11.0"),
            msg(
                7,
                &[
                    string(1, "localhost"),
                    string(2, "127.0.0.1"),
                    vint(3, 5050),
                ],
            ),
            msg(9, &[vint(1, 1)]),
            msg(9, &[vint(1, 2)]),
            msg(9, &[vint(1, 3)]), // QUOTA_V2: unknown to 1.11.0's v1 enum
        ],
    );
    let bytes = [
        vint(1, 1),
        msg(2, &[id(1, "fw-0000"), double(2, 15.0), master_info]),
    ]
    .concat();
    let event = Event::decode(&bytes[..]).unwrap();
    assert_eq!(event.r#type(), event::Type::Subscribed);
    let sub = event.subscribed.unwrap();
    assert_eq!(sub.framework_id.value, "fw-0000");
    assert_eq!(sub.heartbeat_interval_seconds, Some(15.0));
    let mi = sub.master_info.unwrap();
    assert_eq!(mi.id, "master-uuid");
    assert_eq!(mi.ip, 16_777_343);
    assert_eq!(
        mesoswarm_proto::zk::master_info_ip(mi.ip).to_string(),
        "127.0.0.1"
    );
    assert_eq!(mi.port, 5050);
    assert_eq!(mi.pid(), "master@127.0.0.1:5050");
    assert_eq!(mi.version(), "1.11.0");
    let addr = mi.address.unwrap();
    assert_eq!(
        (addr.hostname(), addr.ip(), addr.port),
        ("localhost", "127.0.0.1", 5050)
    );
    let caps: Vec<i32> = mi.capabilities.iter().map(|c| c.r#type.unwrap()).collect();
    assert_eq!(caps, [1, 2, 3], "unknown enum values survive as i32");
    assert_eq!(
        mi.capabilities[0].r#type(),
        v1::master_info::capability::Type::AgentUpdate
    );
}

#[test]
fn decodes_offers_with_resources() {
    let cpus = msg(
        5,
        &[
            string(1, "cpus"),
            vint(2, 0), // SCALAR
            msg(3, &[double(1, 2.0)]),
            string(6, "*"),
            msg(11, &[string(1, "*")]),
        ],
    );
    let ports = msg(
        5,
        &[
            string(1, "ports"),
            vint(2, 1), // RANGES
            msg(4, &[msg(1, &[vint(1, 31000), vint(2, 31010)])]),
            msg(13, &[vint(4, 2), string(3, "eng"), string(1, "p")]), // reservations
        ],
    );
    let offer = msg(
        1,
        &[
            id(1, "m-O1"),
            id(2, "fw"),
            id(3, "m-S0"),
            string(4, "agent1"),
            msg(
                8,
                &[
                    string(1, "http"),
                    msg(2, &[vint(3, 5051)]),
                    string(3, "/slave(1)"),
                ],
            ),
            cpus,
            ports,
            msg(
                7,
                &[string(1, "rack"), vint(2, 3), msg(5, &[string(1, "r1")])],
            ),
            id(6, "exec"),
            msg(10, &[string(1, "*")]),
        ],
    );
    let bytes = [vint(1, 2), msg(3, &[offer])].concat();
    let event = Event::decode(&bytes[..]).unwrap();
    assert_eq!(event.r#type(), event::Type::Offers);
    let offer = &event.offers.unwrap().offers[0];
    assert_eq!(offer.id.value, "m-O1");
    assert_eq!(offer.framework_id.value, "fw");
    assert_eq!(offer.agent_id.value, "m-S0");
    assert_eq!(offer.hostname, "agent1");
    let url = offer.url.as_ref().unwrap();
    assert_eq!(
        (url.scheme.as_str(), url.address.port, url.path()),
        ("http", 5051, "/slave(1)")
    );
    let cpus = &offer.resources[0];
    assert_eq!(cpus.name, "cpus");
    assert_eq!(cpus.r#type(), value::Type::Scalar);
    assert_eq!(cpus.scalar.unwrap().value, 2.0);
    #[allow(deprecated)]
    let role = cpus.role.clone();
    assert_eq!(role.as_deref(), Some("*"));
    assert_eq!(cpus.allocation_info.as_ref().unwrap().role(), "*");
    let ports = &offer.resources[1];
    assert_eq!(ports.r#type(), value::Type::Ranges);
    let range = &ports.ranges.as_ref().unwrap().range[0];
    assert_eq!((range.begin, range.end), (31000, 31010));
    let reservation = &ports.reservations[0];
    assert_eq!(
        reservation.r#type(),
        v1::resource::reservation_info::Type::Dynamic
    );
    assert_eq!((reservation.role(), reservation.principal()), ("eng", "p"));
    let attr = &offer.attributes[0];
    assert_eq!(attr.name, "rack");
    assert_eq!(attr.r#type(), value::Type::Text);
    assert_eq!(attr.text.as_ref().unwrap().value, "r1");
    assert_eq!(offer.executor_ids[0].value, "exec");
    assert_eq!(offer.allocation_info.as_ref().unwrap().role(), "*");
}

#[test]
fn decodes_the_small_events() {
    let cases: Vec<(Vec<u8>, event::Type)> = vec![
        (
            [vint(1, 3), msg(4, &[id(1, "o1")])].concat(),
            event::Type::Rescind,
        ),
        (
            [vint(1, 10), msg(10, &[id(1, "io1")])].concat(),
            event::Type::RescindInverseOffer,
        ),
        (
            [vint(1, 5), msg(6, &[id(1, "a"), id(2, "e"), ld(3, b"hi")])].concat(),
            event::Type::Message,
        ),
        (
            [vint(1, 6), msg(7, &[id(1, "a"), id(2, "e"), vint(3, 9)])].concat(),
            event::Type::Failure,
        ),
        (
            [vint(1, 7), msg(8, &[string(1, "Framework failed over")])].concat(),
            event::Type::Error,
        ),
        (vint(1, 8), event::Type::Heartbeat),
        (
            [vint(1, 11), msg(11, &[msg(1, &[id(1, "op"), vint(2, 2)])])].concat(),
            event::Type::UpdateOperationStatus,
        ),
        (
            [
                vint(1, 9),
                msg(
                    9,
                    &[msg(
                        1,
                        &[id(1, "io"), id(3, "fw"), msg(5, &[msg(1, &[vint(1, 99)])])],
                    )],
                ),
            ]
            .concat(),
            event::Type::InverseOffers,
        ),
    ];
    for (bytes, ty) in cases {
        let e = Event::decode(&bytes[..]).unwrap();
        assert_eq!(e.r#type(), ty);
        match ty {
            event::Type::Rescind => assert_eq!(e.rescind.unwrap().offer_id.value, "o1"),
            event::Type::RescindInverseOffer => {
                assert_eq!(
                    e.rescind_inverse_offer.unwrap().inverse_offer_id.value,
                    "io1"
                )
            }
            event::Type::Message => {
                let m = e.message.unwrap();
                assert_eq!(
                    (m.agent_id.value.as_str(), m.executor_id.value.as_str()),
                    ("a", "e")
                );
                assert_eq!(m.data, b"hi");
            }
            event::Type::Failure => {
                let f = e.failure.unwrap();
                assert_eq!(f.agent_id.unwrap().value, "a");
                assert_eq!(f.executor_id.unwrap().value, "e");
                assert_eq!(f.status, Some(9));
            }
            event::Type::Error => assert_eq!(e.error.unwrap().message, "Framework failed over"),
            event::Type::Heartbeat => assert_eq!(
                e,
                Event {
                    r#type: Some(8),
                    ..Default::default()
                }
            ),
            event::Type::UpdateOperationStatus => {
                let s = e.update_operation_status.unwrap().status;
                assert_eq!(s.operation_id.as_ref().unwrap().value, "op");
                assert_eq!(s.state(), v1::OperationState::OperationFinished);
            }
            event::Type::InverseOffers => {
                let io = &e.inverse_offers.unwrap().inverse_offers[0];
                assert_eq!(
                    (io.id.value.as_str(), io.framework_id.value.as_str()),
                    ("io", "fw")
                );
                assert_eq!(io.unavailability.start.nanoseconds, 99);
            }
            other => unreachable!("{other:?}"),
        }
    }
}

#[test]
fn decodes_events_out_of_a_recordio_stream() {
    let heartbeat = vint(1, 8);
    let mut wire = Vec::new();
    recordio::encode(&update_bytes(), &mut wire);
    recordio::encode(&heartbeat, &mut wire);
    let mut decoder = recordio::Decoder::new();
    let mut events = Vec::new();
    for chunk in wire.chunks(7) {
        decoder.feed(chunk);
        while let Some(record) = decoder.next_record().unwrap() {
            events.push(Event::decode(record).unwrap());
        }
    }
    decoder.finish().unwrap();
    let types: Vec<_> = events.iter().map(Event::r#type).collect();
    assert_eq!(types, [event::Type::Update, event::Type::Heartbeat]);
}
