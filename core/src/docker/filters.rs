//! Applying `filters=` to containers (`docker ps`) and to events (`docker events`).
//!
//! Keys are AND-ed. Values of one key are OR-ed, except `label`: like dockerd's
//! `MatchKVList`, every `label` value must match (docker-compose finds its containers with
//! `label=com.docker.compose.project=P` AND `label=com.docker.compose.oneoff=False`).

use crate::container::{Container, DockerStatus};
use crate::docker::pattern::name_matches;
use crate::docker::request::{ContainerFilters, EventFilters, LabelFilter};
use crate::events::DockerEvent;

/// An `id` value no container id starts with (ids are lowercase hex).
const NO_ID: &str = "-";
/// A `type` value no event has.
const NO_TYPE: &str = "-";

impl ContainerFilters {
    /// Filters that select no container, for queries that cannot match under Mesos
    /// (`status=paused`, `is-task=true`): an id prefix no id has.
    pub fn nothing() -> ContainerFilters {
        ContainerFilters {
            id: vec![NO_ID.to_string()],
            ..ContainerFilters::default()
        }
    }

    /// Whether `c` passes every filter.
    ///
    /// * `status`: its status is one of the values;
    /// * `name`: the value matches its name, with or without the leading `/`, as dockerd's
    ///   unanchored regular expression (so plain text is a substring search, see
    ///   [`crate::docker::pattern`]);
    /// * `id`: the value is a prefix of its 64-digit id;
    /// * `label`: `k` exists / `k=v` has that value / `k!=v` is missing or has another value;
    ///   all `label` values must hold;
    /// * `ancestor`: its image is the value, comparing references with `:latest` and the
    ///   `docker.io/library/` prefix made explicit (mesoswarm does not know image ids or
    ///   parent images);
    /// * `exited`: it has exited with one of these codes.
    pub fn matches(&self, c: &Container) -> bool {
        let slash_name = format!("/{}", c.name);
        let id = c.id.to_hex();
        (self.status.is_empty() || self.status.contains(&c.status))
            && (self.name.is_empty()
                || self
                    .name
                    .iter()
                    .any(|p| name_matches(p, &slash_name) || name_matches(p, &c.name)))
            && (self.id.is_empty() || self.id.iter().any(|p| id.starts_with(p.as_str())))
            && self
                .label
                .iter()
                .all(|l| label_matches(l, |k| c.spec.labels.get(k).map(String::as_str)))
            && (self.ancestor.is_empty()
                || self.ancestor.iter().any(|a| same_image(a, &c.spec.image)))
            && (self.exited.is_empty()
                || (c.status == DockerStatus::Exited && self.exited.contains(&c.exit_code)))
    }
}

impl EventFilters {
    /// Filters that select no event (mesoswarm emits container events only, so filters on
    /// other object types or `scope=swarm` select nothing): a type no event has.
    pub fn nothing() -> EventFilters {
        EventFilters {
            event_type: vec![NO_TYPE.to_string()],
            ..EventFilters::default()
        }
    }

    /// Whether `e` passes every filter.
    ///
    /// * `type`: one value is `container` (the only type mesoswarm emits);
    /// * `event`: the action is the value (or `value: …`, as dockerd matches `exec_start: sh`);
    /// * `container`: the value (leading `/` ignored) is a prefix of the container's id or
    ///   name, as dockerd's `FuzzyMatch` does;
    /// * `image`: the value is the image, the image without its tag, or the same reference
    ///   with `:latest` / `docker.io/library/` made explicit;
    /// * `label`: as for containers, against the container's labels; all must hold.
    pub fn matches(&self, e: &DockerEvent) -> bool {
        let id = e.container_id.to_hex();
        (self.event_type.is_empty() || self.event_type.iter().any(|t| t == "container"))
            && (self.event.is_empty() || self.event.iter().any(|v| action_matches(v, e.action)))
            && (self.container.is_empty()
                || self.container.iter().any(|v| {
                    let v = v.strip_prefix('/').unwrap_or(v);
                    id.starts_with(v) || e.name.starts_with(v)
                }))
            && (self.image.is_empty()
                || self
                    .image
                    .iter()
                    .any(|v| v == &e.image || v == strip_tag(&e.image) || same_image(v, &e.image)))
            && self.label.iter().all(|l| {
                label_matches(l, |k| {
                    e.labels
                        .iter()
                        .find(|(lk, _)| lk == k)
                        .map(|(_, v)| v.as_str())
                })
            })
    }
}

/// Whether a label filter holds for labels looked up with `get`.
fn label_matches<'a>(f: &LabelFilter, get: impl Fn(&str) -> Option<&'a str>) -> bool {
    let actual = get(&f.key);
    match (&f.value, f.negate) {
        (None, _) => actual.is_some(),
        (Some(want), false) => actual == Some(want.as_str()),
        (Some(want), true) => actual != Some(want.as_str()),
    }
}

fn action_matches(filter: &str, action: &str) -> bool {
    action == filter
        || action
            .strip_prefix(filter)
            .is_some_and(|rest| rest.starts_with(':'))
}

/// Whether two image references name the same image (see [`normalize_image`]).
pub fn same_image(a: &str, b: &str) -> bool {
    a == b || normalize_image(a) == normalize_image(b)
}

/// An image reference in a comparable form: without the default registry and `library/`
/// (`docker.io/library/busybox` → `busybox`) and with a tag (`busybox` → `busybox:latest`)
/// unless it has one or a digest.
pub fn normalize_image(reference: &str) -> String {
    let mut r = reference;
    for prefix in ["docker.io/", "index.docker.io/", "registry-1.docker.io/"] {
        if let Some(rest) = r.strip_prefix(prefix) {
            r = rest;
            break;
        }
    }
    let r = r.strip_prefix("library/").unwrap_or(r);
    let last = r.rsplit('/').next().unwrap_or(r);
    if r.contains('@') || last.contains(':') {
        r.to_string()
    } else {
        format!("{r}:latest")
    }
}

/// The reference without its tag (`busybox:1.36` → `busybox`; a registry port is kept).
fn strip_tag(reference: &str) -> &str {
    let reference = reference.split('@').next().unwrap_or(reference);
    let last_slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[last_slash..].rfind(':') {
        Some(i) => &reference[..last_slash + i],
        None => reference,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::filter_args::parse_label_filter;
    use crate::ids::ContainerId;
    use crate::spec::ContainerSpec;
    use crate::time::Instant;

    fn container(
        name: &str,
        status: DockerStatus,
        exit_code: i64,
        labels: &[(&str, &str)],
    ) -> Container {
        let mut id = [0u8; 32];
        id[0] = 0xab;
        id[1] = 0xcd;
        Container {
            id: ContainerId(id),
            name: name.to_string(),
            spec: ContainerSpec {
                image: "busybox".to_string(),
                labels: labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ..ContainerSpec::default()
            },
            created_at: Instant::from_unix_secs(1),
            status,
            started_at: None,
            finished_at: None,
            exit_code,
            error: String::new(),
            restart_count: 0,
            task: None,
        }
    }

    fn event(
        action: &'static str,
        name: &str,
        image: &str,
        labels: &[(&str, &str)],
    ) -> DockerEvent {
        let mut id = [0u8; 32];
        id[0] = 0x12;
        DockerEvent {
            action,
            container_id: ContainerId(id),
            name: name.to_string(),
            image: image.to_string(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            extra: vec![],
            time: Instant::from_unix_secs(5),
        }
    }

    fn labels(values: &[&str]) -> Vec<LabelFilter> {
        values.iter().map(|v| parse_label_filter(v)).collect()
    }

    #[test]
    fn empty_filters_match_everything() {
        let c = container("web", DockerStatus::Running, 0, &[]);
        assert!(ContainerFilters::default().matches(&c));
        assert!(!ContainerFilters::nothing().matches(&c));
        let e = event("start", "web", "busybox", &[]);
        assert!(EventFilters::default().matches(&e));
        assert!(!EventFilters::nothing().matches(&e));
    }

    #[test]
    fn status_values_are_ored() {
        let c = container("web", DockerStatus::Exited, 0, &[]);
        let f = |s: Vec<DockerStatus>| ContainerFilters {
            status: s,
            ..Default::default()
        };
        assert!(f(vec![DockerStatus::Running, DockerStatus::Exited]).matches(&c));
        assert!(!f(vec![DockerStatus::Running]).matches(&c));
    }

    #[test]
    fn name_is_a_pattern_on_the_name_with_or_without_slash() {
        let c = container("myweb1", DockerStatus::Running, 0, &[]);
        let f = |n: &str| ContainerFilters {
            name: vec![n.to_string()],
            ..Default::default()
        };
        assert!(f("web").matches(&c));
        assert!(f("/myweb1").matches(&c));
        assert!(f("^myweb1$").matches(&c));
        assert!(f("^/myweb").matches(&c));
        assert!(!f("db").matches(&c));
        assert!(!f("^web").matches(&c));
    }

    #[test]
    fn id_is_a_prefix() {
        let c = container("web", DockerStatus::Running, 0, &[]);
        let f = |n: &str| ContainerFilters {
            id: vec![n.to_string()],
            ..Default::default()
        };
        assert!(f("abcd").matches(&c));
        assert!(f(&c.id.to_hex()).matches(&c));
        assert!(!f("cd00").matches(&c), "a substring that is not a prefix");
    }

    #[test]
    fn label_filters_are_anded_and_support_negation() {
        let c = container(
            "web",
            DockerStatus::Running,
            0,
            &[("com.docker.compose.project", "p"), ("oneoff", "False")],
        );
        let f = |l: &[&str]| ContainerFilters {
            label: labels(l),
            ..Default::default()
        };
        assert!(f(&["com.docker.compose.project=p", "oneoff=False"]).matches(&c));
        assert!(!f(&["com.docker.compose.project=p", "oneoff=True"]).matches(&c));
        assert!(f(&["oneoff"]).matches(&c));
        assert!(!f(&["missing"]).matches(&c));
        assert!(f(&["oneoff!=True"]).matches(&c));
        assert!(!f(&["oneoff!=False"]).matches(&c));
        assert!(f(&["missing!=x"]).matches(&c));
    }

    #[test]
    fn ancestor_treats_latest_as_implicit() {
        let c = container("web", DockerStatus::Running, 0, &[]);
        let f = |a: &str| ContainerFilters {
            ancestor: vec![a.to_string()],
            ..Default::default()
        };
        assert!(f("busybox").matches(&c));
        assert!(f("busybox:latest").matches(&c));
        assert!(f("docker.io/library/busybox").matches(&c));
        assert!(!f("busybox:1.36").matches(&c));
        assert!(!f("alpine").matches(&c));
    }

    #[test]
    fn exited_needs_an_exited_container_with_that_code() {
        let f = |codes: Vec<i64>| ContainerFilters {
            exited: codes,
            ..Default::default()
        };
        assert!(f(vec![1, 137]).matches(&container("a", DockerStatus::Exited, 137, &[])));
        assert!(!f(vec![0]).matches(&container("a", DockerStatus::Exited, 137, &[])));
        assert!(!f(vec![0]).matches(&container("a", DockerStatus::Running, 0, &[])));
    }

    #[test]
    fn keys_are_anded() {
        let c = container("web", DockerStatus::Running, 0, &[("a", "b")]);
        let f = ContainerFilters {
            status: vec![DockerStatus::Running],
            name: vec!["web".into()],
            label: labels(&["a=b"]),
            ..Default::default()
        };
        assert!(f.matches(&c));
        let f = ContainerFilters {
            name: vec!["db".into()],
            ..f
        };
        assert!(!f.matches(&c), "one failing key is enough to exclude");
    }

    #[test]
    fn event_filters_by_key() {
        let e = event("die", "web", "busybox:1.36", &[("a", "b")]);
        let f = |f: EventFilters| f.matches(&e);
        assert!(f(EventFilters {
            event_type: vec!["container".into()],
            ..Default::default()
        }));
        assert!(!f(EventFilters {
            event_type: vec!["image".into()],
            ..Default::default()
        }));
        assert!(f(EventFilters {
            event: vec!["start".into(), "die".into()],
            ..Default::default()
        }));
        assert!(!f(EventFilters {
            event: vec!["start".into()],
            ..Default::default()
        }));
        assert!(f(EventFilters {
            container: vec!["web".into()],
            ..Default::default()
        }));
        assert!(f(EventFilters {
            container: vec!["/we".into()],
            ..Default::default()
        }));
        assert!(f(EventFilters {
            container: vec!["1200".into()],
            ..Default::default()
        }));
        assert!(!f(EventFilters {
            container: vec!["db".into()],
            ..Default::default()
        }));
        assert!(
            f(EventFilters {
                image: vec!["busybox".into()],
                ..Default::default()
            }),
            "tag stripped"
        );
        assert!(f(EventFilters {
            image: vec!["busybox:1.36".into()],
            ..Default::default()
        }));
        assert!(!f(EventFilters {
            image: vec!["alpine".into()],
            ..Default::default()
        }));
        assert!(f(EventFilters {
            label: labels(&["a=b"]),
            ..Default::default()
        }));
        assert!(!f(EventFilters {
            label: labels(&["a=b", "c"]),
            ..Default::default()
        }));
        assert!(!f(EventFilters {
            event: vec!["die".into()],
            container: vec!["db".into()],
            ..Default::default()
        }));
    }

    #[test]
    fn image_references_normalise() {
        assert_eq!(normalize_image("busybox"), "busybox:latest");
        assert_eq!(normalize_image("docker.io/library/busybox:1"), "busybox:1");
        assert_eq!(normalize_image("reg:5000/x/y"), "reg:5000/x/y:latest");
        assert_eq!(normalize_image("x@sha256:ab"), "x@sha256:ab");
        assert_eq!(strip_tag("reg:5000/x/y:t"), "reg:5000/x/y");
        assert_eq!(strip_tag("reg:5000/x/y"), "reg:5000/x/y");
    }
}
