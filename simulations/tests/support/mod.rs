//! Helpers to drive a [`SimCluster`] at its HTTP-level API in tests.
#![allow(dead_code)]

use std::time::Duration;

use mesoswarm_core::time::Instant;
use mesoswarm_proto::scheduler::{call, event, Call, Event};
use mesoswarm_proto::v1::{
    container_info, framework_info, offer, AgentId, CommandInfo, ContainerInfo, FrameworkId,
    FrameworkInfo, Offer, OfferId, TaskId, TaskInfo,
};
use mesoswarm_sim::resources::{ProtoFormat, Res};
use mesoswarm_sim::{ClusterConfig, ClusterOutput, SimCluster};

pub fn t(ms: u64) -> Instant {
    Instant::from_unix_secs(1_795_000_000).saturating_add(Duration::from_millis(ms))
}

pub fn info(id: Option<&str>) -> FrameworkInfo {
    use framework_info::capability::Type;
    FrameworkInfo {
        user: "root".into(),
        name: "test".into(),
        id: id.map(|v| FrameworkId { value: v.into() }),
        failover_timeout: Some(60.0),
        checkpoint: Some(true),
        roles: vec!["*".into()],
        capabilities: [
            Type::MultiRole,
            Type::PartitionAware,
            Type::TaskKillingState,
        ]
        .iter()
        .map(|t| framework_info::Capability {
            r#type: Some(*t as i32),
        })
        .collect(),
        ..Default::default()
    }
}

pub fn subscribe_call(id: Option<&str>) -> Call {
    Call {
        framework_id: id.map(|v| FrameworkId { value: v.into() }),
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe {
            framework_info: info(id),
            suppressed_roles: Vec::new(),
            offer_constraints: None,
        }),
        ..Default::default()
    }
}

pub fn call_of(fw: &str, kind: call::Type) -> Call {
    Call {
        framework_id: Some(FrameworkId { value: fw.into() }),
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

/// Drains the cluster's outputs: events per stream, closed streams, launches and kills.
#[derive(Default, Debug)]
pub struct Seen {
    pub events: Vec<(String, Event)>,
    pub closed: Vec<String>,
    pub launches: Vec<(String, TaskInfo)>,
    pub kills: Vec<(String, String)>,
}

pub fn drain(c: &mut SimCluster) -> Seen {
    let mut s = Seen::default();
    while let Some(o) = c.poll_output() {
        match o {
            ClusterOutput::Event { stream, event } => s.events.push((stream, *event)),
            ClusterOutput::CloseStream { stream } => s.closed.push(stream),
            ClusterOutput::Launch { agent_id, task } => s.launches.push((agent_id, *task)),
            ClusterOutput::Kill {
                agent_id, task_id, ..
            } => s.kills.push((agent_id, task_id)),
        }
    }
    s
}

pub fn kinds(s: &Seen, stream: &str) -> Vec<event::Type> {
    s.events
        .iter()
        .filter(|(st, _)| st == stream)
        .filter_map(|(_, e)| e.r#type.and_then(|t| event::Type::try_from(t).ok()))
        .collect()
}

pub fn offers_of(s: &Seen) -> Vec<Offer> {
    s.events
        .iter()
        .filter_map(|(_, e)| e.offers.as_ref())
        .flat_map(|o| o.offers.clone())
        .collect()
}

pub fn updates_of(s: &Seen) -> Vec<mesoswarm_proto::v1::TaskStatus> {
    s.events
        .iter()
        .filter_map(|(_, e)| e.update.as_ref())
        .map(|u| u.status.clone())
        .collect()
}

pub fn cluster(agents: usize) -> SimCluster {
    SimCluster::new(ClusterConfig {
        seed: 7,
        agents,
        ..ClusterConfig::default()
    })
}

/// Subscribes a new framework; returns (framework id, stream id, what came out).
pub fn subscribe(c: &mut SimCluster, at: u64) -> (String, String, Seen) {
    let stream = c.http_subscribe(t(at), subscribe_call(None)).unwrap();
    let s = drain(c);
    let fw = s.events[0]
        .1
        .subscribed
        .as_ref()
        .unwrap()
        .framework_id
        .value
        .clone();
    (fw, stream, s)
}

pub fn task(id: &str, agent: &str, res: &Res) -> TaskInfo {
    TaskInfo {
        name: id.into(),
        task_id: TaskId { value: id.into() },
        agent_id: AgentId {
            value: agent.into(),
        },
        resources: res.to_proto(ProtoFormat {
            allocation_role: Some("*"),
            refinement: false,
        }),
        command: Some(CommandInfo {
            shell: Some(false),
            ..Default::default()
        }),
        container: Some(ContainerInfo {
            r#type: container_info::Type::Docker as i32,
            docker: Some(container_info::DockerInfo {
                image: "busybox".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn small() -> Res {
    let mut r = Res::empty();
    r.add_scalar("cpus", "*", mesoswarm_core::resources::Milli(500));
    r.add_scalar(
        "mem",
        "*",
        mesoswarm_core::resources::Milli::from_units(128),
    );
    r
}

pub fn accept(fw: &str, offer_id: &str, tasks: Vec<TaskInfo>) -> Call {
    let mut c = call_of(fw, call::Type::Accept);
    c.accept = Some(call::Accept {
        offer_ids: vec![OfferId {
            value: offer_id.into(),
        }],
        operations: vec![offer::Operation {
            r#type: Some(offer::operation::Type::Launch as i32),
            launch: Some(offer::operation::Launch { task_infos: tasks }),
            ..Default::default()
        }],
        filters: None,
    });
    c
}

pub fn ack(fw: &str, status: &mesoswarm_proto::v1::TaskStatus) -> Call {
    let mut c = call_of(fw, call::Type::Acknowledge);
    c.acknowledge = Some(call::Acknowledge {
        agent_id: status.agent_id.clone().unwrap(),
        task_id: status.task_id.clone(),
        uuid: status.uuid.clone().unwrap(),
    });
    c
}
