//! Docker API consistency as clients see it: a name is taken by one container at a time; a
//! removed container never shows up again; `wait` answers only when no task of the
//! container is alive; a removal never leaves a task running; inspect never shows a state
//! older than one already shown; the events of a container follow a legal order.

use std::collections::{BTreeMap, BTreeSet};

use mesoswarm_core::docker::request::{DockerRequest, RequestId};
use mesoswarm_core::docker::response::DockerResponse;
use mesoswarm_core::ids::ContainerId;
use mesoswarm_core::manager::Output;

use super::tasks::Tasks;
use super::Violation;

/// What a client last saw of a container in inspect.
#[derive(Clone, Debug, Default)]
struct Shown {
    started_at: String,
    finished_at: String,
    restart_count: i64,
}

/// A container's event history (of one manager process), as far as legality goes.
#[derive(Clone, Debug, Default)]
struct Events {
    created: bool,
    destroyed: bool,
    running: bool,
}

/// What the API checker remembers.
#[derive(Debug, Default)]
pub struct Api {
    requests: BTreeMap<RequestId, DockerRequest>,
    names: BTreeMap<String, ContainerId>,
    removed: BTreeSet<ContainerId>,
    shown: BTreeMap<ContainerId, Shown>,
    events: BTreeMap<ContainerId, Events>,
}

fn violation(invariant: &'static str, detail: String) -> Result<u64, Violation> {
    Err(Violation { invariant, detail })
}

impl Api {
    pub fn on_request(&mut self, id: RequestId, request: &DockerRequest) {
        self.requests.insert(id, request.clone());
    }

    /// The manager crashed: `docker events` subscribers lost their stream (and the events
    /// the crash swallowed); a new stream starts with the new manager.
    pub fn on_crash(&mut self) {
        self.events.clear();
    }

    fn resolve(&self, reference: &str) -> Option<ContainerId> {
        ContainerId::parse_hex(reference).or_else(|| self.names.get(reference).copied())
    }

    fn gone(&mut self, id: ContainerId) {
        self.removed.insert(id);
        self.names.retain(|_, v| *v != id);
    }

    pub fn on_output(&mut self, tasks: &Tasks, output: &Output) -> Result<u64, Violation> {
        match output {
            Output::Docker { id, response } => {
                let Some(request) = self.requests.get(id).cloned() else {
                    return Ok(0);
                };
                if !matches!(response, DockerResponse::WaitPending) {
                    self.requests.remove(id);
                }
                self.on_answer(tasks, &request, response)
            }
            Output::Event(e) => {
                let id = e.container_id;
                if self.removed.contains(&id) {
                    return violation(
                        "removed containers stay removed",
                        format!(
                            "event {} for container {} after it was removed",
                            e.action,
                            id.short()
                        ),
                    );
                }
                let h = self.events.entry(id).or_default();
                if h.destroyed {
                    return violation(
                        "legal event order",
                        format!(
                            "event {} for {} after its destroy event",
                            e.action,
                            id.short()
                        ),
                    );
                }
                match e.action {
                    "create" => {
                        if h.created {
                            return violation(
                                "legal event order",
                                format!("second create event for {}", id.short()),
                            );
                        }
                        h.created = true;
                    }
                    "start" => {
                        if h.running {
                            return violation("legal event order", format!("start event for {} while it already runs (no die since the last start)", id.short()));
                        }
                        h.running = true;
                    }
                    "die" => h.running = false,
                    // Events go out before the removal is durable (a crash may undo it);
                    // only the answer to rm promises it.
                    "destroy" => h.destroyed = true,
                    _ => {}
                }
                Ok(1)
            }
            _ => Ok(0),
        }
    }

    fn on_answer(
        &mut self,
        tasks: &Tasks,
        request: &DockerRequest,
        response: &DockerResponse,
    ) -> Result<u64, Violation> {
        match (request, response) {
            (
                DockerRequest::ContainerCreate {
                    name: Some(name), ..
                },
                DockerResponse::Created { id, .. },
            ) => {
                if let Some(other) = self.names.get(name) {
                    if other != id {
                        return violation(
                            "a name is taken once",
                            format!(
                                "name {name} given to {} while {} still has it",
                                id.short(),
                                other.short()
                            ),
                        );
                    }
                }
                if self.removed.contains(id) {
                    return violation(
                        "removed containers stay removed",
                        format!(
                            "create answered with the id of removed container {}",
                            id.short()
                        ),
                    );
                }
                self.names.insert(name.clone(), *id);
                Ok(1)
            }
            (DockerRequest::ContainerRemove { container, .. }, DockerResponse::NoContent) => {
                let Some(id) = self.resolve(container) else {
                    return Ok(0);
                };
                if let Some(live) = tasks.live_tasks(&id) {
                    return violation(
                        "removal never leaves a running task",
                        format!(
                            "rm of {} answered while task {:?} is alive on its agent",
                            id.short(),
                            live
                        ),
                    );
                }
                self.gone(id);
                Ok(1)
            }
            (DockerRequest::ContainerWait { container, .. }, DockerResponse::WaitDone { .. }) => {
                let Some(id) = self.resolve(container) else {
                    return Ok(0);
                };
                if let Some(live) = tasks.live_tasks(&id) {
                    return violation(
                        "wait returns only after a terminal state",
                        format!(
                            "wait on {} answered while task {:?} is alive on its agent",
                            id.short(),
                            live
                        ),
                    );
                }
                Ok(1)
            }
            (_, DockerResponse::Inspect(i)) => {
                let Some(id) = i.id.as_deref().and_then(ContainerId::parse_hex) else {
                    return Ok(0);
                };
                if self.removed.contains(&id) {
                    return violation(
                        "removed containers stay removed",
                        format!(
                            "inspect shows container {} after it was removed",
                            id.short()
                        ),
                    );
                }
                let state = i.state.as_ref();
                let now = Shown {
                    started_at: state.and_then(|s| s.started_at.clone()).unwrap_or_default(),
                    finished_at: state
                        .and_then(|s| s.finished_at.clone())
                        .unwrap_or_default(),
                    restart_count: i.restart_count.unwrap_or(0),
                };
                let before = self.shown.entry(id).or_default();
                if now.started_at < before.started_at
                    || now.finished_at < before.finished_at
                    || now.restart_count < before.restart_count
                {
                    let old = before.clone();
                    return violation(
                        "no client shown an older state",
                        format!(
                            "inspect of {} shows {now:?} after showing {old:?}",
                            id.short()
                        ),
                    );
                }
                *before = now;
                Ok(1)
            }
            (_, DockerResponse::List(list)) => {
                for c in list {
                    if let Some(id) = c.id.as_deref().and_then(ContainerId::parse_hex) {
                        if self.removed.contains(&id) {
                            return violation(
                                "removed containers stay removed",
                                format!("ps lists container {} after it was removed", id.short()),
                            );
                        }
                    }
                }
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}
