//! Which shard holds a call and what its object is named
//! (docs/live-board.md, Shards); `super::page` merges their answers.

/// FNV-1a, 64 bit: stable across builds and platforms, unlike `std`'s hasher.
pub fn shard_of(call_id: &str, shards: u16) -> u16 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in call_id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    u16::try_from(hash % u64::from(shards.max(1))).unwrap_or(0)
}

/// Shard 0 keeps the name the board had before shards (the SDKAppID), so
/// `LIVE_SHARDS=1` is today's board; shard k's name does not depend on the
/// count, so changing it moves no shard's state.
pub fn object_name(sdkappid: u64, shard: u16) -> String {
    if shard == 0 {
        sdkappid.to_string()
    } else {
        format!("{sdkappid}/{shard}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shard_is_stable_and_spreads_calls() {
        // Pinned: a new hash would move live calls to other shards.
        assert_eq!(shard_of("", 4), (0xcbf2_9ce4_8422_2325u64 % 4) as u16);
        assert_eq!(shard_of("c-1", 1), 0);
        let mut counts = [0u32; 4];
        for i in 0..4_000 {
            counts[usize::from(shard_of(&format!("call-{i}"), 4))] += 1;
        }
        assert!(
            counts.iter().all(|&n| (800..1_200).contains(&n)),
            "{counts:?}"
        );
        assert_eq!(shard_of("same", 4), shard_of("same", 4));
    }

    #[test]
    fn shard_zero_keeps_the_old_name() {
        assert_eq!(object_name(1_400_000_000, 0), "1400000000");
        assert_eq!(object_name(1_400_000_000, 3), "1400000000/3");
    }
}
