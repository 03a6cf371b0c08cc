//! The scheduler endpoint at the HTTP level, with the real master's order of checks
//! (`Master::Http::scheduler`): leadership (503), call validation (400), then for
//! non-SUBSCRIBE calls the framework (400 "Framework cannot be found"), its connection
//! (403), and the `Mesos-Stream-Id` header (400 missing or stale). The HTTP layer itself
//! answers 405 (not POST), 415/400 (`Content-Type`), 406 (`Accept`) and body parse errors.

use mesoswarm_core::time::Instant;
use mesoswarm_proto::scheduler::{call::Type, Call};

use super::{HttpError, SimCluster};
use crate::ids;

impl SimCluster {
    /// An HTTP SUBSCRIBE. `Ok(stream id)`: answer 200 with `Mesos-Stream-Id`, then write
    /// every [`super::ClusterOutput::Event`] of that stream as RecordIO (it may start with
    /// an ERROR followed by [`super::ClusterOutput::CloseStream`], as the real master
    /// refuses subscriptions inside the stream). `Err`: that status and message.
    pub fn http_subscribe(&mut self, now: Instant, call: Call) -> Result<String, HttpError> {
        self.advance(now);
        self.check_leader()?;
        validate_call(&call)?;
        if call.r#type != Some(Type::Subscribe as i32) {
            return Err(HttpError::new(
                400,
                "Failed to validate scheduler::Call: only SUBSCRIBE opens an event stream",
            ));
        }
        let Some(sub) = call.subscribe else {
            return Err(invalid("Expecting 'subscribe' to be present"));
        };
        let stream = ids::uuid_text(&mut self.rng);
        self.subscribe(stream.clone(), sub);
        Ok(stream)
    }

    /// Any call but SUBSCRIBE, with the request's `Mesos-Stream-Id` (`None` if absent).
    /// `Ok(202)`, or `Ok(200)` for UPDATE_FRAMEWORK; errors in the real master's order.
    pub fn http_call(
        &mut self,
        now: Instant,
        stream_id: Option<&str>,
        call: Call,
    ) -> Result<u16, HttpError> {
        self.advance(now);
        self.check_leader()?;
        validate_call(&call)?;
        let kind = call
            .r#type
            .and_then(|t| Type::try_from(t).ok())
            .unwrap_or(Type::Unknown);
        if kind == Type::Subscribe {
            if stream_id.is_some() {
                return Err(HttpError::new(
                    400,
                    "Subscribe calls should not include the 'Mesos-Stream-Id' header",
                ));
            }
            return Err(HttpError::new(
                400,
                "SUBSCRIBE opens an event stream: use http_subscribe",
            ));
        }
        let fw = call
            .framework_id
            .as_ref()
            .map(|f| f.value.clone())
            .unwrap_or_default();
        let Some(f) = self.master.frameworks.get(&fw) else {
            return Err(HttpError::new(400, "Framework cannot be found"));
        };
        let Some(current) = f.stream.clone() else {
            return Err(HttpError::new(403, "Framework is not subscribed"));
        };
        let Some(sid) = stream_id else {
            return Err(HttpError::new(
                400,
                "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
            ));
        };
        if sid != current {
            return Err(HttpError::new(
                400,
                format!(
                    "The stream ID '{sid}' included in this request didn't match the stream ID currently associated with framework ID {fw}"
                ),
            ));
        }
        match kind {
            Type::Teardown => self.remove_framework(&fw),
            Type::Accept => {
                if let Some(a) = call.accept {
                    self.accept(&fw, a);
                }
            }
            Type::Decline => {
                if let Some(d) = call.decline {
                    self.decline(&fw, d);
                }
            }
            Type::AcceptInverseOffers => {
                if let Some(a) = call.accept_inverse_offers {
                    self.answer_inverse_offers(
                        &fw,
                        &a.inverse_offer_ids,
                        a.filters.as_ref(),
                        false,
                    );
                }
            }
            Type::DeclineInverseOffers => {
                if let Some(d) = call.decline_inverse_offers {
                    self.answer_inverse_offers(&fw, &d.inverse_offer_ids, d.filters.as_ref(), true);
                }
            }
            Type::Revive => {
                let roles = call.revive.map(|r| r.roles).unwrap_or_default();
                self.revive(&fw, &roles);
            }
            Type::Suppress => {
                let roles = call.suppress.map(|r| r.roles).unwrap_or_default();
                self.suppress(&fw, &roles);
            }
            Type::Kill => {
                if let Some(k) = call.kill {
                    self.kill(&fw, k);
                }
            }
            Type::Acknowledge => {
                if let Some(a) = call.acknowledge {
                    self.acknowledge(&fw, a);
                }
            }
            Type::Reconcile => {
                if let Some(r) = call.reconcile {
                    self.reconcile(&fw, r);
                }
            }
            Type::UpdateFramework => {
                if let Some(u) = call.update_framework {
                    return self.update_framework(&fw, u).map(|()| 200);
                }
            }
            // Custom executors, operations, messages and requests are not modelled: the
            // calls are accepted and have no effect, as with the built-in executors.
            Type::Shutdown
            | Type::AcknowledgeOperationStatus
            | Type::ReconcileOperations
            | Type::Message
            | Type::Request => {}
            Type::Subscribe => {}
            Type::Unknown => return Err(HttpError::new(501, "")),
        }
        Ok(202)
    }

    /// The HTTP connection of a subscription went away: the framework is disconnected and
    /// its failover timeout starts.
    pub fn http_disconnected(&mut self, now: Instant, stream_id: &str) {
        self.advance(now);
        self.framework_exited(stream_id);
    }

    fn check_leader(&self) -> Result<(), HttpError> {
        if self.master.down_until.is_some() {
            return Err(HttpError::new(503, "No leader elected"));
        }
        Ok(())
    }

    /// UPDATE_FRAMEWORK: synchronous, 200 or 400.
    fn update_framework(
        &mut self,
        fw: &str,
        u: mesoswarm_proto::scheduler::call::UpdateFramework,
    ) -> Result<(), HttpError> {
        let old = self.master.frameworks[fw].info.clone();
        let new = u.framework_info;
        let bad = |m: String| Err(HttpError::new(400, m));
        if old.principal != new.principal {
            return bad("Changing framework's principal is not allowed.".into());
        }
        if old.user != new.user {
            return bad(format!(
                "Updating 'FrameworkInfo.user' is unsupported; attempted to update from '{}' to '{}'",
                old.user, new.user
            ));
        }
        if old.checkpoint != new.checkpoint {
            return bad(format!(
                "Updating 'FrameworkInfo.checkpoint' is unsupported; attempted to update from '{}' to '{}'",
                old.checkpoint.unwrap_or(false),
                new.checkpoint.unwrap_or(false)
            ));
        }
        let roles: std::collections::BTreeSet<String> =
            super::state::roles_of(&new).into_iter().collect();
        let wanted: std::collections::BTreeSet<String> =
            u.suppressed_roles.iter().cloned().collect();
        let invalid: std::collections::BTreeSet<String> =
            wanted.difference(&roles).cloned().collect();
        if !invalid.is_empty() {
            return bad(format!(
                "Suppressed roles {} are not contained in the set of roles",
                super::framework::stringify_set(&invalid)
            ));
        }
        // Offers allocated to roles the framework no longer has are rescinded.
        let stale: Vec<String> = self
            .master
            .offers
            .iter()
            .filter(|(_, o)| o.framework == fw && !roles.contains(&o.role))
            .map(|(id, _)| id.clone())
            .collect();
        for id in stale {
            self.rescind_offer(&id);
        }
        let f = self.master.frameworks.get_mut(fw).expect("checked");
        let unsuppressed: Vec<String> = f.suppressed.difference(&wanted).cloned().collect();
        f.info = new;
        f.suppressed = wanted;
        for v in &mut self.master.agents {
            v.filters
                .retain(|(id, role, _, _)| !(id == fw && unsuppressed.contains(role)));
        }
        self.allocate_soon();
        Ok(())
    }
}

fn invalid(message: &str) -> HttpError {
    HttpError::new(
        400,
        format!("Failed to validate scheduler::Call: {message}"),
    )
}

/// `validation::scheduler::call::validate`.
fn validate_call(call: &Call) -> Result<(), HttpError> {
    let Some(t) = call.r#type else {
        return Err(invalid("Expecting 'type' to be present"));
    };
    let kind = Type::try_from(t).unwrap_or(Type::Unknown);
    if kind == Type::Subscribe {
        let Some(sub) = &call.subscribe else {
            return Err(invalid("Expecting 'subscribe' to be present"));
        };
        if sub.framework_info.id != call.framework_id {
            return Err(invalid(
                "'framework_id' differs from 'subscribe.framework_info.id'",
            ));
        }
        return Ok(());
    }
    if call.framework_id.is_none() {
        return Err(invalid("Expecting 'framework_id' to be present"));
    }
    let missing = |present: bool, name: &str| {
        if present {
            Ok(())
        } else {
            Err(invalid(&format!("Expecting '{name}' to be present")))
        }
    };
    match kind {
        Type::Accept => missing(call.accept.is_some(), "accept"),
        Type::Decline => missing(call.decline.is_some(), "decline"),
        Type::AcceptInverseOffers => missing(
            call.accept_inverse_offers.is_some(),
            "accept_inverse_offers",
        ),
        Type::DeclineInverseOffers => missing(
            call.decline_inverse_offers.is_some(),
            "decline_inverse_offers",
        ),
        Type::Kill => missing(call.kill.is_some(), "kill"),
        Type::Shutdown => missing(call.shutdown.is_some(), "shutdown"),
        Type::Acknowledge => {
            let Some(a) = &call.acknowledge else {
                return Err(invalid("Expecting 'acknowledge' to be present"));
            };
            if a.uuid.len() != 16 {
                return Err(invalid("Invalid UUID: expected 16 bytes"));
            }
            Ok(())
        }
        Type::AcknowledgeOperationStatus => {
            let Some(a) = &call.acknowledge_operation_status else {
                return Err(invalid(
                    "Expecting 'acknowledge_operation_status' to be present",
                ));
            };
            if a.uuid.len() != 16 {
                return Err(invalid("Invalid UUID: expected 16 bytes"));
            }
            missing(a.agent_id.is_some(), "agent_id")
        }
        Type::Reconcile => missing(call.reconcile.is_some(), "reconcile"),
        Type::ReconcileOperations => {
            missing(call.reconcile_operations.is_some(), "reconcile_operations")
        }
        Type::Message => missing(call.message.is_some(), "message"),
        Type::Request => missing(call.request.is_some(), "request"),
        Type::UpdateFramework => {
            let Some(u) = &call.update_framework else {
                return Err(invalid("Expecting 'update_framework' to be present"));
            };
            if u.framework_info.id != call.framework_id {
                return Err(invalid(
                    "'framework_id' differs from 'update_framework.framework_info.id'",
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
