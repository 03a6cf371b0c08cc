//! `--cluster-opt mesos.KEY=VALUE` and the `SWARM_MESOS_*` variables, parsed strictly.
//!
//! Classic Swarm read the same keys but ignored unknown ones and swallowed parse errors; a
//! user once lost a day to `mesos.offertimout`. Here an unknown key or a bad value stops the
//! daemon at start with a message naming the key. Lookup order, as classic Swarm: the first
//! `--cluster-opt` for a key wins, else its environment variable if it is not empty, else
//! the default.

use std::collections::BTreeMap;
use std::time::Duration;

use mesoswarm_core::resources::Milli;
use mesoswarm_core::Config;

/// One known cluster option.
struct OptionSpec {
    key: &'static str,
    env: &'static str,
    help: &'static str,
}

/// Every cluster option mesoswarm knows.
const OPTIONS: &[OptionSpec] = &[
    OptionSpec { key: "mesos.user", env: "SWARM_MESOS_USER", help: "user tasks run as on the agents (FrameworkInfo.user); default root" },
    OptionSpec { key: "mesos.name", env: "SWARM_MESOS_NAME", help: "framework name shown by Mesos; default mesoswarm" },
    OptionSpec { key: "mesos.role", env: "SWARM_MESOS_ROLE", help: "role to receive offers for; default *" },
    OptionSpec { key: "mesos.principal", env: "SWARM_MESOS_PRINCIPAL", help: "principal for the master (FrameworkInfo.principal, HTTP basic auth user)" },
    OptionSpec { key: "mesos.secret", env: "SWARM_MESOS_SECRET", help: "secret for HTTP basic auth to the master (needs mesos.principal)" },
    OptionSpec { key: "mesos.offertimeout", env: "SWARM_MESOS_OFFER_TIMEOUT", help: "how long an offer is held before it is declined; default 30s" },
    OptionSpec { key: "mesos.offerrefusetimeout", env: "SWARM_MESOS_OFFER_REFUSE_TIMEOUT", help: "refuse_seconds sent with declines; default 5s" },
    OptionSpec { key: "mesos.tasktimeout", env: "SWARM_MESOS_TASK_TIMEOUT", help: "how long a started container may wait for an offer that fits; default 60s" },
    OptionSpec { key: "mesos.failovertimeout", env: "SWARM_MESOS_FAILOVER_TIMEOUT", help: "how long Mesos keeps our tasks while mesoswarm is away (seconds or a duration); default 168h" },
    OptionSpec { key: "mesos.checkpointfailover", env: "SWARM_MESOS_CHECKPOINT_FAILOVER", help: "FrameworkInfo.checkpoint: tasks survive agent restarts; default true" },
    OptionSpec { key: "mesos.dockerport", env: "SWARM_MESOS_DOCKER_PORT", help: "port of the Docker engine on each agent; default 2375, or 2376 with --engine-tls-*" },
    OptionSpec { key: "mesos.defaultcpus", env: "SWARM_MESOS_DEFAULT_CPUS", help: "cpus for a container that asks for none; default 0.1" },
    OptionSpec { key: "mesos.defaultmemory", env: "SWARM_MESOS_DEFAULT_MEMORY", help: "memory for a container that asks for none (MiB, or 128m, 1g); default 128" },
];

/// Keys classic Swarm needed for its libprocess callback; the v1 HTTP API has none.
const OBSOLETE: &[&str] = &["mesos.address", "mesos.port"];

/// The options after parsing.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterOptions {
    /// The core's configuration, with the options applied.
    pub config: Config,
    /// HTTP basic auth towards the master: (principal, secret).
    pub auth: Option<(String, String)>,
    /// Docker engine port on the agents, if `mesos.dockerport` was given (else 2375, or 2376
    /// when the engines speak TLS).
    pub docker_port: Option<u16>,
    /// Notes for the log (obsolete keys that were ignored).
    pub notes: Vec<String>,
}

/// A start-up error in the options, naming the key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OptionError(pub String);

/// The help text listing every option, for `--help`.
pub fn help_text() -> String {
    let mut s =
        String::from("Cluster options (--cluster-opt KEY=VALUE, or the environment variable):\n");
    for o in OPTIONS {
        s.push_str(&format!("  {:<26} {:<34} {}\n", o.key, o.env, o.help));
    }
    s
}

/// Parses `--cluster-opt` values, falling back to `env` (the process environment in
/// production, a map in tests).
pub fn parse(
    cli: &[String],
    env: impl Fn(&str) -> Option<String>,
) -> Result<ClusterOptions, OptionError> {
    let mut given: BTreeMap<&'static str, (String, String)> = BTreeMap::new();
    let mut notes = Vec::new();
    for raw in cli {
        let (key, value) = raw
            .split_once('=')
            .ok_or_else(|| OptionError(format!("--cluster-opt {raw:?}: expected KEY=VALUE")))?;
        let key = key.trim();
        if OBSOLETE.contains(&key) {
            notes.push(format!(
                "--cluster-opt {key} is ignored: the Mesos v1 HTTP API needs no callback address"
            ));
            continue;
        }
        let spec = OPTIONS
            .iter()
            .find(|o| o.key == key)
            .ok_or_else(|| unknown_key(key))?;
        given
            .entry(spec.key)
            .or_insert_with(|| (format!("--cluster-opt {key}"), value.to_string()));
    }
    for o in OPTIONS {
        if !given.contains_key(o.key) {
            if let Some(v) = env(o.env).filter(|v| !v.is_empty()) {
                given.insert(o.key, (o.env.to_string(), v));
            }
        }
    }

    let mut config = Config::default();
    let mut docker_port = None;
    let mut secret = None;
    for (key, (source, value)) in &given {
        let bad = |what: &str| OptionError(format!("{source}={value:?}: {what}"));
        match *key {
            "mesos.user" => {
                config.framework.user = non_empty(value).ok_or_else(|| bad("must not be empty"))?
            }
            "mesos.name" => {
                config.framework.name = non_empty(value).ok_or_else(|| bad("must not be empty"))?
            }
            "mesos.role" => {
                config.framework.role = non_empty(value).ok_or_else(|| bad("must not be empty"))?
            }
            "mesos.principal" => {
                config.framework.principal =
                    Some(non_empty(value).ok_or_else(|| bad("must not be empty"))?)
            }
            "mesos.secret" => secret = Some(value.clone()),
            "mesos.offertimeout" => {
                config.offer_hold_timeout_ms = millis(parse_duration(value).map_err(|e| bad(&e))?)
            }
            "mesos.offerrefusetimeout" => {
                config.offer_refuse_seconds =
                    parse_duration(value).map_err(|e| bad(&e))?.as_secs_f64()
            }
            "mesos.tasktimeout" => {
                config.task_timeout_ms = millis(parse_duration(value).map_err(|e| bad(&e))?)
            }
            "mesos.failovertimeout" => {
                config.framework.failover_timeout_secs =
                    parse_duration(value).map_err(|e| bad(&e))?.as_secs_f64()
            }
            "mesos.checkpointfailover" => {
                config.framework.checkpoint =
                    parse_bool(value).ok_or_else(|| bad("expected true or false"))?
            }
            "mesos.dockerport" => {
                docker_port = Some(
                    value
                        .trim()
                        .parse::<u16>()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| bad("expected a port number 1-65535"))?,
                )
            }
            "mesos.defaultcpus" => {
                let v: f64 = value
                    .trim()
                    .parse()
                    .map_err(|_| bad("expected a number of cpus such as 0.5"))?;
                if !(v.is_finite() && v >= 0.001) {
                    return Err(bad("expected at least 0.001 cpus"));
                }
                config.default_cpus = Milli::from_f64(v);
            }
            "mesos.defaultmemory" => {
                config.default_mem_mib = parse_mib(value).map_err(|e| bad(&e))?
            }
            _ => unreachable!("every key in OPTIONS is handled"),
        }
    }
    let auth = match (&config.framework.principal, secret) {
        (Some(p), Some(s)) => Some((p.clone(), s)),
        (None, Some(_)) => {
            return Err(OptionError(
                "mesos.secret needs mesos.principal as well".into(),
            ))
        }
        _ => None,
    };
    Ok(ClusterOptions {
        config,
        auth,
        docker_port,
        notes,
    })
}

fn unknown_key(key: &str) -> OptionError {
    let close: Vec<&str> = OPTIONS
        .iter()
        .map(|o| o.key)
        .filter(|k| edit_distance(k, key) <= 2)
        .collect();
    let hint = match close.first() {
        Some(k) => format!(" (did you mean {k}?)"),
        None => String::new(),
    };
    let all: Vec<&str> = OPTIONS.iter().map(|o| o.key).collect();
    OptionError(format!(
        "unknown cluster option {key:?}{hint}; known options: {}",
        all.join(", ")
    ))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn non_empty(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A Go-style duration (`30s`, `1m30s`, `500ms`, `168h`) or a plain number of seconds.
pub fn parse_duration(v: &str) -> Result<Duration, String> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Ok(Duration::from_secs_f64(secs));
        }
        return Err("expected a non-negative duration".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = v;
    if rest.is_empty() {
        return Err("expected a duration such as 30s, 5m or 1h30m".into());
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_end);
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_end);
        let n: f64 = num
            .parse()
            .map_err(|_| "expected a duration such as 30s, 5m or 1h30m".to_string())?;
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(format!("unknown unit {unit:?}: use ms, s, m or h")),
        };
        total += Duration::from_secs_f64(n * scale);
        rest = tail;
    }
    Ok(total)
}

/// Memory as MiB: a plain number is MiB; `k`, `m`, `g` suffixes as docker's `-m`.
pub fn parse_mib(v: &str) -> Result<u64, String> {
    let v = v.trim().to_ascii_lowercase();
    let (num, mult): (&str, f64) = match v.char_indices().last() {
        Some((i, 'k')) => (&v[..i], 1.0 / 1024.0),
        Some((i, 'm')) => (&v[..i], 1.0),
        Some((i, 'g')) => (&v[..i], 1024.0),
        _ => (v.as_str(), 1.0),
    };
    let n: f64 = num
        .trim_end_matches('b')
        .parse()
        .map_err(|_| "expected MiB such as 128, 512m or 1g".to_string())?;
    let mib = (n * mult).ceil();
    if !(mib.is_finite() && mib >= 4.0) {
        return Err("expected at least 4 MiB".into());
    }
    Ok(mib as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_apply_without_options() {
        let o = parse(&[], no_env).unwrap();
        assert_eq!(o.config, Config::default());
        assert_eq!(o.docker_port, None);
        assert_eq!(o.auth, None);
    }

    #[test]
    fn options_set_the_core_config() {
        let cli: Vec<String> = [
            "mesos.offertimeout=1m",
            "mesos.tasktimeout=180s",
            "mesos.offerrefusetimeout=2",
            "mesos.failovertimeout=168h",
            "mesos.user=nobody",
            "mesos.principal=ms",
            "mesos.secret=s3cret",
            "mesos.checkpointfailover=false",
            "mesos.dockerport=2376",
            "mesos.defaultcpus=0.25",
            "mesos.defaultmemory=1g",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let o = parse(&cli, no_env).unwrap();
        assert_eq!(o.config.offer_hold_timeout_ms, 60_000);
        assert_eq!(o.config.task_timeout_ms, 180_000);
        assert_eq!(o.config.offer_refuse_seconds, 2.0);
        assert_eq!(o.config.framework.failover_timeout_secs, 604_800.0);
        assert_eq!(o.config.framework.user, "nobody");
        assert!(!o.config.framework.checkpoint);
        assert_eq!(o.auth, Some(("ms".into(), "s3cret".into())));
        assert_eq!(o.docker_port, Some(2376));
        assert_eq!(o.config.default_cpus, Milli(250));
        assert_eq!(o.config.default_mem_mib, 1024);
    }

    #[test]
    fn a_typo_is_a_startup_error_naming_the_key() {
        let e = parse(&["mesos.offertimout=10m".into()], no_env).unwrap_err();
        assert!(
            e.0.starts_with(
                "unknown cluster option \"mesos.offertimout\" (did you mean mesos.offertimeout?)"
            ),
            "{}",
            e.0
        );
    }

    #[test]
    fn a_bad_value_is_a_startup_error_naming_the_key() {
        let e = parse(&["mesos.tasktimeout=soon".into()], no_env).unwrap_err();
        assert!(
            e.0.starts_with("--cluster-opt mesos.tasktimeout=\"soon\""),
            "{}",
            e.0
        );
        let e = parse(&[], |k| {
            (k == "SWARM_MESOS_DOCKER_PORT").then(|| "0".to_string())
        })
        .unwrap_err();
        assert!(e.0.starts_with("SWARM_MESOS_DOCKER_PORT=\"0\""), "{}", e.0);
        let e = parse(&["mesos.secret=x".into()], no_env).unwrap_err();
        assert!(e.0.contains("needs mesos.principal"));
    }

    #[test]
    fn cli_wins_over_env_and_empty_env_is_ignored() {
        let env = |k: &str| match k {
            "SWARM_MESOS_TASK_TIMEOUT" => Some("5s".to_string()),
            "SWARM_MESOS_USER" => Some(String::new()),
            "SWARM_MESOS_OFFER_TIMEOUT" => Some("45s".to_string()),
            _ => None,
        };
        let o = parse(&["mesos.tasktimeout=2m".into()], env).unwrap();
        assert_eq!(o.config.task_timeout_ms, 120_000);
        assert_eq!(o.config.framework.user, "root");
        assert_eq!(o.config.offer_hold_timeout_ms, 45_000);
    }

    #[test]
    fn obsolete_libprocess_keys_are_noted_not_fatal() {
        let o = parse(&["mesos.address=10.0.0.1".into()], no_env).unwrap();
        assert_eq!(o.notes.len(), 1);
    }

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2.5").unwrap(), Duration::from_millis(2500));
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("").is_err());
    }
}
