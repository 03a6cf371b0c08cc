//! Container events as `GET /events` streams them.

use std::collections::HashMap;

use bollard_stubs::models::{
    EventActor, EventMessage, EventMessageScopeEnum, EventMessageTypeEnum,
};
use bytes::Bytes;

use crate::docker::render::json_value_body;
use crate::events::DockerEvent;

/// The event as API 1.44's `EventMessage`: `Type` container, `Action`, `Actor{ID,
/// Attributes}`, `scope` local, `time` and `timeNano`.
///
/// `Attributes` are the container's labels, then `image` and `name` (which win over labels
/// of the same name, as in dockerd), then the extras (`exitCode`, `signal`, `oldName`).
pub fn event_message(e: &DockerEvent) -> EventMessage {
    let mut attributes: HashMap<String, String> = e.labels.iter().cloned().collect();
    attributes.insert("image".to_string(), e.image.clone());
    attributes.insert("name".to_string(), e.name.clone());
    for (k, v) in &e.extra {
        attributes.insert((*k).to_string(), v.clone());
    }
    EventMessage {
        typ: Some(EventMessageTypeEnum::CONTAINER),
        action: Some(e.action.to_string()),
        actor: Some(EventActor {
            id: Some(e.container_id.to_hex()),
            attributes: Some(attributes),
        }),
        scope: Some(EventMessageScopeEnum::LOCAL),
        time: Some(i64::try_from(e.time.unix_secs()).unwrap_or(i64::MAX)),
        time_nano: Some(i64::try_from(e.time.unix_nanos()).unwrap_or(i64::MAX)),
    }
}

/// One line of the events stream: compact JSON and `\n`, with the deprecated `status`,
/// `id` and `from` fields that dockerd still sends up to API 1.51 (docker-compose 1.29 reads
/// `status` and `id`).
pub fn event_json_line(e: &DockerEvent) -> Bytes {
    let mut value = serde_json::to_value(event_message(e)).unwrap_or(serde_json::Value::Null);
    if let Some(obj) = value.as_object_mut() {
        obj.insert("status".to_string(), e.action.into());
        obj.insert("id".to_string(), e.container_id.to_hex().into());
        obj.insert("from".to_string(), e.image.clone().into());
    }
    json_value_body(value)
}
