//! Ground truth and inspection, for checkers, tests and the dev server: what really runs
//! where, and how the master sees it.

use mesoswarm_core::resources::Milli;

use super::state::{AgentLife, Registration};
use super::{is_terminal, AgentHealth, SimCluster, TaskChange, TaskTruth};
use crate::resources::Res;

impl SimCluster {
    /// How many agents exist (including dead ones; indexes are stable).
    pub fn agent_count(&self) -> usize {
        self.agents.len()
    }

    /// `AgentID.value` of agent `i`.
    pub fn agent_id(&self, i: usize) -> &str {
        &self.agents[i].id
    }

    /// The index of the agent with this id.
    pub fn agent_index(&self, agent_id: &str) -> Option<usize> {
        self.agents.iter().position(|a| a.id == agent_id)
    }

    /// Whether agent `i` runs and is reachable, partitioned, restarting or dead.
    pub fn agent_health(&self, i: usize) -> AgentHealth {
        self.agents[i].life
    }

    /// Whether the current master has agent `i` registered and connected.
    pub fn agent_registered(&self, i: usize) -> bool {
        self.master.agents[i].reg == Registration::Registered
    }

    /// Resources of agent `i`.
    pub fn agent_total(&self, i: usize) -> &Res {
        &self.agents[i].total
    }

    /// What the live tasks on agent `i` really use.
    pub fn agent_used(&self, i: usize) -> Res {
        let mut used = Res::empty();
        for t in self.agents[i].tasks.values() {
            if !is_terminal(t.state) {
                used.add(&t.resources);
            }
        }
        used
    }

    /// Every task the agents know, as it really is.
    pub fn tasks(&self) -> impl Iterator<Item = TaskTruth> + '_ {
        self.agents.iter().enumerate().flat_map(|(i, a)| {
            a.tasks.iter().map(move |((fw, task), t)| TaskTruth {
                agent: i,
                framework_id: fw.clone(),
                task_id: task.clone(),
                state: t.state,
                unacknowledged: t.stream.len(),
            })
        })
    }

    /// Ground-truth task changes since the last call (when recording is on).
    pub fn take_task_changes(&mut self) -> Vec<TaskChange> {
        std::mem::take(&mut self.changes)
    }

    /// Whether the master is electing a new leader (calls get 503).
    pub fn master_down(&self) -> bool {
        self.master.down_until.is_some()
    }

    /// The current master's id.
    pub fn master_id(&self) -> &str {
        &self.master.id
    }

    /// Whether a framework is suppressed for all its roles (`None`: unknown framework).
    pub fn framework_suppressed(&self, framework_id: &str) -> Option<bool> {
        let f = self.master.frameworks.get(framework_id)?;
        Some(f.roles().iter().all(|r| f.suppressed.contains(r)))
    }

    /// Whether a framework is subscribed right now.
    pub fn framework_connected(&self, framework_id: &str) -> bool {
        self.master
            .frameworks
            .get(framework_id)
            .is_some_and(|f| f.connected())
    }

    /// Whether some registered agent has this much free (unused by tasks; outstanding
    /// offers count as free, they are the framework's to use).
    pub fn any_agent_fits(&self, cpus: Milli, mem: Milli, ports: u64) -> bool {
        self.agents.iter().enumerate().any(|(i, a)| {
            let v = &self.master.agents[i];
            if v.reg != Registration::Registered || a.life != AgentLife::Up {
                return false;
            }
            let mut free = a.total.clone();
            free.sub(&v.used);
            free.scalar("cpus") >= cpus
                && free.scalar("mem") >= mem
                && free.ranges("ports").count() >= ports
        })
    }

    /// How many offers are outstanding.
    pub fn outstanding_offers(&self) -> usize {
        self.master.offers.len()
    }

    /// Checks the model's own invariants: no agent runs more than it has, the master's
    /// accounting matches its tasks and offers. `Err` names the first broken one.
    pub fn check_ground_truth(&self) -> Result<(), String> {
        for (i, a) in self.agents.iter().enumerate() {
            let used = self.agent_used(i);
            if !a.total.contains(&used) {
                return Err(format!(
                    "agent {} is over-committed: its live tasks use {used}, it has {}",
                    a.id, a.total
                ));
            }
            let v = &self.master.agents[i];
            let mut committed = v.used.clone();
            committed.add(&v.offered);
            if !a.total.contains(&committed) {
                return Err(format!(
                    "the master committed more of agent {} than it has: used {} + offered {}",
                    a.id, v.used, v.offered
                ));
            }
        }
        Ok(())
    }
}
