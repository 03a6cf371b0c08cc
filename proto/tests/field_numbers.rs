//! Checks the compiled descriptors (`FILE_DESCRIPTOR_SET`) against the field
//! tables of mesoswarm's Mesos reference (section 2 of
//! shared/reference/mesos-v1-api.md, copied verbatim into
//! `tests/data/reference_field_tables.md`).
//!
//! Every message and enum in the tables must exist with exactly the fields
//! (name, number, type, label, oneof, default, deprecation) and values the
//! tables give, and our files must define nothing the tables do not list,
//! except the documented exceptions below.

use std::collections::{BTreeMap, BTreeSet};

use mesoswarm_proto::FILE_DESCRIPTOR_SET;
use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorSet};

const TABLES: &str = include_str!("data/reference_field_tables.md");

/// Enum values in the tables (taken from a post-1.11 commit) that Mesos
/// 1.11.0's v1 proto does not have; our files must NOT define them.
const NOT_IN_1_11: &[(&str, &str)] = &[
    ("mesos.v1.MasterInfo.Capability.Type", "QUOTA_V2"),
    ("mesos.v1.CapabilityInfo.Capability", "PERFMON"),
    ("mesos.v1.CapabilityInfo.Capability", "BPF"),
    ("mesos.v1.CapabilityInfo.Capability", "CHECKPOINT_RESTORE"),
];

/// Messages we define although the tables do not list them: `Device` is
/// referenced by `CgroupInfo.Blkio.*.Statistics.device`.
const EXTRA_MESSAGES: &[&str] = &["mesos.v1.Device", "mesos.v1.Device.Number"];

/// The messages and enums the brief calls critical; the tables (and so the
/// checks) must cover at least these.
const CRITICAL: &[&str] = &[
    "mesos.v1.scheduler.Call",
    "mesos.v1.scheduler.Call.Type",
    "mesos.v1.scheduler.Call.Subscribe",
    "mesos.v1.scheduler.Call.Accept",
    "mesos.v1.scheduler.Call.Decline",
    "mesos.v1.scheduler.Call.Kill",
    "mesos.v1.scheduler.Call.Acknowledge",
    "mesos.v1.scheduler.Call.Reconcile",
    "mesos.v1.scheduler.Call.Reconcile.Task",
    "mesos.v1.scheduler.Call.Revive",
    "mesos.v1.scheduler.Call.Suppress",
    "mesos.v1.scheduler.Event",
    "mesos.v1.scheduler.Event.Type",
    "mesos.v1.scheduler.Event.Subscribed",
    "mesos.v1.scheduler.Event.Offers",
    "mesos.v1.scheduler.Event.Rescind",
    "mesos.v1.scheduler.Event.Update",
    "mesos.v1.scheduler.Event.Failure",
    "mesos.v1.scheduler.Event.Error",
    "mesos.v1.FrameworkInfo",
    "mesos.v1.FrameworkInfo.Capability.Type",
    "mesos.v1.Offer",
    "mesos.v1.Resource",
    "mesos.v1.Value.Scalar",
    "mesos.v1.Value.Ranges",
    "mesos.v1.TaskInfo",
    "mesos.v1.CommandInfo",
    "mesos.v1.ContainerInfo",
    "mesos.v1.ContainerInfo.Type",
    "mesos.v1.ContainerInfo.DockerInfo",
    "mesos.v1.ContainerInfo.DockerInfo.Network",
    "mesos.v1.ContainerInfo.DockerInfo.PortMapping",
    "mesos.v1.TaskStatus",
    "mesos.v1.TaskStatus.Reason",
    "mesos.v1.TaskState",
    "mesos.v1.KillPolicy",
    "mesos.v1.Filters",
];

#[derive(Debug)]
struct Row {
    number: i32,
    name: String,
    ty: String,
    label: String,
    options: String,
}

#[derive(Debug, Default)]
struct Tables {
    /// Full message name -> rows in table order.
    messages: BTreeMap<String, Vec<Row>>,
    /// Full enum name -> (value name, number, deprecated).
    enums: BTreeMap<String, Vec<(String, i32, bool)>>,
}

fn strip_ticks(s: &str) -> &str {
    s.trim().trim_matches('`')
}

fn parse_tables(text: &str) -> Tables {
    let mut tables = Tables::default();
    let mut package = String::new();
    let mut current_message: Option<String> = None;
    let mut pending_enum: Option<String> = None;
    for line in text.lines() {
        let line = line.trim_end();
        if line.starts_with("### ") {
            if let Some(start) = line.find("(package `") {
                let rest = &line[start + "(package `".len()..];
                package = rest[..rest.find('`').unwrap()].to_string();
            }
            current_message = None;
            continue;
        }
        if let Some(header) = line.strip_prefix("#### message ") {
            let name = format!("{package}.{}", strip_ticks(header));
            tables.messages.entry(name.clone()).or_default();
            current_message = Some(name);
            pending_enum = None;
            continue;
        }
        if let Some(header) = line.strip_prefix("#### enum ") {
            pending_enum = Some(format!("{package}.{}", strip_ticks(header)));
            current_message = None;
            continue;
        }
        if let Some(name) = &pending_enum {
            if line.is_empty() {
                continue;
            }
            let values = line
                .split(", ")
                .map(|entry| {
                    let (entry, deprecated) = match entry.strip_suffix(" [deprecated=true]") {
                        Some(e) => (e, true),
                        None => (entry, false),
                    };
                    let (value_name, number) = entry.split_once('=').expect(entry);
                    (
                        value_name.to_string(),
                        number.parse().expect(entry),
                        deprecated,
                    )
                })
                .collect();
            tables.enums.insert(name.clone(), values);
            pending_enum = None;
            continue;
        }
        if let Some(message) = &current_message {
            if !line.starts_with('|') || line.starts_with("| #") || line.starts_with("|---") {
                continue;
            }
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            // ["", "#", "field", "type", "label", "options", ""]
            assert_eq!(cells.len(), 7, "unexpected row: {line}");
            tables.messages.get_mut(message).unwrap().push(Row {
                number: cells[1].parse().expect(line),
                name: strip_ticks(cells[2]).to_string(),
                ty: strip_ticks(cells[3]).to_string(),
                label: cells[4].to_string(),
                options: cells[5].to_string(),
            });
        }
    }
    tables
}

#[derive(Default)]
struct Descriptors {
    messages: BTreeMap<String, DescriptorProto>,
    enums: BTreeMap<String, EnumDescriptorProto>,
}

fn collect_message(prefix: &str, msg: &DescriptorProto, out: &mut Descriptors) {
    let name = format!("{prefix}.{}", msg.name());
    for nested in &msg.nested_type {
        collect_message(&name, nested, out);
    }
    for e in &msg.enum_type {
        out.enums.insert(format!("{name}.{}", e.name()), e.clone());
    }
    out.messages.insert(name, msg.clone());
}

fn descriptors() -> Descriptors {
    let set = FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).expect("descriptor set decodes");
    let mut out = Descriptors::default();
    for file in &set.file {
        for msg in &file.message_type {
            collect_message(file.package(), msg, &mut out);
        }
        for e in &file.enum_type {
            out.enums
                .insert(format!("{}.{}", file.package(), e.name()), e.clone());
        }
    }
    out
}

fn scalar_type(name: &str) -> Option<Type> {
    Some(match name {
        "double" => Type::Double,
        "float" => Type::Float,
        "int32" => Type::Int32,
        "int64" => Type::Int64,
        "uint32" => Type::Uint32,
        "uint64" => Type::Uint64,
        "sint32" => Type::Sint32,
        "sint64" => Type::Sint64,
        "fixed32" => Type::Fixed32,
        "fixed64" => Type::Fixed64,
        "sfixed32" => Type::Sfixed32,
        "sfixed64" => Type::Sfixed64,
        "bool" => Type::Bool,
        "string" => Type::String,
        "bytes" => Type::Bytes,
        _ => return None,
    })
}

/// Checks a field's type against the table's spelling (scalar name, or a
/// message/enum name relative to some enclosing scope).
fn check_type(desc: &Descriptors, field: &FieldDescriptorProto, ty: &str) -> Result<(), String> {
    if let Some(scalar) = scalar_type(ty) {
        return if field.r#type() == scalar {
            Ok(())
        } else {
            Err(format!("type {:?}, table says {ty}", field.r#type()))
        };
    }
    if !matches!(field.r#type(), Type::Message | Type::Enum) {
        return Err(format!("type {:?}, table says {ty}", field.r#type()));
    }
    let type_name = field.type_name();
    if type_name.ends_with(&format!(".{ty}")) {
        return Ok(());
    }
    if let Some(inner) = ty.strip_prefix("map<").and_then(|t| t.strip_suffix('>')) {
        let (key, value) = inner.split_once(',').unwrap();
        let entry = desc
            .messages
            .get(type_name.trim_start_matches('.'))
            .ok_or_else(|| format!("map entry {type_name} not found"))?;
        if !entry.options.as_ref().is_some_and(|o| o.map_entry()) {
            return Err(format!("{type_name} is not a map entry"));
        }
        let k = entry.field.iter().find(|f| f.name() == "key").unwrap();
        let v = entry.field.iter().find(|f| f.name() == "value").unwrap();
        check_type(desc, k, key.trim())?;
        return check_type(desc, v, value.trim());
    }
    Err(format!("type {type_name}, table says {ty}"))
}

fn check_label(
    msg: &DescriptorProto,
    field: &FieldDescriptorProto,
    label: &str,
) -> Result<(), String> {
    let oneof = field
        .oneof_index
        .map(|i| msg.oneof_decl[i as usize].name().to_string());
    let actual = match (field.label(), &oneof) {
        (Label::Optional, Some(name)) => format!("oneof {name}"),
        (Label::Optional, None) => "optional".into(),
        (Label::Required, _) => "required".into(),
        (Label::Repeated, _)
            if field.r#type() == Type::Message && field.type_name().ends_with("Entry") =>
        {
            "map".into()
        }
        (Label::Repeated, _) => "repeated".into(),
    };
    if actual == label {
        Ok(())
    } else {
        Err(format!("label {actual}, table says {label}"))
    }
}

fn check_options(field: &FieldDescriptorProto, options: &str) -> Result<(), String> {
    let mut want_default = None;
    let mut want_deprecated = false;
    for opt in options.split(", ").map(str::trim).filter(|o| !o.is_empty()) {
        if let Some(d) = opt.strip_prefix("default=") {
            want_default = Some(d.trim_matches('"').to_string());
        } else if opt == "deprecated=true" {
            want_deprecated = true;
        } else {
            return Err(format!("unknown option {opt}"));
        }
    }
    let deprecated = field.options.as_ref().is_some_and(|o| o.deprecated());
    if deprecated != want_deprecated {
        return Err(format!(
            "deprecated={deprecated}, table says {want_deprecated}"
        ));
    }
    let default = field.default_value.clone();
    let same = match (&default, &want_default) {
        (None, None) => true,
        (Some(a), Some(b)) if matches!(field.r#type(), Type::Double | Type::Float) => {
            a.parse::<f64>().ok() == b.parse::<f64>().ok()
        }
        (Some(a), Some(b)) => a == b,
        _ => false,
    };
    if same {
        Ok(())
    } else {
        Err(format!("default {default:?}, table says {want_default:?}"))
    }
}

#[test]
fn every_table_matches_the_descriptors() {
    let tables = parse_tables(TABLES);
    let desc = descriptors();
    let mut errors = Vec::new();
    let mut checked_fields = 0;

    for (name, rows) in &tables.messages {
        let Some(msg) = desc.messages.get(name) else {
            errors.push(format!("message {name} missing"));
            continue;
        };
        let table_names: BTreeSet<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        for field in &msg.field {
            if !table_names.contains(field.name()) {
                errors.push(format!("{name}.{}: not in the tables", field.name()));
            }
        }
        for row in rows {
            let Some(field) = msg.field.iter().find(|f| f.name() == row.name) else {
                errors.push(format!("{name}.{}: missing", row.name));
                continue;
            };
            checked_fields += 1;
            if field.number() != row.number {
                errors.push(format!(
                    "{name}.{}: number {}, table says {}",
                    row.name,
                    field.number(),
                    row.number
                ));
            }
            for result in [
                check_type(&desc, field, &row.ty),
                check_label(msg, field, &row.label),
                check_options(field, &row.options),
            ] {
                if let Err(e) = result {
                    errors.push(format!("{name}.{}: {e}", row.name));
                }
            }
        }
    }

    for (name, values) in &tables.enums {
        let Some(e) = desc.enums.get(name) else {
            errors.push(format!("enum {name} missing"));
            continue;
        };
        let want: Vec<(String, i32, bool)> = values
            .iter()
            .filter(|(v, _, _)| !NOT_IN_1_11.contains(&(name.as_str(), v.as_str())))
            .cloned()
            .collect();
        let got: Vec<(String, i32, bool)> = e
            .value
            .iter()
            .map(|v| {
                let deprecated = v.options.as_ref().is_some_and(|o| o.deprecated());
                (v.name().to_string(), v.number(), deprecated)
            })
            .collect();
        if got != want {
            errors.push(format!("enum {name}: got {got:?}, want {want:?}"));
        }
    }

    // Nothing beyond the tables, except map entries and documented extras.
    for name in desc.messages.keys() {
        let is_map_entry = desc.messages[name]
            .options
            .as_ref()
            .is_some_and(|o| o.map_entry());
        if !tables.messages.contains_key(name)
            && !is_map_entry
            && !EXTRA_MESSAGES.contains(&name.as_str())
        {
            errors.push(format!("message {name} is not in the tables"));
        }
    }
    for name in desc.enums.keys() {
        if !tables.enums.contains_key(name) {
            errors.push(format!("enum {name} is not in the tables"));
        }
    }

    assert!(
        errors.is_empty(),
        "{} mismatches:\n{}",
        errors.len(),
        errors.join("\n")
    );
    // Every row was checked, and nobody trimmed the copied tables (537 rows
    // in the reference's section 2).
    let rows: usize = tables.messages.values().map(Vec::len).sum();
    assert_eq!(checked_fields, rows);
    assert!(rows >= 537, "only {rows} table rows");
    assert!(
        tables.enums.len() >= 35,
        "only {} enums",
        tables.enums.len()
    );
}

#[test]
fn tables_cover_the_critical_messages_and_enums() {
    let tables = parse_tables(TABLES);
    for name in CRITICAL {
        assert!(
            tables
                .messages
                .get(*name)
                .is_some_and(|rows| !rows.is_empty())
                || tables.enums.contains_key(*name),
            "{name} not in the tables"
        );
    }
}

#[test]
fn versions_after_1_11_are_excluded() {
    let desc = descriptors();
    for (enum_name, value) in NOT_IN_1_11 {
        let e = &desc.enums[*enum_name];
        assert!(
            e.value.iter().all(|v| v.name() != *value),
            "{enum_name}.{value} must not be defined for 1.11.0"
        );
    }
}

/// A few spot checks written out by hand, independent of the table parser.
#[test]
fn spot_checks() {
    let desc = descriptors();
    let field = |msg: &str, name: &str| {
        desc.messages[msg]
            .field
            .iter()
            .find(|f| f.name() == name)
            .unwrap_or_else(|| panic!("{msg}.{name}"))
            .clone()
    };
    let call = "mesos.v1.scheduler.Call";
    for (name, number) in [
        ("framework_id", 1),
        ("type", 2),
        ("subscribe", 3),
        ("accept", 4),
        ("decline", 5),
        ("kill", 6),
        ("shutdown", 7),
        ("acknowledge", 8),
        ("reconcile", 9),
        ("message", 10),
        ("request", 11),
        ("accept_inverse_offers", 13),
        ("decline_inverse_offers", 14),
        ("revive", 15),
        ("suppress", 16),
        ("acknowledge_operation_status", 17),
        ("reconcile_operations", 18),
        ("update_framework", 19),
    ] {
        assert_eq!(field(call, name).number(), number, "Call.{name}");
    }
    let f = field("mesos.v1.FrameworkInfo", "user");
    assert_eq!(
        (f.number(), f.label(), f.r#type()),
        (1, Label::Required, Type::String)
    );
    let f = field("mesos.v1.Filters", "refuse_seconds");
    assert_eq!(f.default_value(), "5");
    let f = field("mesos.v1.ContainerInfo.DockerInfo", "network");
    assert_eq!((f.number(), f.default_value()), (2, "HOST"));
    let f = field("mesos.v1.TaskStatus", "uuid");
    assert_eq!((f.number(), f.r#type()), (11, Type::Bytes));
    let f = field("mesos.v1.MasterInfo", "ip");
    assert_eq!(
        (f.number(), f.r#type(), f.label()),
        (2, Type::Uint32, Label::Required)
    );
}
