//! The Nexmark generator: one event from its id, and per-worker splits that produce batches.
//!
//! Every event is a pure function of `(config, id)`: a fresh [`JavaRandom`] seeded with
//! `mix(id)` draws the fields in Beam's order (person: name, email, credit card, city, state,
//! extra; auction: seller, category, initial bid, expires, item name, description, reserve,
//! extra; bid: auction, bidder, price, extra, then channel/url). `extra` is a slice of one 1 MiB
//! letter pool; channel and url come from tables built once. Nothing is allocated per event.
//!
//! Cost: a bid is about a dozen LCG steps and one `exp` (27 ns on the 2-core VM); an auction
//! about 150 steps (its item name and description draw two numbers per character, as Beam
//! does; 230 ns); a person about 60. The mixed stream runs at about 25 M events per CPU-second.
//! Three things keep it there (`cargo bench -p weir-benches --bench generator`): each kind is
//! pushed as itself (building a 200-byte `Event` and copying it cost a `memcpy` per event),
//! the unpredictable hot-or-not choices are made without branches (`hot_or`), and the price
//! is rounded in `i64` (the `u64` conversions cost more than the `exp`).

use std::hint::select_unpredictable;

use super::config::{FIRST_AUCTION_ID, FIRST_CATEGORY_ID, FIRST_PERSON_ID, NexmarkConfig};
use super::event::{Auction, Bid, Channel, Event, EventKind, Extra, InlineStr, Person};
use super::pools::{CHANNELS, EXTRA_POOL_LEN, FIRST_NAMES, HOT_CHANNELS, LAST_NAMES, Pools, pools};
use crate::random::{JavaRandom, java_round, mix};
use crate::split::{BLOCK, ConfigError, Split, WATERMARK_END, WorkerSplit};

const US_CITIES: [&str; 10] = [
    "Phoenix",
    "Los Angeles",
    "San Francisco",
    "Boise",
    "Portland",
    "Bend",
    "Redmond",
    "Seattle",
    "Kent",
    "Cheyenne",
];
const US_STATES: [&str; 6] = ["AZ", "CA", "ID", "OR", "WA", "WY"];
/// Average byte sizes (Beam's defaults) that `extra` pads each kind to.
const AVG_PERSON_BYTES: i32 = 200;
const AVG_AUCTION_BYTES: i32 = 500;
const AVG_BID_BYTES: i32 = 100;
/// Auctions still in flight (Beam's `numInFlightAuctions`) and active people.
const IN_FLIGHT_AUCTIONS: i64 = 100;
const ACTIVE_PEOPLE: i64 = 1000;
/// Ids allowed ahead of the last one created.
const ID_LEAD: i64 = 10;
/// Hot sellers/bidders/auctions are the first of each batch of this many.
const HOT_BATCH: i64 = 100;
/// Events until `IN_FLIGHT_AUCTIONS` more auctions exist: 100 * 50 / 3.
const EVENTS_FOR_AUCTIONS: u64 = 1666;

/// Beam's `nextString(maxLength)`: `3 + nextInt(max - 3)` characters, each a space with
/// probability 1/13 and otherwise `'a' + nextInt(26)`, then trimmed.
#[inline]
fn next_string<const N: usize>(r: &mut JavaRandom, max_length: u32) -> InlineStr<N> {
    let len = 3 + r.below(max_length - 3);
    let mut s = InlineStr::<N>::EMPTY;
    r.beam_string_chars(len, |c| s.push(c));
    s.trim_spaces();
    s
}

/// Beam's `nextExtra` length, then a slice of the pool at a drawn offset.
#[inline]
fn next_extra(r: &mut JavaRandom, current_size: i32, average: i32) -> Extra {
    if current_size > average {
        return Extra::EMPTY;
    }
    let wanted = average - current_size;
    let delta = java_round(f64::from(wanted) * 0.2) as i32;
    let min = wanted - delta;
    let size = min
        + if delta == 0 {
            0
        } else {
            r.next_int_bounded(2 * delta)
        };
    let size = size as u32;
    let offset = r.below(EXTRA_POOL_LEN - size + 1);
    Extra::pool(offset, size)
}

/// Beam's `nextPrice`: `round(pow(10, 6 * nextDouble()) * 100)`, 100 .. 10^8 cents.
#[inline]
fn next_price(r: &mut JavaRandom) -> u64 {
    price_of(r.next_double())
}

/// `round(pow(10, 6 * d) * 100)`, computed with `exp` (about three times cheaper than `pow`)
/// and checked: `exp(6 * d * ln 10)` is within a relative 1e-14 of `pow(10, 6 * d)` (argument
/// rounding ~3e-15, `exp` and `pow` each under one ulp), i.e. within 1e-6 absolute for prices up
/// to 1e8, and `round` only changes value at `k + 0.5`. Away from those ties the result is the
/// same as `pow`'s; within 1e-5 of a tie (about 2 draws in 100,000) `pow` decides.
#[inline]
pub(crate) fn price_of(d: f64) -> u64 {
    let y = (d * (6.0 * std::f64::consts::LN_10)).exp() * 100.0;
    // `y` is in [100, 1e8]: truncation is the floor, and as `i64` one instruction each way.
    let whole = y as i64;
    let frac = y - whole as f64;
    if (frac - 0.5).abs() > 1e-5 {
        // Java's `Math.round`: the floor, plus one from a half up.
        (whole + i64::from(frac >= 0.5)) as u64
    } else {
        java_round(10_f64.powf(d * 6.0) * 100.0) as u64
    }
}

/// Beam's `nextInt(ratio) > 0 ? hot : draw(random)`, without a branch on the coin: the draw
/// is made from a copy of the generator either way and kept (with the copy's state) only when
/// the coin says so. The coin is unpredictable (for a ratio of 2, half the picks), and a branch
/// on it cost a pipeline flush per mispredicted pick, several per bid.
#[inline]
fn hot_or(
    r: &mut JavaRandom,
    ratio: u32,
    hot: i64,
    draw: impl FnOnce(&mut JavaRandom) -> i64,
) -> i64 {
    let is_hot = r.next_int_bounded(ratio as i32) > 0;
    let mut cold = r.clone();
    let drawn = draw(&mut cold);
    *r = select_unpredictable(is_hot, r.clone(), cold);
    select_unpredictable(is_hot, hot, drawn)
}

/// The last person id created up to event `id` (base 0).
#[inline]
fn last_base0_person_id(id: u64) -> i64 {
    (id / 50) as i64
}

/// The last auction id created up to event `id` (base 0); -1 before the first auction.
#[inline]
fn last_base0_auction_id(id: u64) -> i64 {
    let epoch = (id / 50) as i64;
    match id % 50 {
        0 => 3 * epoch - 1,
        off @ 1..=3 => 3 * epoch + off as i64 - 1,
        _ => 3 * epoch + 2,
    }
}

/// A random active person (base 0), up to `ID_LEAD` ids ahead of the last one.
#[inline]
fn next_base0_person_id(id: u64, r: &mut JavaRandom) -> i64 {
    let people = last_base0_person_id(id) + 1;
    let active = people.min(ACTIVE_PEOPLE);
    people - active + r.beam_long(active + ID_LEAD)
}

/// A random in-flight auction (base 0), up to `ID_LEAD` ids ahead of the last one.
#[inline]
fn next_base0_auction_id(id: u64, r: &mut JavaRandom) -> i64 {
    let max = last_base0_auction_id(id);
    let min = (max - IN_FLIGHT_AUCTIONS).max(0);
    min + r.beam_long(max - min + 1 + ID_LEAD)
}

/// Generates the person with event id `id` (`id % 50 == 0`; other ids give the person the
/// formulas would give, for tests only).
pub fn generate_person(config: &NexmarkConfig, id: u64) -> Person {
    person(id, config.timestamp(id), pools())
}

/// Generates the auction with event id `id` (`id % 50` in 1..=3).
pub fn generate_auction(config: &NexmarkConfig, id: u64) -> Auction {
    auction(config, id, config.timestamp(id))
}

/// Generates the bid with event id `id` (`id % 50 >= 4`).
pub fn generate_bid(config: &NexmarkConfig, id: u64) -> Bid {
    bid(config, id, config.timestamp(id))
}

/// Generates event `id`, of the kind its id gives.
pub fn generate_event(config: &NexmarkConfig, id: u64) -> Event {
    event(config, id, config.timestamp(id), pools())
}

#[inline]
fn event(config: &NexmarkConfig, id: u64, date_time: u64, pools: &'static Pools) -> Event {
    match EventKind::of_id(id) {
        EventKind::Person => Event::Person(person(id, date_time, pools)),
        EventKind::Auction => Event::Auction(auction(config, id, date_time)),
        EventKind::Bid => Event::Bid(bid(config, id, date_time)),
    }
}

/// Appends event `id` to `out`, wrapped by `wrap`. One push per kind: a bid is written as a
/// bid, not built as a whole 200-byte `Event` (the size of an auction) and copied, which cost a
/// `memcpy` call per event.
#[inline]
fn push_event<U>(
    out: &mut Vec<U>,
    wrap: &mut impl FnMut(Event) -> U,
    config: &NexmarkConfig,
    id: u64,
    date_time: u64,
    pools: &'static Pools,
) {
    match EventKind::of_id(id) {
        EventKind::Bid => out.push(wrap(Event::Bid(bid(config, id, date_time)))),
        EventKind::Auction => out.push(wrap(Event::Auction(auction(config, id, date_time)))),
        EventKind::Person => out.push(wrap(Event::Person(person(id, date_time, pools)))),
    }
}

#[inline]
fn person(id: u64, date_time: u64, pools: &'static Pools) -> Person {
    let mut r = JavaRandom::new(mix(id));
    let first = r.below(FIRST_NAMES.len() as u32) as usize;
    let last = r.below(LAST_NAMES.len() as u32) as usize;
    let name = pools.names[first * LAST_NAMES.len() + last].as_str();
    let user: InlineStr<6> = next_string(&mut r, 7);
    let domain: InlineStr<4> = next_string(&mut r, 5);
    let mut email_address = InlineStr::<16>::EMPTY;
    for &b in user.as_str().as_bytes() {
        email_address.push(b);
    }
    email_address.push(b'@');
    for &b in domain.as_str().as_bytes().iter().chain(b".com") {
        email_address.push(b);
    }
    let mut credit_card = InlineStr::<19>::EMPTY;
    for group in 0..4 {
        if group > 0 {
            credit_card.push(b' ');
        }
        let n = r.below(10_000);
        for div in [1000, 100, 10, 1] {
            credit_card.push(b'0' + (n / div % 10) as u8);
        }
    }
    let city = US_CITIES[r.below(US_CITIES.len() as u32) as usize];
    let state = US_STATES[r.below(US_STATES.len() as u32) as usize];
    let size = 8 + name.len() + email_address.len() + credit_card.len() + city.len() + state.len();
    let extra = next_extra(&mut r, size as i32, AVG_PERSON_BYTES);
    Person {
        id: last_base0_person_id(id) as u64 + FIRST_PERSON_ID,
        name,
        email_address,
        credit_card,
        city,
        state,
        date_time,
        extra,
    }
}

#[inline]
fn auction(config: &NexmarkConfig, id: u64, date_time: u64) -> Auction {
    let mut r = JavaRandom::new(mix(id));
    let seller = hot_or(
        &mut r,
        config.hot_seller_ratio,
        (last_base0_person_id(id) / HOT_BATCH) * HOT_BATCH,
        |r| next_base0_person_id(id, r),
    );
    let category = FIRST_CATEGORY_ID + u64::from(r.below(5));
    let initial_bid = next_price(&mut r);
    let horizon = config.timestamp(id + EVENTS_FOR_AUCTIONS) as i64 - date_time as i64;
    let expires = date_time + 1 + r.beam_long((horizon * 2).max(1)) as u64;
    let item_name: InlineStr<19> = next_string(&mut r, 20);
    let description: InlineStr<99> = next_string(&mut r, 100);
    let reserve = initial_bid + next_price(&mut r);
    let size = 8 + item_name.len() + description.len() + 40;
    let extra = next_extra(&mut r, size as i32, AVG_AUCTION_BYTES);
    Auction {
        id: last_base0_auction_id(id) as u64 + FIRST_AUCTION_ID,
        item_name,
        description,
        initial_bid,
        reserve,
        date_time,
        expires,
        seller: seller as u64 + FIRST_PERSON_ID,
        category,
        extra,
    }
}

#[inline]
fn bid(config: &NexmarkConfig, id: u64, date_time: u64) -> Bid {
    let mut r = JavaRandom::new(mix(id));
    let auction = hot_or(
        &mut r,
        config.hot_auction_ratio,
        (last_base0_auction_id(id) / HOT_BATCH) * HOT_BATCH,
        |r| next_base0_auction_id(id, r),
    );
    let bidder = hot_or(
        &mut r,
        config.hot_bidder_ratio,
        (last_base0_person_id(id) / HOT_BATCH) * HOT_BATCH + 1,
        |r| next_base0_person_id(id, r),
    );
    let price = next_price(&mut r);
    let extra = next_extra(&mut r, 32, AVG_BID_BYTES);
    // Beam: a hot channel if `nextInt(2) > 0`, otherwise one of the others; both draws are
    // made (from copies) and one kept, as in `hot_or`.
    let hot = r.below(2) > 0;
    let hot_channel = r.clone().below(HOT_CHANNELS.len() as u32);
    let other_channel = HOT_CHANNELS.len() as u32 + r.clone().below(CHANNELS);
    let channel = Channel::new_unchecked(select_unpredictable(hot, hot_channel, other_channel));
    Bid {
        auction: auction as u64 + FIRST_AUCTION_ID,
        bidder: bidder as u64 + FIRST_PERSON_ID,
        price,
        channel,
        date_time,
        extra,
        event_id: id,
    }
}

/// The timestamp of consecutive ids without a division per id: `base + q` where
/// `q = floor(id * 1000 / rate)` and `rem` is the remainder.
#[derive(Debug, Clone, Copy)]
struct Clock {
    base: u64,
    rate: u64,
    q: u64,
    rem: u64,
}

impl Clock {
    fn at(config: &NexmarkConfig, id: u64) -> Clock {
        let ms = u128::from(id) * 1000;
        let rate = u128::from(config.event_rate);
        Clock {
            base: config.base_time_ms,
            rate: config.event_rate,
            q: (ms / rate) as u64,
            rem: (ms % rate) as u64,
        }
    }

    #[inline]
    fn ms(&self) -> u64 {
        self.base + self.q
    }

    #[inline]
    fn advance(&mut self) {
        self.rem += 1000;
        if self.rem >= self.rate {
            if self.rem < 2 * self.rate {
                self.q += 1;
                self.rem -= self.rate;
            } else {
                self.q += self.rem / self.rate;
                self.rem %= self.rate;
            }
        }
    }
}

/// Walks a worker's ids in order, block by block.
#[derive(Debug, Clone)]
struct Cursor {
    config: NexmarkConfig,
    split: WorkerSplit,
    /// The next id to consider (owned by this worker, or >= `config.events`).
    next: u64,
    /// The last id consumed, for the watermark.
    last: Option<u64>,
    /// [`Cursor::run`] stops before this id ([`Cursor::stop_after`]; `u64::MAX`: no limit).
    until: u64,
    pools: &'static Pools,
}

impl Cursor {
    fn new(config: &NexmarkConfig, split: WorkerSplit) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            config: config.clone(),
            split,
            next: split.first_owned_from(0),
            last: None,
            until: u64::MAX,
            pools: pools(),
        })
    }

    /// Feeds owned ids and their timestamps to `emit` until it has accepted `max` (it returns
    /// whether it accepted an id) or the input ends; returns whether ids remain.
    #[inline]
    fn run(&mut self, max: usize, mut emit: impl FnMut(u64, u64) -> bool) -> bool {
        let events = self.config.events;
        let limit = events.min(self.until);
        let mut taken = 0;
        while taken < max && self.next < limit {
            let block_end = ((self.next / BLOCK + 1) * BLOCK).min(events);
            let stop = block_end.min(limit);
            let mut id = self.next;
            let mut clock = Clock::at(&self.config, id);
            while id < stop && taken < max {
                if emit(id, clock.ms()) {
                    taken += 1;
                }
                id += 1;
                clock.advance();
            }
            self.last = Some(id - 1);
            self.next = if id == block_end {
                self.split.first_owned_from(block_end)
            } else {
                id
            };
        }
        self.next < events
    }

    /// Has [`Cursor::run`] stop before the first id whose timestamp is after `until_ms`
    /// (`None`: run to `max` or the end of input).
    fn stop_after(&mut self, until_ms: Option<u64>) {
        self.until = until_ms.map_or(u64::MAX, |ms| {
            crate::split::first_id_after(ms, self.config.base_time_ms, self.config.event_rate)
        });
    }

    fn watermark(&self) -> u64 {
        if self.next >= self.config.events {
            WATERMARK_END
        } else {
            self.last.map_or(0, |id| {
                self.config
                    .timestamp(id)
                    .saturating_sub(self.config.out_of_orderness_ms)
            })
        }
    }
}

/// One worker's Nexmark events, generated on the fly (the `generate` source mode).
///
/// [`Split::fill`] appends up to `max` events per call. With [`NexmarkSplit::only`] it skips
/// the ids of other kinds without generating them (ids are still consumed, so the watermark is
/// the same).
#[derive(Debug, Clone)]
pub struct NexmarkSplit {
    cursor: Cursor,
    kinds: [bool; 3],
}

impl NexmarkSplit {
    /// Worker `split` of the input `config` describes.
    ///
    /// # Errors
    /// When the configuration is invalid ([`NexmarkConfig::validate`]).
    pub fn new(config: &NexmarkConfig, split: WorkerSplit) -> Result<Self, ConfigError> {
        Ok(Self {
            cursor: Cursor::new(config, split)?,
            kinds: [true; 3],
        })
    }

    /// Produces only events of these kinds.
    #[must_use]
    pub fn only(mut self, kinds: &[EventKind]) -> Self {
        self.kinds = [
            kinds.contains(&EventKind::Person),
            kinds.contains(&EventKind::Auction),
            kinds.contains(&EventKind::Bid),
        ];
        self
    }

    /// The configuration.
    pub fn config(&self) -> &NexmarkConfig {
        &self.cursor.config
    }
}

impl Split for NexmarkSplit {
    type Event = Event;

    fn fill(&mut self, out: &mut Vec<Event>, max: usize) -> bool {
        self.fill_with(out, max, |e| e)
    }

    fn fill_with<U>(
        &mut self,
        out: &mut Vec<U>,
        max: usize,
        mut wrap: impl FnMut(Event) -> U,
    ) -> bool {
        out.reserve(max.min(1 << 16));
        let kinds = self.kinds;
        let config = self.cursor.config.clone();
        let pools = self.cursor.pools;
        if kinds == [true; 3] {
            self.cursor.run(max, |id, ts| {
                push_event(out, &mut wrap, &config, id, ts, pools);
                true
            })
        } else {
            self.cursor.run(max, |id, ts| {
                let kind = EventKind::of_id(id);
                if kinds[kind as usize] {
                    push_event(out, &mut wrap, &config, id, ts, pools);
                    true
                } else {
                    false
                }
            })
        }
    }

    fn fill_due_with<U>(
        &mut self,
        out: &mut Vec<U>,
        max: usize,
        until_ms: u64,
        wrap: impl FnMut(Event) -> U,
    ) -> Option<bool> {
        self.cursor.stop_after(Some(until_ms));
        let more = self.fill_with(out, max, wrap);
        self.cursor.stop_after(None);
        Some(more)
    }

    fn watermark(&self) -> u64 {
        self.cursor.watermark()
    }
}

impl Iterator for NexmarkSplit {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        let kinds = self.kinds;
        let config = self.cursor.config.clone();
        let pools = self.cursor.pools;
        let mut got = None;
        self.cursor.run(1, |id, ts| {
            if kinds[EventKind::of_id(id) as usize] {
                got = Some(event(&config, id, ts, pools));
                true
            } else {
                false
            }
        });
        got
    }
}

/// One worker's bids only, as [`Bid`] values (smaller than [`Event`]); persons and auctions are
/// skipped without being generated. For queries that read only bids (q0, q1, q2, q5, q7, q11,
/// q12).
#[derive(Debug, Clone)]
pub struct BidSplit {
    cursor: Cursor,
}

impl BidSplit {
    /// Worker `split` of the input `config` describes.
    ///
    /// # Errors
    /// When the configuration is invalid ([`NexmarkConfig::validate`]).
    pub fn new(config: &NexmarkConfig, split: WorkerSplit) -> Result<Self, ConfigError> {
        Ok(Self {
            cursor: Cursor::new(config, split)?,
        })
    }
}

impl Split for BidSplit {
    type Event = Bid;

    fn fill(&mut self, out: &mut Vec<Bid>, max: usize) -> bool {
        self.fill_with(out, max, |b| b)
    }

    fn fill_with<U>(
        &mut self,
        out: &mut Vec<U>,
        max: usize,
        mut wrap: impl FnMut(Bid) -> U,
    ) -> bool {
        out.reserve(max.min(1 << 16));
        let config = self.cursor.config.clone();
        self.cursor.run(max, |id, ts| {
            if id % 50 >= 4 {
                out.push(wrap(bid(&config, id, ts)));
                true
            } else {
                false
            }
        })
    }

    fn fill_due_with<U>(
        &mut self,
        out: &mut Vec<U>,
        max: usize,
        until_ms: u64,
        wrap: impl FnMut(Bid) -> U,
    ) -> Option<bool> {
        self.cursor.stop_after(Some(until_ms));
        let more = self.fill_with(out, max, wrap);
        self.cursor.stop_after(None);
        Some(more)
    }

    fn watermark(&self) -> u64 {
        self.cursor.watermark()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_matches_the_timestamp_formula() {
        for rate in [1, 3, 7, 999, 1000, 1001, 10_000, 9_999_991, 10_000_000] {
            let config = NexmarkConfig {
                event_rate: rate,
                ..NexmarkConfig::default()
            };
            for start in [0, 5, 1023, 1 << 40] {
                let mut clock = Clock::at(&config, start);
                for id in start..start + 3000 {
                    assert_eq!(clock.ms(), config.timestamp(id), "rate {rate} id {id}");
                    clock.advance();
                }
            }
        }
    }

    #[test]
    fn exp_price_equals_pow_price() {
        let mut r = JavaRandom::new(7);
        for _ in 0..2_000_000 {
            let d = r.next_double();
            let by_pow = java_round(10_f64.powf(d * 6.0) * 100.0) as u64;
            assert_eq!(price_of(d), by_pow, "d = {d:e}");
        }
        // The ends of the range and exact ties.
        for d in [0.0, 1.0 - f64::EPSILON, 0.5, 1.0 / 3.0] {
            assert_eq!(price_of(d), java_round(10_f64.powf(d * 6.0) * 100.0) as u64);
        }
    }
}
