//! The container-level requests that the agent's Docker engine answers, not the manager:
//! logs, attach, exec, top, stats, archive (cp), export, changes, resize, pause/unpause.
//!
//! The shell classifies a request with [`proxy_route`] *before* it reads the body, because
//! some of these bodies are large and must stream through (`docker cp` into a container),
//! and asks the core where the container runs ([`crate::docker::DockerRequest::Locate`]).
//! Exec instances (`/exec/{id}/…`) carry no container: the shell remembers which engine
//! created each one.

use http::Method;

use crate::docker::error::ApiError;
use crate::docker::query::decode_component;

/// One proxied container operation.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ProxyOp {
    /// `GET /containers/{id}/logs`.
    Logs,
    /// `POST /containers/{id}/attach` (hijacked).
    Attach,
    /// `POST /containers/{id}/exec`.
    ExecCreate,
    /// `GET /containers/{id}/top`.
    Top,
    /// `GET /containers/{id}/stats`.
    Stats,
    /// `GET`, `HEAD` or `PUT /containers/{id}/archive`.
    Archive,
    /// `GET /containers/{id}/export`.
    Export,
    /// `GET /containers/{id}/changes`.
    Changes,
    /// `POST /containers/{id}/resize`.
    Resize,
    /// `POST /containers/{id}/pause`.
    Pause,
    /// `POST /containers/{id}/unpause`.
    Unpause,
}

impl ProxyOp {
    /// The path segment after the container (`logs`, `archive`, …).
    pub fn action(self) -> &'static str {
        match self {
            ProxyOp::Logs => "logs",
            ProxyOp::Attach => "attach",
            ProxyOp::ExecCreate => "exec",
            ProxyOp::Top => "top",
            ProxyOp::Stats => "stats",
            ProxyOp::Archive => "archive",
            ProxyOp::Export => "export",
            ProxyOp::Changes => "changes",
            ProxyOp::Resize => "resize",
            ProxyOp::Pause => "pause",
            ProxyOp::Unpause => "unpause",
        }
    }

    /// Whether the container must be running on its agent (dockerd answers 409 otherwise).
    pub fn needs_running(self) -> bool {
        matches!(
            self,
            ProxyOp::ExecCreate
                | ProxyOp::Top
                | ProxyOp::Resize
                | ProxyOp::Pause
                | ProxyOp::Unpause
        )
    }

    /// Whether the answer is a stream to relay as it comes (not a small whole body).
    pub fn streams(self) -> bool {
        matches!(
            self,
            ProxyOp::Logs | ProxyOp::Stats | ProxyOp::Archive | ProxyOp::Export
        )
    }
}

/// What `/exec/{id}/…` asks.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExecAction {
    /// `POST /exec/{id}/start` (hijacked unless detached).
    Start,
    /// `POST /exec/{id}/resize`.
    Resize,
    /// `GET /exec/{id}/json`.
    Inspect,
}

/// A request for an agent's engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxyRoute {
    /// An operation on a container, named as the client wrote it.
    Container {
        /// The container reference (percent-decoded).
        container: String,
        /// What to do.
        op: ProxyOp,
    },
    /// `GET /images/{name}/json`: images live on the agents' engines; any that has it
    /// answers.
    Image {
        /// The image reference (percent-decoded), as the client wrote it.
        name: String,
    },
    /// An operation on an exec instance.
    Exec {
        /// The exec id.
        exec_id: String,
        /// What to do.
        action: ExecAction,
    },
}

/// Classifies a request by method and path (without its `/v1.xx` prefix): `None` for
/// everything the manager answers itself. A malformed container reference is an error.
pub fn proxy_route(method: &Method, path: &str) -> Option<Result<ProxyRoute, ApiError>> {
    if let Some(rest) = path.strip_prefix("/exec/") {
        let (exec_id, action) = rest.split_once('/')?;
        let action = match (method.as_str(), action) {
            ("POST", "start") => ExecAction::Start,
            ("POST", "resize") => ExecAction::Resize,
            ("GET", "json") => ExecAction::Inspect,
            _ => return None,
        };
        if exec_id.is_empty() {
            return None;
        }
        return Some(Ok(ProxyRoute::Exec {
            exec_id: exec_id.to_string(),
            action,
        }));
    }
    if let Some(rest) = path.strip_prefix("/images/") {
        let name = rest.strip_suffix("/json")?;
        if *method != Method::GET || name.is_empty() {
            return None;
        }
        return Some(decode_component(name, false).map(|name| ProxyRoute::Image { name }));
    }
    let rest = path.strip_prefix("/containers/")?;
    let (name, action) = rest.rsplit_once('/')?;
    if name.is_empty() {
        return None;
    }
    let op = match (method.as_str(), action) {
        ("GET", "logs") => ProxyOp::Logs,
        ("POST", "attach") => ProxyOp::Attach,
        ("POST", "exec") => ProxyOp::ExecCreate,
        ("GET", "top") => ProxyOp::Top,
        ("GET", "stats") => ProxyOp::Stats,
        ("GET" | "HEAD" | "PUT", "archive") => ProxyOp::Archive,
        ("GET", "export") => ProxyOp::Export,
        ("GET", "changes") => ProxyOp::Changes,
        ("POST", "resize") => ProxyOp::Resize,
        ("POST", "pause") => ProxyOp::Pause,
        ("POST", "unpause") => ProxyOp::Unpause,
        _ => return None,
    };
    Some(decode_component(name, false).map(|container| ProxyRoute::Container { container, op }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: Method, path: &str) -> Option<ProxyRoute> {
        proxy_route(&method, path).map(|r| r.unwrap())
    }

    #[test]
    fn container_operations_go_to_the_engine_and_the_rest_stays() {
        assert_eq!(
            route(Method::GET, "/containers/web/logs"),
            Some(ProxyRoute::Container {
                container: "web".into(),
                op: ProxyOp::Logs
            })
        );
        assert_eq!(
            route(Method::PUT, "/containers/a%2Fb/archive"),
            Some(ProxyRoute::Container {
                container: "a/b".into(),
                op: ProxyOp::Archive
            })
        );
        assert_eq!(
            route(Method::POST, "/exec/abc/start"),
            Some(ProxyRoute::Exec {
                exec_id: "abc".into(),
                action: ExecAction::Start
            })
        );
        // The manager's own: inspect, start, wait, ps, a wrong method.
        assert_eq!(
            route(Method::GET, "/images/registry:5000/team/app:1/json"),
            Some(ProxyRoute::Image {
                name: "registry:5000/team/app:1".into()
            })
        );
        assert_eq!(route(Method::GET, "/images/json"), None);
        assert_eq!(route(Method::GET, "/containers/web/json"), None);
        assert_eq!(route(Method::POST, "/containers/web/start"), None);
        assert_eq!(route(Method::POST, "/containers/web/logs"), None);
        assert_eq!(route(Method::GET, "/containers/json"), None);
        assert_eq!(route(Method::GET, "/containers//logs"), None);
        assert_eq!(route(Method::POST, "/exec//start"), None);
    }
}
