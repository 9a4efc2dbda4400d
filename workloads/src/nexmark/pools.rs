//! The tables every Nexmark event draws its strings from, built once per process from fixed
//! seeds: the 1 MiB `extra` letter pool, the 99 person names, and the 10,004 channels with
//! their URLs. Events hold offsets and indexes into them ([`super::Extra`],
//! [`super::Channel`]), so generating an event allocates nothing.
//!
//! A base module of `nexmark`: it imports only the PRNG.

use std::fmt::Write as _;
use std::sync::OnceLock;

use crate::random::JavaRandom;

/// Length of the `extra` letter pool (1 MiB).
pub const EXTRA_POOL_LEN: u32 = 1 << 20;
/// Seed of the `extra` pool: byte k is `'a' + nextInt(26)`, the k-th draw of `new Random(seed)`.
const EXTRA_POOL_SEED: u64 = 20_150_715;
/// Seed of the channel/url tables (hot channels first, then `channel-0` .. `channel-9999`).
const CHANNEL_SEED: u64 = 20_150_716;
/// Number of non-hot channels.
pub(crate) const CHANNELS: u32 = 10_000;

pub(crate) const FIRST_NAMES: [&str; 11] = [
    "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter",
];
pub(crate) const LAST_NAMES: [&str; 9] = [
    "Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris",
];
pub(crate) const HOT_CHANNELS: [&str; 4] = ["Google", "Facebook", "Baidu", "Apple"];

/// The tables every event draws strings from, built once per process from fixed seeds.
#[derive(Debug)]
pub struct Pools {
    extra: String,
    /// Every `first last` name, first-name major.
    pub(crate) names: Vec<String>,
    hot_urls: Vec<String>,
    channel_names: Vec<String>,
    channel_urls: Vec<String>,
}

/// The process-wide pools (built on first use, a few milliseconds).
pub fn pools() -> &'static Pools {
    static POOLS: OnceLock<Pools> = OnceLock::new();
    POOLS.get_or_init(Pools::build)
}

impl Pools {
    fn build() -> Pools {
        let mut r = JavaRandom::new(EXTRA_POOL_SEED);
        let extra: String = (0..EXTRA_POOL_LEN)
            .map(|_| char::from(b'a' + r.below(26) as u8))
            .collect();
        let names = FIRST_NAMES
            .iter()
            .flat_map(|f| LAST_NAMES.iter().map(move |l| format!("{f} {l}")))
            .collect();
        let mut r = JavaRandom::new(CHANNEL_SEED);
        let hot_urls = HOT_CHANNELS.iter().map(|_| url(&mut r)).collect();
        let mut channel_names = Vec::with_capacity(CHANNELS as usize);
        let mut channel_urls = Vec::with_capacity(CHANNELS as usize);
        for i in 0..CHANNELS {
            let mut u = url(&mut r);
            if r.below(10) > 0 {
                // Java: Math.abs(Integer.reverse(i)); abs(MIN) stays MIN.
                let id = (i as i32).reverse_bits().wrapping_abs();
                let _ = write!(u, "&channel_id={id}");
            }
            channel_names.push(format!("channel-{i}"));
            channel_urls.push(u);
        }
        Pools {
            extra,
            names,
            hot_urls,
            channel_names,
            channel_urls,
        }
    }

    /// The 1 MiB letter pool `extra` is sliced from.
    pub fn extra_pool(&'static self) -> &'static str {
        &self.extra
    }

    /// The name of channel `index` (see [`super::Channel`]).
    #[inline]
    pub(crate) fn channel_name(&'static self, index: usize) -> &'static str {
        match index {
            0..4 => HOT_CHANNELS[index],
            _ => &self.channel_names[index - HOT_CHANNELS.len()],
        }
    }

    /// The URL of channel `index`.
    #[inline]
    pub(crate) fn channel_url(&'static self, index: usize) -> &'static str {
        match index {
            0..4 => &self.hot_urls[index],
            _ => &self.channel_urls[index - HOT_CHANNELS.len()],
        }
    }

    /// Every channel with its URL: the 4 hot ones, then `channel-0` .. `channel-9999`.
    pub fn channels(&'static self) -> impl Iterator<Item = (&'static str, &'static str)> {
        HOT_CHANNELS
            .iter()
            .copied()
            .zip(self.hot_urls.iter().map(String::as_str))
            .chain(
                self.channel_names
                    .iter()
                    .map(String::as_str)
                    .zip(self.channel_urls.iter().map(String::as_str)),
            )
    }
}

/// `https://www.nexmark.com/<s1>/<s2>/<s3>/item.htm?query=1`, each segment 3-4 characters,
/// each `'_'` with probability 1/13 and otherwise a letter.
fn url(r: &mut JavaRandom) -> String {
    let mut u = String::from("https://www.nexmark.com");
    for _ in 0..3 {
        u.push('/');
        let len = 3 + r.below(2);
        for _ in 0..len {
            if r.below(13) == 0 {
                u.push('_');
            } else {
                u.push(char::from(b'a' + r.below(26) as u8));
            }
        }
    }
    u.push_str("/item.htm?query=1");
    u
}
