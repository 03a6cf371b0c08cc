//! Identifier texts the simulated master hands out: UUIDs and Mesos-style ids.

use mesoswarm_core::rng::Rng;

/// 16 random bytes shaped as a version-4 UUID, written as 36-character text.
pub fn uuid_text(rng: &mut Rng) -> String {
    format_uuid(&rng.uuid_v4())
}

/// The canonical 8-4-4-4-12 text of 16 bytes.
pub fn format_uuid(b: &[u8]) -> String {
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{byte:02x}"));
    }
    s
}

/// A fresh 16-byte status update uuid.
pub fn uuid_bytes(rng: &mut Rng) -> Vec<u8> {
    rng.uuid_v4().to_vec()
}

/// A fake Docker container id (64 hex digits) for a task's `docker inspect` data.
pub fn docker_id(rng: &mut Rng) -> String {
    let mut b = [0u8; 32];
    rng.fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_text_is_36_chars_and_seeded() {
        let a = uuid_text(&mut Rng::new(1));
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
        assert_eq!(a, uuid_text(&mut Rng::new(1)));
        assert_ne!(a, uuid_text(&mut Rng::new(2)));
        assert_eq!(docker_id(&mut Rng::new(3)).len(), 64);
    }
}
