//! Registers a simulated master in ZooKeeper the way a Mesos master does: an ephemeral,
//! sequential `json.info_` znode under the path, holding its `MasterInfo` as JSON. The
//! lowest sequence number leads. Used to test master failover through `zk://` URLs.

use std::time::Duration;

use mesoswarm_proto::v1::MasterInfo;

/// A registration; deleting it (or dropping the session) is what a dying master does.
pub struct Registration {
    client: zookeeper_client::Client,
    path: String,
}

/// Parses `zk://H1:2181,H2:2181/path` into (servers, path).
pub fn parse_zk_url(url: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("zk://")
        .ok_or_else(|| format!("{url:?}: expected zk://HOST:PORT/PATH"))?;
    let (servers, path) = rest
        .split_once('/')
        .ok_or_else(|| format!("{url:?}: expected zk://HOST:PORT/PATH"))?;
    if servers.is_empty() || path.is_empty() {
        return Err(format!("{url:?}: expected zk://HOST:PORT/PATH"));
    }
    Ok((
        servers.to_string(),
        format!("/{}", path.trim_end_matches('/')),
    ))
}

/// The `MasterInfo` JSON a Mesos master writes into its znode.
pub fn master_info_json(info: &MasterInfo) -> String {
    let address = info.address.as_ref();
    let hostname = info.hostname.clone().unwrap_or_else(|| "127.0.0.1".into());
    let ip_text = address
        .and_then(|a| a.ip.clone())
        .unwrap_or_else(|| "127.0.0.1".into());
    serde_json::json!({
        "address": {"hostname": hostname, "ip": ip_text, "port": info.port},
        "hostname": hostname,
        "id": info.id,
        "ip": info.ip,
        "pid": info.pid.clone().unwrap_or_else(|| format!("master@{ip_text}:{}", info.port)),
        "port": info.port,
        "version": info.version.clone().unwrap_or_else(|| "1.11.0".into()),
    })
    .to_string()
}

/// Creates the znode (and the parent path if missing).
pub async fn register<R: crate::runtime::Runtime>(
    rt: R,
    servers: &str,
    path: &str,
    info: &MasterInfo,
) -> Result<Registration, String> {
    // The client spawns its session task when it connects: on our runtime, not smol's
    // global executor or whichever tokio runtime happens to be current.
    let connecting = zookeeper_client::Client::connector()
        .with_session_timeout(Duration::from_secs(6))
        .connect(servers);
    let client = crate::mesos::zk::on_runtime(rt, connecting)
        .await
        .map_err(|e| format!("cannot reach ZooKeeper at {servers}: {e}"))?;
    let persistent =
        zookeeper_client::CreateMode::Persistent.with_acls(zookeeper_client::Acls::anyone_all());
    let mut prefix = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        prefix.push('/');
        prefix.push_str(part);
        match client.create(&prefix, b"", &persistent).await {
            Ok(_) | Err(zookeeper_client::Error::NodeExists) => {}
            Err(e) => return Err(format!("cannot create {prefix} in ZooKeeper: {e}")),
        }
    }
    let ephemeral = zookeeper_client::CreateMode::EphemeralSequential
        .with_acls(zookeeper_client::Acls::anyone_all());
    let json = master_info_json(info);
    let (_, seq) = client
        .create(&format!("{path}/json.info_"), json.as_bytes(), &ephemeral)
        .await
        .map_err(|e| format!("cannot register in ZooKeeper: {e}"))?;
    let node = format!("{path}/json.info_{seq}");
    Ok(Registration { client, path: node })
}

impl Registration {
    /// The znode's path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Removes the znode, as the session of a stopping master would.
    pub async fn withdraw(self) {
        if let Err(e) = self.client.delete(&self.path, None).await {
            tracing::warn!("could not remove {} from ZooKeeper: {e}", self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zk_urls_parse() {
        assert_eq!(
            parse_zk_url("zk://a:1,b:2/mesos").unwrap(),
            ("a:1,b:2".into(), "/mesos".into())
        );
        assert!(parse_zk_url("zk://a:1").is_err());
        assert!(parse_zk_url("http://a:1/x").is_err());
    }

    #[test]
    fn the_json_is_what_the_manager_parses() {
        let info = MasterInfo {
            id: "m1".into(),
            ip: 16777343,
            port: 5051,
            hostname: Some("127.0.0.1".into()),
            ..Default::default()
        };
        let loc = mesoswarm_proto::zk::parse_master_info_json(master_info_json(&info).as_bytes())
            .unwrap();
        assert_eq!(loc.host_port(), "127.0.0.1:5051");
    }
}
