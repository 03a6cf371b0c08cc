//! A small harness that drives the manager by hand: inputs in, outputs collected, records
//! persisted at once (unless told otherwise), and builders for Mesos events.
#![allow(dead_code, deprecated)]

use mesoswarm_core::docker::request::{DockerRequest, RequestId};
use mesoswarm_core::docker::response::DockerResponse;
use mesoswarm_core::manager::{Input, Manager, Output, Record};
use mesoswarm_core::spec::ContainerSpec;
use mesoswarm_core::time::Instant;
use mesoswarm_core::Config;
use mesoswarm_proto::scheduler::{call, event, Call, Event};
use mesoswarm_proto::v1::{
    resource::AllocationInfo, task_status, value, AgentId, FrameworkId, Offer, OfferId, Resource,
    TaskId, TaskStatus,
};

pub const FRAMEWORK_ID: &str = "e4f1b3c2-0000-4000-8000-000000000001-0000";

pub struct Harness {
    pub m: Manager,
    pub now: Instant,
    pub auto_persist: bool,
    pub records: Vec<(u64, Record)>,
    pub log: Vec<Output>,
    next_request: RequestId,
}

impl Harness {
    pub fn new(config: Config) -> Harness {
        Harness {
            m: Manager::new(config),
            now: Instant::from_unix_secs(1_795_000_000),
            auto_persist: true,
            records: Vec::new(),
            log: Vec::new(),
            next_request: 1,
        }
    }

    pub fn with_manager(m: Manager) -> Harness {
        let mut h = Harness::new(Config::default());
        h.m = m;
        h
    }

    /// Feeds one input and returns every output it led to (persisting as it goes).
    pub fn input(&mut self, input: Input) -> Vec<Output> {
        self.m.handle(self.now, input);
        self.drain()
    }

    pub fn drain(&mut self) -> Vec<Output> {
        let mut outs = Vec::new();
        loop {
            let mut persisted = None;
            while let Some(o) = self.m.poll_output() {
                if let Output::Persist { seq, record } = &o {
                    self.records.push((*seq, record.clone()));
                    persisted = Some(*seq);
                }
                outs.push(o);
            }
            match persisted {
                Some(seq) if self.auto_persist => {
                    self.m.handle(self.now, Input::Persisted { up_to: seq })
                }
                _ => break,
            }
        }
        if let Some((at, _)) = self.m.poll_timeout() {
            assert!(at >= self.now, "poll_timeout is in the past");
        }
        self.log.extend(outs.iter().cloned());
        outs
    }

    pub fn advance_ms(&mut self, ms: u64) -> Vec<Output> {
        self.now = self
            .now
            .saturating_add(core::time::Duration::from_millis(ms));
        self.input(Input::Timeout)
    }

    pub fn event(&mut self, e: Event) -> Vec<Output> {
        self.input(Input::MesosEvent(Box::new(e)))
    }

    pub fn subscribe(&mut self) -> Vec<Output> {
        let mut outs = self.input(Input::Connected {
            master: "127.0.0.1:5050".into(),
        });
        outs.extend(self.event(subscribed(FRAMEWORK_ID)));
        outs
    }

    pub fn docker(&mut self, request: DockerRequest) -> (RequestId, Vec<Output>) {
        let id = self.next_request;
        self.next_request += 1;
        let outs = self.input(Input::Docker { id, request });
        (id, outs)
    }

    pub fn create(&mut self, name: Option<&str>, spec: ContainerSpec) -> String {
        let (id, outs) = self.docker(DockerRequest::ContainerCreate {
            name: name.map(String::from),
            spec: Box::new(spec),
            warnings: Vec::new(),
        });
        match response(&outs, id) {
            Some(DockerResponse::Created { id, .. }) => id.to_hex(),
            other => panic!("create failed: {other:?}"),
        }
    }

    pub fn start(&mut self, container: &str) -> (RequestId, Vec<Output>) {
        self.docker(DockerRequest::ContainerStart {
            container: container.into(),
        })
    }
}

pub fn spec(image: &str) -> ContainerSpec {
    ContainerSpec {
        image: image.into(),
        ..Default::default()
    }
}

pub fn response(outs: &[Output], id: RequestId) -> Option<DockerResponse> {
    outs.iter().rev().find_map(|o| match o {
        Output::Docker { id: i, response } if *i == id => Some(response.clone()),
        _ => None,
    })
}

pub fn calls(outs: &[Output]) -> Vec<Call> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Call(c) => Some((**c).clone()),
            _ => None,
        })
        .collect()
}

pub fn calls_of(outs: &[Output], kind: call::Type) -> Vec<Call> {
    calls(outs)
        .into_iter()
        .filter(|c| c.r#type == Some(kind as i32))
        .collect()
}

/// The TaskInfos launched by the ACCEPT calls in `outs`.
pub fn launched(outs: &[Output]) -> Vec<mesoswarm_proto::v1::TaskInfo> {
    calls_of(outs, call::Type::Accept)
        .into_iter()
        .flat_map(|c| c.accept.unwrap().operations)
        .flat_map(|o| o.launch.unwrap().task_infos)
        .collect()
}

pub fn subscribed(framework_id: &str) -> Event {
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

pub fn scalar(name: &str, v: f64) -> Resource {
    Resource {
        name: name.into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value: v }),
        role: Some("*".into()),
        allocation_info: Some(AllocationInfo {
            role: Some("*".into()),
        }),
        ..Default::default()
    }
}

pub fn ports(begin: u64, end: u64) -> Resource {
    Resource {
        name: "ports".into(),
        r#type: value::Type::Ranges as i32,
        ranges: Some(value::Ranges {
            range: vec![value::Range { begin, end }],
        }),
        role: Some("*".into()),
        allocation_info: Some(AllocationInfo {
            role: Some("*".into()),
        }),
        ..Default::default()
    }
}

pub fn offer(id: &str, agent: &str, cpus: f64, mem: f64) -> Offer {
    Offer {
        id: OfferId { value: id.into() },
        framework_id: FrameworkId {
            value: FRAMEWORK_ID.into(),
        },
        agent_id: AgentId {
            value: agent.into(),
        },
        hostname: format!("{agent}.cluster.test"),
        resources: vec![
            scalar("cpus", cpus),
            scalar("mem", mem),
            scalar("disk", 10240.0),
            ports(31000, 31099),
        ],
        ..Default::default()
    }
}

pub fn offers(list: Vec<Offer>) -> Event {
    Event {
        r#type: Some(event::Type::Offers as i32),
        offers: Some(event::Offers { offers: list }),
        ..Default::default()
    }
}

pub fn rescind(offer_id: &str) -> Event {
    Event {
        r#type: Some(event::Type::Rescind as i32),
        rescind: Some(event::Rescind {
            offer_id: OfferId {
                value: offer_id.into(),
            },
        }),
        ..Default::default()
    }
}

pub fn heartbeat() -> Event {
    Event {
        r#type: Some(event::Type::Heartbeat as i32),
        ..Default::default()
    }
}

pub fn error_event(message: &str) -> Event {
    Event {
        r#type: Some(event::Type::Error as i32),
        error: Some(event::Error {
            message: message.into(),
        }),
        ..Default::default()
    }
}

/// An agent-sourced update (with a uuid derived from `n`), or a master one without.
pub fn update(
    task_id: &str,
    agent: &str,
    state: mesoswarm_proto::v1::TaskState,
    uuid: Option<u8>,
    message: &str,
) -> Event {
    Event {
        r#type: Some(event::Type::Update as i32),
        update: Some(event::Update {
            status: TaskStatus {
                task_id: TaskId {
                    value: task_id.into(),
                },
                state: state as i32,
                message: (!message.is_empty()).then(|| message.to_string()),
                source: Some(if uuid.is_some() {
                    task_status::Source::Executor
                } else {
                    task_status::Source::Master
                } as i32),
                agent_id: Some(AgentId {
                    value: agent.into(),
                }),
                uuid: uuid.map(|n| vec![n; 16]),
                ..Default::default()
            },
        }),
        ..Default::default()
    }
}

/// A text attribute of an agent (`docker_port:4243`).
pub fn text_attribute(name: &str, text: &str) -> mesoswarm_proto::v1::Attribute {
    mesoswarm_proto::v1::Attribute {
        name: name.into(),
        r#type: value::Type::Text as i32,
        text: Some(value::Text { value: text.into() }),
        ..Default::default()
    }
}
