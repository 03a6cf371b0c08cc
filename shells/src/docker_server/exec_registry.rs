//! Which engine owns each exec instance. `/exec/{id}/…` names no container, and an exec id
//! is only known to the engine that created it, so the proxy remembers where each one went.
//! Bounded: the oldest are forgotten first (dockerd itself drops exec instances after they
//! end).

use std::collections::{HashMap, VecDeque};

use mesoswarm_core::ids::ContainerId;

use crate::engine::EngineAddr;

/// Exec instances remembered when nothing else is configured.
pub const DEFAULT_MAX_EXEC_INSTANCES: usize = 4_096;

/// Where one exec instance lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecTarget {
    /// The engine that created it.
    pub addr: EngineAddr,
    /// The manager's id of the container it runs in (what clients see as `ContainerID`).
    pub container: ContainerId,
    /// The container's id on that engine.
    pub docker_id: String,
}

/// A bounded map from exec id to [`ExecTarget`].
#[derive(Debug)]
pub struct ExecRegistry {
    max: usize,
    targets: HashMap<String, ExecTarget>,
    order: VecDeque<String>,
}

impl ExecRegistry {
    /// An empty registry holding at most `max` instances (at least one).
    pub fn new(max: usize) -> ExecRegistry {
        ExecRegistry {
            max: max.max(1),
            targets: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Remembers `exec_id`, forgetting the oldest instance when full.
    pub fn insert(&mut self, exec_id: String, target: ExecTarget) {
        if self.targets.insert(exec_id.clone(), target).is_none() {
            self.order.push_back(exec_id);
        }
        while self.targets.len() > self.max {
            match self.order.pop_front() {
                Some(old) => {
                    self.targets.remove(&old);
                }
                None => break,
            }
        }
    }

    /// Where `exec_id` lives, if it is remembered.
    pub fn get(&self, exec_id: &str) -> Option<&ExecTarget> {
        self.targets.get(exec_id)
    }

    /// How many instances are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.targets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(n: u8) -> ExecTarget {
        ExecTarget {
            addr: EngineAddr::Unix("/run/docker.sock".into()),
            container: ContainerId([n; 32]),
            docker_id: format!("d{n}"),
        }
    }

    #[test]
    fn the_oldest_instances_are_forgotten_beyond_the_limit() {
        let mut r = ExecRegistry::new(2);
        r.insert("a".into(), target(1));
        r.insert("b".into(), target(2));
        r.insert("c".into(), target(3));
        assert_eq!(r.len(), 2);
        assert!(r.get("a").is_none(), "the oldest went first");
        assert_eq!(r.get("c").unwrap().docker_id, "d3");
    }
}
