//! One-line descriptions of inputs and outputs, for failure reports and traces.

use mesoswarm_core::docker::request::DockerRequest;
use mesoswarm_core::manager::{Input, Output};
use mesoswarm_proto::scheduler::{call::Type as CallType, event::Type as EventType};

/// A short line about an input, for a failure report.
pub(super) fn describe_input(input: &Input) -> String {
    fn cut(s: String) -> String {
        if s.len() > 200 {
            let mut end = 200;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}…", &s[..end])
        } else {
            s
        }
    }
    match input {
        Input::MesosEvent(e) => {
            let kind = e
                .r#type
                .and_then(|t| EventType::try_from(t).ok())
                .map_or("?".to_string(), |t| t.as_str_name().to_string());
            let detail = if let Some(o) = &e.offers {
                format!("{} offer(s)", o.offers.len())
            } else if let Some(u) = &e.update {
                let s = &u.status;
                format!(
                    "{} {:?} uuid={} {}",
                    s.task_id.value,
                    mesoswarm_proto::v1::TaskState::try_from(s.state),
                    s.uuid.is_some(),
                    s.message.clone().unwrap_or_default()
                )
            } else if let Some(r) = &e.rescind {
                r.offer_id.value.clone()
            } else if let Some(err) = &e.error {
                err.message.clone()
            } else {
                String::new()
            };
            cut(format!("event {kind} {detail}"))
        }
        Input::Docker { id, request } => cut(format!("docker #{id} {}", describe_request(request))),
        other => cut(format!("{other:?}")),
    }
}

/// A short line about an output, for a full trace.
pub(super) fn describe_output(o: &Output) -> Option<String> {
    Some(match o {
        Output::Call(c) => {
            let kind = c
                .r#type
                .and_then(|t| CallType::try_from(t).ok())
                .map_or("?".to_string(), |t| t.as_str_name().to_string());
            let detail = if let Some(a) = &c.accept {
                let tasks: Vec<&str> = a
                    .operations
                    .iter()
                    .flat_map(|op| op.launch.iter().flat_map(|l| &l.task_infos))
                    .map(|t| t.task_id.value.as_str())
                    .collect();
                format!(
                    "{:?} {tasks:?}",
                    a.offer_ids.iter().map(|o| &o.value).collect::<Vec<_>>()
                )
            } else if let Some(d) = &c.decline {
                format!("{} offer(s)", d.offer_ids.len())
            } else if let Some(k) = &c.kill {
                k.task_id.value.clone()
            } else if let Some(a) = &c.acknowledge {
                format!(
                    "{} {:02x?}",
                    a.task_id.value,
                    &a.uuid[..a.uuid.len().min(4)]
                )
            } else if let Some(r) = &c.reconcile {
                format!(
                    "{:?}",
                    r.tasks.iter().map(|t| &t.task_id.value).collect::<Vec<_>>()
                )
            } else {
                String::new()
            };
            format!("  -> call {kind} {detail}")
        }
        Output::Docker { id, response } => {
            let mut s = crate::trace::canonical_response(response);
            s.truncate(160);
            format!("  -> docker #{id} {s}")
        }
        Output::Event(e) => format!("  -> event {} {}", e.action, e.name),
        Output::Reconnect { reason } => format!("  -> reconnect: {reason}"),
        Output::Persist { .. } => return None,
        Output::Log { level, message } => {
            if *level < mesoswarm_core::manager::LogLevel::Info {
                return None;
            }
            format!("  -> log {level:?}: {message}")
        }
    })
}

fn describe_request(r: &DockerRequest) -> String {
    match r {
        DockerRequest::ContainerCreate { name, .. } => format!("create name={name:?}"),
        other => format!("{other:?}"),
    }
}
