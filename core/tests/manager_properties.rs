//! Random input sequences against a model of the master, checking after every step the
//! safety properties a Mesos framework must keep, then a cooperative phase checking that
//! every request gets its answer.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mesoswarm_core::docker::request::{DockerRequest, RequestId, WaitCondition};
use mesoswarm_core::manager::{Input, Output};
use mesoswarm_core::resources::{Milli, PortSet};
use mesoswarm_core::taskinfo::parse_task_id;
use mesoswarm_core::Config;
use mesoswarm_proto::scheduler::{call::Type, Call};
use mesoswarm_proto::v1::TaskState;
use proptest::prelude::*;
use support::*;

#[derive(Clone, Debug)]
enum Op {
    Offer {
        agent: u8,
        cpus_tenths: u16,
        mem: u16,
    },
    Rescind(usize),
    Create {
        named: bool,
        cpus_tenths: u8,
    },
    Start(usize),
    Stop(usize),
    Kill(usize),
    Restart(usize),
    Remove(usize, bool),
    Wait(usize, u8),
    Update(usize, u8),
    Redeliver(usize),
    Advance(u32),
    HoldPersistence(bool),
    Reconnect,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..4, 1u16..40, 64u16..4096).prop_map(|(agent, cpus_tenths, mem)| Op::Offer { agent, cpus_tenths, mem }),
        1 => any::<usize>().prop_map(Op::Rescind),
        3 => (any::<bool>(), 0u8..12).prop_map(|(named, cpus_tenths)| Op::Create { named, cpus_tenths }),
        3 => any::<usize>().prop_map(Op::Start),
        1 => any::<usize>().prop_map(Op::Stop),
        1 => any::<usize>().prop_map(Op::Kill),
        1 => any::<usize>().prop_map(Op::Restart),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(k, f)| Op::Remove(k, f)),
        1 => (any::<usize>(), 0u8..3).prop_map(|(k, c)| Op::Wait(k, c)),
        4 => (any::<usize>(), 0u8..10).prop_map(|(k, s)| Op::Update(k, s)),
        1 => any::<usize>().prop_map(Op::Redeliver),
        2 => (0u32..40_000).prop_map(Op::Advance),
        1 => any::<bool>().prop_map(Op::HoldPersistence),
        1 => Just(Op::Reconnect),
    ]
}

#[derive(Debug, Default)]
struct OfferModel {
    cpus: Milli,
    mem: Milli,
    ports: PortSet,
    agent: String,
    spent: bool,
    rescinded: bool,
    void: bool,
}

#[derive(Debug, Clone)]
struct TaskModel {
    task_id: String,
    agent: String,
    /// What the framework was told last.
    state: TaskState,
    /// What the agent itself last reported (UNREACHABLE comes from the master, not it).
    agent_state: TaskState,
}

/// The master as the properties see it.
#[derive(Default)]
struct Model {
    offers: BTreeMap<String, OfferModel>,
    next_offer: u64,
    tasks: Vec<TaskModel>,
    delivered: Vec<(String, String, TaskState, Option<Vec<u8>>)>,
    unacked: HashMap<Vec<u8>, u32>,
    acked: BTreeSet<Vec<u8>>,
    next_uuid: u64,
    requests: BTreeMap<RequestId, (bool, bool)>, // (is a wait, answered)
    containers: Vec<String>,
    task_ids_seen: BTreeSet<String>,
}

fn live(state: TaskState) -> bool {
    !matches!(
        state,
        TaskState::TaskFinished
            | TaskState::TaskFailed
            | TaskState::TaskKilled
            | TaskState::TaskLost
            | TaskState::TaskError
            | TaskState::TaskDropped
            | TaskState::TaskGone
            | TaskState::TaskGoneByOperator
            | TaskState::TaskUnknown
    )
}

/// The order an agent reports a task in: staging, starting, running, killing, then one
/// terminal state; UNREACHABLE comes from the master and may interleave.
fn agent_would_send(from: TaskState, to: TaskState) -> bool {
    fn rank(s: TaskState) -> u8 {
        match s {
            TaskState::TaskStaging => 0,
            TaskState::TaskStarting => 1,
            TaskState::TaskRunning => 2,
            TaskState::TaskKilling => 3,
            _ => 4,
        }
    }
    to == TaskState::TaskUnreachable || rank(to) > rank(from)
}

impl Model {
    fn check_outputs(&mut self, outs: &[Output]) -> Result<(), TestCaseError> {
        for o in outs {
            match o {
                Output::Call(c) => self.check_call(c)?,
                Output::Docker { id, response } => {
                    if let Some(r) = self.requests.get_mut(id) {
                        let pending = matches!(
                            response,
                            mesoswarm_core::docker::response::DockerResponse::WaitPending
                        );
                        if !pending {
                            prop_assert!(!r.1, "request {id} answered twice");
                            r.1 = true;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn check_call(&mut self, c: &Call) -> Result<(), TestCaseError> {
        let kind = c.r#type.and_then(|t| Type::try_from(t).ok());
        match kind {
            Some(Type::Accept) => {
                let a = c.accept.as_ref().unwrap();
                prop_assert_eq!(a.offer_ids.len(), 1);
                let id = &a.offer_ids[0].value;
                let offer = self
                    .offers
                    .get_mut(id)
                    .ok_or_else(|| TestCaseError::fail(format!("ACCEPT of unknown offer {id}")))?;
                prop_assert!(!offer.spent, "offer {} used or declined twice", id);
                prop_assert!(!offer.rescinded, "offer {} used after its rescind", id);
                prop_assert!(!offer.void, "offer {} used after a re-subscription", id);
                offer.spent = true;
                let (mut cpus, mut mem) = (Milli::ZERO, Milli::ZERO);
                let mut ports = offer.ports.clone();
                let agent = offer.agent.clone();
                let (ocpus, omem) = (offer.cpus, offer.mem);
                for op in &a.operations {
                    for t in &op.launch.as_ref().unwrap().task_infos {
                        prop_assert_eq!(&t.agent_id.value, &agent);
                        for r in &t.resources {
                            match r.name.as_str() {
                                "cpus" => cpus = cpus + Milli::from_f64(r.scalar.unwrap().value),
                                "mem" => mem = mem + Milli::from_f64(r.scalar.unwrap().value),
                                "ports" => {
                                    for rg in &r.ranges.as_ref().unwrap().range {
                                        for p in rg.begin..=rg.end {
                                            prop_assert!(
                                                ports.take(p),
                                                "port {} not offered or taken twice",
                                                p
                                            );
                                        }
                                    }
                                }
                                _ => {}
                            }
                        }
                        let (cid, _) = parse_task_id(&t.task_id.value).expect("our task id format");
                        prop_assert!(
                            self.task_ids_seen.insert(t.task_id.value.clone()),
                            "task id {} reused",
                            t.task_id.value
                        );
                        let other_live = self.tasks.iter().any(|m| {
                            parse_task_id(&m.task_id).map(|(c, _)| c) == Some(cid) && live(m.state)
                        });
                        prop_assert!(!other_live, "a second live task for container {:?}", cid);
                        self.tasks.push(TaskModel {
                            task_id: t.task_id.value.clone(),
                            agent: agent.clone(),
                            state: TaskState::TaskStaging,
                            agent_state: TaskState::TaskStaging,
                        });
                    }
                }
                prop_assert!(
                    cpus <= ocpus && mem <= omem,
                    "offer {} over-committed: cpus {} of {}, mem {} of {}",
                    id,
                    cpus,
                    ocpus,
                    mem,
                    omem
                );
            }
            Some(Type::Decline) => {
                for id in &c.decline.as_ref().unwrap().offer_ids {
                    let offer = self
                        .offers
                        .get_mut(&id.value)
                        .ok_or_else(|| TestCaseError::fail("DECLINE of unknown offer"))?;
                    prop_assert!(!offer.spent, "offer {} declined after use", id.value);
                    prop_assert!(
                        !offer.rescinded && !offer.void,
                        "offer {} declined after rescind/void",
                        id.value
                    );
                    offer.spent = true;
                }
            }
            Some(Type::Acknowledge) => {
                let uuid = &c.acknowledge.as_ref().unwrap().uuid;
                let n = self
                    .unacked
                    .get_mut(uuid)
                    .ok_or_else(|| TestCaseError::fail("ACK of an update never delivered"))?;
                prop_assert!(*n > 0, "uuid acknowledged more often than delivered");
                *n -= 1;
                self.acked.insert(uuid.clone());
            }
            _ => {}
        }
        Ok(())
    }

    fn new_offer(&mut self, agent: u8, cpus_tenths: u16, mem: u16) -> mesoswarm_proto::v1::Offer {
        self.next_offer += 1;
        let id = format!("O{}", self.next_offer);
        let agent = format!("S{agent}");
        let o = offer(&id, &agent, f64::from(cpus_tenths) / 10.0, f64::from(mem));
        self.offers.insert(
            id,
            OfferModel {
                cpus: Milli::from_f64(f64::from(cpus_tenths) / 10.0),
                mem: Milli::from_units(i64::from(mem)),
                ports: PortSet::from_ranges([(31000, 31099)]),
                agent,
                ..Default::default()
            },
        );
        o
    }

    fn deliver(
        &mut self,
        h: &mut Harness,
        k: usize,
        state: TaskState,
    ) -> Result<(), TestCaseError> {
        if self.tasks.is_empty() {
            return Ok(());
        }
        let n = self.tasks.len();
        let t = &mut self.tasks[k % n];
        // The master only sends updates that respect the agent's order; anything may follow
        // a non-terminal state, nothing follows a terminal one but a reconciliation repeat.
        if !live(t.state) || !agent_would_send(t.agent_state, state) {
            return Ok(());
        }
        t.state = state;
        if state != TaskState::TaskUnreachable {
            t.agent_state = state;
        }
        let (task, agent) = (t.task_id.clone(), t.agent.clone());
        self.next_uuid += 1;
        let from_agent = !matches!(
            state,
            TaskState::TaskDropped | TaskState::TaskUnreachable | TaskState::TaskUnknown
        );
        let uuid = from_agent.then(|| {
            let mut u = vec![0u8; 16];
            u[..8].copy_from_slice(&self.next_uuid.to_le_bytes());
            u
        });
        self.send_update(h, task, agent, state, uuid)
    }

    fn send_update(
        &mut self,
        h: &mut Harness,
        task: String,
        agent: String,
        state: TaskState,
        uuid: Option<Vec<u8>>,
    ) -> Result<(), TestCaseError> {
        if let Some(u) = &uuid {
            *self.unacked.entry(u.clone()).or_default() += 1;
        }
        self.delivered
            .push((task.clone(), agent.clone(), state, uuid.clone()));
        let mut e = update(&task, &agent, state, None, "");
        e.update.as_mut().unwrap().status.uuid = uuid;
        let outs = h.event(e);
        self.check_outputs(&outs)
    }
}

fn print_trace(h: &Harness, outs: &[Output]) {
    for o in outs {
        let line = match o {
            Output::Persist { .. } | Output::Log { .. } => continue,
            Output::Call(c) => format!(
                "call {:?} {:?}",
                c.r#type.and_then(|t| Type::try_from(t).ok()),
                (&c.kill, &c.accept.as_ref().map(|a| &a.offer_ids))
            ),
            other => format!("{other:?}"),
        };
        eprintln!("   {}", line.chars().take(220).collect::<String>());
    }
    let states: Vec<_> =
        h.m.containers()
            .map(|c| {
                (
                    c.name.clone(),
                    c.status,
                    c.task.as_ref().map(|t| (t.generation, t.state)),
                )
            })
            .collect();
    eprintln!(
        "   pending={} held={} {states:?}",
        h.m.pending_count(),
        h.m.held_offer_count()
    );
}

const STATES: [TaskState; 10] = [
    TaskState::TaskStarting,
    TaskState::TaskRunning,
    TaskState::TaskRunning,
    TaskState::TaskFinished,
    TaskState::TaskFailed,
    TaskState::TaskKilled,
    TaskState::TaskLost,
    TaskState::TaskDropped,
    TaskState::TaskUnreachable,
    TaskState::TaskKilling,
];

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let config = Config {
        seed: 7,
        task_timeout_ms: 60_000,
        ..Config::default()
    };
    let mut h = Harness::new(config);
    let mut m = Model::default();
    let outs = h.subscribe();
    m.check_outputs(&outs)?;
    // PROP_TRACE=1 prints every step, to read a failing case.
    let trace = std::env::var_os("PROP_TRACE").is_some();
    for op in ops {
        if trace {
            eprintln!("op {op:?}");
        }
        let outs = match op {
            Op::Offer {
                agent,
                cpus_tenths,
                mem,
            } => {
                let o = m.new_offer(agent, cpus_tenths, mem);
                h.event(offers(vec![o]))
            }
            Op::Rescind(k) => {
                let open: Vec<String> = m
                    .offers
                    .iter()
                    .filter(|(_, o)| !o.spent && !o.rescinded && !o.void)
                    .map(|(k, _)| k.clone())
                    .collect();
                if open.is_empty() {
                    continue;
                }
                let id = open[k % open.len()].clone();
                m.offers.get_mut(&id).unwrap().rescinded = true;
                h.event(rescind(&id))
            }
            Op::Create { named, cpus_tenths } => {
                let mut s = spec("busybox");
                s.resources.nano_cpus = i64::from(cpus_tenths) * 100_000_000;
                let name = named.then(|| format!("c{}", m.containers.len()));
                let (req, outs) = h.docker(DockerRequest::ContainerCreate {
                    name,
                    spec: Box::new(s),
                    warnings: Vec::new(),
                });
                m.requests.insert(req, (false, false));
                if let Some(mesoswarm_core::docker::response::DockerResponse::Created {
                    id, ..
                }) = response(&outs, req)
                {
                    m.containers.push(id.to_hex());
                }
                outs
            }
            Op::Start(k)
            | Op::Stop(k)
            | Op::Kill(k)
            | Op::Restart(k)
            | Op::Remove(k, _)
            | Op::Wait(k, _) => {
                if m.containers.is_empty() {
                    continue;
                }
                let container = m.containers[k % m.containers.len()].clone();
                let (is_wait, request) = match op {
                    Op::Start(_) => (false, DockerRequest::ContainerStart { container }),
                    Op::Stop(_) => (
                        false,
                        DockerRequest::ContainerStop {
                            container,
                            timeout_secs: Some(1),
                            signal: None,
                        },
                    ),
                    Op::Kill(_) => (
                        false,
                        DockerRequest::ContainerKill {
                            container,
                            signal: None,
                        },
                    ),
                    Op::Restart(_) => (
                        false,
                        DockerRequest::ContainerRestart {
                            container,
                            timeout_secs: Some(1),
                            signal: None,
                        },
                    ),
                    Op::Remove(_, force) => (
                        false,
                        DockerRequest::ContainerRemove {
                            container,
                            force,
                            volumes: false,
                        },
                    ),
                    Op::Wait(_, c) => {
                        let condition = [
                            WaitCondition::NotRunning,
                            WaitCondition::NextExit,
                            WaitCondition::Removed,
                        ][c as usize];
                        (
                            true,
                            DockerRequest::ContainerWait {
                                container,
                                condition,
                            },
                        )
                    }
                    _ => unreachable!(),
                };
                let (req, outs) = h.docker(request);
                m.requests.insert(req, (is_wait, false));
                outs
            }
            Op::Update(k, s) => {
                m.deliver(&mut h, k, STATES[s as usize])?;
                continue;
            }
            Op::Redeliver(k) => {
                if m.delivered.is_empty() {
                    continue;
                }
                // Mesos repeats an update (an agent retrying its unacknowledged head update, a
                // reconciliation answer) but never re-sends one older than the task's latest.
                let (task, _, _, _) = m.delivered[k % m.delivered.len()].clone();
                let latest = m.delivered.iter().rev().find(|d| d.0 == task).cloned();
                let Some((task, agent, state, uuid)) = latest else {
                    continue;
                };
                m.send_update(&mut h, task, agent, state, uuid)?;
                continue;
            }
            Op::Advance(ms) => h.advance_ms(u64::from(ms)),
            Op::HoldPersistence(hold) => {
                h.auto_persist = !hold;
                if hold {
                    continue;
                }
                let latest = h.records.last().map_or(0, |(s, _)| *s);
                h.input(Input::Persisted { up_to: latest })
            }
            Op::Reconnect => {
                for o in m.offers.values_mut() {
                    o.void = true;
                }
                let mut outs = h.input(Input::Disconnected {
                    reason: "test".into(),
                });
                outs.extend(h.input(Input::Connected { master: "m".into() }));
                outs.extend(h.event(subscribed(FRAMEWORK_ID)));
                outs
            }
        };
        m.check_outputs(&outs)?;
        if trace {
            print_trace(&h, &outs);
        }
        if h.auto_persist {
            // Safety: bounded state.
            prop_assert!(h.m.held_offer_count() <= h.m.config().limits.max_held_offers);
        }
    }

    // Liveness: the master now cooperates, persistence works, time passes.
    h.auto_persist = true;
    let latest = h.records.last().map_or(0, |(s, _)| *s);
    let outs = h.input(Input::Persisted { up_to: latest });
    m.check_outputs(&outs)?;
    let mut backlog: Vec<Output> = h.log.clone();
    let mut seen = backlog.len();
    for round in 0..200 {
        let fresh: Vec<Output> = std::mem::take(&mut backlog);
        for o in fresh {
            match o {
                Output::Call(c) => match c.r#type.and_then(|t| Type::try_from(t).ok()) {
                    Some(Type::Accept) => {
                        for op in &c.accept.as_ref().unwrap().operations {
                            for t in &op.launch.as_ref().unwrap().task_infos {
                                let k = m
                                    .tasks
                                    .iter()
                                    .position(|x| x.task_id == t.task_id.value)
                                    .unwrap();
                                m.deliver(&mut h, k, TaskState::TaskRunning)?;
                            }
                        }
                    }
                    Some(Type::Kill) => {
                        let task = &c.kill.as_ref().unwrap().task_id.value;
                        match m.tasks.iter().position(|x| &x.task_id == task) {
                            Some(k) => m.deliver(&mut h, k, TaskState::TaskKilled)?,
                            // The master answers a kill of a task it does not know with a
                            // reconciliation update.
                            None => m.send_update(
                                &mut h,
                                task.clone(),
                                "S0".into(),
                                TaskState::TaskUnknown,
                                None,
                            )?,
                        }
                    }
                    Some(Type::Reconcile) => {
                        for t in &c.reconcile.as_ref().unwrap().tasks {
                            let (state, agent) = m
                                .tasks
                                .iter()
                                .find(|x| x.task_id == t.task_id.value)
                                .map(|x| (x.state, x.agent.clone()))
                                .unwrap_or((TaskState::TaskUnknown, "S0".into()));
                            let state = if state == TaskState::TaskStaging {
                                TaskState::TaskUnknown
                            } else {
                                state
                            };
                            m.send_update(&mut h, t.task_id.value.clone(), agent, state, None)?;
                        }
                    }
                    _ => {}
                },
                Output::Reconnect { .. } => {
                    for o in m.offers.values_mut() {
                        o.void = true;
                    }
                    let mut outs = h.input(Input::Connected { master: "m".into() });
                    outs.extend(h.event(subscribed(FRAMEWORK_ID)));
                    m.check_outputs(&outs)?;
                }
                _ => {}
            }
        }
        // An agent finishes what it started: a task being killed ends, a starting or
        // partitioned one runs.
        for k in 0..m.tasks.len() {
            let t = m.tasks[k].clone();
            if t.state == TaskState::TaskUnreachable && t.agent_state != TaskState::TaskStaging {
                // The agent is back: the master reports the task's latest state again.
                m.tasks[k].state = t.agent_state;
                m.send_update(&mut h, t.task_id, t.agent, t.agent_state, None)?;
                continue;
            }
            let next = match t.agent_state {
                TaskState::TaskKilling => Some(TaskState::TaskKilled),
                TaskState::TaskStarting => Some(TaskState::TaskRunning),
                TaskState::TaskStaging if t.state == TaskState::TaskUnreachable => {
                    Some(TaskState::TaskRunning)
                }
                _ => None,
            };
            if let Some(state) = next {
                m.deliver(&mut h, k, state)?;
            }
        }
        // Agents retry updates nobody acknowledged (after a disconnection, for example).
        if round % 10 == 9 {
            let retry: Vec<_> = m
                .delivered
                .iter()
                .filter(|(_, _, _, u)| u.as_ref().is_some_and(|u| !m.acked.contains(u)))
                .cloned()
                .collect();
            for (task, agent, state, uuid) in retry {
                m.send_update(&mut h, task, agent, state, uuid)?;
            }
        }
        if round % 5 == 0 {
            let o = m.new_offer((round % 4) as u8, 40, 8192);
            let outs = h.event(offers(vec![o]));
            m.check_outputs(&outs)?;
        }
        let outs = h.advance_ms(1_000);
        m.check_outputs(&outs)?;
        let outs = h.event(heartbeat());
        m.check_outputs(&outs)?;
        backlog.extend(h.log[seen..].iter().cloned());
        seen = h.log.len();
    }
    if trace {
        eprintln!("-- liveness phase --");
        print_trace(&h, &h.log[seen.min(h.log.len())..]);
    }
    for (id, (is_wait, answered)) in &m.requests {
        prop_assert!(*is_wait || *answered, "request {} never answered", id);
    }
    for uuid in m.unacked.keys() {
        prop_assert!(
            m.acked.contains(uuid),
            "update {:?} never acknowledged",
            uuid
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn safety_and_liveness_over_random_inputs(ops in proptest::collection::vec(op(), 1..120)) {
        run(ops)?;
    }
}
