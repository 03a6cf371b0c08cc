//! Docker events the manager emits for `GET /events`.

use crate::ids::ContainerId;
use crate::time::Instant;

/// A container event (`Type: "container"`), with what clients read from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DockerEvent {
    /// `Action`: create, start, die, kill, stop, destroy, rename, restart, …
    pub action: &'static str,
    /// `Actor.ID`.
    pub container_id: ContainerId,
    /// `Actor.Attributes.name` (the name at the time of the event).
    pub name: String,
    /// `Actor.Attributes.image`.
    pub image: String,
    /// The container's labels, which dockerd copies into `Actor.Attributes`.
    pub labels: Vec<(String, String)>,
    /// Extra attributes: `exitCode` on die, `signal` on kill, `oldName` on rename.
    pub extra: Vec<(&'static str, String)>,
    /// `time` / `timeNano`.
    pub time: Instant,
}
