//! Container port keys (`"80/tcp"`, `"53/udp"`, `"80"`) and host ports (`"8080"`, `""`).

use crate::docker::error::ApiError;
use crate::spec::{ContainerPort, PortProtocol};

/// Parses a port key of `ExposedPorts` / `PortBindings`: `<port>[/<tcp|udp|sctp>]`, the
/// protocol defaulting to tcp and matched case-insensitively.
///
/// Port ranges (`"8000-8001/tcp"`, which dockerd expands) are rejected with a 400 that says
/// they are not supported yet; port 0, ports above 65535 and unknown protocols are 400
/// `invalid port ...`. `field` names where the key came from, for the message.
pub fn parse_container_port(key: &str, field: &str) -> Result<ContainerPort, ApiError> {
    let (number, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    let protocol = match proto.to_ascii_lowercase().as_str() {
        "tcp" => PortProtocol::Tcp,
        "udp" => PortProtocol::Udp,
        "sctp" => PortProtocol::Sctp,
        _ => {
            return Err(ApiError::bad_request(format!(
                "invalid port {key:?} in {field}: unknown protocol {proto:?} (use tcp, udp or sctp)"
            )))
        }
    };
    if number.contains('-') && !number.starts_with('-') {
        return Err(range_not_supported(key, field));
    }
    let port = parse_port_number(number).ok_or_else(|| {
        ApiError::bad_request(format!("invalid port {key:?} in {field}: {}", PORT_RULE))
    })?;
    Ok(ContainerPort { port, protocol })
}

/// Parses a `HostPort`: `""` (and `"0"`) mean any free port of the offer (`None`), digits
/// give that port, a range is a 400 saying ranges are not supported yet, anything else is
/// 400 `invalid port ...`.
pub fn parse_host_port(text: &str, key: &str) -> Result<Option<u16>, ApiError> {
    let text = text.trim();
    if text.is_empty() || text == "0" {
        return Ok(None);
    }
    if text.contains('-') && !text.starts_with('-') {
        return Err(range_not_supported(
            text,
            &format!("HostConfig.PortBindings[{key:?}]"),
        ));
    }
    parse_port_number(text).map(Some).ok_or_else(|| {
        ApiError::bad_request(format!(
            "invalid port {text:?} in HostConfig.PortBindings[{key:?}].HostPort: {PORT_RULE}"
        ))
    })
}

const PORT_RULE: &str = "a port is a number from 1 to 65535";

fn range_not_supported(text: &str, field: &str) -> ApiError {
    ApiError::bad_request(format!(
        "invalid port {text:?} in {field}: port ranges are not supported by mesoswarm yet; \
         publish each port on its own"
    ))
}

/// A decimal port from 1 to 65535 (leading zeros allowed, as Go's `strconv` allows them).
fn parse_port_number(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u16>().ok().filter(|p| *p != 0)
}

/// The `80/tcp` form of a container port.
pub fn port_key(p: ContainerPort) -> String {
    format!("{}/{}", p.port, p.protocol.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp(port: u16, protocol: PortProtocol) -> ContainerPort {
        ContainerPort { port, protocol }
    }

    #[test]
    fn port_keys_parse_with_tcp_default() {
        assert_eq!(
            parse_container_port("80/tcp", "x").unwrap(),
            cp(80, PortProtocol::Tcp)
        );
        assert_eq!(
            parse_container_port("53/udp", "x").unwrap(),
            cp(53, PortProtocol::Udp)
        );
        assert_eq!(
            parse_container_port("80", "x").unwrap(),
            cp(80, PortProtocol::Tcp)
        );
        assert_eq!(
            parse_container_port("9/SCTP", "x").unwrap(),
            cp(9, PortProtocol::Sctp)
        );
        assert_eq!(port_key(cp(53, PortProtocol::Udp)), "53/udp");
    }

    #[test]
    fn bad_port_keys_are_400() {
        for bad in ["", "0/tcp", "65536", "http", "80/xyz", "-1", "80/"] {
            let e = parse_container_port(bad, "ExposedPorts").unwrap_err();
            assert_eq!(e.status, http::StatusCode::BAD_REQUEST, "{bad}");
            assert!(
                e.message.starts_with("invalid port"),
                "{bad}: {}",
                e.message
            );
        }
        let e = parse_container_port("8000-8001/tcp", "ExposedPorts").unwrap_err();
        assert!(
            e.message.contains("port ranges are not supported"),
            "{}",
            e.message
        );
    }

    #[test]
    fn host_ports() {
        assert_eq!(parse_host_port("", "80/tcp").unwrap(), None);
        assert_eq!(parse_host_port("0", "80/tcp").unwrap(), None);
        assert_eq!(parse_host_port("8080", "80/tcp").unwrap(), Some(8080));
        assert!(parse_host_port("web", "80/tcp")
            .unwrap_err()
            .message
            .starts_with("invalid port"));
        assert!(parse_host_port("70000", "80/tcp").is_err());
        assert!(parse_host_port("8000-8001", "80/tcp")
            .unwrap_err()
            .message
            .contains("ranges are not supported"));
    }
}
