//! Docker clients: each drives one container through create, start and, for some, a stop,
//! kill, restart, wait or removal, the way scripts and docker-compose do: in bursts, named
//! and unnamed, retrying what got no answer (a create again with the same name).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use mesoswarm_core::docker::error::ApiError;
use mesoswarm_core::docker::request::{DockerRequest, RequestId, WaitCondition};
use mesoswarm_core::docker::response::DockerResponse;
use mesoswarm_core::rng::Rng;
use mesoswarm_core::spec::{ContainerPort, ContainerSpec, PortBinding, PortProtocol};
use mesoswarm_core::time::Instant;

use crate::timers::TimerQueue;

/// What the clients do.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadConfig {
    /// Containers created over the run.
    pub containers: usize,
    /// They are created in bursts over this long from the start.
    pub arrival_ms: u64,
    /// The largest burst.
    pub burst_max: usize,
    /// Share (0..=1) created with a name.
    pub named_share: f64,
    /// Share (0..=1) publishing a port (`-p 80`, any host port).
    pub port_share: f64,
    /// Share (0..=1) that later get stopped, killed, restarted, waited on or removed.
    pub churn_share: f64,
    /// A client gives up on a request after this long, then retries it.
    pub request_timeout_ms: u64,
    /// Share (0..=1) of steps followed by an inspect.
    pub inspect_share: f64,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            containers: 50,
            arrival_ms: 120_000,
            burst_max: 8,
            named_share: 0.6,
            port_share: 0.2,
            churn_share: 0.4,
            request_timeout_ms: 300_000,
            inspect_share: 0.3,
        }
    }
}

/// One step of a client's script.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Step {
    Create,
    Start,
    Stop,
    Kill,
    Restart,
    Remove,
    WaitThenStop,
    Inspect,
}

/// A client and its container.
#[derive(Clone, Debug)]
struct Client {
    name: Option<String>,
    spec: ContainerSpec,
    id: Option<String>,
    script: Vec<Step>,
    busy: Option<(RequestId, Step)>,
    tries: u32,
    done: bool,
    /// Only the latest scheduled wake-up acts.
    wake: u64,
}

/// Why a client wakes up.
#[derive(Copy, Clone, Debug)]
enum Wake {
    /// Its next step (if this is still its latest wake-up).
    Act(u64),
    /// The timeout of a request.
    Timeout(RequestId),
}

/// A request the world should feed to the manager, or give up on.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientAction {
    /// A new request.
    Send(RequestId, DockerRequest),
    /// The client stopped waiting for this request.
    GiveUp(RequestId),
}

/// Counters of what the clients saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkloadStats {
    /// Requests sent.
    pub requests: u64,
    /// Containers created (answered 201).
    pub created: u64,
    /// Starts answered 204 or 304.
    pub started: u64,
    /// Error answers.
    pub errors: u64,
    /// Requests given up on (timeout or a manager crash).
    pub abandoned: u64,
}

/// The clients.
#[derive(Debug)]
pub struct Workload {
    cfg: WorkloadConfig,
    rng: Rng,
    clients: Vec<Client>,
    due: TimerQueue<(usize, Wake)>,
    by_request: BTreeMap<RequestId, usize>,
    waits: BTreeSet<RequestId>,
    next_request: RequestId,
    out: Vec<ClientAction>,
    stats: WorkloadStats,
}

impl Workload {
    /// Clients for `cfg.containers` containers, arriving from `start` on.
    pub fn new(cfg: WorkloadConfig, seed: u64, start: Instant) -> Workload {
        let mut w = Workload {
            rng: Rng::new(seed),
            clients: Vec::new(),
            due: TimerQueue::default(),
            by_request: BTreeMap::new(),
            waits: BTreeSet::new(),
            next_request: 1,
            out: Vec::new(),
            stats: WorkloadStats::default(),
            cfg,
        };
        let mut made = 0;
        while made < w.cfg.containers {
            let burst = 1 + w.rng.below(w.cfg.burst_max.max(1) as u64) as usize;
            let at =
                start.saturating_add(Duration::from_millis(w.rng.below(w.cfg.arrival_ms.max(1))));
            for _ in 0..burst.min(w.cfg.containers - made) {
                w.add_client(at);
                made += 1;
            }
        }
        w
    }

    /// More clients, all starting at `at` (the liveness phase's fresh work).
    pub fn add_clients(&mut self, n: usize, at: Instant) {
        for _ in 0..n {
            self.add_client(at);
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.rng.below(1_000_000) as f64) < p * 1_000_000.0
    }

    fn add_client(&mut self, at: Instant) {
        let k = self.clients.len();
        let name = self.chance(self.cfg.named_share).then(|| format!("c{k}"));
        let mut spec = ContainerSpec {
            image: "busybox".into(),
            cmd: Some(vec!["sleep".into(), "86400".into()]),
            ..Default::default()
        };
        spec.resources.nano_cpus = (1 + self.rng.below(10) as i64) * 100_000_000;
        spec.resources.memory_bytes = (32 + self.rng.below(480) as i64) << 20;
        if self.chance(self.cfg.port_share) {
            let port = ContainerPort {
                port: 80,
                protocol: PortProtocol::Tcp,
            };
            spec.exposed_ports = vec![port];
            spec.port_bindings = vec![PortBinding {
                container: port,
                host_ip: String::new(),
                host_port: None,
            }];
        }
        let mut script = vec![Step::Create, Step::Start];
        if self.chance(self.cfg.churn_share) {
            let tail: &[Step] = match self.rng.below(6) {
                0 => &[Step::Stop, Step::Remove],
                1 => &[Step::Kill],
                2 => &[Step::Restart],
                3 => &[Step::WaitThenStop, Step::Start],
                4 => &[Step::Remove],
                _ => &[Step::Stop, Step::Start],
            };
            script.extend_from_slice(tail);
        }
        script.reverse(); // popped from the back
        self.clients.push(Client {
            name,
            spec,
            id: None,
            script,
            busy: None,
            tries: 0,
            done: false,
            wake: 0,
        });
        self.schedule(k, at);
    }

    fn schedule(&mut self, k: usize, at: Instant) {
        let c = &mut self.clients[k];
        c.wake += 1;
        self.due.push(at, (k, Wake::Act(c.wake)));
    }

    /// When a client acts next.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.due.next_deadline()
    }

    /// Requests due at `now` (and requests given up on).
    pub fn poll(&mut self, now: Instant) -> Vec<ClientAction> {
        while let Some((_, (k, wake))) = self.due.pop_due(now) {
            self.act(now, k, wake);
        }
        std::mem::take(&mut self.out)
    }

    fn act(&mut self, now: Instant, k: usize, wake: Wake) {
        let c = &self.clients[k];
        if c.done {
            return;
        }
        match wake {
            Wake::Timeout(id) => {
                if let Some((busy, step)) = c.busy {
                    if busy == id {
                        self.abandon(k, id);
                        self.retry(now, k, step, 1_000);
                    }
                }
            }
            Wake::Act(n) => {
                if n != c.wake || c.busy.is_some() {
                    return;
                }
                match c.script.last().copied() {
                    Some(step) => self.send(now, k, step),
                    None => self.clients[k].done = true,
                }
            }
        }
    }

    fn reference(&self, k: usize) -> Option<String> {
        let c = &self.clients[k];
        c.id.clone().or_else(|| c.name.clone())
    }

    fn send(&mut self, now: Instant, k: usize, step: Step) {
        let id = self.next_request;
        self.next_request += 1;
        let reference = self.reference(k).unwrap_or_default();
        let request = match step {
            Step::Create => DockerRequest::ContainerCreate {
                name: self.clients[k].name.clone(),
                spec: Box::new(self.clients[k].spec.clone()),
                warnings: Vec::new(),
            },
            Step::Start => DockerRequest::ContainerStart {
                container: reference,
            },
            Step::Stop | Step::WaitThenStop => DockerRequest::ContainerStop {
                container: reference.clone(),
                timeout_secs: Some(self.rng.below(5) as i64),
                signal: None,
            },
            Step::Kill => DockerRequest::ContainerKill {
                container: reference,
                signal: None,
            },
            Step::Restart => DockerRequest::ContainerRestart {
                container: reference,
                timeout_secs: Some(1),
                signal: None,
            },
            Step::Remove => DockerRequest::ContainerRemove {
                container: reference,
                force: true,
                volumes: false,
            },
            Step::Inspect => DockerRequest::ContainerInspect {
                container: reference,
                size: false,
            },
        };
        if step == Step::WaitThenStop {
            let wid = self.next_request;
            self.next_request += 1;
            self.waits.insert(wid);
            self.stats.requests += 1;
            self.out.push(ClientAction::Send(
                wid,
                DockerRequest::ContainerWait {
                    container: self.reference(k).unwrap_or_default(),
                    condition: WaitCondition::NextExit,
                },
            ));
        }
        self.stats.requests += 1;
        self.clients[k].busy = Some((id, step));
        self.by_request.insert(id, k);
        self.out.push(ClientAction::Send(id, request));
        let check = now.saturating_add(Duration::from_millis(self.cfg.request_timeout_ms));
        self.due.push(check, (k, Wake::Timeout(id)));
    }

    fn abandon(&mut self, k: usize, id: RequestId) {
        self.stats.abandoned += 1;
        self.by_request.remove(&id);
        self.clients[k].busy = None;
        self.out.push(ClientAction::GiveUp(id));
    }

    /// Tries `step` again after `delay_ms` (a bounded number of times, then moves on).
    fn retry(&mut self, now: Instant, k: usize, step: Step, delay_ms: u64) {
        let c = &mut self.clients[k];
        c.tries += 1;
        if c.tries > 5 {
            c.tries = 0;
            if step == Step::Create {
                c.done = true;
                return;
            }
            c.script.pop();
        }
        let at = now.saturating_add(Duration::from_millis(delay_ms));
        self.schedule(k, at);
    }

    fn advance(&mut self, now: Instant, k: usize) {
        let c = &mut self.clients[k];
        c.tries = 0;
        c.script.pop();
        let inspect = c.script.last() != Some(&Step::Inspect) && c.id.is_some();
        if inspect && self.chance(self.cfg.inspect_share) {
            self.clients[k].script.push(Step::Inspect);
        }
        let pause = if self.clients[k].script.last() == Some(&Step::Start) {
            0
        } else {
            self.rng.below(60_000)
        };
        let at = now.saturating_add(Duration::from_millis(pause));
        self.schedule(k, at);
    }

    /// The manager answered request `id`.
    pub fn on_response(&mut self, now: Instant, id: RequestId, response: &DockerResponse) {
        if self.waits.contains(&id) {
            if !matches!(response, DockerResponse::WaitPending) {
                self.waits.remove(&id);
            }
            return;
        }
        let Some(k) = self.by_request.remove(&id) else {
            return;
        };
        let Some((_, step)) = self.clients[k].busy.take() else {
            return;
        };
        match (step, response) {
            (Step::Create, DockerResponse::Created { id, .. }) => {
                self.stats.created += 1;
                self.clients[k].id = Some(id.to_hex());
                self.advance(now, k);
            }
            (Step::Create, DockerResponse::Error(e)) if e.status == 409 => {
                // Our earlier create (no answer) went through: take that container.
                match conflicting_id(e) {
                    Some(other) => {
                        self.clients[k].id = Some(other);
                        self.advance(now, k);
                    }
                    None => self.retry(now, k, step, 2_000),
                }
            }
            (Step::Start, DockerResponse::NoContent | DockerResponse::NotModified) => {
                self.stats.started += 1;
                self.advance(now, k);
            }
            (_, DockerResponse::Error(e)) => {
                self.stats.errors += 1;
                if e.status == 404 {
                    self.clients[k].done = true;
                } else if e.status == 409 && step != Step::Create {
                    self.advance(now, k);
                } else {
                    let delay = 1_000 + self.rng.below(10_000);
                    self.retry(now, k, step, delay);
                }
            }
            _ => self.advance(now, k),
        }
    }

    /// The manager crashed: every request still waiting fails; clients try again later.
    /// Returns the requests that failed.
    pub fn on_crash(&mut self, now: Instant) -> Vec<RequestId> {
        let pending: Vec<RequestId> = self.by_request.keys().copied().collect();
        for id in &pending {
            self.on_refused(now, *id);
        }
        let waits: Vec<RequestId> = std::mem::take(&mut self.waits).into_iter().collect();
        pending.into_iter().chain(waits).collect()
    }

    /// A request failed without an answer (the connection broke or was refused): the
    /// client tries again later.
    pub fn on_refused(&mut self, now: Instant, id: RequestId) {
        if self.waits.remove(&id) {
            return;
        }
        let Some(k) = self.by_request.remove(&id) else {
            return;
        };
        self.stats.abandoned += 1;
        if let Some((_, step)) = self.clients[k].busy.take() {
            let delay = 2_000 + self.rng.below(10_000);
            self.retry(now, k, step, delay);
        }
    }

    /// Requests sent and not answered yet (waits excluded).
    pub fn outstanding(&self) -> impl Iterator<Item = RequestId> + '_ {
        self.by_request.keys().copied()
    }

    /// What the clients saw.
    pub fn stats(&self) -> &WorkloadStats {
        &self.stats
    }
}

/// The id in dockerd's name-conflict message.
fn conflicting_id(e: &ApiError) -> Option<String> {
    let rest = e.message.split("in use by container \"").nth(1)?;
    let id: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    (id.len() == 64).then_some(id)
}
