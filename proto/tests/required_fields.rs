//! proto2 `required` fields must be on the wire even when they hold their
//! default value: the master parses calls with the C++ runtime, which
//! rejects a message whose required fields are missing (400 "Failed to
//! parse body into Call protobuf").
//!
//! Finding: prost (0.14) generates `required` scalars as plain values and
//! `required` messages as plain structs, and its derive encodes both
//! unconditionally (`Kind::Required` / `Label::Required` in prost-derive),
//! so defaults are kept. prost does not check presence when decoding.

mod common;

use common::*;
use mesoswarm_proto::scheduler::{call, Call};
use mesoswarm_proto::v1::{self, container_info, value, FrameworkInfo};
use prost::Message;

fn subscribe(user: &str, name: &str) -> Call {
    Call {
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe {
            framework_info: FrameworkInfo {
                user: user.into(),
                name: name.into(),
                ..Default::default()
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn empty_required_user_is_still_encoded() {
    let bytes = subscribe("", "x").encode_to_vec();
    // Call.type=SUBSCRIBE, Call.subscribe{framework_info{user:"", name:"x"}}.
    let expected = [
        vint(2, 1),
        msg(3, &[msg(1, &[string(1, ""), string(2, "x")])]),
    ]
    .concat();
    assert_eq!(bytes, expected);
    assert_eq!(
        bytes,
        [0x10, 0x01, 0x1a, 0x07, 0x0a, 0x05, 0x0a, 0x00, 0x12, 0x01, b'x']
    );
}

#[test]
fn matches_the_reference_sample_encoding() {
    // Section 6.1 of the reference: user "u", name "n".
    assert_eq!(
        subscribe("u", "n").encode_to_vec(),
        [0x10, 0x01, 0x1a, 0x08, 0x0a, 0x06, 0x0a, 0x01, 0x75, 0x12, 0x01, 0x6e]
    );
}

#[test]
fn all_default_required_message_and_scalars_are_encoded() {
    // framework_info is a required message: present even when all-default.
    let call = Call {
        subscribe: Some(call::Subscribe::default()),
        ..Default::default()
    };
    assert_eq!(
        call.encode_to_vec(),
        [msg(3, &[msg(1, &[string(1, ""), string(2, "")])])].concat()
    );

    // A required enum at value 0 (Value.type = SCALAR) is encoded.
    let v = v1::Value::default();
    assert_eq!(v.r#type(), value::Type::Scalar);
    assert_eq!(v.encode_to_vec(), vint(1, 0));

    // A required enum with no 0 value defaults to its first value.
    let c = v1::ContainerInfo::default();
    assert_eq!(c.r#type(), container_info::Type::Docker);
    assert_eq!(c.encode_to_vec(), vint(1, 1));

    // Required bytes (Acknowledge.uuid), uint32 and bool-free messages.
    let ack = call::Acknowledge::default();
    assert_eq!(
        ack.encode_to_vec(),
        [id(1, ""), id(2, ""), ld(3, b"")].concat()
    );
    let pm = container_info::docker_info::PortMapping::default();
    assert_eq!(pm.encode_to_vec(), [vint(1, 0), vint(2, 0)].concat());
}

#[test]
fn optional_fields_with_defaults_are_omitted_unless_set() {
    // Unset optional fields stay off the wire; getters give proto2 defaults.
    let f = v1::Filters::default();
    assert!(f.encode_to_vec().is_empty());
    assert_eq!(f.refuse_seconds(), 5.0);
    let f = v1::Filters {
        refuse_seconds: Some(0.0),
    };
    assert_eq!(f.encode_to_vec(), double(1, 0.0));

    assert!(v1::CommandInfo::default().shell());
    let d = container_info::DockerInfo::default();
    assert_eq!(d.network(), container_info::docker_info::Network::Host);
    assert!(!d.privileged());
    // A required scalar with a [default] starts at that default (and, being
    // required, is always encoded).
    let m = v1::MasterInfo::default();
    assert_eq!(m.port, 5050);
    assert_eq!(
        m.encode_to_vec(),
        [string(1, ""), vint(2, 0), vint(3, 5050)].concat()
    );
    assert_eq!(v1::HealthCheck::default().consecutive_failures(), 3);
    #[allow(deprecated)]
    let role = v1::Resource::default().role().to_string();
    assert_eq!(role, "*");
}

#[test]
fn decoding_does_not_enforce_required_fields() {
    // An empty Subscribe decodes (framework_info left at its default); the
    // C++ master would reject this, prost does not.
    let sub = call::Subscribe::decode(&[][..]).unwrap();
    assert_eq!(sub.framework_info, FrameworkInfo::default());
}
