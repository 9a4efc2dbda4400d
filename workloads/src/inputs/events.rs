//! Nexmark events from a file (`--input FILE`): JSON lines or CSV exactly as `weir gen nexmark`
//! writes them (docs/WORKLOADS.md 4.5), as the source of any Nexmark query.
//!
//! **Ids and split.** The event id of a record is its position in the file, from 0 (the line,
//! unless a quoted CSV field holds a line break), so the file plays the role of the
//! generator's timeline: worker `w` of `W` takes the ids with `(id div 1024) mod W == w`, in
//! order ([`EventFile::worker_events`], [`EventFile::worker_bids`]), the sources' watermark
//! follows the events they emit, and the latency samples are the ids with `id mod 1024 == 0`.
//! A bid's [`Bid::event_id`](crate::nexmark::Bid::event_id) is its id.
//!
//! **What a file must satisfy**, each checked with an error naming the file and the line:
//! every line one event (no empty lines); the fields of its kind, integers as non-negative
//! whole numbers that fit a 64-bit signed integer (a bid's price at most [`MAX_BID_PRICE`], so
//! that q1's and q14's `price * 908` fits too); `dateTime` never smaller than the line
//! before's (the timeline's timestamps are non-decreasing, which is what makes every record
//! on time); auction ids unique (q4, q6 and q9 key auctions by id); the strings the event types
//! hold inline at most as long as the generator makes them (`emailAddress` 16, `creditCard`
//! 19, `itemName` 19, `description` 99 ASCII bytes). Other strings (`name`, `city`, `state`,
//! `extra`, `channel`, `url`) may be any text; a `(channel, url)` pair that is not the
//! generator's is kept in a process-wide table ([`Channel::intern`]).
//!
//! **Cost and memory.** The whole file is parsed before a job starts, once per process: the
//! parsed file is kept, keyed by its path, size and modification time, for the life of the
//! process ([`EventFile::load`]), because its strings are `&'static str`, like the generator's
//! pools, so every engine's code path treats file and generated events alike. A run then copies
//! its workers' shares out of it (the `replay` mode's per-worker vectors).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::SystemTime;

use serde::Deserialize;

use super::text::{CsvRecords, InputError};
use crate::nexmark::{Auction, Bid, Channel, Event, EventKind, Extra, InlineStr, Person};
use crate::split::{BLOCK, WorkerSplit};

/// The largest bid price a file may hold: `price * 908` (q1 and q14's exact decimal at scale
/// 3) must fit a 64-bit signed integer.
pub const MAX_BID_PRICE: u64 = i64::MAX as u64 / 908;

/// The events of one file, in file order (event id = index).
#[derive(Debug)]
pub struct EventFile {
    path: PathBuf,
    events: Vec<Event>,
}

/// One worker's share of a file, as its source replays it.
#[derive(Debug, Clone, Default)]
pub struct WorkerInput<T> {
    /// The worker's events of the kinds asked for, in id order.
    pub events: Vec<T>,
    /// The positions in `events` of the latency-sampled ids (`id mod 1024 == 0`).
    pub sampled: Vec<u64>,
}

/// What identifies one version of a file in the cache.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FileKey {
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
}

impl EventFile {
    /// The events of the file at `path`, parsed on the first call for this version of the file
    /// (its path, size and modification time) and kept for the life of the process.
    ///
    /// # Errors
    /// An [`InputError`] naming the file and the line at fault.
    pub fn load(path: &Path) -> Result<&'static EventFile, InputError> {
        static CACHE: OnceLock<Mutex<HashMap<FileKey, &'static EventFile>>> = OnceLock::new();
        let meta = std::fs::metadata(path).map_err(|e| InputError::io(path, &e))?;
        if !meta.is_file() {
            return Err(InputError::file(path, "not a file"));
        }
        let key = FileKey {
            path: std::fs::canonicalize(path).map_err(|e| InputError::io(path, &e))?,
            len: meta.len(),
            modified: meta.modified().ok(),
        };
        let cache = CACHE.get_or_init(Mutex::default);
        if let Some(file) = cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(file);
        }
        let text = std::fs::read_to_string(path).map_err(|e| InputError::io(path, &e))?;
        let file: &'static EventFile = Box::leak(Box::new(Self::parse(path, leak(text))?));
        cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, file);
        Ok(file)
    }

    /// Parses the text of an event file (`path` names it in errors). The events borrow `text`.
    ///
    /// # Errors
    /// An [`InputError`] naming the line at fault.
    pub fn parse(path: &Path, text: &'static str) -> Result<EventFile, InputError> {
        let json = text.trim_start_matches('\u{feff}').starts_with('{');
        let mut events = Vec::new();
        let mut checks = Checks::default();
        let mut add = |line: usize, event: Result<Event, String>| {
            let event = event
                .and_then(|e| checks.check(&e).map(|()| e))
                .map_err(|what| InputError::line(path, line, what))?;
            events.push(event);
            Ok::<(), InputError>(())
        };
        if json {
            let body = text.strip_prefix('\u{feff}').unwrap_or(text);
            let body = body.strip_suffix('\n').unwrap_or(body);
            for (i, line) in body.split('\n').enumerate() {
                let line_text = line.strip_suffix('\r').unwrap_or(line);
                add(i + 1, json_event(line_text))?;
            }
        } else {
            for (line, record) in CsvRecords::new(text) {
                add(line, record.and_then(|fields| csv_event(&fields)))?;
            }
        }
        if events.is_empty() {
            return Err(InputError::file(path, "the file holds no events"));
        }
        for (id, event) in events.iter_mut().enumerate() {
            if let Event::Bid(b) = event {
                b.event_id = id as u64;
            }
        }
        Ok(EventFile {
            path: path.to_path_buf(),
            events,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every event, in file order (the event id is the index).
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The number of events.
    pub fn len(&self) -> u64 {
        self.events.len() as u64
    }

    /// Whether the file has no events (never true of a loaded file).
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Worker `split`'s events of `kinds` among the first `limit` events.
    pub fn worker_events(
        &self,
        limit: u64,
        split: WorkerSplit,
        kinds: &[EventKind],
    ) -> WorkerInput<Event> {
        self.share(limit, split, |e| kinds.contains(&e.kind()).then_some(*e))
    }

    /// Worker `split`'s bids among the first `limit` events.
    pub fn worker_bids(&self, limit: u64, split: WorkerSplit) -> WorkerInput<Bid> {
        self.share(limit, split, |e| match e {
            Event::Bid(b) => Some(*b),
            _ => None,
        })
    }

    fn share<T>(
        &self,
        limit: u64,
        split: WorkerSplit,
        keep: impl Fn(&Event) -> Option<T>,
    ) -> WorkerInput<T> {
        let mut out = WorkerInput {
            events: Vec::new(),
            sampled: Vec::new(),
        };
        let end = limit.min(self.len());
        let mut id = split.first_owned_from(0);
        while id < end {
            let block_end = ((id / BLOCK + 1) * BLOCK).min(end);
            for i in id..block_end {
                if let Some(t) = keep(&self.events[i as usize]) {
                    if i % BLOCK == 0 {
                        out.sampled.push(out.events.len() as u64);
                    }
                    out.events.push(t);
                }
            }
            id = split.first_owned_from(block_end);
        }
        out
    }
}

/// Keeps `text` for the life of the process (see the module docs).
fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// A string of the file as `&'static str`: borrowed from the leaked text, or (when it had
/// escapes or doubled quotes) leaked on its own.
fn keep(s: Cow<'static, str>) -> &'static str {
    match s {
        Cow::Borrowed(s) => s,
        Cow::Owned(s) => leak(s),
    }
}

/// What holds across the lines of a file.
#[derive(Debug, Default)]
struct Checks {
    last_time: u64,
    auctions: HashSet<u64>,
}

impl Checks {
    fn check(&mut self, event: &Event) -> Result<(), String> {
        let time = event.date_time();
        if time < self.last_time {
            return Err(format!(
                "dateTime {time} is before the previous event's {}: event times must not \
                 decrease from one line to the next (the generator's timeline; sort the file \
                 by dateTime)",
                self.last_time
            ));
        }
        self.last_time = time;
        if let Event::Auction(a) = event
            && !self.auctions.insert(a.id)
        {
            return Err(format!(
                "auction id {} appears a second time (auction ids are unique)",
                a.id
            ));
        }
        Ok(())
    }
}

/// An integer field: non-negative and within a 64-bit signed integer.
fn int(name: &str, v: u64) -> Result<u64, String> {
    if v > i64::MAX as u64 {
        return Err(format!(
            "{name} {v} is larger than a 64-bit signed integer holds"
        ));
    }
    Ok(v)
}

/// A bid's price: at most [`MAX_BID_PRICE`].
fn price(v: u64) -> Result<u64, String> {
    if v > MAX_BID_PRICE {
        return Err(format!(
            "price {v} is larger than {MAX_BID_PRICE}: price * 908 (q1 and q14) must fit a \
             64-bit signed integer"
        ));
    }
    Ok(v)
}

/// A string the event types hold inline (at most `N` ASCII bytes).
fn inline<const N: usize>(name: &str, s: &str) -> Result<InlineStr<N>, String> {
    InlineStr::try_from_str(s).map_err(|_| {
        format!("{name} '{s}' is not ASCII or longer than {N} bytes (the most the generator makes)")
    })
}

fn channel(name: &'static str, url: &'static str) -> Result<Channel, String> {
    Channel::intern(name, url).map_err(|e| e.to_string())
}

/// One field's value as read: CSV gives text, JSON integers or strings.
enum Value {
    Int(u64),
    Text(Cow<'static, str>),
}

/// The fields of one event in file order, with its kind.
struct Fields<'f> {
    kind: EventKind,
    values: &'f [Value],
}

/// An event from the fields of a CSV record (the kind first).
fn csv_event(fields: &[Cow<'static, str>]) -> Result<Event, String> {
    let (kind, values) = fields
        .split_first()
        .ok_or_else(|| "an empty record".to_string())?;
    let kind = match kind.as_ref() {
        "person" => EventKind::Person,
        "auction" => EventKind::Auction,
        "bid" => EventKind::Bid,
        "" if values.is_empty() => {
            return Err(
                "the line is empty (every line holds one event: event ids are line positions)"
                    .into(),
            );
        }
        other => {
            return Err(format!(
                "unknown kind '{other}': a line starts with person, auction or bid"
            ));
        }
    };
    let names = field_names(kind);
    if values.len() != names.len() {
        return Err(format!(
            "a {} has {} fields after its kind ({}), this line has {}",
            kind.as_str(),
            names.len(),
            names.join(","),
            values.len()
        ));
    }
    let values: Vec<Value> = values.iter().cloned().map(Value::Text).collect();
    Fields {
        kind,
        values: &values,
    }
    .build()
}

/// The fields of each kind, in file order (docs/WORKLOADS.md 4.3).
fn field_names(kind: EventKind) -> &'static [&'static str] {
    match kind {
        EventKind::Person => &[
            "id",
            "name",
            "emailAddress",
            "creditCard",
            "city",
            "state",
            "dateTime",
            "extra",
        ],
        EventKind::Auction => &[
            "id",
            "itemName",
            "description",
            "initialBid",
            "reserve",
            "dateTime",
            "expires",
            "seller",
            "category",
            "extra",
        ],
        EventKind::Bid => &[
            "auction", "bidder", "price", "channel", "url", "dateTime", "extra",
        ],
    }
}

impl Fields<'_> {
    fn text(&self, i: usize) -> Cow<'static, str> {
        match &self.values[i] {
            Value::Text(t) => t.clone(),
            Value::Int(v) => Cow::Owned(v.to_string()),
        }
    }

    fn int(&self, i: usize) -> Result<u64, String> {
        let name = field_names(self.kind)[i];
        let v = match &self.values[i] {
            Value::Int(v) => *v,
            Value::Text(text) => text
                .parse()
                .map_err(|_| format!("{name} '{text}' is not a non-negative whole number"))?,
        };
        int(name, v)
    }

    fn build(&self) -> Result<Event, String> {
        Ok(match self.kind {
            EventKind::Person => Event::Person(Person {
                id: self.int(0)?,
                name: keep(self.text(1)),
                email_address: inline("emailAddress", &self.text(2))?,
                credit_card: inline("creditCard", &self.text(3))?,
                city: keep(self.text(4)),
                state: keep(self.text(5)),
                date_time: self.int(6)?,
                extra: Extra::from_static(keep(self.text(7))),
            }),
            EventKind::Auction => Event::Auction(Auction {
                id: self.int(0)?,
                item_name: inline("itemName", &self.text(1))?,
                description: inline("description", &self.text(2))?,
                initial_bid: self.int(3)?,
                reserve: self.int(4)?,
                date_time: self.int(5)?,
                expires: self.int(6)?,
                seller: self.int(7)?,
                category: self.int(8)?,
                extra: Extra::from_static(keep(self.text(9))),
            }),
            EventKind::Bid => Event::Bid(Bid {
                auction: self.int(0)?,
                bidder: self.int(1)?,
                price: price(self.int(2)?)?,
                channel: channel(keep(self.text(3)), keep(self.text(4)))?,
                date_time: self.int(5)?,
                extra: Extra::from_static(keep(self.text(6))),
                event_id: 0,
            }),
        })
    }
}

/// One JSON line: the union of every kind's fields (each kind's are then required, the others
/// refused), so that one flat, borrowing parse reads any kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct JsonLine<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
    id: Option<u64>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    email_address: Option<Cow<'a, str>>,
    #[serde(borrow)]
    credit_card: Option<Cow<'a, str>>,
    #[serde(borrow)]
    city: Option<Cow<'a, str>>,
    #[serde(borrow)]
    state: Option<Cow<'a, str>>,
    #[serde(borrow)]
    item_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    description: Option<Cow<'a, str>>,
    initial_bid: Option<u64>,
    reserve: Option<u64>,
    date_time: Option<u64>,
    expires: Option<u64>,
    seller: Option<u64>,
    category: Option<u64>,
    #[serde(borrow)]
    extra: Option<Cow<'a, str>>,
    auction: Option<u64>,
    bidder: Option<u64>,
    price: Option<u64>,
    #[serde(borrow)]
    channel: Option<Cow<'a, str>>,
    #[serde(borrow)]
    url: Option<Cow<'a, str>>,
}

/// An event from one JSON line.
fn json_event(line: &'static str) -> Result<Event, String> {
    if line.trim().is_empty() {
        return Err(
            "the line is empty (every line holds one event: event ids are line positions)".into(),
        );
    }
    let j: JsonLine<'static> = serde_json::from_str(line).map_err(|e| {
        format!("not a JSON object of an event ({e}); lines are as `weir gen nexmark` prints them")
    })?;
    let kind = match j.kind.as_ref() {
        "person" => EventKind::Person,
        "auction" => EventKind::Auction,
        "bid" => EventKind::Bid,
        other => {
            return Err(format!(
                "unknown kind '{other}': \"kind\" is person, auction or bid"
            ));
        }
    };
    let present: [(&str, bool); 20] = [
        ("id", j.id.is_some()),
        ("name", j.name.is_some()),
        ("emailAddress", j.email_address.is_some()),
        ("creditCard", j.credit_card.is_some()),
        ("city", j.city.is_some()),
        ("state", j.state.is_some()),
        ("itemName", j.item_name.is_some()),
        ("description", j.description.is_some()),
        ("initialBid", j.initial_bid.is_some()),
        ("reserve", j.reserve.is_some()),
        ("dateTime", j.date_time.is_some()),
        ("expires", j.expires.is_some()),
        ("seller", j.seller.is_some()),
        ("category", j.category.is_some()),
        ("extra", j.extra.is_some()),
        ("auction", j.auction.is_some()),
        ("bidder", j.bidder.is_some()),
        ("price", j.price.is_some()),
        ("channel", j.channel.is_some()),
        ("url", j.url.is_some()),
    ];
    let names = field_names(kind);
    for (name, is) in present {
        let belongs = names.contains(&name);
        if belongs && !is {
            return Err(format!("a {} needs the field \"{name}\"", kind.as_str()));
        }
        if !belongs && is {
            return Err(format!(
                "a {} has no field \"{name}\" (its fields: {})",
                kind.as_str(),
                names.join(", ")
            ));
        }
    }
    // Every field of the kind is present: take them in file order for the builder.
    let text = |v: &Option<Cow<'static, str>>| Value::Text(v.clone().unwrap_or_default());
    let num = |v: Option<u64>| Value::Int(v.unwrap_or_default());
    let values: Vec<Value> = match kind {
        EventKind::Person => vec![
            num(j.id),
            text(&j.name),
            text(&j.email_address),
            text(&j.credit_card),
            text(&j.city),
            text(&j.state),
            num(j.date_time),
            text(&j.extra),
        ],
        EventKind::Auction => vec![
            num(j.id),
            text(&j.item_name),
            text(&j.description),
            num(j.initial_bid),
            num(j.reserve),
            num(j.date_time),
            num(j.expires),
            num(j.seller),
            num(j.category),
            text(&j.extra),
        ],
        EventKind::Bid => vec![
            num(j.auction),
            num(j.bidder),
            num(j.price),
            text(&j.channel),
            text(&j.url),
            num(j.date_time),
            text(&j.extra),
        ],
    };
    Fields {
        kind,
        values: &values,
    }
    .build()
}
