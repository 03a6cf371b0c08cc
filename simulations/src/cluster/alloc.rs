//! The allocator and the offers' life: allocation cycles, refusal filters, SUPPRESS and
//! REVIVE, DECLINE, rescinds, the offer timeout and inverse offers.

use std::time::Duration;

use mesoswarm_proto::scheduler::{call, event, Event};
use mesoswarm_proto::v1::{
    framework_info::capability::Type as Cap, resource, Address, Filters, FrameworkId, InverseOffer,
    Offer, OfferId, Url,
};

use super::state::{MasterInverseOffer, MasterOffer, Registration};
use super::{ClusterTimer, SimCluster};
use crate::resources::{ProtoFormat, Res};

/// `Filters.refuse_seconds`: default 5 s, negative or invalid values mean the default,
/// capped at a year; 0 installs no filter.
pub(super) fn refuse_ms(filters: Option<&Filters>) -> u64 {
    let secs = filters.and_then(|f| f.refuse_seconds).unwrap_or(5.0);
    let secs = if !secs.is_finite() || secs < 0.0 {
        5.0
    } else {
        secs.min(31_536_000.0)
    };
    (secs * 1000.0) as u64
}

impl SimCluster {
    /// Runs an allocation as soon as possible (after a subscription, a REVIVE, an agent
    /// registering), batched with any other one already scheduled.
    pub(super) fn allocate_soon(&mut self) {
        if self.master.allocation_soon {
            return;
        }
        self.master.allocation_soon = true;
        let incarnation = self.master.incarnation;
        self.timers.push(
            self.now,
            ClusterTimer::Allocate {
                incarnation,
                periodic: false,
            },
        );
    }

    /// One allocation cycle: every active framework, in turn, gets one offer per agent and
    /// role out of what is free, unless suppressed or refused.
    pub(super) fn allocate(&mut self) {
        let ids: Vec<String> = self
            .master
            .frameworks
            .values()
            .filter(|f| f.active && f.connected())
            .map(|f| f.id.clone())
            .collect();
        if ids.is_empty() {
            return;
        }
        let now = self.now;
        let turn = self.master.allocation_turn as usize;
        self.master.allocation_turn += 1;
        for k in 0..ids.len() {
            let id = &ids[(turn + k) % ids.len()];
            let f = &self.master.frameworks[id];
            let roles: Vec<String> = f
                .roles()
                .into_iter()
                .filter(|r| !f.suppressed.contains(r))
                .collect();
            if roles.is_empty() {
                continue;
            }
            let gpu_capable = f.has(Cap::GpuResources);
            let multi = f.has(Cap::MultiRole);
            let refinement = f.has(Cap::ReservationRefinement);
            let mut batch = Vec::new();
            for i in 0..self.agents.len() {
                let v = &mut self.master.agents[i];
                if v.reg != Registration::Registered || v.available.is_empty() {
                    continue;
                }
                if !gpu_capable && self.agents[i].total.has("gpus") {
                    // --filter_gpu_resources: GPU agents are kept for GPU frameworks.
                    continue;
                }
                v.filters.retain(|(_, _, _, until)| *until > now);
                let mut chosen = None;
                for role in &roles {
                    let offerable = v.available.with_roles(|r| r == "*" || r == role);
                    if offerable.is_empty() {
                        continue;
                    }
                    let refused = v
                        .filters
                        .iter()
                        .any(|(fw, r, res, _)| fw == id && r == role && res.contains(&offerable));
                    if !refused {
                        chosen = Some((role.clone(), offerable));
                        break;
                    }
                }
                let Some((role, resources)) = chosen else {
                    continue;
                };
                let offer = self.make_offer(id, i, &role, resources, multi, refinement);
                batch.push(offer);
            }
            if !batch.is_empty() {
                self.send_to(
                    id,
                    Event {
                        r#type: Some(event::Type::Offers as i32),
                        offers: Some(event::Offers { offers: batch }),
                        ..Default::default()
                    },
                );
            }
        }
    }

    fn make_offer(
        &mut self,
        framework_id: &str,
        agent: usize,
        role: &str,
        resources: Res,
        multi: bool,
        refinement: bool,
    ) -> Offer {
        let id = format!("{}-O{}", self.master.id, self.master.next_offer);
        self.master.next_offer += 1;
        self.stats.offers += 1;
        let v = &mut self.master.agents[agent];
        v.offered.add(&resources);
        self.refresh_available(agent);
        let unavailability = self.master.agents[agent].maintenance;
        let a = &self.agents[agent];
        let offer = Offer {
            id: OfferId { value: id.clone() },
            framework_id: FrameworkId {
                value: framework_id.to_string(),
            },
            agent_id: self.agent_id_of(agent),
            hostname: a.hostname.clone(),
            url: Some(agent_url(&a.hostname)),
            domain: None,
            resources: resources.to_proto(ProtoFormat {
                allocation_role: multi.then_some(role),
                refinement,
            }),
            attributes: a.attributes.clone(),
            executor_ids: Vec::new(),
            unavailability,
            allocation_info: multi.then(|| resource::AllocationInfo {
                role: Some(role.to_string()),
            }),
        };
        self.master.offers.insert(
            id.clone(),
            MasterOffer {
                framework: framework_id.to_string(),
                agent,
                role: role.to_string(),
                resources,
            },
        );
        if let Some(f) = self.master.frameworks.get_mut(framework_id) {
            f.offers.insert(id.clone());
        }
        if let Some(ms) = self.config.offer_timeout_ms {
            let at = self.after(ms);
            self.timers
                .push(at, ClusterTimer::OfferTimeout { offer: id });
        }
        offer
    }

    /// Takes an offer out of the books and gives its resources back, with a refusal filter
    /// of `refuse_ms` (0: none) for what is returned.
    pub(super) fn remove_offer(
        &mut self,
        offer_id: &str,
        returned: Option<&Res>,
        refuse_ms: u64,
    ) -> Option<MasterOffer> {
        let o = self.master.offers.remove(offer_id)?;
        if let Some(f) = self.master.frameworks.get_mut(&o.framework) {
            f.offers.remove(offer_id);
        }
        let v = &mut self.master.agents[o.agent];
        v.offered.sub(&o.resources);
        let back = returned.unwrap_or(&o.resources);
        if refuse_ms > 0 && !back.is_empty() {
            let until = self.now.saturating_add(Duration::from_millis(refuse_ms));
            v.filters
                .push((o.framework.clone(), o.role.clone(), back.clone(), until));
        }
        self.refresh_available(o.agent);
        Some(o)
    }

    /// `Master::rescindOffer`: RESCIND to the framework (lost if it is disconnected), the
    /// resources back without a filter.
    pub(super) fn rescind_offer(&mut self, offer_id: &str) {
        let Some(o) = self.remove_offer(offer_id, None, 0) else {
            return;
        };
        self.stats.rescinds += 1;
        self.send_to(
            &o.framework,
            Event {
                r#type: Some(event::Type::Rescind as i32),
                rescind: Some(event::Rescind {
                    offer_id: OfferId {
                        value: offer_id.to_string(),
                    },
                }),
                ..Default::default()
            },
        );
    }

    pub(super) fn rescind_framework_offers(&mut self, framework_id: &str) {
        let ids: Vec<String> = self
            .master
            .frameworks
            .get(framework_id)
            .map(|f| f.offers.iter().cloned().collect())
            .unwrap_or_default();
        for id in ids {
            self.rescind_offer(&id);
        }
    }

    /// A re-subscription discards every offer without a RESCIND and without a filter.
    pub(super) fn discard_framework_offers(&mut self, framework_id: &str) {
        let ids: Vec<String> = self
            .master
            .frameworks
            .get(framework_id)
            .map(|f| f.offers.iter().cloned().collect())
            .unwrap_or_default();
        for id in ids {
            self.remove_offer(&id, None, 0);
        }
    }

    pub(super) fn rescind_agent_offers(&mut self, agent: usize) {
        let ids: Vec<String> = self
            .master
            .offers
            .iter()
            .filter(|(_, o)| o.agent == agent)
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            self.rescind_offer(&id);
        }
    }

    pub(super) fn on_offer_timeout(&mut self, offer_id: &str) {
        if self.master.offers.contains_key(offer_id) {
            self.rescind_offer(offer_id);
        }
    }

    /// DECLINE: the offers go back with a refusal filter.
    pub(super) fn decline(&mut self, framework_id: &str, d: call::Decline) {
        let refuse = refuse_ms(d.filters.as_ref());
        for id in d.offer_ids {
            let mine = self
                .master
                .offers
                .get(&id.value)
                .is_some_and(|o| o.framework == framework_id);
            if mine {
                self.remove_offer(&id.value, None, refuse);
            }
        }
    }

    /// The roles a REVIVE or SUPPRESS names (empty: all of the framework's), or `None` if
    /// one is not the framework's (the whole call is dropped).
    fn call_roles(&self, framework_id: &str, roles: &[String]) -> Option<Vec<String>> {
        let f = self.master.frameworks.get(framework_id)?;
        let all = f.roles();
        if roles.is_empty() {
            return Some(all);
        }
        roles
            .iter()
            .all(|r| all.contains(r))
            .then(|| roles.to_vec())
    }

    /// REVIVE: the roles are no longer suppressed and their refusal filters are cleared.
    pub(super) fn revive(&mut self, framework_id: &str, roles: &[String]) {
        let Some(roles) = self.call_roles(framework_id, roles) else {
            return;
        };
        if let Some(f) = self.master.frameworks.get_mut(framework_id) {
            for r in &roles {
                f.suppressed.remove(r);
            }
        }
        for v in &mut self.master.agents {
            v.filters
                .retain(|(fw, role, _, _)| !(fw == framework_id && roles.contains(role)));
        }
        self.allocate_soon();
    }

    /// SUPPRESS: no more offers for the roles.
    pub(super) fn suppress(&mut self, framework_id: &str, roles: &[String]) {
        let Some(roles) = self.call_roles(framework_id, roles) else {
            return;
        };
        if let Some(f) = self.master.frameworks.get_mut(framework_id) {
            f.suppressed.extend(roles);
        }
    }

    // ---- inverse offers ----

    /// INVERSE_OFFERS for an agent under maintenance, to every connected framework with
    /// tasks there that has not declined one recently.
    pub(super) fn send_inverse_offers(&mut self, agent: usize) {
        let Some(unavailability) = self.master.agents[agent].maintenance else {
            return;
        };
        if !self.master.agents[agent].reg.is_registered() {
            return;
        }
        let now = self.now;
        let frameworks: Vec<String> = self
            .master
            .frameworks
            .values()
            .filter(|f| f.connected())
            .filter(|f| f.tasks.values().any(|a| *a == agent))
            .filter(|f| {
                !f.inverse_offers.iter().any(|io| {
                    self.master
                        .inverse_offers
                        .get(io)
                        .is_some_and(|x| x.agent == agent)
                })
            })
            .filter(|f| {
                f.inverse_filters
                    .get(&agent)
                    .is_none_or(|until| *until <= now)
            })
            .map(|f| f.id.clone())
            .collect();
        for fw in frameworks {
            let id = format!("{}-O{}", self.master.id, self.master.next_offer);
            self.master.next_offer += 1;
            self.master.inverse_offers.insert(
                id.clone(),
                MasterInverseOffer {
                    framework: fw.clone(),
                    agent,
                },
            );
            if let Some(f) = self.master.frameworks.get_mut(&fw) {
                f.inverse_offers.insert(id.clone());
            }
            let io = InverseOffer {
                id: OfferId { value: id },
                url: Some(agent_url(&self.agents[agent].hostname)),
                framework_id: FrameworkId { value: fw.clone() },
                agent_id: Some(self.agent_id_of(agent)),
                unavailability,
                resources: Vec::new(),
            };
            self.send_to(
                &fw,
                Event {
                    r#type: Some(event::Type::InverseOffers as i32),
                    inverse_offers: Some(event::InverseOffers {
                        inverse_offers: vec![io],
                    }),
                    ..Default::default()
                },
            );
        }
    }

    /// ACCEPT_/DECLINE_INVERSE_OFFERS: advisory; a decline's filter delays the next one.
    pub(super) fn answer_inverse_offers(
        &mut self,
        framework_id: &str,
        ids: &[OfferId],
        filters: Option<&Filters>,
        declined: bool,
    ) {
        let refuse = refuse_ms(filters);
        for id in ids {
            let mine = self
                .master
                .inverse_offers
                .get(&id.value)
                .is_some_and(|io| io.framework == framework_id);
            if !mine {
                continue;
            }
            let Some(io) = self.master.inverse_offers.remove(&id.value) else {
                continue;
            };
            let until = self.now.saturating_add(Duration::from_millis(refuse));
            if let Some(f) = self.master.frameworks.get_mut(framework_id) {
                f.inverse_offers.remove(&id.value);
                f.inverse_filters.insert(io.agent, until);
            }
            if declined {
                let incarnation = self.master.incarnation;
                self.timers.push(
                    until,
                    ClusterTimer::InverseOffers {
                        agent: io.agent,
                        incarnation,
                    },
                );
            }
        }
    }

    /// Removes a framework's inverse offers (re-subscription, disconnection, removal).
    pub(super) fn remove_framework_inverse_offers(&mut self, framework_id: &str) {
        let ids: Vec<String> = self
            .master
            .frameworks
            .get_mut(framework_id)
            .map(|f| std::mem::take(&mut f.inverse_offers).into_iter().collect())
            .unwrap_or_default();
        for id in ids {
            self.master.inverse_offers.remove(&id);
        }
    }

    /// RESCIND_INVERSE_OFFER for every inverse offer on an agent that goes away.
    pub(super) fn rescind_agent_inverse_offers(&mut self, agent: usize) {
        let ids: Vec<(String, String)> = self
            .master
            .inverse_offers
            .iter()
            .filter(|(_, io)| io.agent == agent)
            .map(|(id, io)| (id.clone(), io.framework.clone()))
            .collect();
        for (id, fw) in ids {
            self.master.inverse_offers.remove(&id);
            if let Some(f) = self.master.frameworks.get_mut(&fw) {
                f.inverse_offers.remove(&id);
            }
            self.send_to(
                &fw,
                Event {
                    r#type: Some(event::Type::RescindInverseOffer as i32),
                    rescind_inverse_offer: Some(event::RescindInverseOffer {
                        inverse_offer_id: OfferId { value: id },
                    }),
                    ..Default::default()
                },
            );
        }
    }
}

/// The libprocess URL of an agent, as offers carry it.
fn agent_url(hostname: &str) -> Url {
    Url {
        scheme: "http".into(),
        address: Address {
            hostname: Some(hostname.to_string()),
            ip: None,
            port: 5051,
        },
        path: Some("/slave(1)".into()),
        query: Vec::new(),
        fragment: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuse_seconds_follow_the_master_rules() {
        assert_eq!(refuse_ms(None), 5_000);
        let f = |s: f64| Filters {
            refuse_seconds: Some(s),
        };
        assert_eq!(refuse_ms(Some(&f(0.0))), 0);
        assert_eq!(refuse_ms(Some(&f(-3.0))), 5_000);
        assert_eq!(refuse_ms(Some(&f(f64::NAN))), 5_000);
        assert_eq!(refuse_ms(Some(&f(1e12))), 31_536_000_000);
        assert_eq!(
            refuse_ms(Some(&Filters {
                refuse_seconds: None
            })),
            5_000
        );
    }
}
