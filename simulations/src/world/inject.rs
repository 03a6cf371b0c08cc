//! Faults applied to the world, and the end of the fault phase.

use std::time::Duration;

use super::World;
use crate::cluster::AgentHealth;
use crate::config::Latency;
use crate::faults::Fault;
use crate::network::NetConfig;

impl World {
    /// An agent to hit: mostly one that runs our tasks.
    pub(super) fn pick_agent(&mut self) -> usize {
        let mut busy: Vec<usize> = self
            .cluster
            .tasks()
            .filter(|t| !crate::cluster::is_terminal(t.state))
            .map(|t| t.agent)
            .collect();
        busy.sort_unstable();
        busy.dedup();
        if !busy.is_empty() && self.rng.below(5) != 0 {
            return busy[self.rng.below(busy.len() as u64) as usize];
        }
        self.rng.below(self.cluster.agent_count().max(1) as u64) as usize
    }

    pub(super) fn apply_fault(&mut self, f: Fault) {
        let now = self.now;
        match f {
            Fault::Clog { ms } => {
                self.counts.clogs += 1;
                self.remember(format!("FAULT link clogged for {ms} ms"));
                self.net.clog(now.saturating_add(Duration::from_millis(ms)));
            }
            Fault::Partition { heal_after_ms } => {
                let i = self.pick_agent();
                if self.cluster.partition_agent(now, i) {
                    self.counts.partitions += 1;
                    self.remember(format!(
                        "FAULT agent {i} partitioned (heals after {heal_after_ms:?} ms)"
                    ));
                    let (at, f) = match heal_after_ms {
                        Some(ms) => (ms, Fault::Heal { agent: i }),
                        None => (90_000 + self.rng.below(60_000), Fault::Gone { agent: i }),
                    };
                    self.plan
                        .push(now.saturating_add(Duration::from_millis(at)), f);
                }
            }
            Fault::Heal { agent } => {
                self.remember(format!("FAULT agent {agent} healed"));
                self.cluster.heal_agent(now, agent);
            }
            Fault::Gone { agent } => {
                if self.cluster.mark_agent_gone(now, agent) {
                    self.counts.gone += 1;
                    self.remember(format!("FAULT agent {agent} marked gone"));
                }
            }
            Fault::Restart { down_ms } => {
                let i = self.pick_agent();
                if self.cluster.restart_agent(now, i, down_ms) {
                    self.counts.agent_restarts += 1;
                    self.remember(format!("FAULT agent {i} restarts, down {down_ms} ms"));
                }
            }
            Fault::RemoveAgent => {
                let i = self.pick_agent();
                if self.cluster.remove_agent(now, i) {
                    self.counts.removed += 1;
                    self.remember(format!("FAULT agent {i} removed"));
                }
            }
            Fault::Maintenance {
                start_in_ms,
                duration_ms,
            } => {
                let i = self.pick_agent();
                if self
                    .cluster
                    .schedule_maintenance(now, i, start_in_ms, duration_ms)
                {
                    self.counts.maintenance += 1;
                    self.remember(format!(
                        "FAULT agent {i} maintenance in {start_in_ms} ms for {duration_ms} ms"
                    ));
                }
            }
            Fault::MasterFailover {
                election_ms,
                spread_ms,
            } => {
                self.counts.master_failovers += 1;
                self.remember(format!("FAULT master failover (election {election_ms} ms, agents back within {spread_ms} ms)"));
                self.cluster.master_failover(now, election_ms, spread_ms);
            }
            Fault::Crash { down_ms } => self.crash(down_ms),
            Fault::CrashAfterIntent { down_ms } => {
                self.remember("FAULT manager crashes after its next launch intent".into());
                self.crash_after_intent = Some(down_ms);
            }
            Fault::StoreStall { ms } => {
                self.counts.store_stalls += 1;
                self.remember(format!("FAULT store stalls for {ms} ms"));
                self.store
                    .stall(now.saturating_add(Duration::from_millis(ms)));
            }
        }
        self.drain_cluster();
    }

    /// The faults stop: partitions heal, the network and the store behave, a crashed
    /// manager comes back; fresh work arrives.
    pub(super) fn enter_liveness(&mut self) {
        self.liveness = true;
        self.remember("faults stop: liveness phase".into());
        self.plan.clear();
        self.crash_after_intent = None;
        let now = self.now;
        for i in 0..self.cluster.agent_count() {
            if self.cluster.agent_health(i) == AgentHealth::Partitioned {
                self.cluster.heal_agent(now, i);
            }
        }
        let mut latency = self.cluster.config().task_latency.clone();
        latency.launch_failure_rate = 0.0;
        self.cluster.set_task_latency(latency);
        self.net.set_config(NetConfig::perfect());
        self.net.unclog();
        self.store.set_latency(now, Latency::between(1, 5));
        if self.core.is_none() {
            self.restart_at = Some(now);
        }
        self.workload.add_clients(self.cfg.liveness_containers, now);
        self.checker
            .enter_liveness(now, self.core_config.offer_hold_timeout_ms);
        self.drain_cluster();
    }
}
