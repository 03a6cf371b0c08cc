//! Frameworks: subscription and re-subscription (failover), disconnection, the failover
//! timeout, removal, heartbeats, and sending events on a framework's stream.

use std::collections::BTreeSet;

use mesoswarm_core::time::Instant;
use mesoswarm_proto::scheduler::{call, event, Event};
use mesoswarm_proto::v1::{
    framework_info::capability::Type as Cap, task_status, FrameworkId, FrameworkInfo, TaskState,
};

use super::state::{has_capability, roles_of, Framework};
use super::{ClusterTimer, SimCluster};

/// Mesos writes a `set<string>` as `{ a, b }`.
pub(super) fn stringify_set(s: &BTreeSet<String>) -> String {
    let items: Vec<&str> = s.iter().map(String::as_str).collect();
    format!("{{ {} }}", items.join(", "))
}

impl SimCluster {
    /// Queues an event on a stream.
    pub(super) fn emit(&mut self, stream: &str, event: Event) {
        self.out.push_back(super::ClusterOutput::Event {
            stream: stream.to_string(),
            event: Box::new(event),
        });
    }

    /// Sends an event to a framework if it is connected (events for a disconnected
    /// framework are dropped, as the real master drops them).
    pub(super) fn send_to(&mut self, framework_id: &str, event: Event) -> bool {
        let Some(stream) = self
            .master
            .frameworks
            .get(framework_id)
            .and_then(|f| f.stream.clone())
        else {
            return false;
        };
        self.emit(&stream, event);
        true
    }

    /// ERROR on a stream, then its end.
    pub(super) fn error_and_close(&mut self, stream: &str, message: &str) {
        self.emit(
            stream,
            Event {
                r#type: Some(event::Type::Error as i32),
                error: Some(event::Error {
                    message: message.to_string(),
                }),
                ..Default::default()
            },
        );
        self.out.push_back(super::ClusterOutput::CloseStream {
            stream: stream.to_string(),
        });
        self.master.streams.remove(stream);
    }

    /// `Master::validateFramework` and the suppressed-roles check of a SUBSCRIBE.
    fn validate_subscription(
        &self,
        info: &FrameworkInfo,
        suppressed: &[String],
    ) -> Result<(), String> {
        let multi = has_capability(info, Cap::MultiRole);
        #[allow(deprecated)] // FrameworkInfo.role
        let has_role = info.role.is_some();
        if multi && has_role {
            return Err(
                "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable"
                    .into(),
            );
        }
        if !multi && !info.roles.is_empty() {
            return Err("'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable".into());
        }
        let roles: BTreeSet<String> = roles_of(info).into_iter().collect();
        if multi && roles.len() != info.roles.len() {
            return Err("'FrameworkInfo.roles' contains duplicate items".into());
        }
        if let Some(id) = &info.id {
            if let Err(e) = validate_id(&id.value) {
                return Err(format!("'FrameworkInfo.id' is invalid: {e}"));
            }
        }
        if let Some(t) = info.failover_timeout {
            if !t.is_finite() || !(0.0..=1e11).contains(&t) {
                return Err(format!("The framework failover_timeout ({t}) is invalid"));
            }
        }
        if let Some(id) = &info.id {
            if self.master.completed.iter().any(|c| *c == id.value) {
                return Err("Framework has been removed".into());
            }
        }
        let wanted: BTreeSet<String> = suppressed.iter().cloned().collect();
        let invalid: BTreeSet<String> = wanted.difference(&roles).cloned().collect();
        if !invalid.is_empty() {
            return Err(format!(
                "Suppressed roles {} are not contained in the set of roles",
                stringify_set(&invalid)
            ));
        }
        Ok(())
    }

    /// The subscription behind a successful HTTP SUBSCRIBE (200 already given).
    pub(super) fn subscribe(&mut self, stream: String, sub: call::Subscribe) {
        let mut info = sub.framework_info;
        if let Err(e) = self.validate_subscription(&info, &sub.suppressed_roles) {
            self.error_and_close(&stream, &e);
            return;
        }
        let suppressed: BTreeSet<String> = sub.suppressed_roles.into_iter().collect();
        let id = info
            .id
            .as_ref()
            .map(|i| i.value.clone())
            .filter(|v| !v.is_empty());
        let id = match id {
            None => {
                let id = format!("{}-{:04}", self.master.id, self.master.next_framework);
                self.master.next_framework += 1;
                info.id = Some(FrameworkId { value: id.clone() });
                self.insert_framework(id.clone(), info, suppressed, false);
                id
            }
            Some(id) => {
                if !self.master.frameworks.contains_key(&id) {
                    // A framework this master never saw (it failed over): rebuild it.
                    self.insert_framework(id.clone(), info.clone(), BTreeSet::new(), true);
                }
                let old = self.master.frameworks[&id].info.clone();
                if old.principal != info.principal {
                    self.error_and_close(&stream, "Changing framework's principal is not allowed.");
                    return;
                }
                info.user = old.user.clone();
                info.checkpoint = old.checkpoint;
                let old_stream = self.master.frameworks[&id].stream.clone();
                if let Some(old_stream) = old_stream {
                    // MESOS-4712: a re-subscription always fails the old connection over.
                    self.error_and_close(&old_stream, "Framework failed over");
                }
                self.discard_framework_offers(&id);
                self.remove_framework_inverse_offers(&id);
                let f = self.master.frameworks.get_mut(&id).expect("inserted");
                f.info = info;
                f.suppressed = suppressed;
                f.recovered = false;
                id
            }
        };
        let now = self.now;
        let f = self.master.frameworks.get_mut(&id).expect("inserted");
        f.stream = Some(stream.clone());
        f.active = true;
        f.reregistered_at = now;
        self.master.streams.insert(stream.clone(), id.clone());
        let subscribed = Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(event::Subscribed {
                framework_id: FrameworkId { value: id.clone() },
                heartbeat_interval_seconds: Some(self.config.heartbeat_interval_ms as f64 / 1000.0),
                master_info: Some(self.master_info()),
            }),
            ..Default::default()
        };
        self.emit(&stream, subscribed);
        self.heartbeat(&stream);
        // UpdateFrameworkMessage: agents re-send what the framework has not acknowledged.
        self.resume_updates(&id);
        self.allocate_soon();
    }

    fn insert_framework(
        &mut self,
        id: String,
        info: FrameworkInfo,
        suppressed: BTreeSet<String>,
        recovered: bool,
    ) {
        let now = self.now;
        self.master.frameworks.insert(
            id.clone(),
            Framework {
                id,
                info,
                stream: None,
                recovered,
                active: false,
                suppressed,
                offers: Default::default(),
                inverse_offers: Default::default(),
                tasks: Default::default(),
                unreachable_tasks: Default::default(),
                reregistered_at: now,
                inverse_filters: Default::default(),
            },
        );
    }

    /// A HEARTBEAT now, and the next one armed.
    fn heartbeat(&mut self, stream: &str) {
        self.emit(
            stream,
            Event {
                r#type: Some(event::Type::Heartbeat as i32),
                ..Default::default()
            },
        );
        let at = self.after(self.config.heartbeat_interval_ms.max(1));
        self.timers.push(
            at,
            ClusterTimer::Heartbeat {
                stream: stream.to_string(),
            },
        );
    }

    pub(super) fn on_heartbeat_timer(&mut self, stream: String) {
        if self.master.streams.contains_key(&stream) {
            self.heartbeat(&stream);
        }
    }

    /// The subscription's connection closed (`Master::_exited`): the framework is
    /// disconnected and deactivated, its offers rescinded, its failover timeout armed.
    pub(super) fn framework_exited(&mut self, stream: &str) {
        let Some(id) = self.master.streams.remove(stream) else {
            return;
        };
        let Some(f) = self.master.frameworks.get_mut(&id) else {
            return;
        };
        if f.stream.as_deref() != Some(stream) {
            return;
        }
        f.stream = None;
        f.active = false;
        let reregistered_at = f.reregistered_at;
        let timeout_secs = f.info.failover_timeout.unwrap_or(0.0).max(0.0);
        // Rescinds cannot reach a closed stream: the offers are simply gone.
        self.rescind_framework_offers(&id);
        self.remove_framework_inverse_offers(&id);
        let at = self
            .now
            .saturating_add(std::time::Duration::from_secs_f64(timeout_secs.min(1e10)));
        let incarnation = self.master.incarnation;
        self.timers.push(
            at,
            ClusterTimer::FailoverTimeout {
                framework: id,
                reregistered_at,
                incarnation,
            },
        );
    }

    pub(super) fn on_failover_timeout(&mut self, id: &str, reregistered_at: Instant) {
        let Some(f) = self.master.frameworks.get(id) else {
            return;
        };
        if f.connected() || f.reregistered_at != reregistered_at {
            return;
        }
        self.remove_framework(id);
    }

    /// `Master::removeFramework`: its tasks are killed everywhere, its id is completed.
    pub(super) fn remove_framework(&mut self, id: &str) {
        if let Some(stream) = self
            .master
            .frameworks
            .get(id)
            .and_then(|f| f.stream.clone())
        {
            self.out.push_back(super::ClusterOutput::CloseStream {
                stream: stream.clone(),
            });
            self.master.streams.remove(&stream);
        }
        self.rescind_framework_offers(id);
        self.remove_framework_inverse_offers(id);
        // ShutdownFrameworkMessage to every agent: their executors kill the tasks; the
        // updates go nowhere (the framework is gone).
        for i in 0..self.agents.len() {
            self.agent_shutdown_framework(i, id);
        }
        let keys: Vec<(String, String)> = self
            .master
            .tasks
            .keys()
            .filter(|(fw, _)| fw == id)
            .cloned()
            .collect();
        for key in keys {
            if let Some(t) = self.master.tasks.remove(&key) {
                if t.holds_resources {
                    self.master.agents[t.agent].used.sub(&t.resources);
                    self.refresh_available(t.agent);
                }
            }
        }
        for v in &mut self.master.agents {
            v.killed.retain(|(fw, _)| fw != id);
            v.filters.retain(|(fw, _, _, _)| fw != id);
        }
        self.master.frameworks.remove(id);
        self.master.completed.push_back(id.to_string());
        if self.master.completed.len() > super::state::MAX_COMPLETED_FRAMEWORKS {
            self.master.completed.pop_front();
        }
    }

    /// A master-made update (no uuid) for a framework's task, sent if it is connected.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn master_update(
        &mut self,
        framework_id: &str,
        task_id: &str,
        agent_id: Option<&str>,
        state: TaskState,
        reason: task_status::Reason,
        message: &str,
        unreachable_time: Option<Instant>,
    ) {
        let status = mesoswarm_proto::v1::TaskStatus {
            task_id: mesoswarm_proto::v1::TaskId {
                value: task_id.to_string(),
            },
            state: state as i32,
            message: Some(message.to_string()),
            source: Some(task_status::Source::Master as i32),
            reason: Some(reason as i32),
            agent_id: agent_id.map(|value| mesoswarm_proto::v1::AgentId {
                value: value.to_string(),
            }),
            timestamp: Some(self.timestamp()),
            unreachable_time: unreachable_time.map(|t| mesoswarm_proto::v1::TimeInfo {
                nanoseconds: t.unix_nanos() as i64,
            }),
            ..Default::default()
        };
        let ev = Event {
            r#type: Some(event::Type::Update as i32),
            update: Some(event::Update { status }),
            ..Default::default()
        };
        if self.send_to(framework_id, ev) {
            self.stats.updates_forwarded += 1;
        }
    }

    /// Whether the framework is partition-aware (unknown frameworks count as not).
    pub(super) fn partition_aware(&self, framework_id: &str) -> bool {
        self.master
            .frameworks
            .get(framework_id)
            .is_some_and(|f| f.has(Cap::PartitionAware))
    }
}

/// `common::validation::validateID`.
pub(super) fn validate_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("ID must not be empty".into());
    }
    if id.len() > 255 {
        return Err("ID must not be greater than 255 characters".into());
    }
    if id == "." || id == ".." {
        return Err(format!("'{id}' is disallowed"));
    }
    if id.chars().any(|c| c.is_control() || c == '/' || c == '\\') {
        return Err(format!("'{id}' contains invalid characters"));
    }
    Ok(())
}
