use super::*;

/// What a real 1.11.0 master reports (v1 JSON, with the `{}` capability).
const REAL_MASTER: &str = r#"{"address":{"hostname":"localhost","ip":"127.0.0.1","port":5050},"hostname":"localhost","id":"ebb66e9b-1c81-488c-843f-5be702b5e3c3","ip":16777343,"pid":"master@127.0.0.1:5050","port":5050,"version":"1.11.0","capabilities":[{"type":"AGENT_UPDATE"},{"type":"AGENT_DRAINING"},{}]}"#;

#[test]
fn picks_lowest_json_sequence() {
    let children = [
        "json.info_0000000012",
        "log_replicas",
        "json.info_0000000007",
        "info_0000000001",
        "json.info_0000000009",
    ];
    assert_eq!(leader_child(&children), Some("json.info_0000000007"));
}

#[test]
fn compares_sequences_numerically_not_lexically() {
    let children = vec![
        "json.info_10".to_string(),
        "json.info_9".to_string(),
        "json.info_0000000011".to_string(),
    ];
    assert_eq!(leader_child(&children), Some("json.info_9"));
    // Sequences longer than u64 are still ordered correctly.
    let children = [
        "json.info_99999999999999999999999",
        "json.info_100000000000000000000000",
    ];
    assert_eq!(
        leader_child(&children),
        Some("json.info_99999999999999999999999")
    );
    // Zero is a valid sequence; equal values keep the first.
    let children = [
        "json.info_0000000001",
        "json.info_0000000000",
        "json.info_0",
    ];
    assert_eq!(leader_child(&children), Some("json.info_0000000000"));
}

#[test]
fn ignores_garbage_children() {
    let children = [
        "log_replicas",
        "info_0000000001",
        "json.info_",
        "json.info_12a",
        "json.info_-1",
        "json.info_ 1",
        "xjson.info_1",
        "json.info",
        "",
        "json.info_٣", // non-ASCII digit
    ];
    assert_eq!(leader_child(&children), None);
    let none: [&str; 0] = [];
    assert_eq!(leader_child(&none), None);
}

#[test]
fn parses_real_master_json() {
    let loc = parse_master_info_json(REAL_MASTER.as_bytes()).unwrap();
    assert_eq!(
        loc,
        MasterLocation {
            id: Some("ebb66e9b-1c81-488c-843f-5be702b5e3c3".into()),
            host: "localhost".into(),
            port: 5050,
            hostname: Some("localhost".into()),
            version: Some("1.11.0".into()),
            pid: Some("master@127.0.0.1:5050".into()),
            capabilities: vec!["AGENT_UPDATE".into(), "AGENT_DRAINING".into()],
        }
    );
    assert_eq!(loc.host_port(), "localhost:5050");
    assert_eq!(loc.to_string(), "localhost:5050");
}

#[test]
fn parses_znode_example_with_sorted_keys_and_quota_v2() {
    let json = r#"{"address":{"hostname":"m1","ip":"10.0.0.1","port":5051},"capabilities":[{"type":"AGENT_UPDATE"},{"type":"AGENT_DRAINING"},{"type":"QUOTA_V2"}],"domain":{"fault_domain":{"region":{"name":"r"},"zone":{"name":"z"}}},"hostname":"m1","id":"x","ip":16777226,"pid":"master@10.0.0.1:5050","port":5050,"version":"1.11.0"}"#;
    let loc = parse_master_info_json(json.as_bytes()).unwrap();
    assert_eq!(loc.host_port(), "m1:5051", "address.port wins");
    assert_eq!(
        loc.capabilities,
        ["AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"]
    );
}

#[test]
fn host_preference_order() {
    let cases = [
        (
            r#"{"address":{"hostname":"a-host","ip":"10.1.1.1","port":1},"hostname":"h","ip":16777343,"port":2}"#,
            "a-host:1",
        ),
        (
            r#"{"address":{"ip":"10.1.1.1","port":1},"hostname":"h","ip":16777343,"port":2}"#,
            "10.1.1.1:1",
        ),
        (
            r#"{"address":{"hostname":"","ip":"","port":1},"hostname":"h","ip":16777343,"port":2}"#,
            "h:1",
        ),
        (r#"{"hostname":"h","ip":16777343,"port":2}"#, "h:2"),
        (r#"{"hostname":"","ip":16777343,"port":2}"#, "127.0.0.1:2"),
        (r#"{"ip":16777226,"port":"5050"}"#, "10.0.0.1:5050"),
        (r#"{"ip":"16777343"}"#, "127.0.0.1:5050"),
        (r#"{"address":null,"hostname":"h","port":null}"#, "h:5050"),
        (r#"{"address":{"ip":"::1","port":5050}}"#, "[::1]:5050"),
    ];
    for (json, want) in cases {
        let loc = parse_master_info_json(json.as_bytes()).unwrap();
        assert_eq!(loc.host_port(), want, "{json}");
    }
}

#[test]
fn decodes_packed_ip_in_network_byte_order() {
    assert_eq!(master_info_ip(16_777_343), Ipv4Addr::new(127, 0, 0, 1));
    assert_eq!(master_info_ip(0x0100_007F), Ipv4Addr::LOCALHOST);
    assert_eq!(master_info_ip(16_777_226), Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(master_info_ip(0x0A01_A8C0), Ipv4Addr::new(192, 168, 1, 10));
}

#[test]
fn ignores_unknown_fields_and_odd_capabilities() {
    let json = r#"{"hostname":"h","future_field":{"x":[1,2]},"capabilities":[{},{"type":7},"weird",{"type":"AGENT_UPDATE","extra":1}],"port":5050}"#;
    let loc = parse_master_info_json(json.as_bytes()).unwrap();
    assert_eq!(loc.capabilities, ["AGENT_UPDATE"]);
    assert_eq!(loc.id, None);
}

#[test]
fn errors() {
    assert!(matches!(
        parse_master_info_json(b"master@127.0.0.1:5050"),
        Err(ZkError::InvalidJson(_))
    ));
    assert!(matches!(
        parse_master_info_json(br#"{"hostname":5}"#),
        Err(ZkError::InvalidJson(_))
    ));
    assert!(matches!(
        parse_master_info_json(br#"{"id":"x","port":5050}"#),
        Err(ZkError::NoAddress)
    ));
    assert!(matches!(
        parse_master_info_json(br#"{"id":"x","ip":0}"#),
        Err(ZkError::NoAddress)
    ));
    assert!(matches!(
        parse_master_info_json(br#"{"ip":-5}"#),
        Err(ZkError::NoAddress)
    ));
    for (json, shown) in [
        (r#"{"hostname":"h","port":0}"#, "0"),
        (r#"{"hostname":"h","port":70000}"#, "70000"),
        (r#"{"hostname":"h","address":{"port":-1}}"#, "-1"),
        (r#"{"hostname":"h","port":"http"}"#, "\"http\""),
    ] {
        match parse_master_info_json(json.as_bytes()) {
            Err(ZkError::InvalidPort(p)) => assert_eq!(p, shown),
            other => panic!("{json}: {other:?}"),
        }
    }
}
