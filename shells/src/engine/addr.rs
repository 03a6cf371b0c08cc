//! Where an agent's Docker engine listens, and how the proxy finds it.

use std::fmt;
use std::path::PathBuf;

/// The Docker engine port when the cluster does not say otherwise (`mesos.dockerport`).
pub const DEFAULT_DOCKER_PORT: u16 = 2375;
/// The Docker engine port when the engines speak TLS.
pub const DEFAULT_DOCKER_TLS_PORT: u16 = 2376;

/// The address of one Docker engine.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EngineAddr {
    /// `tcp://host:port` (plain HTTP).
    Tcp {
        /// A hostname or IP address (IPv6 without brackets).
        host: String,
        /// The port.
        port: u16,
    },
    /// `unix:///var/run/docker.sock`.
    Unix(PathBuf),
}

impl EngineAddr {
    /// Parses `unix:///path`, `tcp://host:port`, `tcp://[::1]:port` or `host:port`.
    pub fn parse(text: &str) -> Result<EngineAddr, String> {
        if let Some(path) = text.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(format!(
                    "{text:?}: a unix socket address needs an absolute path (unix:///var/run/docker.sock)"
                ));
            }
            return Ok(EngineAddr::Unix(PathBuf::from(path)));
        }
        let rest = text.strip_prefix("tcp://").unwrap_or(text);
        let rest = rest.trim_end_matches('/');
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| format!("{text:?}: expected unix:///path or tcp://host:port"))?;
        let port: u16 = port
            .parse()
            .map_err(|_| format!("{text:?}: {port:?} is not a port number"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("{text:?}: the host is missing"));
        }
        Ok(EngineAddr::Tcp {
            host: host.to_string(),
            port,
        })
    }

    /// The `Host` header value for requests to this engine.
    pub fn authority(&self) -> String {
        match self {
            EngineAddr::Tcp { host, port } if host.contains(':') => format!("[{host}]:{port}"),
            EngineAddr::Tcp { host, port } => format!("{host}:{port}"),
            // dockerd ignores the Host of unix-socket requests; the CLI sends "docker".
            EngineAddr::Unix(_) => "docker".to_string(),
        }
    }
}

impl fmt::Display for EngineAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineAddr::Tcp { .. } => write!(f, "tcp://{}", self.authority()),
            EngineAddr::Unix(p) => write!(f, "unix://{}", p.display()),
        }
    }
}

/// Maps an agent to its engine: one fixed engine for every agent (`mesoswarm dev --engine`),
/// or the agent's hostname with its `docker_port` attribute, else the cluster's default port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineResolver {
    /// Every agent's engine is this one (dev mode).
    pub fixed: Option<EngineAddr>,
    /// `mesos.dockerport`.
    pub default_port: u16,
    /// The agents run no Docker engine (`mesoswarm dev` without `--engine`): why, for the
    /// user who asks for a container's logs or attaches to it.
    pub no_engine: Option<String>,
}

impl Default for EngineResolver {
    fn default() -> Self {
        EngineResolver {
            fixed: None,
            default_port: DEFAULT_DOCKER_PORT,
            no_engine: None,
        }
    }
}

impl EngineResolver {
    /// The engine of the agent with this hostname and `docker_port` attribute.
    pub fn resolve(&self, agent_hostname: &str, agent_docker_port: Option<u16>) -> EngineAddr {
        if let Some(fixed) = &self.fixed {
            return fixed.clone();
        }
        EngineAddr::Tcp {
            host: agent_hostname.to_string(),
            port: agent_docker_port.unwrap_or(self.default_port),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_docker_host_takes() {
        assert_eq!(
            EngineAddr::parse("unix:///var/run/docker.sock").unwrap(),
            EngineAddr::Unix("/var/run/docker.sock".into())
        );
        assert_eq!(
            EngineAddr::parse("tcp://10.0.0.5:2375")
                .unwrap()
                .to_string(),
            "tcp://10.0.0.5:2375"
        );
        assert_eq!(
            EngineAddr::parse("tcp://[::1]:2375").unwrap().to_string(),
            "tcp://[::1]:2375"
        );
        assert!(EngineAddr::parse("unix://relative.sock").is_err());
        assert!(EngineAddr::parse("tcp://host").is_err());
        assert!(EngineAddr::parse("tcp://:80").is_err());
    }

    #[test]
    fn the_agent_attribute_overrides_the_default_port_and_dev_mode_overrides_both() {
        let r = EngineResolver::default();
        assert_eq!(r.resolve("agent-1", None).to_string(), "tcp://agent-1:2375");
        assert_eq!(
            r.resolve("agent-1", Some(4243)).to_string(),
            "tcp://agent-1:4243"
        );
        let dev = EngineResolver {
            fixed: Some(EngineAddr::Unix("/run/d.sock".into())),
            ..EngineResolver::default()
        };
        assert_eq!(
            dev.resolve("agent-1", Some(4243)).to_string(),
            "unix:///run/d.sock"
        );
    }
}
