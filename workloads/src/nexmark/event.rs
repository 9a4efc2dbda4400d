//! Nexmark event types. Strings are `&'static str` slices of pools built once, or small inline
//! strings: generating an event never allocates.

use crate::split::Timestamped;

/// A string of at most `N` ASCII bytes stored inline (no heap).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct InlineStr<const N: usize> {
    len: u8,
    bytes: [u8; N],
}

impl<const N: usize> InlineStr<N> {
    /// The empty string.
    pub const EMPTY: Self = Self {
        len: 0,
        bytes: [0; N],
    };

    /// Copies `s`.
    ///
    /// # Errors
    /// When `s` is longer than `N` bytes or not ASCII.
    pub fn try_from_str(s: &str) -> Result<Self, InlineStrError> {
        if s.len() > N || !s.is_ascii() {
            return Err(InlineStrError { max: N });
        }
        let mut out = Self::EMPTY;
        out.bytes[..s.len()].copy_from_slice(s.as_bytes());
        out.len = s.len() as u8;
        Ok(out)
    }

    /// Appends one ASCII byte; the generator never exceeds `N`.
    #[inline]
    pub(crate) fn push(&mut self, b: u8) {
        debug_assert!(b.is_ascii());
        self.bytes[usize::from(self.len)] = b;
        self.len += 1;
    }

    /// Removes leading and trailing spaces (Java's `String.trim` on these strings).
    #[inline]
    pub(crate) fn trim_spaces(&mut self) {
        let len = usize::from(self.len);
        let end = self.bytes[..len]
            .iter()
            .rposition(|&b| b != b' ')
            .map_or(0, |p| p + 1);
        let start = self.bytes[..end]
            .iter()
            .position(|&b| b != b' ')
            .unwrap_or(end);
        if start > 0 {
            self.bytes.copy_within(start..end, 0);
        }
        // Bytes past the length are zero (the derived `Eq` and `Hash` compare all `N`). Most
        // strings have nothing to trim: no call to zero nothing.
        if end - start < len {
            self.bytes[end - start..len].fill(0);
        }
        self.len = (end - start) as u8;
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)])
            .expect("an InlineStr holds ASCII only")
    }

    /// Length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether the string is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> std::fmt::Debug for InlineStr<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> std::fmt::Display for InlineStr<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string did not fit an [`InlineStr`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the string is not ASCII or longer than {max} bytes")]
pub struct InlineStrError {
    max: usize,
}

/// The `extra` field of an event: a slice of the generator's 1 MiB letter pool, kept as
/// `(offset, length)` so that generating an event never touches the pool's memory (a random
/// read in 1 MiB is a cache miss, which doubled the cost of a bid). Reading it
/// ([`Extra::as_str`], or any `str` method through `Deref`) resolves the slice; a consumer that
/// never reads `extra` never pays for it.
///
/// Hand-made events (tests, events read from a file) use [`Extra::from_static`]. Two extras
/// are equal when their texts are, whatever their representation.
#[derive(Clone, Copy)]
pub struct Extra(ExtraRepr);

#[derive(Clone, Copy)]
enum ExtraRepr {
    Pool { offset: u32, len: u32 },
    Static(&'static str),
}

impl Extra {
    /// The empty string.
    pub const EMPTY: Extra = Extra(ExtraRepr::Static(""));

    /// `len` bytes of the pool from `offset` (the caller keeps it inside the pool).
    #[inline]
    pub(crate) fn pool(offset: u32, len: u32) -> Extra {
        Extra(ExtraRepr::Pool { offset, len })
    }

    /// Any static text (for hand-made events).
    pub const fn from_static(s: &'static str) -> Extra {
        Extra(ExtraRepr::Static(s))
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &'static str {
        match self.0 {
            ExtraRepr::Pool { offset, len } => {
                &super::pools::pools().extra_pool()[offset as usize..(offset + len) as usize]
            }
            ExtraRepr::Static(s) => s,
        }
    }

    /// Length in bytes (without reading the text).
    #[inline]
    pub fn len(&self) -> usize {
        match self.0 {
            ExtraRepr::Pool { len, .. } => len as usize,
            ExtraRepr::Static(s) => s.len(),
        }
    }

    /// Whether it is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl PartialEq for Extra {
    fn eq(&self, other: &Extra) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Extra {}

impl std::hash::Hash for Extra {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Default for Extra {
    fn default() -> Self {
        Extra::EMPTY
    }
}

impl std::ops::Deref for Extra {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<&'static str> for Extra {
    fn from(s: &'static str) -> Self {
        Extra::from_static(s)
    }
}

impl PartialEq<str> for Extra {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Extra {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Debug for Extra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Extra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A new person (Nexmark `person` table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Person {
    /// Person id (from 1000).
    pub id: u64,
    /// "First Last".
    pub name: &'static str,
    /// `nextString(7)@nextString(5).com`.
    pub email_address: InlineStr<16>,
    /// Four space-separated groups of four digits.
    pub credit_card: InlineStr<19>,
    /// One of 10 US cities.
    pub city: &'static str,
    /// One of AZ, CA, ID, OR, WA, WY.
    pub state: &'static str,
    /// Event time, epoch ms.
    pub date_time: u64,
    /// Padding text to reach the average size.
    pub extra: Extra,
}

/// A new auction (Nexmark `auction` table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Auction {
    /// Auction id (from 1000).
    pub id: u64,
    /// `nextString(20)`.
    pub item_name: InlineStr<19>,
    /// `nextString(100)`.
    pub description: InlineStr<99>,
    /// Starting price, cents.
    pub initial_bid: u64,
    /// Reserve price, cents (`initial_bid` + another price).
    pub reserve: u64,
    /// Event time, epoch ms.
    pub date_time: u64,
    /// End of the auction, epoch ms.
    pub expires: u64,
    /// Seller person id.
    pub seller: u64,
    /// Category, 10..=14.
    pub category: u64,
    /// Padding text to reach the average size.
    pub extra: Extra,
}

/// A bid (Nexmark `bid` table), with its event id.
///
/// The event id is not a column of the `bid` table: it is the bid's position on the timeline
/// (docs/WORKLOADS.md 3.1), carried so that q9, q18 and q19 can break ties by it (section 8).
/// It makes a `Bid` 64 bytes instead of 56 (one cache line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bid {
    /// Auction id.
    pub auction: u64,
    /// Bidder person id.
    pub bidder: u64,
    /// Price, cents.
    pub price: u64,
    /// Channel: Google, Facebook, Baidu, Apple or `channel-<n>`, with its URL
    /// ([`Channel::url`], also [`Bid::url`]).
    pub channel: Channel,
    /// Event time, epoch ms.
    pub date_time: u64,
    /// Padding text to reach the average size.
    pub extra: Extra,
    /// The event id (hidden column): the tie-break of q9, q18 and q19.
    pub event_id: u64,
}

impl Bid {
    /// The URL of the bid's channel.
    #[inline]
    pub fn url(&self) -> &'static str {
        self.channel.url()
    }
}

/// A bid's channel, an index into the fixed channel table: 0..4 are the hot channels Google,
/// Facebook, Baidu, Apple; `4 + k` is `channel-k` (k < 10,000). Kept as an index so that
/// generating a bid does not read the table (a random read in it was a cache miss); the name
/// ([`Channel::name`], or any `str` method through `Deref`) and [`Channel::url`] are looked up
/// when read.
///
/// Indexes from [`Channel::COUNT`] on name the other `(channel, url)` pairs met in events read
/// from a file ([`Channel::intern`]), kept for the life of the process.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Channel(u16);

impl Channel {
    /// Channels in the table (4 hot + 10,000).
    pub const COUNT: usize = 10_004;

    /// The channel at `index` of the table, if there is one.
    pub fn from_index(index: usize) -> Option<Channel> {
        (index < Self::COUNT).then_some(Channel(index as u16))
    }

    /// Used by the generator, which draws `index < COUNT`.
    #[inline]
    pub(crate) fn new_unchecked(index: u32) -> Channel {
        debug_assert!((index as usize) < Self::COUNT);
        Channel(index as u16)
    }

    /// The channel named `name` with this `url`: the generator's table entry when the pair is
    /// one, otherwise a process-wide entry of its own (the same pair gets the same channel).
    ///
    /// # Errors
    /// When more than `65,536 - COUNT` distinct pairs outside the table were interned.
    pub fn intern(name: &'static str, url: &'static str) -> Result<Channel, ChannelTableFull> {
        super::pools::intern_channel(name, url)
            .map(Channel)
            .ok_or(ChannelTableFull)
    }

    /// The index in the table.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The channel's name.
    #[inline]
    pub fn name(self) -> &'static str {
        super::pools::pools().channel_name(self.index())
    }

    /// The channel's URL.
    #[inline]
    pub fn url(self) -> &'static str {
        super::pools::pools().channel_url(self.index())
    }
}

/// [`Channel::intern`] met more distinct `(channel, url)` pairs than a `Channel` can index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "more than 55,532 distinct (channel, url) pairs that are not the generator's: a bid's channel \
     is a 16-bit index"
)]
pub struct ChannelTableFull;

impl std::ops::Deref for Channel {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.name()
    }
}

impl PartialEq<&str> for Channel {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.name(), f)
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One Nexmark event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A new person.
    Person(Person),
    /// A new auction.
    Auction(Auction),
    /// A bid.
    Bid(Bid),
}

/// The kind of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// [`Person`].
    Person,
    /// [`Auction`].
    Auction,
    /// [`Bid`].
    Bid,
}

impl EventKind {
    /// The kind of event `id`: `id % 50` is 0 for a person, 1..=3 for an auction, else a bid.
    #[inline]
    pub fn of_id(id: u64) -> EventKind {
        match id % 50 {
            0 => EventKind::Person,
            1..=3 => EventKind::Auction,
            _ => EventKind::Bid,
        }
    }

    /// `person`, `auction` or `bid` (the `kind` field of `weir gen`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Person => "person",
            EventKind::Auction => "auction",
            EventKind::Bid => "bid",
        }
    }
}

impl Event {
    /// The kind.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::Person(_) => EventKind::Person,
            Event::Auction(_) => EventKind::Auction,
            Event::Bid(_) => EventKind::Bid,
        }
    }

    /// The event time, epoch ms.
    pub fn date_time(&self) -> u64 {
        match self {
            Event::Person(p) => p.date_time,
            Event::Auction(a) => a.date_time,
            Event::Bid(b) => b.date_time,
        }
    }
}

impl Timestamped for Event {
    fn timestamp(&self) -> u64 {
        self.date_time()
    }
}

impl Timestamped for Bid {
    fn timestamp(&self) -> u64 {
        self.date_time
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_spaces_like_java() {
        let mut s = InlineStr::<8>::EMPTY;
        for b in b"  ab c  " {
            s.push(*b);
        }
        s.trim_spaces();
        assert_eq!(s.as_str(), "ab c");
        // A trimmed string equals (and hashes like) the same text built directly.
        let direct = InlineStr::<8>::try_from_str("ab c").expect("fits");
        assert_eq!(s, direct);
        let state = std::hash::RandomState::new();
        assert_eq!(
            std::hash::BuildHasher::hash_one(&state, s),
            std::hash::BuildHasher::hash_one(&state, direct)
        );
        let mut blank = InlineStr::<4>::EMPTY;
        blank.push(b' ');
        blank.push(b' ');
        blank.trim_spaces();
        assert!(blank.is_empty());
    }

    #[test]
    fn inline_str_rejects_long_or_non_ascii() {
        assert!(InlineStr::<2>::try_from_str("abc").is_err());
        assert!(InlineStr::<8>::try_from_str("\u{e9}").is_err());
        assert_eq!(
            InlineStr::<8>::try_from_str("ok").expect("fits").as_str(),
            "ok"
        );
    }

    #[test]
    fn kinds_follow_the_proportions() {
        let kinds: Vec<EventKind> = (0..50).map(EventKind::of_id).collect();
        assert_eq!(kinds.iter().filter(|k| **k == EventKind::Person).count(), 1);
        assert_eq!(
            kinds.iter().filter(|k| **k == EventKind::Auction).count(),
            3
        );
        assert_eq!(kinds.iter().filter(|k| **k == EventKind::Bid).count(), 46);
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    #[test]
    fn events_stay_small() {
        // Guards the batch sizes engines move around (docs/ARCHITECTURE.md).
        assert_eq!(std::mem::size_of::<Extra>(), 16);
        assert_eq!(std::mem::size_of::<Bid>(), 64);
        assert_eq!(std::mem::size_of::<Event>(), 200);
    }
}
