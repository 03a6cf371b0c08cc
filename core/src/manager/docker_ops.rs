//! Docker API requests: what each one does to the containers and to Mesos.

use super::entry::{signal_number, Entry, Phase};
use super::{Manager, Output};
use crate::container::{Container, DockerStatus};
use crate::docker::error::ApiError;
use crate::docker::proxy_route::ProxyOp;
use crate::docker::render;
use crate::docker::request::{DockerRequest, EventsQuery, ListQuery, RequestId, WaitCondition};
use crate::docker::response::{DockerResponse, InfoView, Location, OfferView};
use crate::ids::{validate_container_name, ContainerId};
use crate::names;
use crate::spec::ContainerSpec;
use crate::taskinfo;

impl Manager {
    pub(super) fn on_docker(&mut self, id: RequestId, request: DockerRequest) {
        if self.out.len() >= self.config.limits.max_queued_outputs {
            let e =
                ApiError::unavailable("the manager is overloaded (output queue full); try again");
            self.respond(id, e.into());
            return;
        }
        // What inspect and ps show must be durable: a client must not see a state that a
        // crash would take back (it would then be shown an older one).
        let durable_view = matches!(
            request,
            DockerRequest::ContainerInspect { .. } | DockerRequest::ContainerList(_)
        );
        let result = match request {
            DockerRequest::Info => Ok(Some(self.info())),
            DockerRequest::ContainerCreate {
                name,
                spec,
                warnings,
            } => self.create(id, name, *spec, warnings),
            DockerRequest::ContainerStart { container } => self.start(id, &container),
            DockerRequest::ContainerStop {
                container,
                timeout_secs,
                signal,
            } => self.stop(id, &container, timeout_secs, signal.as_deref()),
            DockerRequest::ContainerRestart {
                container,
                timeout_secs,
                signal: _,
            } => self.restart(id, &container, timeout_secs),
            DockerRequest::ContainerKill { container, signal } => {
                self.kill(&container, signal.as_deref())
            }
            DockerRequest::ContainerRemove {
                container,
                force,
                volumes: _,
            } => self.remove(id, &container, force),
            DockerRequest::ContainerWait {
                container,
                condition,
            } => self.wait(id, &container, condition),
            DockerRequest::ContainerInspect { container, size: _ } => self.inspect(&container),
            DockerRequest::Locate { container, op } => self.locate(id, &container, op),
            DockerRequest::Engines => Ok(Some(self.engines())),
            DockerRequest::ContainerUpdate { container } => self
                .resolve(&container)
                .map(|_| Some(DockerResponse::Updated)),
            DockerRequest::ContainerList(q) => Ok(Some(self.list(&q))),
            DockerRequest::ContainerRename {
                container,
                new_name,
            } => self.rename(id, &container, new_name),
            DockerRequest::Events(q) => Ok(Some(self.events_history(&q))),
        };
        match result {
            Ok(Some(response)) if durable_view => {
                self.after_durable(Output::Docker { id, response })
            }
            Ok(Some(response)) => self.respond(id, response),
            Ok(None) => {}
            Err(e) => self.respond(id, DockerResponse::Error(e)),
        }
    }

    pub(super) fn on_docker_gone(&mut self, id: RequestId) {
        let Some(cid) = self.waiting.remove(&id) else {
            return;
        };
        if let Some(e) = self.containers.get_mut(&cid) {
            e.start_waiters.retain(|w| *w != id);
            e.stop_waiters.retain(|w| *w != id);
            e.remove_waiters.retain(|w| *w != id);
            e.exit_waiters.retain(|(w, _)| *w != id);
            e.attach_waiters.retain(|w| *w != id);
        }
    }

    /// Resolves a reference the way dockerd does: full id, then exact name, then a unique
    /// id prefix.
    fn resolve(&self, reference: &str) -> Result<ContainerId, ApiError> {
        let r = reference.strip_prefix('/').unwrap_or(reference);
        if let Some(id) = ContainerId::parse_hex(r) {
            if self.containers.contains_key(&id) {
                return Ok(id);
            }
        }
        if let Some(id) = self.names.get(r) {
            return Ok(*id);
        }
        let is_hex = !r.is_empty()
            && r.len() < 64
            && r.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if is_hex {
            let lo = ContainerId::parse_hex(&format!("{r:0<64}")).unwrap_or(ContainerId([0; 32]));
            let hi =
                ContainerId::parse_hex(&format!("{r:f<64}")).unwrap_or(ContainerId([0xff; 32]));
            let mut found = self.containers.range(lo..=hi).map(|(k, _)| *k);
            if let Some(first) = found.next() {
                if found.next().is_some() {
                    return Err(ApiError::bad_request(format!(
                        "multiple IDs found with provided prefix: {r}"
                    )));
                }
                return Ok(first);
            }
        }
        Err(ApiError::no_such_container(reference))
    }

    fn register_waiter(&mut self, request: RequestId, cid: ContainerId) -> Result<(), ApiError> {
        if self.waiting.len() >= self.config.limits.max_waiting_requests {
            return Err(ApiError::unavailable(format!(
                "too many requests are waiting on containers (limit {}); try again",
                self.config.limits.max_waiting_requests
            )));
        }
        self.waiting.insert(request, cid);
        Ok(())
    }

    fn create(
        &mut self,
        request: RequestId,
        name: Option<String>,
        spec: ContainerSpec,
        warnings: Vec<String>,
    ) -> Result<Option<DockerResponse>, ApiError> {
        if self.containers.len() >= self.config.limits.max_containers {
            return Err(ApiError::unavailable(format!(
                "the manager tracks {} containers, its limit (max_containers); remove some first",
                self.containers.len()
            )));
        }
        let name = match name {
            Some(n) => {
                let n = n.strip_prefix('/').unwrap_or(&n).to_string();
                validate_container_name(&n).map_err(ApiError::bad_request)?;
                if let Some(other) = self.names.get(&n) {
                    return Err(ApiError::conflict(format!(
                        "Conflict. The container name \"/{n}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
                        other.to_hex()
                    )));
                }
                n
            }
            None => self.fresh_name(),
        };
        let mut bytes = [0u8; 32];
        self.rng.fill(&mut bytes);
        let id = ContainerId(bytes);
        let demand = taskinfo::demand(&spec, &self.config);
        let c = Container {
            id,
            name: name.clone(),
            spec,
            created_at: self.now,
            status: DockerStatus::Created,
            started_at: None,
            finished_at: None,
            exit_code: 0,
            error: String::new(),
            restart_count: 0,
            task: None,
        };
        self.names.insert(name, id);
        self.containers.insert(id, Entry::new(c, demand));
        self.persist_container(&id);
        self.emit_event(&id, "create", Vec::new());
        self.after_durable(Output::Docker {
            id: request,
            response: DockerResponse::Created { id, warnings },
        });
        Ok(None)
    }

    fn fresh_name(&mut self) -> String {
        let mut attempt = 0;
        loop {
            let n = names::generate(&mut self.rng, attempt);
            if !self.names.contains_key(&n) {
                return n;
            }
            attempt += 1;
        }
    }

    fn start(
        &mut self,
        request: RequestId,
        reference: &str,
    ) -> Result<Option<DockerResponse>, ApiError> {
        let id = self.resolve(reference)?;
        let e = &self.containers[&id];
        if e.removing {
            return Err(ApiError::conflict(format!(
                "container {} is marked for removal and cannot be started",
                e.c.name
            )));
        }
        if e.c.status == DockerStatus::Running && e.want_running {
            return Ok(Some(DockerResponse::NotModified));
        }
        if self.pending_count >= self.config.limits.max_pending_containers {
            return Err(ApiError::unavailable(format!(
                "{} containers already wait for Mesos offers (max_pending_containers); try again later",
                self.pending_count
            )));
        }
        self.register_waiter(request, id)?;
        let e = self.containers.get_mut(&id).expect("resolved");
        e.start_waiters.push(request);
        if e.want_running {
            return Ok(None); // a start is already under way: answer with it
        }
        e.want_running = true;
        e.dropped_launches = 0;
        if e.c.has_live_task() {
            // Still stopping from before: start again once it is down.
            e.restart_pending = true;
        } else {
            self.enqueue_pending(id, false);
        }
        Ok(None)
    }

    fn stop(
        &mut self,
        request: RequestId,
        reference: &str,
        timeout_secs: Option<i64>,
        signal: Option<&str>,
    ) -> Result<Option<DockerResponse>, ApiError> {
        let id = self.resolve(reference)?;
        let grace = self.grace_for(&id, timeout_secs);
        if let Some(sig) = signal {
            check_signal(sig)?;
        }
        let e = self.containers.get_mut(&id).expect("resolved");
        e.want_running = false;
        e.restart_pending = false;
        if matches!(e.phase, Phase::Pending { .. }) {
            self.dequeue_pending(&id);
            self.fail_start(
                &id,
                ApiError::conflict(format!(
                    "container {reference} was stopped before Mesos could place it"
                )),
            );
            return Ok(Some(DockerResponse::NoContent));
        }
        if self.cancel_launch(&id) {
            let e = self.containers.get_mut(&id).expect("resolved");
            e.refresh_status();
            self.persist_container(&id);
            self.fail_start(
                &id,
                ApiError::conflict(format!(
                    "container {reference} was stopped before its task was launched"
                )),
            );
            return Ok(Some(DockerResponse::NoContent));
        }
        let e = &self.containers[&id];
        if !e.c.has_live_task() {
            return Ok(Some(DockerResponse::NotModified));
        }
        self.register_waiter(request, id)?;
        let e = self.containers.get_mut(&id).expect("resolved");
        e.stop_waiters.push(request);
        e.kill_signal = Some(signal.unwrap_or("SIGTERM").to_string());
        self.emit_event(
            &id,
            "kill",
            vec![(
                "signal",
                signal_number(signal.unwrap_or("SIGTERM"))
                    .unwrap_or(15)
                    .to_string(),
            )],
        );
        self.send_kill(&id, grace);
        Ok(None)
    }

    fn grace_for(&self, id: &ContainerId, timeout_secs: Option<i64>) -> u64 {
        let e = &self.containers[id];
        timeout_secs.or(e.c.spec.stop_timeout_secs).map_or(
            self.config.default_stop_timeout_secs,
            |t| if t < 0 { 0 } else { t as u64 },
        )
    }

    fn restart(
        &mut self,
        request: RequestId,
        reference: &str,
        timeout_secs: Option<i64>,
    ) -> Result<Option<DockerResponse>, ApiError> {
        let id = self.resolve(reference)?;
        let grace = self.grace_for(&id, timeout_secs);
        let e = &self.containers[&id];
        if e.removing {
            return Err(ApiError::conflict(format!(
                "container {} is marked for removal and cannot be restarted",
                e.c.name
            )));
        }
        if !e.c.has_live_task()
            && !matches!(e.phase, Phase::Pending { .. } | Phase::Launching { .. })
        {
            return self.start(request, reference);
        }
        self.register_waiter(request, id)?;
        let e = self.containers.get_mut(&id).expect("resolved");
        e.start_waiters.push(request);
        if !e.c.has_live_task() {
            // Not launched yet: the start under way is the restart.
            e.want_running = true;
            return Ok(None);
        }
        e.want_running = true;
        e.restart_pending = true;
        e.kill_signal = Some("SIGTERM".into());
        e.refresh_status();
        self.send_kill(&id, grace);
        Ok(None)
    }

    fn kill(
        &mut self,
        reference: &str,
        signal: Option<&str>,
    ) -> Result<Option<DockerResponse>, ApiError> {
        let id = self.resolve(reference)?;
        let sig = signal.unwrap_or("SIGKILL");
        let number = check_signal(sig)?;
        let e = &self.containers[&id];
        let pending = matches!(e.phase, Phase::Pending { .. } | Phase::Launching { .. });
        if !e.c.has_live_task() && !pending
            || e.c.status != DockerStatus::Running && !pending && !e.c.has_live_task()
        {
            return Err(ApiError::conflict(format!(
                "Cannot kill container: {reference}: container {} is not running",
                id.to_hex()
            )));
        }
        let grace = if number == 9 {
            0
        } else {
            self.grace_for(&id, None)
        };
        let e = self.containers.get_mut(&id).expect("resolved");
        e.want_running = false;
        e.restart_pending = false;
        e.kill_signal = Some(sig.to_string());
        if matches!(e.phase, Phase::Pending { .. }) {
            self.dequeue_pending(&id);
            self.fail_start(
                &id,
                ApiError::conflict(format!(
                    "container {reference} was killed before Mesos could place it"
                )),
            );
        } else if self.cancel_launch(&id) {
            self.persist_container(&id);
            self.fail_start(
                &id,
                ApiError::conflict(format!(
                    "container {reference} was killed before its task was launched"
                )),
            );
        } else {
            self.send_kill(&id, grace);
        }
        self.emit_event(&id, "kill", vec![("signal", number.to_string())]);
        Ok(Some(DockerResponse::NoContent))
    }

    fn remove(
        &mut self,
        request: RequestId,
        reference: &str,
        force: bool,
    ) -> Result<Option<DockerResponse>, ApiError> {
        let id = self.resolve(reference)?;
        let e = &self.containers[&id];
        let busy = e.c.has_live_task() || !matches!(e.phase, Phase::Settled);
        if busy && !force {
            return Err(ApiError::conflict(format!(
                "cannot remove container \"/{}\": container is running: stop the container before removing or force remove",
                e.c.name
            )));
        }
        if e.removing {
            self.register_waiter(request, id)?;
            self.containers
                .get_mut(&id)
                .expect("resolved")
                .remove_waiters
                .push(request);
            return Ok(None);
        }
        if matches!(e.phase, Phase::Pending { .. }) {
            self.dequeue_pending(&id);
        }
        self.cancel_launch(&id);
        let e = &self.containers[&id];
        if !e.c.has_live_task() {
            self.fail_start(
                &id,
                ApiError::conflict(format!("container {reference} was removed")),
            );
            self.remove_container(&id);
            self.after_durable(Output::Docker {
                id: request,
                response: DockerResponse::NoContent,
            });
            return Ok(None);
        }
        self.register_waiter(request, id)?;
        let e = self.containers.get_mut(&id).expect("resolved");
        e.removing = true;
        e.want_running = false;
        e.restart_pending = false;
        e.remove_waiters.push(request);
        e.kill_signal = Some("SIGKILL".into());
        e.refresh_status();
        self.persist_container(&id);
        self.send_kill(&id, 0);
        Ok(None)
    }

    fn wait(
        &mut self,
        request: RequestId,
        reference: &str,
        condition: WaitCondition,
    ) -> Result<Option<DockerResponse>, ApiError> {
        let id = self.resolve(reference)?;
        let e = &self.containers[&id];
        let running = e.c.has_live_task() || !matches!(e.phase, Phase::Settled);
        if condition == WaitCondition::NotRunning && !running {
            let code = e.c.exit_code;
            self.respond(request, DockerResponse::WaitPending);
            return Ok(Some(DockerResponse::WaitDone {
                status_code: code,
                error: None,
            }));
        }
        self.register_waiter(request, id)?;
        self.containers
            .get_mut(&id)
            .expect("resolved")
            .exit_waiters
            .push((request, condition));
        Ok(Some(DockerResponse::WaitPending))
    }

    /// Where a container runs, for the proxy. An attach waits for a running task (its
    /// output may not exist yet); everything else is answered at once.
    fn locate(
        &mut self,
        request: RequestId,
        reference: &str,
        op: ProxyOp,
    ) -> Result<Option<DockerResponse>, ApiError> {
        let id = self.resolve(reference)?;
        let e = &self.containers[&id];
        let running = e.c.status == DockerStatus::Running;
        if op == ProxyOp::Attach && !(running && e.task_ran) {
            // dockerd lets a client attach to a container that is not running and streams
            // from its next start on: `docker run` and `start -a` attach before they start.
            let tty = e.c.spec.tty;
            self.register_waiter(request, id)?;
            self.containers
                .get_mut(&id)
                .expect("resolved")
                .attach_waiters
                .push(request);
            return Ok(Some(DockerResponse::LocatePending { tty }));
        }
        Ok(Some(location_of(e).unwrap_or_else(|| {
            DockerResponse::NotOnAgent {
                id,
                name: e.c.name.clone(),
                tty: e.c.spec.tty,
            }
        })))
    }

    /// The engines of every agent the manager knows of: those running its tasks and those
    /// whose offers it holds.
    fn engines(&self) -> DockerResponse {
        let mut engines: Vec<(String, Option<u16>)> = self
            .containers
            .values()
            .filter_map(|e| e.c.task.as_ref())
            .filter_map(|t| Some((t.agent_hostname.clone()?, t.agent_docker_port)))
            .chain(self.offers.iter().map(|(_, o)| {
                let port = o
                    .attributes
                    .iter()
                    .find(|(k, _)| k == super::placement::DOCKER_PORT_ATTRIBUTE)
                    .and_then(|(_, v)| v.trim().parse::<u16>().ok());
                (o.hostname.clone(), port)
            }))
            .collect();
        engines.sort();
        engines.dedup();
        DockerResponse::Engines(engines)
    }

    fn inspect(&mut self, reference: &str) -> Result<Option<DockerResponse>, ApiError> {
        let id = self.resolve(reference)?;
        let c = &self.containers[&id].c;
        Ok(Some(DockerResponse::Inspect(Box::new(
            render::container_inspect(c, self.now),
        ))))
    }

    fn list(&self, q: &ListQuery) -> DockerResponse {
        let mut selected: Vec<&Container> = self
            .containers
            .values()
            .map(|e| &e.c)
            .filter(|c| {
                q.all
                    || q.limit.is_some()
                    || matches!(
                        c.status,
                        DockerStatus::Running | DockerStatus::Restarting | DockerStatus::Removing
                    )
            })
            .filter(|c| q.filters.matches(c))
            .collect();
        // Newest first, as dockerd lists them; ties by id for a stable order.
        selected.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        if let Some(limit) = q.limit {
            selected.truncate(limit);
        }
        DockerResponse::List(
            selected
                .into_iter()
                .map(|c| render::container_summary(c, self.now))
                .collect(),
        )
    }

    fn rename(
        &mut self,
        request: RequestId,
        reference: &str,
        new_name: String,
    ) -> Result<Option<DockerResponse>, ApiError> {
        let id = self.resolve(reference)?;
        let new_name = new_name.strip_prefix('/').unwrap_or(&new_name).to_string();
        validate_container_name(&new_name).map_err(ApiError::bad_request)?;
        let old = self.containers[&id].c.name.clone();
        if old == new_name {
            return Err(ApiError::conflict(
                "Renaming a container with the same name as its current name",
            ));
        }
        if let Some(other) = self.names.get(&new_name) {
            return Err(ApiError::conflict(format!(
                "Conflict. The container name \"/{new_name}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
                other.to_hex()
            )));
        }
        self.names.remove(&old);
        self.names.insert(new_name.clone(), id);
        self.containers.get_mut(&id).expect("resolved").c.name = new_name;
        self.persist_container(&id);
        self.emit_event(&id, "rename", vec![("oldName", format!("/{old}"))]);
        self.after_durable(Output::Docker {
            id: request,
            response: DockerResponse::NoContent,
        });
        Ok(None)
    }

    fn info(&self) -> DockerResponse {
        let mut view = InfoView {
            connected: self.link == super::Link::Subscribed,
            master: self.master.clone(),
            framework_id: self.framework_id.clone(),
            pending: self.pending_count as u64,
            name: self.config.manager_name.clone(),
            ..Default::default()
        };
        for e in self.containers.values() {
            match e.c.status {
                DockerStatus::Running | DockerStatus::Restarting | DockerStatus::Removing => {
                    view.containers_running += 1
                }
                _ => view.containers_stopped += 1,
            }
        }
        let mut offers: Vec<OfferView> = self
            .offers
            .iter()
            .map(|(_, o)| {
                let r = o.remaining();
                OfferView {
                    id: o.id.clone(),
                    hostname: o.hostname.clone(),
                    cpus_milli: r.cpus.0.max(0) as u64,
                    mem_mib: r.mem.whole_units().max(0) as u64,
                    disk_mib: r.disk.whole_units().max(0) as u64,
                    ports: r.ports.ranges().to_vec(),
                }
            })
            .collect();
        offers.sort_by(|a, b| a.id.cmp(&b.id));
        view.offers = offers;
        DockerResponse::Info(Box::new(render::system_info(&view)))
    }

    fn events_history(&self, q: &EventsQuery) -> DockerResponse {
        let events = self
            .events
            .iter()
            .filter(|e| q.since.is_some_and(|s| e.time >= s))
            .filter(|e| q.until.is_none_or(|u| e.time <= u))
            .filter(|e| q.filters.matches(e))
            .cloned()
            .collect();
        DockerResponse::Events(events)
    }
}

/// Where the container's agent-side Docker container is, if it ever ran on an agent.
pub(super) fn location_of(e: &Entry) -> Option<DockerResponse> {
    let t = e.c.task.as_ref()?;
    Some(DockerResponse::Located(Box::new(Location {
        id: e.c.id,
        name: e.c.name.clone(),
        agent_hostname: t.agent_hostname.clone()?,
        agent_docker_port: t.agent_docker_port,
        docker_id: t.docker_id.clone()?,
        tty: e.c.spec.tty,
        running: e.c.status == DockerStatus::Running,
    })))
}

/// Mesos can end a task, not deliver arbitrary signals to it: only the signals that end a
/// process are accepted. Returns the signal number.
fn check_signal(sig: &str) -> Result<i64, ApiError> {
    match signal_number(sig) {
        Some(n @ (2 | 9 | 15)) => Ok(n),
        Some(_) => Err(ApiError::bad_request(format!(
            "signal {sig} cannot be delivered through Mesos: only SIGKILL, SIGTERM and SIGINT, which end the task, are supported"
        ))),
        None => Err(ApiError::bad_request(format!("Invalid signal: {sig}"))),
    }
}
