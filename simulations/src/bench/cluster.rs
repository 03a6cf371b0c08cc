//! The benchmarks' stand-in for a Mesos master: agents with what is still free on them,
//! offers of that, and the bookkeeping of the calls that answer them. It is deliberately
//! much simpler than [`crate::SimCluster`] (no latency, no faults, no agents' own state):
//! the benchmarks time the core, and this side must cost little and never be timed.

use std::collections::HashMap;

use mesoswarm_core::manager::Output;
use mesoswarm_core::resources::Milli;
use mesoswarm_proto::scheduler::call;
use mesoswarm_proto::v1::Offer;

use super::gen;

/// Agents of one size, `racks` racks of them (the `rack` attribute).
#[derive(Clone, Debug)]
pub struct BenchCluster {
    /// Free cpus per agent, thousandths.
    cpus: Vec<i64>,
    /// Free mem per agent, thousandths of MB.
    mem: Vec<i64>,
    racks: usize,
    /// Agents offered so far from the start: with a window, fresh agents replace full ones.
    window_next: usize,
    window: usize,
    next_offer: u64,
    /// Offers sent and not yet accepted or declined: offer id → agent.
    outstanding: HashMap<String, usize>,
}

/// What a batch of the manager's outputs did, as the master sees it.
#[derive(Clone, Debug, Default)]
pub struct Settled {
    /// Tasks launched: (task id, agent).
    pub launched: Vec<(String, usize)>,
    /// Agents the master offers next: those whose offer was accepted (what is left of
    /// them, or a fresh agent in their place once they are full) or declined.
    pub offer_again: Vec<usize>,
    /// ACCEPT calls.
    pub accepts: usize,
    /// Offers declined.
    pub declined: usize,
    /// ACKNOWLEDGE calls.
    pub acks: usize,
    /// RECONCILE calls (explicit and implicit).
    pub reconciles: usize,
    /// KILL calls (a benchmark must have none).
    pub kills: usize,
    /// Docker answers that were errors (a benchmark must have none).
    pub docker_errors: Vec<String>,
    /// Docker answers in all.
    pub docker_answers: usize,
}

impl BenchCluster {
    /// `agents` agents of `cpus` and `mem_mb` each.
    pub fn uniform(agents: usize, cpus: f64, mem_mb: f64, racks: usize) -> BenchCluster {
        BenchCluster {
            cpus: vec![Milli::from_f64(cpus).0; agents],
            mem: vec![Milli::from_f64(mem_mb).0; agents],
            racks: racks.max(1),
            window_next: 0,
            window: agents,
            next_offer: 0,
            outstanding: HashMap::new(),
        }
    }

    /// Offers only `window` agents at first, and a fresh one whenever one is full: keeps
    /// the manager's offer book small when the cluster is much larger than a batch.
    pub fn with_window(mut self, window: usize) -> BenchCluster {
        self.window = window.max(1);
        self
    }

    /// How many agents.
    pub fn len(&self) -> usize {
        self.cpus.len()
    }

    /// True without agents.
    pub fn is_empty(&self) -> bool {
        self.cpus.is_empty()
    }

    /// Free (cpus, mem) of every agent, thousandths, for the roofline kernel.
    pub fn free(&self) -> (&[i64], &[i64]) {
        (&self.cpus, &self.mem)
    }

    /// An offer of everything free on `agent`.
    pub fn offer(&mut self, agent: usize) -> Offer {
        let n = self.next_offer;
        self.next_offer += 1;
        let o = gen::offer(
            n,
            agent,
            self.cpus[agent],
            self.mem[agent],
            agent % self.racks,
        );
        self.outstanding.insert(o.id.value.clone(), agent);
        o
    }

    /// One offer per agent in `agents`.
    pub fn offers(&mut self, agents: impl IntoIterator<Item = usize>) -> Vec<Offer> {
        agents.into_iter().map(|a| self.offer(a)).collect()
    }

    /// One offer of every agent (of the first `window` agents, with a window) that has
    /// something left.
    pub fn offer_all(&mut self) -> Vec<Offer> {
        self.window_next = self.window.min(self.len());
        let agents: Vec<usize> = (0..self.window_next)
            .filter(|&a| self.allocatable(a))
            .collect();
        self.offers(agents)
    }

    /// Whether Mesos would offer what is left of `agent` (its allocator's minimum: 0.01
    /// cpus or 32 MB).
    fn allocatable(&self, agent: usize) -> bool {
        self.cpus[agent] >= 10 || self.mem[agent] >= 32_000
    }

    /// Applies the manager's outputs: launches take resources from their agents.
    pub fn settle(&mut self, outs: &[Output]) -> Settled {
        let mut s = Settled::default();
        for o in outs {
            match o {
                Output::Call(c) => match c.r#type.and_then(|t| call::Type::try_from(t).ok()) {
                    Some(call::Type::Accept) => {
                        let Some(accept) = &c.accept else { continue };
                        s.accepts += 1;
                        let mut used = Vec::new();
                        for id in &accept.offer_ids {
                            if let Some(agent) = self.outstanding.remove(&id.value) {
                                used.push(agent);
                            }
                        }
                        for op in &accept.operations {
                            let Some(launch) = &op.launch else { continue };
                            for t in &launch.task_infos {
                                let agent = gen::agent_index(&t.agent_id.value)
                                    .expect("a benchmark agent id");
                                for r in &t.resources {
                                    let v = r.scalar.map_or(0, |x| Milli::from_f64(x.value).0);
                                    match r.name.as_str() {
                                        "cpus" => self.cpus[agent] -= v,
                                        "mem" => self.mem[agent] -= v,
                                        _ => {}
                                    }
                                }
                                s.launched.push((t.task_id.value.clone(), agent));
                            }
                        }
                        for agent in used {
                            if self.allocatable(agent) {
                                s.offer_again.push(agent);
                            } else if self.window_next < self.len() {
                                s.offer_again.push(self.window_next);
                                self.window_next += 1;
                            }
                        }
                    }
                    Some(call::Type::Decline) => {
                        let Some(d) = &c.decline else { continue };
                        for id in &d.offer_ids {
                            s.declined += 1;
                            if let Some(agent) = self.outstanding.remove(&id.value) {
                                s.offer_again.push(agent);
                            }
                        }
                    }
                    Some(call::Type::Acknowledge) => s.acks += 1,
                    Some(call::Type::Reconcile) => s.reconciles += 1,
                    Some(call::Type::Kill) => s.kills += 1,
                    _ => {}
                },
                Output::Docker { response, .. } => {
                    s.docker_answers += 1;
                    if let mesoswarm_core::docker::DockerResponse::Error(e) = response {
                        s.docker_errors.push(format!("{e:?}"));
                    }
                }
                _ => {}
            }
        }
        s
    }
}
