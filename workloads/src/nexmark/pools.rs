//! The tables every Nexmark event draws its strings from, built once per process from fixed
//! seeds: the 1 MiB `extra` letter pool, the 99 person names, and the 10,004 channels with
//! their URLs. Events hold offsets and indexes into them ([`super::Extra`],
//! [`super::Channel`]), so generating an event allocates nothing.
//!
//! Channels that are not in the table (met in events read from a file) get indexes after it,
//! in a process-wide registry ([`intern_channel`]); reading one takes a shared lock, so only
//! such channels pay for it.
//!
//! A base module of `nexmark`: it imports only the PRNG.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{OnceLock, PoisonError, RwLock};

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
            TABLE_CHANNELS.. => interned(index).0,
            _ => &self.channel_names[index - HOT_CHANNELS.len()],
        }
    }

    /// The URL of channel `index`.
    #[inline]
    pub(crate) fn channel_url(&'static self, index: usize) -> &'static str {
        match index {
            0..4 => &self.hot_urls[index],
            TABLE_CHANNELS.. => interned(index).1,
            _ => &self.channel_urls[index - HOT_CHANNELS.len()],
        }
    }

    /// The table index of the channel named `name`, if the table has one.
    fn channel_index(&'static self, name: &str) -> Option<usize> {
        if let Some(hot) = HOT_CHANNELS.iter().position(|h| *h == name) {
            return Some(hot);
        }
        let k: u32 = name.strip_prefix("channel-")?.parse().ok()?;
        // Only the canonical decimal text (no sign, no leading zero) names a table entry.
        (k < CHANNELS && name == self.channel_names[k as usize])
            .then(|| HOT_CHANNELS.len() + k as usize)
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

/// Channels in the generator's table: the hot ones and `channel-0` .. `channel-9999`.
const TABLE_CHANNELS: usize = HOT_CHANNELS.len() + CHANNELS as usize;

/// The `(channel, url)` pairs outside the table, index `TABLE_CHANNELS + position`.
#[derive(Default)]
struct Interned {
    pairs: Vec<(&'static str, &'static str)>,
    index: HashMap<(&'static str, &'static str), u16>,
}

fn registry() -> &'static RwLock<Interned> {
    static INTERNED: OnceLock<RwLock<Interned>> = OnceLock::new();
    INTERNED.get_or_init(RwLock::default)
}

/// The interned pair at channel index `index` (`>= TABLE_CHANNELS`; only [`intern_channel`]
/// hands such indexes out).
#[cold]
fn interned(index: usize) -> (&'static str, &'static str) {
    let interned = registry().read().unwrap_or_else(PoisonError::into_inner);
    interned.pairs[index - TABLE_CHANNELS]
}

/// The channel index of the pair `(name, url)`: the table's when the table has this pair,
/// otherwise the pair's own index after the table (registered on first sight). `None` when
/// no index is left.
pub(crate) fn intern_channel(name: &'static str, url: &'static str) -> Option<u16> {
    let pools = pools();
    if let Some(index) = pools.channel_index(name)
        && pools.channel_url(index) == url
    {
        return u16::try_from(index).ok();
    }
    if let Some(&index) = registry()
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .index
        .get(&(name, url))
    {
        return Some(index);
    }
    let mut interned = registry().write().unwrap_or_else(PoisonError::into_inner);
    if let Some(&index) = interned.index.get(&(name, url)) {
        return Some(index);
    }
    let index = u16::try_from(TABLE_CHANNELS + interned.pairs.len()).ok()?;
    interned.pairs.push((name, url));
    interned.index.insert((name, url), index);
    Some(index)
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
