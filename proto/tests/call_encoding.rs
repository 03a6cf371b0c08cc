//! Encodes one `Call` of each type with prost and compares with bytes built
//! by hand from the reference tables (fields in tag order, as prost writes
//! them). The sub-message field numbers deliberately differ from the
//! `Call.Type` values (e.g. `revive` is field 15, REVIVE is 5).

mod common;

use common::*;
use mesoswarm_proto::scheduler::{call, Call};
use mesoswarm_proto::v1::{
    self, container_info, offer, AgentId, ExecutorId, Filters, FrameworkId, OfferId, OperationId,
    TaskId,
};
use prost::Message;

fn fw() -> Option<FrameworkId> {
    Some(FrameworkId { value: "fw".into() })
}

fn agent() -> AgentId {
    AgentId { value: "ag".into() }
}

fn base(ty: call::Type) -> Call {
    Call {
        framework_id: fw(),
        r#type: Some(ty as i32),
        ..Default::default()
    }
}

fn header(ty: u64) -> Vec<u8> {
    [id(1, "fw"), vint(2, ty)].concat()
}

#[test]
fn teardown() {
    assert_eq!(base(call::Type::Teardown).encode_to_vec(), header(2));
}

#[test]
fn decline_and_revive_and_suppress() {
    let mut c = base(call::Type::Decline);
    c.decline = Some(call::Decline {
        offer_ids: vec![
            OfferId { value: "o1".into() },
            OfferId { value: "o2".into() },
        ],
        filters: Some(Filters {
            refuse_seconds: Some(60.0),
        }),
    });
    let want = [
        header(4),
        msg(5, &[id(1, "o1"), id(1, "o2"), msg(2, &[double(1, 60.0)])]),
    ]
    .concat();
    assert_eq!(c.encode_to_vec(), want);

    let mut c = base(call::Type::Revive);
    c.revive = Some(call::Revive {
        roles: vec!["r".into()],
    });
    assert_eq!(
        c.encode_to_vec(),
        [header(5), msg(15, &[string(1, "r")])].concat()
    );

    let mut c = base(call::Type::Suppress);
    c.suppress = Some(call::Suppress {
        roles: vec!["r".into()],
    });
    let bytes = c.encode_to_vec();
    assert_eq!(bytes, [header(12), msg(16, &[string(1, "r")])].concat());
    // Field 16 needs a two-byte key: 16 << 3 | 2 = 130 = 0x82 0x01.
    assert_eq!(&bytes[header(12).len()..][..2], &[0x82, 0x01]);
}

#[test]
fn accept_launching_a_docker_task() {
    let task = v1::TaskInfo {
        name: "web".into(),
        task_id: TaskId { value: "t1".into() },
        agent_id: agent(),
        resources: vec![v1::Resource {
            name: "cpus".into(),
            r#type: v1::value::Type::Scalar as i32,
            scalar: Some(v1::value::Scalar { value: 0.5 }),
            ..Default::default()
        }],
        command: Some(v1::CommandInfo {
            shell: Some(false),
            arguments: vec!["-g".into()],
            ..Default::default()
        }),
        container: Some(v1::ContainerInfo {
            r#type: container_info::Type::Docker as i32,
            docker: Some(container_info::DockerInfo {
                image: "nginx".into(),
                network: Some(container_info::docker_info::Network::Bridge as i32),
                port_mappings: vec![container_info::docker_info::PortMapping {
                    host_port: 31000,
                    container_port: 80,
                    protocol: Some("tcp".into()),
                }],
                privileged: Some(true),
                parameters: vec![v1::Parameter {
                    key: "label".into(),
                    value: "a=b".into(),
                }],
                force_pull_image: Some(true),
                ..Default::default()
            }),
            hostname: Some("h".into()),
            ..Default::default()
        }),
        kill_policy: Some(v1::KillPolicy {
            grace_period: Some(v1::DurationInfo {
                nanoseconds: 3_000_000_000,
            }),
        }),
        ..Default::default()
    };
    let mut c = base(call::Type::Accept);
    c.accept = Some(call::Accept {
        offer_ids: vec![OfferId { value: "o1".into() }],
        operations: vec![offer::Operation {
            r#type: Some(offer::operation::Type::Launch as i32),
            launch: Some(offer::operation::Launch {
                task_infos: vec![task],
            }),
            ..Default::default()
        }],
        filters: None,
    });

    let docker = msg(
        3,
        &[
            string(1, "nginx"),
            vint(2, 2), // BRIDGE
            msg(3, &[vint(1, 31000), vint(2, 80), string(3, "tcp")]),
            vint(4, 1),
            msg(5, &[string(1, "label"), string(2, "a=b")]),
            vint(6, 1),
        ],
    );
    let container = msg(9, &[vint(1, 1), docker, string(4, "h")]);
    let task = msg(
        1,
        &[
            string(1, "web"),
            id(2, "t1"),
            id(3, "ag"),
            msg(
                4,
                &[string(1, "cpus"), vint(2, 0), msg(3, &[double(1, 0.5)])],
            ),
            msg(7, &[vint(6, 0), string(7, "-g")]),
            container,
            msg(12, &[msg(1, &[vint(1, 3_000_000_000)])]),
        ],
    );
    let operation = msg(2, &[vint(1, 1), msg(2, &[task])]);
    let want = [header(3), msg(4, &[id(1, "o1"), operation])].concat();
    assert_eq!(c.encode_to_vec(), want);
}

#[test]
fn kill_shutdown_acknowledge() {
    let mut c = base(call::Type::Kill);
    c.kill = Some(call::Kill {
        task_id: TaskId { value: "t".into() },
        agent_id: Some(agent()),
        kill_policy: Some(v1::KillPolicy { grace_period: None }),
    });
    assert_eq!(
        c.encode_to_vec(),
        [header(6), msg(6, &[id(1, "t"), id(2, "ag"), msg(3, &[])])].concat()
    );

    let mut c = base(call::Type::Shutdown);
    c.shutdown = Some(call::Shutdown {
        executor_id: ExecutorId { value: "e".into() },
        agent_id: agent(),
    });
    assert_eq!(
        c.encode_to_vec(),
        [header(7), msg(7, &[id(1, "e"), id(2, "ag")])].concat()
    );

    let uuid: Vec<u8> = (100u8..116).collect();
    let mut c = base(call::Type::Acknowledge);
    c.acknowledge = Some(call::Acknowledge {
        agent_id: agent(),
        task_id: TaskId { value: "t".into() },
        uuid: uuid.clone(),
    });
    assert_eq!(
        c.encode_to_vec(),
        [header(8), msg(8, &[id(1, "ag"), id(2, "t"), ld(3, &uuid)])].concat()
    );

    let mut c = base(call::Type::AcknowledgeOperationStatus);
    c.acknowledge_operation_status = Some(call::AcknowledgeOperationStatus {
        agent_id: Some(agent()),
        resource_provider_id: None,
        uuid: uuid.clone(),
        operation_id: OperationId { value: "op".into() },
    });
    assert_eq!(
        c.encode_to_vec(),
        [
            header(15),
            msg(17, &[id(1, "ag"), ld(3, &uuid), id(4, "op")])
        ]
        .concat()
    );
}

#[test]
fn reconcile_and_reconcile_operations() {
    let mut c = base(call::Type::Reconcile);
    c.reconcile = Some(call::Reconcile {
        tasks: vec![
            call::reconcile::Task {
                task_id: TaskId { value: "t1".into() },
                agent_id: Some(agent()),
            },
            call::reconcile::Task {
                task_id: TaskId { value: "t2".into() },
                agent_id: None,
            },
        ],
    });
    assert_eq!(
        c.encode_to_vec(),
        [
            header(9),
            msg(
                9,
                &[msg(1, &[id(1, "t1"), id(2, "ag")]), msg(1, &[id(1, "t2")])]
            ),
        ]
        .concat()
    );
    // Implicit reconciliation: an empty (but present) `reconcile`.
    let mut c = base(call::Type::Reconcile);
    c.reconcile = Some(call::Reconcile::default());
    assert_eq!(c.encode_to_vec(), [header(9), msg(9, &[])].concat());

    let mut c = base(call::Type::ReconcileOperations);
    c.reconcile_operations = Some(call::ReconcileOperations {
        operations: vec![call::reconcile_operations::Operation {
            operation_id: OperationId { value: "op".into() },
            agent_id: None,
            resource_provider_id: Some(v1::ResourceProviderId { value: "rp".into() }),
        }],
    });
    assert_eq!(
        c.encode_to_vec(),
        [header(16), msg(18, &[msg(1, &[id(1, "op"), id(3, "rp")])])].concat()
    );
}

#[test]
fn message_request_inverse_offers_update_framework() {
    let mut c = base(call::Type::Message);
    c.message = Some(call::Message {
        agent_id: agent(),
        executor_id: ExecutorId { value: "e".into() },
        data: b"hi".to_vec(),
    });
    assert_eq!(
        c.encode_to_vec(),
        [
            header(10),
            msg(10, &[id(1, "ag"), id(2, "e"), ld(3, b"hi")])
        ]
        .concat()
    );

    let mut c = base(call::Type::Request);
    c.request = Some(call::Request {
        requests: vec![v1::Request {
            agent_id: Some(agent()),
            resources: vec![],
        }],
    });
    assert_eq!(
        c.encode_to_vec(),
        [header(11), msg(11, &[msg(1, &[id(1, "ag")])])].concat()
    );

    let mut c = base(call::Type::AcceptInverseOffers);
    c.accept_inverse_offers = Some(call::AcceptInverseOffers {
        inverse_offer_ids: vec![OfferId { value: "i".into() }],
        filters: None,
    });
    assert_eq!(
        c.encode_to_vec(),
        [header(13), msg(13, &[id(1, "i")])].concat()
    );
    let mut c = base(call::Type::DeclineInverseOffers);
    c.decline_inverse_offers = Some(call::DeclineInverseOffers {
        inverse_offer_ids: vec![OfferId { value: "i".into() }],
        filters: None,
    });
    assert_eq!(
        c.encode_to_vec(),
        [header(14), msg(14, &[id(1, "i")])].concat()
    );

    let mut c = base(call::Type::UpdateFramework);
    c.update_framework = Some(call::UpdateFramework {
        framework_info: v1::FrameworkInfo {
            user: "u".into(),
            name: "n".into(),
            id: fw(),
            failover_timeout: Some(604_800.0),
            checkpoint: Some(true),
            roles: vec!["r".into()],
            capabilities: vec![v1::framework_info::Capability {
                r#type: Some(v1::framework_info::capability::Type::MultiRole as i32),
            }],
            ..Default::default()
        },
        suppressed_roles: vec!["r".into()],
        offer_constraints: None,
    });
    let info = msg(
        1,
        &[
            string(1, "u"),
            string(2, "n"),
            id(3, "fw"),
            double(4, 604_800.0),
            vint(5, 1),
            msg(10, &[vint(1, 6)]),
            string(12, "r"),
        ],
    );
    assert_eq!(
        c.encode_to_vec(),
        [header(17), msg(19, &[info, string(2, "r")])].concat()
    );
}

#[test]
fn subscribe_with_offer_constraints() {
    use mesoswarm_proto::scheduler::{
        attribute_constraint as ac, AttributeConstraint, OfferConstraints,
    };
    let constraint = AttributeConstraint {
        selector: ac::Selector {
            selector: Some(ac::selector::Selector::AttributeName("rack".into())),
        },
        predicate: ac::Predicate {
            predicate: Some(ac::predicate::Predicate::TextEquals(
                ac::predicate::TextEquals { value: "r1".into() },
            )),
        },
    };
    let mut role_constraints = std::collections::HashMap::new();
    role_constraints.insert(
        "r".to_string(),
        mesoswarm_proto::scheduler::offer_constraints::RoleConstraints {
            groups: vec![
                mesoswarm_proto::scheduler::offer_constraints::role_constraints::Group {
                    attribute_constraints: vec![constraint],
                },
            ],
        },
    );
    let c = Call {
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe {
            framework_info: v1::FrameworkInfo {
                user: "u".into(),
                name: "n".into(),
                ..Default::default()
            },
            suppressed_roles: vec![],
            offer_constraints: Some(OfferConstraints { role_constraints }),
        }),
        ..Default::default()
    };
    let constraint = msg(
        1,
        &[
            msg(1, &[string(2, "rack")]),
            msg(2, &[msg(3, &[string(1, "r1")])]),
        ],
    );
    let entry = msg(1, &[string(1, "r"), msg(2, &[msg(1, &[constraint])])]);
    let want = [
        vint(2, 1),
        msg(
            3,
            &[msg(1, &[string(1, "u"), string(2, "n")]), msg(3, &[entry])],
        ),
    ]
    .concat();
    assert_eq!(c.encode_to_vec(), want);
}
