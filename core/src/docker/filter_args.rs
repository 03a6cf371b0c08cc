//! The `filters=` query parameter: JSON in either shape, then typed container or event filters.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::container::DockerStatus;
use crate::docker::error::ApiError;
use crate::docker::request::{ContainerFilters, EventFilters, LabelFilter};

/// Parses a `filters` JSON value into `key → values`, accepting both shapes clients send:
/// the map form of the docker CLI (`{"label":{"a=b":true}}`) and the legacy list form of
/// docker-compose 1.29 and docker-py (`{"label":["a=b"]}`).
///
/// As in moby, the booleans of the map form are not read (`{"status":{"running":false}}`
/// still filters on `running`). Unlike moby, the two shapes may be mixed in one object.
/// Values keep the order they came in, without duplicates. An empty string is no filter.
/// Anything else is a 400 starting with dockerd's `invalid filter`.
pub fn parse_filters(json: &str) -> Result<BTreeMap<String, Vec<String>>, ApiError> {
    let mut out = BTreeMap::new();
    if json.trim().is_empty() {
        return Ok(out);
    }
    let shape_error = |detail: String| {
        ApiError::bad_request(format!(
            "invalid filter: filters must be a JSON object of {{\"key\": {{\"value\": true}}}} or \
             {{\"key\": [\"value\"]}}: {detail}"
        ))
    };
    let value: Value = serde_json::from_str(json).map_err(|e| shape_error(e.to_string()))?;
    let Value::Object(map) = value else {
        return Err(shape_error("not a JSON object".to_string()));
    };
    for (key, v) in map {
        let mut values: Vec<String> = Vec::new();
        let mut push = |s: &str| {
            if !values.iter().any(|x| x == s) {
                values.push(s.to_string());
            }
        };
        match v {
            Value::Object(m) => {
                for (value, flag) in &m {
                    if !flag.is_boolean() {
                        return Err(shape_error(format!(
                            "the value of {key}.{value} is not true or false"
                        )));
                    }
                    push(value);
                }
            }
            Value::Array(items) => {
                for item in &items {
                    let Value::String(s) = item else {
                        return Err(shape_error(format!("{key} holds {item}, not a string")));
                    };
                    push(s);
                }
            }
            Value::Null => {}
            other => return Err(shape_error(format!("{key} holds {other}"))),
        }
        out.insert(key, values);
    }
    Ok(out)
}

/// Parses one `label` filter value: `key`, `key=value` or `key!=value`.
pub fn parse_label_filter(text: &str) -> LabelFilter {
    match text.split_once('=') {
        None => LabelFilter {
            key: text.to_string(),
            value: None,
            negate: false,
        },
        Some((key, value)) => match key.strip_suffix('!') {
            Some(key) => LabelFilter {
                key: key.to_string(),
                value: Some(value.to_string()),
                negate: true,
            },
            None => LabelFilter {
                key: key.to_string(),
                value: Some(value.to_string()),
                negate: false,
            },
        },
    }
}

/// Filter keys dockerd accepts on `GET /containers/json` that mesoswarm cannot apply yet.
const UNSUPPORTED_CONTAINER_KEYS: [&str; 7] = [
    "before",
    "since",
    "expose",
    "publish",
    "network",
    "volume",
    "isolation",
];

/// The `status` values dockerd accepts.
const STATUS_VALUES: [&str; 7] = [
    "created",
    "running",
    "paused",
    "restarting",
    "removing",
    "exited",
    "dead",
];

/// Turns parsed filters into [`ContainerFilters`] for `GET /containers/json`.
///
/// Keys dockerd does not know are its 400 `invalid filter 'KEY'`; a bad `status` value is
/// `invalid filter 'status=VALUE'`, a non-numeric `exited` value `invalid filter
/// 'exited=VALUE'`. Keys dockerd knows but mesoswarm cannot apply yet (`before`, `since`,
/// `expose`, `publish`, `network`, `volume`, `isolation`) are a 400 that says so instead of
/// silently listing too much. Nothing under Mesos is paused, is a swarm task or has a health
/// check, so `status=paused` (alone), `is-task=true` and `health=<anything but none>` select
/// no container, as they would on a dockerd without such containers.
pub fn container_filters(
    args: &BTreeMap<String, Vec<String>>,
) -> Result<ContainerFilters, ApiError> {
    let mut f = ContainerFilters::default();
    let mut selects_nothing = false;
    for (key, values) in args {
        match key.as_str() {
            "status" => {
                let mut only_paused = !values.is_empty();
                for v in values {
                    if !STATUS_VALUES.contains(&v.as_str()) {
                        return Err(invalid_filter(key, Some(v)));
                    }
                    if let Some(s) = docker_status(v) {
                        only_paused = false;
                        if !f.status.contains(&s) {
                            f.status.push(s);
                        }
                    }
                }
                selects_nothing |= only_paused;
            }
            "name" => f.name.clone_from(values),
            "id" => f.id.clone_from(values),
            "label" => f.label = values.iter().map(|v| parse_label_filter(v)).collect(),
            "ancestor" => f.ancestor.clone_from(values),
            "exited" => {
                for v in values {
                    let code = v
                        .trim()
                        .parse::<i64>()
                        .map_err(|_| invalid_filter(key, Some(v)))?;
                    f.exited.push(code);
                }
            }
            "is-task" => {
                selects_nothing |=
                    values.iter().any(|v| v == "true") && !values.iter().any(|v| v == "false")
            }
            "health" => {
                for v in values {
                    if !["starting", "healthy", "unhealthy", "none"].contains(&v.as_str()) {
                        return Err(invalid_filter(key, Some(v)));
                    }
                }
                selects_nothing |= !values.is_empty() && !values.iter().any(|v| v == "none");
            }
            k if UNSUPPORTED_CONTAINER_KEYS.contains(&k) => {
                return Err(ApiError::bad_request(format!(
                    "invalid filter '{k}': mesoswarm does not support this filter yet"
                )))
            }
            _ => return Err(invalid_filter(key, None)),
        }
    }
    if selects_nothing {
        return Ok(ContainerFilters::nothing());
    }
    Ok(f)
}

/// Filter keys dockerd accepts on `GET /events` that select events of other object types.
const OTHER_OBJECT_EVENT_KEYS: [&str; 8] = [
    "config", "daemon", "network", "node", "plugin", "secret", "service", "volume",
];

/// Turns parsed filters into [`EventFilters`] for `GET /events`.
///
/// Keys dockerd does not know are its 400 `invalid filter 'KEY'`. mesoswarm emits container
/// events only, with scope `local`: filters on other object types (`network=…`,
/// `volume=…`, …) and `scope=swarm` (without `local`) therefore select nothing.
pub fn event_filters(args: &BTreeMap<String, Vec<String>>) -> Result<EventFilters, ApiError> {
    let mut f = EventFilters::default();
    let mut selects_nothing = false;
    for (key, values) in args {
        match key.as_str() {
            "type" => f.event_type.clone_from(values),
            "event" => f.event.clone_from(values),
            "container" => f.container.clone_from(values),
            "image" => f.image.clone_from(values),
            "label" => f.label = values.iter().map(|v| parse_label_filter(v)).collect(),
            "scope" => {
                selects_nothing |= !values.is_empty() && !values.iter().any(|v| v == "local")
            }
            k if OTHER_OBJECT_EVENT_KEYS.contains(&k) => selects_nothing |= !values.is_empty(),
            _ => return Err(invalid_filter(key, None)),
        }
    }
    if selects_nothing {
        return Ok(EventFilters::nothing());
    }
    Ok(f)
}

/// dockerd's `invalid filter 'KEY'` / `invalid filter 'KEY=VALUE'` (400).
fn invalid_filter(key: &str, value: Option<&str>) -> ApiError {
    match value {
        Some(v) => ApiError::bad_request(format!("invalid filter '{key}={v}'")),
        None => ApiError::bad_request(format!("invalid filter '{key}'")),
    }
}

/// The [`DockerStatus`] for a `status` filter value (`paused` has none under Mesos).
fn docker_status(v: &str) -> Option<DockerStatus> {
    Some(match v {
        "created" => DockerStatus::Created,
        "running" => DockerStatus::Running,
        "restarting" => DockerStatus::Restarting,
        "removing" => DockerStatus::Removing,
        "exited" => DockerStatus::Exited,
        "dead" => DockerStatus::Dead,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, vs)| (k.to_string(), vs.iter().map(|v| v.to_string()).collect()))
            .collect()
    }

    #[test]
    fn both_json_shapes_give_the_same_filters() {
        let a =
            parse_filters(r#"{"label":{"a=b":true,"c":true},"status":{"running":false}}"#).unwrap();
        let b = parse_filters(r#"{"label":["a=b","c","c"],"status":["running"]}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a,
            map(&[("label", &["a=b", "c"]), ("status", &["running"])])
        );
        assert!(parse_filters("").unwrap().is_empty());
    }

    #[test]
    fn malformed_filters_are_400() {
        for bad in [
            "{",
            "[]",
            r#"{"label":"a"}"#,
            r#"{"label":[1]}"#,
            r#"{"label":{"a":"yes"}}"#,
        ] {
            let e = parse_filters(bad).unwrap_err();
            assert_eq!(e.status, http::StatusCode::BAD_REQUEST);
            assert!(
                e.message.starts_with("invalid filter"),
                "{bad}: {}",
                e.message
            );
        }
    }

    #[test]
    fn labels_parse_all_three_forms() {
        assert_eq!(
            parse_label_filter("k"),
            LabelFilter {
                key: "k".into(),
                value: None,
                negate: false
            }
        );
        assert_eq!(
            parse_label_filter("k=v=w"),
            LabelFilter {
                key: "k".into(),
                value: Some("v=w".into()),
                negate: false
            }
        );
        assert_eq!(
            parse_label_filter("k!=v"),
            LabelFilter {
                key: "k".into(),
                value: Some("v".into()),
                negate: true
            }
        );
        assert_eq!(
            parse_label_filter("k="),
            LabelFilter {
                key: "k".into(),
                value: Some("".into()),
                negate: false
            }
        );
    }

    #[test]
    fn container_filter_keys_are_checked_like_dockerd() {
        let f = container_filters(&map(&[
            ("status", &["running", "exited"]),
            ("exited", &["137"]),
        ]))
        .unwrap();
        assert_eq!(f.status, vec![DockerStatus::Running, DockerStatus::Exited]);
        assert_eq!(f.exited, vec![137]);
        assert_eq!(
            container_filters(&map(&[("bogus", &["x"])]))
                .unwrap_err()
                .message,
            "invalid filter 'bogus'"
        );
        assert_eq!(
            container_filters(&map(&[("status", &["bogus"])]))
                .unwrap_err()
                .message,
            "invalid filter 'status=bogus'"
        );
        assert_eq!(
            container_filters(&map(&[("exited", &["x"])]))
                .unwrap_err()
                .message,
            "invalid filter 'exited=x'"
        );
        let e = container_filters(&map(&[("before", &["web"])])).unwrap_err();
        assert!(
            e.message.contains("does not support this filter yet"),
            "{}",
            e.message
        );
    }

    #[test]
    fn impossible_container_filters_select_nothing() {
        assert_eq!(
            container_filters(&map(&[("status", &["paused"])])).unwrap(),
            ContainerFilters::nothing()
        );
        assert_eq!(
            container_filters(&map(&[("is-task", &["true"])])).unwrap(),
            ContainerFilters::nothing()
        );
        assert_eq!(
            container_filters(&map(&[("health", &["healthy"])])).unwrap(),
            ContainerFilters::nothing()
        );
        assert_eq!(
            container_filters(&map(&[("health", &["none"])])).unwrap(),
            ContainerFilters::default()
        );
        let f = container_filters(&map(&[("status", &["paused", "running"])])).unwrap();
        assert_eq!(f.status, vec![DockerStatus::Running]);
    }

    #[test]
    fn event_filter_keys() {
        let f = event_filters(&map(&[
            ("type", &["container"]),
            ("event", &["start", "die"]),
        ]))
        .unwrap();
        assert_eq!(f.event_type, vec!["container"]);
        assert_eq!(f.event, vec!["start", "die"]);
        assert_eq!(
            event_filters(&map(&[("bogus", &["x"])]))
                .unwrap_err()
                .message,
            "invalid filter 'bogus'"
        );
        assert_eq!(
            event_filters(&map(&[("network", &["n1"])])).unwrap(),
            EventFilters::nothing()
        );
        assert_eq!(
            event_filters(&map(&[("scope", &["swarm"])])).unwrap(),
            EventFilters::nothing()
        );
        assert_eq!(
            event_filters(&map(&[("scope", &["local"])])).unwrap(),
            EventFilters::default()
        );
    }
}
