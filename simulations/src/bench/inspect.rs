//! The `TaskStatus.data` of a TASK_RUNNING from Mesos' Docker executor: the raw
//! `docker inspect` JSON array of the agent-side container. Its size matters (the manager
//! parses it for the engine's container id), so this one has the keys and the length
//! (about 4 KiB) of a real dockerd 20.10 inspect of `busybox sleep 1000` run by Mesos.

/// The inspect JSON of container `id` (64 hex digits) named `mesos-<name>`.
pub fn docker_inspect(id: &str, name: &str) -> Vec<u8> {
    format!(
        concat!(
            r#"[{{"Id":"{id}","Created":"2026-05-01T10:00:00.123456789Z","Path":"sleep","Args":["1000"],"#,
            r#""State":{{"Status":"running","Running":true,"Paused":false,"Restarting":false,"OOMKilled":false,"#,
            r#""Dead":false,"Pid":4242,"ExitCode":0,"Error":"","StartedAt":"2026-05-01T10:00:00.523456789Z","#,
            r#""FinishedAt":"0001-01-01T00:00:00Z"}},"#,
            r#""Image":"sha256:3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741","#,
            r#""ResolvConfPath":"/var/lib/docker/containers/{id}/resolv.conf","#,
            r#""HostnamePath":"/var/lib/docker/containers/{id}/hostname","#,
            r#""HostsPath":"/var/lib/docker/containers/{id}/hosts","#,
            r#""LogPath":"/var/lib/docker/containers/{id}/{id}-json.log","#,
            r#""Name":"/mesos-{name}","RestartCount":0,"Driver":"overlay2","Platform":"linux","#,
            r#""MountLabel":"","ProcessLabel":"","AppArmorProfile":"docker-default","ExecIDs":null,"#,
            r#""HostConfig":{{"Binds":["/var/lib/mesos/slaves/S1/frameworks/F/executors/E/runs/R:/mnt/mesos/sandbox"],"#,
            r#""ContainerIDFile":"","LogConfig":{{"Type":"json-file","Config":{{}}}},"NetworkMode":"bridge","#,
            r#""PortBindings":{{}},"RestartPolicy":{{"Name":"no","MaximumRetryCount":0}},"AutoRemove":false,"#,
            r#""VolumeDriver":"","VolumesFrom":null,"CapAdd":null,"CapDrop":null,"CgroupnsMode":"host","#,
            r#""Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"private","#,
            r#""Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"#,
            r#""ReadonlyRootfs":false,"SecurityOpt":null,"UTSMode":"","UsernsMode":"","ShmSize":67108864,"#,
            r#""Runtime":"runc","ConsoleSize":[0,0],"Isolation":"","CpuShares":102,"Memory":524288000,"#,
            r#""NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":null,"#,
            r#""BlkioDeviceReadBps":null,"BlkioDeviceWriteBps":null,"BlkioDeviceReadIOps":null,"#,
            r#""BlkioDeviceWriteIOps":null,"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"#,
            r#""CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"#,
            r#""DeviceRequests":null,"KernelMemory":0,"KernelMemoryTCP":0,"MemoryReservation":0,"#,
            r#""MemorySwap":1048576000,"MemorySwappiness":null,"OomKillDisable":false,"PidsLimit":null,"#,
            r#""Ulimits":null,"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"#,
            r#""MaskedPaths":["/proc/asound","/proc/acpi","/proc/kcore","/proc/keys","/proc/latency_stats","#,
            r#""/proc/timer_list","/proc/timer_stats","/proc/sched_debug","/proc/scsi","/sys/firmware"],"#,
            r#""ReadonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]}},"#,
            r#""GraphDriver":{{"Data":{{"LowerDir":"/var/lib/docker/overlay2/{id}-init/diff","#,
            r#""MergedDir":"/var/lib/docker/overlay2/{id}/merged","UpperDir":"/var/lib/docker/overlay2/{id}/diff","#,
            r#""WorkDir":"/var/lib/docker/overlay2/{id}/work"}},"Name":"overlay2"}},"#,
            r#""Mounts":[{{"Type":"bind","Source":"/var/lib/mesos/slaves/S1/frameworks/F/executors/E/runs/R","#,
            r#""Destination":"/mnt/mesos/sandbox","Mode":"","RW":true,"Propagation":"rprivate"}}],"#,
            r#""Config":{{"Hostname":"{short}","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,"#,
            r#""AttachStderr":true,"Tty":false,"OpenStdin":false,"StdinOnce":false,"#,
            r#""Env":["MESOS_SANDBOX=/mnt/mesos/sandbox","MESOS_CONTAINER_NAME=mesos-{name}","#,
            r#""PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sleep","1000"],"#,
            r#""Image":"busybox","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"#,
            r#""Labels":{{"com.mesoswarm.task.id":"{name}","MESOS_TASK_ID":"{name}"}}}},"#,
            r#""NetworkSettings":{{"Bridge":"","SandboxID":"{id}","HairpinMode":false,"LinkLocalIPv6Address":"","#,
            r#""LinkLocalIPv6PrefixLen":0,"Ports":{{}},"SandboxKey":"/var/run/docker/netns/{short}","#,
            r#""SecondaryIPAddresses":null,"SecondaryIPv6Addresses":null,"EndpointID":"{id}","#,
            r#""Gateway":"172.17.0.1","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"IPAddress":"172.17.0.2","#,
            r#""IPPrefixLen":16,"IPv6Gateway":"","MacAddress":"02:42:ac:11:00:02","#,
            r#""Networks":{{"bridge":{{"IPAMConfig":null,"Links":null,"Aliases":null,"NetworkID":"{id}","#,
            r#""EndpointID":"{id}","Gateway":"172.17.0.1","IPAddress":"172.17.0.2","IPPrefixLen":16,"#,
            r#""IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"MacAddress":"02:42:ac:11:00:02","#,
            r#""DriverOpts":null}}}}}}}}]"#
        ),
        id = id,
        name = name,
        short = &id[..12],
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_is_json_of_a_realistic_size_with_the_id_first() {
        let id = "ab".repeat(32);
        let data = docker_inspect(&id, "x.1");
        let v: serde_json::Value = serde_json::from_slice(&data).expect("valid JSON");
        assert_eq!(v[0]["Id"], serde_json::Value::String(id));
        assert!((3_500..6_000).contains(&data.len()), "{} bytes", data.len());
    }
}
