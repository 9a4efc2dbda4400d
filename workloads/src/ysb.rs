//! The Yahoo Streaming Benchmark (docs/WORKLOADS.md, section 5 and query ysb): a
//! deterministic generator on Nexmark's timeline and split, its two source formats (in-memory
//! records and the original JSON lines), the result row and the sequential reference.
//!
//! Event `i` has `event_time = baseTime + floor(i * 1000 / event_rate)` and draws from
//! `r = JavaRandom::new(mix(i))`, in order: user `r.nextInt(100)`, page `r.nextInt(100)`, ad
//! `r.nextInt(1000)`, ad type `r.nextInt(5)`, event type `r.nextInt(3)`. Ad `j` belongs to
//! campaign `j / 10` (100 campaigns x 10 ads). Users, pages, ads and campaigns are UUIDs from
//! fixed tables (see [`Tables`]). The query: keep `event_type == "view"`, map the ad to its
//! campaign, count per campaign in 10 s event-time tumbling windows closed by the watermark
//! (out-of-orderness 0), output `(campaign_id, window_start, count)`.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use crate::digest::{ColumnSink, ResultRow, write_json_str};
use crate::random::{JavaRandom, mix};
use crate::split::{BLOCK, ConfigError, Split, Timestamped, WATERMARK_END, WorkerSplit};

/// Campaigns.
pub const CAMPAIGNS: u32 = 100;
/// Ads per campaign.
pub const ADS_PER_CAMPAIGN: u32 = 10;
/// Ads (campaigns x ads per campaign).
pub const ADS: u32 = CAMPAIGNS * ADS_PER_CAMPAIGN;
/// Distinct users.
pub const USERS: u32 = 100;
/// Distinct pages.
pub const PAGES: u32 = 100;
/// Ad types, in draw order.
pub const AD_TYPES: [&str; 5] = ["banner", "modal", "sponsored-search", "mail", "mobile"];
/// Event types, in draw order.
pub const EVENT_TYPES: [&str; 3] = ["view", "click", "purchase"];
/// The constant `ip_address` of every event (as the original generator has it).
pub const IP_ADDRESS: &str = "1.2.3.4";
/// Window length of the query, ms.
pub const WINDOW_MS: u64 = 10_000;
/// Seed of the UUID tables.
const TABLE_SEED: u64 = 20_150_717;

/// The generator's parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YsbConfig {
    /// Events in the input (ids `0..events`).
    pub events: u64,
    /// Events per second of event time.
    pub event_rate: u64,
    /// Timestamp of event 0, epoch ms.
    pub base_time_ms: u64,
    /// Watermark = max timestamp - this (0: YSB's windows close as soon as time passes them).
    pub out_of_orderness_ms: u64,
}

impl Default for YsbConfig {
    fn default() -> Self {
        Self {
            events: 10_000_000,
            event_rate: crate::nexmark::DEFAULT_EVENT_RATE,
            base_time_ms: crate::nexmark::BASE_TIME_MS,
            out_of_orderness_ms: 0,
        }
    }
}

impl YsbConfig {
    /// The default configuration with `events` events.
    pub fn with_events(events: u64) -> Self {
        Self {
            events,
            ..Self::default()
        }
    }

    /// Checks every parameter; the error names the flag to fix.
    ///
    /// # Errors
    /// A zero event rate.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.event_rate == 0 {
            return Err(ConfigError::Invalid {
                flag: "--event-rate",
                value: "0".into(),
                why: "events per second of event time must be at least 1",
            });
        }
        Ok(())
    }
}

/// The fixed UUID tables (built once per process).
///
/// `p = new Random(20150717)`; each UUID is `msb = p.nextLong()`, `lsb = p.nextLong()` with
/// the version-4 and IETF-variant bits set as `java.util.UUID.randomUUID` sets them, printed as
/// `UUID.toString()` does. Order: 100 campaigns, 1000 ads, 100 users, 100 pages.
#[derive(Debug)]
pub struct Tables {
    campaigns: &'static [String],
    ads: &'static [String],
    users: &'static [String],
    pages: &'static [String],
    campaign_of: HashMap<&'static str, &'static str>,
}

/// The process-wide tables.
pub fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    static LISTS: OnceLock<[Vec<String>; 4]> = OnceLock::new();
    TABLES.get_or_init(|| {
        let lists = LISTS.get_or_init(|| {
            let mut p = JavaRandom::new(TABLE_SEED);
            let mut n = |count: u32| (0..count).map(|_| uuid(&mut p)).collect::<Vec<_>>();
            let campaigns = n(CAMPAIGNS);
            let ads = n(ADS);
            let users = n(USERS);
            let pages = n(PAGES);
            [campaigns, ads, users, pages]
        });
        let campaign_of = lists[1]
            .iter()
            .enumerate()
            .map(|(j, ad)| {
                (
                    ad.as_str(),
                    lists[0][j / ADS_PER_CAMPAIGN as usize].as_str(),
                )
            })
            .collect();
        Tables {
            campaigns: &lists[0],
            ads: &lists[1],
            users: &lists[2],
            pages: &lists[3],
            campaign_of,
        }
    })
}

fn uuid(p: &mut JavaRandom) -> String {
    let msb = (p.next_long() as u64 & !0xF000) | 0x4000;
    let lsb = (p.next_long() as u64 & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        msb >> 32,
        (msb >> 16) & 0xFFFF,
        msb & 0xFFFF,
        lsb >> 48,
        lsb & 0xFFFF_FFFF_FFFF
    )
}

impl Tables {
    /// Campaign UUIDs, index = campaign number.
    pub fn campaigns(&'static self) -> impl Iterator<Item = &'static str> {
        self.campaigns.iter().map(String::as_str)
    }

    /// `(ad, campaign)` pairs: the static join table of the query.
    pub fn ad_campaigns(&'static self) -> impl Iterator<Item = (&'static str, &'static str)> {
        self.ads.iter().enumerate().map(|(j, ad)| {
            (
                ad.as_str(),
                self.campaigns[j / ADS_PER_CAMPAIGN as usize].as_str(),
            )
        })
    }

    /// The campaign of an ad; `None` for an unknown ad.
    pub fn campaign_of(&'static self, ad_id: &str) -> Option<&'static str> {
        self.campaign_of.get(ad_id).copied()
    }
}

/// The static ad -> campaign join table of one worker, as campaign *indexes*: an engine
/// counts per index (a `u32`, cheap to hash and to exchange) and looks the campaign's UUID up
/// again only for result rows ([`Campaigns::id`]). Every engine keeps its own copy (the
/// original benchmark keeps the table in a local cache in front of Redis); `S` is the hasher
/// of the ad lookup, the engine's choice.
#[derive(Debug)]
pub struct Campaigns<S = std::hash::RandomState> {
    by_ad: HashMap<&'static str, u32, S>,
    ids: Vec<&'static str>,
}

impl<S: std::hash::BuildHasher + Default> Campaigns<S> {
    /// The table of the generated ads and campaigns.
    pub fn new() -> Self {
        let t = tables();
        let ids: Vec<&'static str> = t.campaigns().collect();
        let index: HashMap<&'static str, u32> = ids
            .iter()
            .enumerate()
            .map(|(i, c)| (*c, i as u32))
            .collect();
        let by_ad = t
            .ad_campaigns()
            .map(|(ad, campaign)| (ad, index[campaign]))
            .collect();
        Self { by_ad, ids }
    }

    /// The campaign index of an ad; `None` for an unknown ad.
    pub fn of_ad(&self, ad_id: &str) -> Option<u32> {
        self.by_ad.get(ad_id).copied()
    }

    /// The campaign index of a view event's ad; `None` for other events and unknown ads.
    pub fn of_view(&self, e: &YsbEvent) -> Option<u32> {
        if e.event_type == "view" {
            self.of_ad(e.ad_id)
        } else {
            None
        }
    }

    /// The UUID of campaign `index` (an index this table handed out).
    pub fn id(&self, index: u32) -> &'static str {
        self.ids[index as usize]
    }
}

impl<S: std::hash::BuildHasher + Default> Default for Campaigns<S> {
    fn default() -> Self {
        Self::new()
    }
}

/// One YSB event (in-memory record form; every string a `&'static str` of the tables).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct YsbEvent {
    /// User UUID.
    pub user_id: &'static str,
    /// Page UUID.
    pub page_id: &'static str,
    /// Ad UUID.
    pub ad_id: &'static str,
    /// One of [`AD_TYPES`].
    pub ad_type: &'static str,
    /// One of [`EVENT_TYPES`].
    pub event_type: &'static str,
    /// Event time, epoch ms.
    pub event_time: u64,
    /// Always [`IP_ADDRESS`].
    pub ip_address: &'static str,
}

impl Timestamped for YsbEvent {
    fn timestamp(&self) -> u64 {
        self.event_time
    }
}

/// Generates event `id`.
pub fn generate(config: &YsbConfig, id: u64) -> YsbEvent {
    event(config, id, tables())
}

#[inline]
fn event(config: &YsbConfig, id: u64, t: &'static Tables) -> YsbEvent {
    let mut r = JavaRandom::new(mix(id));
    let user = r.below(USERS) as usize;
    let page = r.below(PAGES) as usize;
    let ad = r.below(ADS) as usize;
    let ad_type = AD_TYPES[r.below(AD_TYPES.len() as u32) as usize];
    let event_type = EVENT_TYPES[r.below(EVENT_TYPES.len() as u32) as usize];
    YsbEvent {
        user_id: &t.users[user],
        page_id: &t.pages[page],
        ad_id: &t.ads[ad],
        ad_type,
        event_type,
        event_time: crate::split::timestamp_of(id, config.base_time_ms, config.event_rate),
        ip_address: IP_ADDRESS,
    }
}

impl YsbEvent {
    /// Appends the event as one JSON line (the original's format: every value a string,
    /// fields in this order: `user_id, page_id, ad_id, ad_type, event_type, event_time,
    /// ip_address`).
    pub fn write_json(&self, out: &mut String) {
        // The keys are constants and the values come from the tables (nothing to escape in
        // them); `json_value` escapes anything else, so the text is the general writer's.
        out.push_str("{\"user_id\":");
        json_value(out, self.user_id);
        out.push_str(",\"page_id\":");
        json_value(out, self.page_id);
        out.push_str(",\"ad_id\":");
        json_value(out, self.ad_id);
        out.push_str(",\"ad_type\":");
        json_value(out, self.ad_type);
        out.push_str(",\"event_type\":");
        json_value(out, self.event_type);
        out.push_str(",\"event_time\":\"");
        push_decimal(out, self.event_time);
        out.push_str("\",\"ip_address\":");
        json_value(out, self.ip_address);
        out.push_str("}\n");
    }

    /// Feeds the raw row `("ysb", user_id, page_id, ad_id, ad_type, event_type, event_time,
    /// ip_address)` to `sink` (the generator's digest vector).
    pub fn write_raw_row(&self, sink: &mut impl ColumnSink) {
        sink.str("ysb");
        sink.str(self.user_id);
        sink.str(self.page_id);
        sink.str(self.ad_id);
        sink.str(self.ad_type);
        sink.str(self.event_type);
        sink.int(self.event_time as i64);
        sink.str(self.ip_address);
    }
}

/// A JSON string: copied whole when nothing in it needs escaping (the generator's values),
/// else through [`write_json_str`].
#[inline]
fn json_value(out: &mut String, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        write_json_str(out, s);
    }
}

/// Appends `n` in decimal.
#[inline]
fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// The fields of one parsed JSON line, borrowed from the line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct YsbJsonEvent<'a> {
    /// `user_id`.
    pub user_id: &'a str,
    /// `page_id`.
    pub page_id: &'a str,
    /// `ad_id`.
    pub ad_id: &'a str,
    /// `ad_type`.
    pub ad_type: &'a str,
    /// `event_type`.
    pub event_type: &'a str,
    /// `event_time`, parsed.
    pub event_time: u64,
    /// `ip_address`.
    pub ip_address: &'a str,
}

/// A JSON line that is not a YSB event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad YSB JSON line at byte {at}: {what}")]
pub struct ParseError {
    /// Byte offset in the line.
    pub at: usize,
    /// What was expected.
    pub what: &'static str,
}

/// Parses one JSON line of the original format: a flat object whose values are strings
/// without escapes (unknown keys are skipped; `event_time` is a decimal string or number).
///
/// # Errors
/// A [`ParseError`] with the byte offset when the line is not such an object or lacks
/// `ad_id`, `event_type` or `event_time`.
pub fn parse_json_line(line: &str) -> Result<YsbJsonEvent<'_>, ParseError> {
    let b = line.as_bytes();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    let expect = |i: &mut usize, c: u8, what: &'static str| {
        skip_ws(i);
        if *i < b.len() && b[*i] == c {
            *i += 1;
            Ok(())
        } else {
            Err(ParseError { at: *i, what })
        }
    };
    // A string or bare number token, without escapes.
    let token = |i: &mut usize| -> Result<&str, ParseError> {
        skip_ws(i);
        if *i < b.len() && b[*i] == b'"' {
            let start = *i + 1;
            let len = b[start..]
                .iter()
                .position(|&c| c == b'"' || c == b'\\')
                .ok_or(ParseError {
                    at: start,
                    what: "an unterminated string",
                })?;
            if b[start + len] == b'\\' {
                return Err(ParseError {
                    at: start + len,
                    what: "a string without escapes",
                });
            }
            *i = start + len + 1;
            Ok(&line[start..start + len])
        } else {
            let start = *i;
            while *i < b.len() && b[*i].is_ascii_digit() {
                *i += 1;
            }
            if *i == start {
                return Err(ParseError {
                    at: start,
                    what: "a string or a number",
                });
            }
            Ok(&line[start..*i])
        }
    };
    let mut e = YsbJsonEvent::default();
    let mut have_time = false;
    expect(&mut i, b'{', "'{'")?;
    loop {
        let key = token(&mut i)?;
        expect(&mut i, b':', "':'")?;
        let at = i;
        let value = token(&mut i)?;
        match key {
            "user_id" => e.user_id = value,
            "page_id" => e.page_id = value,
            "ad_id" => e.ad_id = value,
            "ad_type" => e.ad_type = value,
            "event_type" => e.event_type = value,
            "event_time" => {
                e.event_time = value.parse().map_err(|_| ParseError {
                    at,
                    what: "event_time as epoch milliseconds",
                })?;
                have_time = true;
            }
            "ip_address" => e.ip_address = value,
            _ => {}
        }
        skip_ws(&mut i);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => break,
            _ => {
                return Err(ParseError {
                    at: i,
                    what: "',' or '}'",
                });
            }
        }
    }
    if e.ad_id.is_empty() || e.event_type.is_empty() || !have_time {
        return Err(ParseError {
            at: 0,
            what: "the fields ad_id, event_type and event_time",
        });
    }
    Ok(e)
}

/// One worker's YSB events, generated on the fly (in-memory records).
#[derive(Debug, Clone)]
pub struct YsbSplit {
    config: YsbConfig,
    split: WorkerSplit,
    next: u64,
    last: Option<u64>,
    /// [`YsbSplit::run`] stops before this id (`u64::MAX`: no limit; see
    /// [`Split::fill_due_with`]).
    until: u64,
    tables: &'static Tables,
}

impl YsbSplit {
    /// Worker `split` of the input `config` describes.
    ///
    /// # Errors
    /// When the configuration is invalid ([`YsbConfig::validate`]).
    pub fn new(config: &YsbConfig, split: WorkerSplit) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            config: config.clone(),
            split,
            next: split.first_owned_from(0),
            last: None,
            until: u64::MAX,
            tables: tables(),
        })
    }

    /// Calls `emit` with up to `max` events; returns whether events remain.
    #[inline]
    fn run(&mut self, max: usize, mut emit: impl FnMut(YsbEvent)) -> bool {
        let events = self.config.events;
        let limit = events.min(self.until);
        let mut taken = 0;
        while taken < max && self.next < limit {
            let block_end = ((self.next / BLOCK + 1) * BLOCK).min(events);
            let end = block_end.min(self.next + (max - taken) as u64).min(limit);
            for id in self.next..end {
                emit(event(&self.config, id, self.tables));
            }
            taken += (end - self.next) as usize;
            self.last = Some(end - 1);
            self.next = if end == block_end {
                self.split.first_owned_from(block_end)
            } else {
                end
            };
        }
        self.next < events
    }

    /// Appends up to `max` events as JSON lines to `out` (the `--format json` source: the job
    /// parses them with [`parse_json_line`]); returns whether events remain.
    pub fn fill_json(&mut self, out: &mut String, max: usize) -> bool {
        self.run(max, |e| e.write_json(out))
    }

    /// [`YsbSplit::fill_json`] that also calls `line(end, event_time)` after each line, with the
    /// length of `out` after the line (its `'\n'` included) and the line's event time.
    pub fn fill_json_lines(
        &mut self,
        out: &mut String,
        max: usize,
        mut line: impl FnMut(usize, u64),
    ) -> bool {
        self.run(max, |e| {
            e.write_json(out);
            line(out.len(), e.event_time);
        })
    }
}

impl Split for YsbSplit {
    type Event = YsbEvent;

    fn fill(&mut self, out: &mut Vec<YsbEvent>, max: usize) -> bool {
        self.fill_with(out, max, |e| e)
    }

    /// Each event wrapped as it is made, not through a temporary batch.
    fn fill_with<U>(
        &mut self,
        out: &mut Vec<U>,
        max: usize,
        mut wrap: impl FnMut(YsbEvent) -> U,
    ) -> bool {
        out.reserve(max.min(1 << 16));
        self.run(max, |e| out.push(wrap(e)))
    }

    fn fill_due_with<U>(
        &mut self,
        out: &mut Vec<U>,
        max: usize,
        until_ms: u64,
        wrap: impl FnMut(YsbEvent) -> U,
    ) -> Option<bool> {
        let config = &self.config;
        self.until = crate::split::first_id_after(until_ms, config.base_time_ms, config.event_rate);
        let more = self.fill_with(out, max, wrap);
        self.until = u64::MAX;
        Some(more)
    }

    fn watermark(&self) -> u64 {
        if self.next >= self.config.events {
            WATERMARK_END
        } else {
            self.last.map_or(0, |id| {
                crate::split::timestamp_of(id, self.config.base_time_ms, self.config.event_rate)
                    .saturating_sub(self.config.out_of_orderness_ms)
            })
        }
    }
}

/// A result row of the YSB query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YsbRow {
    /// Campaign UUID.
    pub campaign_id: &'static str,
    /// Window start, epoch ms (a multiple of 10 s).
    pub window_start: u64,
    /// Views of the campaign's ads in the window.
    pub count: u64,
}

impl ResultRow for YsbRow {
    const COLUMNS: &'static [&'static str] = &["campaign_id", "window_start", "count"];

    fn write_columns(&self, sink: &mut impl ColumnSink) {
        sink.str(self.campaign_id);
        sink.int(self.window_start as i64);
        sink.int(self.count as i64);
    }
}

/// The sequential reference of the YSB query over a bounded event list, sorted by
/// `(campaign_id, window_start)`.
pub fn reference(events: &[YsbEvent]) -> Vec<YsbRow> {
    let t = tables();
    let mut counts: BTreeMap<(&'static str, u64), u64> = BTreeMap::new();
    for e in events.iter().filter(|e| e.event_type == "view") {
        if let Some(campaign) = t.campaign_of(e.ad_id) {
            let window_start = e.event_time - e.event_time % WINDOW_MS;
            *counts.entry((campaign, window_start)).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|((campaign_id, window_start), count)| YsbRow {
            campaign_id,
            window_start,
            count,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    #[test]
    fn json_round_trips() {
        let e = generate(&YsbConfig::with_events(10), 3);
        let mut line = String::new();
        e.write_json(&mut line);
        let p = parse_json_line(line.trim_end()).expect("our own line parses");
        assert_eq!(
            (p.user_id, p.page_id, p.ad_id, p.ad_type, p.event_type),
            (e.user_id, e.page_id, e.ad_id, e.ad_type, e.event_type)
        );
        assert_eq!((p.event_time, p.ip_address), (e.event_time, e.ip_address));
    }

    /// The general writer the fast one must match byte for byte.
    fn general_json(e: &YsbEvent) -> String {
        let mut out = String::new();
        for (k, (name, value)) in [
            ("user_id", e.user_id),
            ("page_id", e.page_id),
            ("ad_id", e.ad_id),
            ("ad_type", e.ad_type),
            ("event_type", e.event_type),
        ]
        .into_iter()
        .enumerate()
        {
            out.push(if k == 0 { '{' } else { ',' });
            write_json_str(&mut out, name);
            out.push(':');
            write_json_str(&mut out, value);
        }
        let _ = write!(out, ",\"event_time\":\"{}\"", e.event_time);
        out.push_str(",\"ip_address\":");
        write_json_str(&mut out, e.ip_address);
        out.push_str("}\n");
        out
    }

    #[test]
    fn json_lines_are_the_general_writers() {
        let config = YsbConfig::with_events(1 << 20);
        for id in (0..2000).chain([12_345, (1 << 20) - 1]) {
            let e = generate(&config, id);
            let mut fast = String::new();
            e.write_json(&mut fast);
            assert_eq!(fast, general_json(&e), "event {id}");
        }
        for (time, ad_type) in [(0, "a\"b\\c\nd"), (u64::MAX, "\u{1}é")] {
            let e = YsbEvent {
                event_time: time,
                ad_type,
                ..generate(&config, 1)
            };
            let mut fast = String::new();
            e.write_json(&mut fast);
            assert_eq!(fast, general_json(&e));
        }
    }

    #[test]
    fn parse_errors_say_where() {
        assert_eq!(parse_json_line("").expect_err("empty").at, 0);
        let e = parse_json_line(r#"{"ad_id":"x","event_type":"view","event_time":"soon"}"#)
            .expect_err("bad time");
        assert!(e.to_string().contains("event_time"), "{e}");
        assert!(parse_json_line(r#"{"ad_id":"x"}"#).is_err());
        let ok = parse_json_line(
            r#" { "ad_id" : "x", "other": "y", "event_type":"view","event_time":12 } "#,
        )
        .expect("spaces, numbers and unknown keys are fine");
        assert_eq!((ok.ad_id, ok.event_time), ("x", 12));
    }

    #[test]
    fn uuids_look_like_java_uuids() {
        let t = tables();
        for u in t.campaigns().chain(t.ad_campaigns().map(|(a, _)| a)) {
            assert_eq!(u.len(), 36);
            assert_eq!(&u[14..15], "4");
            assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        }
        assert_eq!(t.ad_campaigns().count(), 1000);
        let distinct: std::collections::HashSet<_> = t.campaigns().collect();
        assert_eq!(distinct.len(), 100);
    }
}
