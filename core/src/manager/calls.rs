//! Building the Mesos scheduler calls the manager sends.

use mesoswarm_proto::scheduler::{call, Call};
use mesoswarm_proto::v1::{
    framework_info, offer, AgentId, DurationInfo, Filters, FrameworkId, FrameworkInfo, KillPolicy,
    OfferId, TaskId, TaskInfo,
};

use crate::config::FrameworkConfig;

fn call(framework_id: Option<&str>, kind: call::Type) -> Call {
    Call {
        framework_id: framework_id.map(|v| FrameworkId {
            value: v.to_string(),
        }),
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

fn filters(refuse_seconds: f64) -> Option<Filters> {
    Some(Filters {
        refuse_seconds: Some(refuse_seconds),
    })
}

/// The `FrameworkInfo` we subscribe with. `MULTI_ROLE` lets us name our role in `roles`
/// and keep `allocation_info` on offered resources; `PARTITION_AWARE` gets us
/// UNREACHABLE/GONE/DROPPED instead of an all-purpose LOST; `TASK_KILLING_STATE` shows a
/// stop in progress.
pub fn framework_info(fw: &FrameworkConfig, framework_id: Option<&str>) -> FrameworkInfo {
    use framework_info::capability::Type;
    let caps = [
        Type::MultiRole,
        Type::PartitionAware,
        Type::TaskKillingState,
    ];
    FrameworkInfo {
        user: fw.user.clone(),
        name: fw.name.clone(),
        id: framework_id.map(|v| FrameworkId {
            value: v.to_string(),
        }),
        failover_timeout: Some(fw.failover_timeout_secs),
        checkpoint: Some(fw.checkpoint),
        roles: vec![fw.role.clone()],
        hostname: fw.hostname.clone(),
        principal: fw.principal.clone(),
        webui_url: fw.webui_url.clone(),
        capabilities: caps
            .iter()
            .map(|t| framework_info::Capability {
                r#type: Some(*t as i32),
            })
            .collect(),
        ..Default::default()
    }
}

/// SUBSCRIBE; with a framework id both `Call.framework_id` and `framework_info.id` are set,
/// as the master requires for a re-subscription.
pub fn subscribe(fw: &FrameworkConfig, framework_id: Option<&str>, suppressed: bool) -> Call {
    let mut c = call(framework_id, call::Type::Subscribe);
    c.subscribe = Some(call::Subscribe {
        framework_info: framework_info(fw, framework_id),
        suppressed_roles: if suppressed {
            vec![fw.role.clone()]
        } else {
            Vec::new()
        },
        offer_constraints: None,
    });
    c
}

/// ACCEPT of one offer with one LAUNCH carrying every task placed on it.
pub fn accept(
    framework_id: &str,
    offer_id: &str,
    tasks: Vec<TaskInfo>,
    refuse_seconds: f64,
) -> Call {
    let mut c = call(Some(framework_id), call::Type::Accept);
    c.accept = Some(call::Accept {
        offer_ids: vec![OfferId {
            value: offer_id.to_string(),
        }],
        operations: vec![offer::Operation {
            r#type: Some(offer::operation::Type::Launch as i32),
            launch: Some(offer::operation::Launch { task_infos: tasks }),
            ..Default::default()
        }],
        filters: filters(refuse_seconds),
    });
    c
}

/// DECLINE of some offers.
pub fn decline(framework_id: &str, offer_ids: Vec<String>, refuse_seconds: f64) -> Call {
    let mut c = call(Some(framework_id), call::Type::Decline);
    c.decline = Some(call::Decline {
        offer_ids: offer_ids
            .into_iter()
            .map(|value| OfferId { value })
            .collect(),
        filters: filters(refuse_seconds),
    });
    c
}

/// DECLINE_INVERSE_OFFERS: we cannot move containers away from an agent by ourselves.
pub fn decline_inverse(framework_id: &str, ids: Vec<String>) -> Call {
    let mut c = call(Some(framework_id), call::Type::DeclineInverseOffers);
    c.decline_inverse_offers = Some(call::DeclineInverseOffers {
        inverse_offer_ids: ids.into_iter().map(|value| OfferId { value }).collect(),
        filters: None,
    });
    c
}

/// KILL with a grace period (passed to the Docker executor as `docker stop --time`).
pub fn kill(framework_id: &str, task_id: &str, agent_id: Option<&str>, grace_secs: u64) -> Call {
    let mut c = call(Some(framework_id), call::Type::Kill);
    c.kill = Some(call::Kill {
        task_id: TaskId {
            value: task_id.to_string(),
        },
        agent_id: agent_id.map(|v| AgentId {
            value: v.to_string(),
        }),
        kill_policy: Some(KillPolicy {
            grace_period: Some(DurationInfo {
                nanoseconds: (grace_secs as i64).saturating_mul(1_000_000_000),
            }),
        }),
    });
    c
}

/// ACKNOWLEDGE of one status update.
pub fn acknowledge(framework_id: &str, agent_id: &str, task_id: &str, uuid: Vec<u8>) -> Call {
    let mut c = call(Some(framework_id), call::Type::Acknowledge);
    c.acknowledge = Some(call::Acknowledge {
        agent_id: AgentId {
            value: agent_id.to_string(),
        },
        task_id: TaskId {
            value: task_id.to_string(),
        },
        uuid,
    });
    c
}

/// RECONCILE: explicit with tasks, implicit with none.
pub fn reconcile(framework_id: &str, tasks: Vec<(String, Option<String>)>) -> Call {
    let mut c = call(Some(framework_id), call::Type::Reconcile);
    c.reconcile = Some(call::Reconcile {
        tasks: tasks
            .into_iter()
            .map(|(task, agent)| call::reconcile::Task {
                task_id: TaskId { value: task },
                agent_id: agent.map(|value| AgentId { value }),
            })
            .collect(),
    });
    c
}

/// REVIVE of our role: offers again, and every refusal filter cleared.
pub fn revive(framework_id: &str, role: &str) -> Call {
    let mut c = call(Some(framework_id), call::Type::Revive);
    c.revive = Some(call::Revive {
        roles: vec![role.to_string()],
    });
    c
}

/// SUPPRESS of our role: no offers until the next REVIVE.
pub fn suppress(framework_id: &str, role: &str) -> Call {
    let mut c = call(Some(framework_id), call::Type::Suppress);
    c.suppress = Some(call::Suppress {
        roles: vec![role.to_string()],
    });
    c
}
