//! Text forms of Nexmark events: JSON lines and CSV (`weir gen`), and the raw-row encoding of
//! the generator's digest vector.
//!
//! JSON: one object per line, `"kind"` first, then the fields in the Nexmark DDL's order with its
//! names; `dateTime` and `expires` as epoch ms. CSV: no header (the kinds have different
//! columns); the kind, then the same fields in the same order; a field is quoted (`"`, inner
//! quotes doubled) when it contains a comma, a quote or a line break.

use std::fmt::Write as _;

use super::event::{Auction, Bid, Event, Person};
use crate::digest::{ColumnSink, write_json_str};

/// A field of an event, for the writers.
enum Field<'a> {
    Int(u64),
    Str(&'a str),
}

fn fields(event: &Event, mut f: impl FnMut(&'static str, Field<'_>)) {
    match event {
        Event::Person(Person {
            id,
            name,
            email_address,
            credit_card,
            city,
            state,
            date_time,
            extra,
        }) => {
            f("id", Field::Int(*id));
            f("name", Field::Str(name));
            f("emailAddress", Field::Str(email_address.as_str()));
            f("creditCard", Field::Str(credit_card.as_str()));
            f("city", Field::Str(city));
            f("state", Field::Str(state));
            f("dateTime", Field::Int(*date_time));
            f("extra", Field::Str(extra));
        }
        Event::Auction(Auction {
            id,
            item_name,
            description,
            initial_bid,
            reserve,
            date_time,
            expires,
            seller,
            category,
            extra,
        }) => {
            f("id", Field::Int(*id));
            f("itemName", Field::Str(item_name.as_str()));
            f("description", Field::Str(description.as_str()));
            f("initialBid", Field::Int(*initial_bid));
            f("reserve", Field::Int(*reserve));
            f("dateTime", Field::Int(*date_time));
            f("expires", Field::Int(*expires));
            f("seller", Field::Int(*seller));
            f("category", Field::Int(*category));
            f("extra", Field::Str(extra));
        }
        Event::Bid(Bid {
            auction,
            bidder,
            price,
            channel,
            date_time,
            extra,
        }) => {
            f("auction", Field::Int(*auction));
            f("bidder", Field::Int(*bidder));
            f("price", Field::Int(*price));
            f("channel", Field::Str(channel.name()));
            f("url", Field::Str(channel.url()));
            f("dateTime", Field::Int(*date_time));
            f("extra", Field::Str(extra));
        }
    }
}

/// Appends `event` as one JSON object and a newline.
pub fn write_json(out: &mut String, event: &Event) {
    out.push_str("{\"kind\":");
    write_json_str(out, event.kind().as_str());
    fields(event, |name, field| {
        out.push(',');
        write_json_str(out, name);
        out.push(':');
        match field {
            Field::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Field::Str(s) => write_json_str(out, s),
        }
    });
    out.push_str("}\n");
}

/// Appends `event` as one CSV record and a newline.
pub fn write_csv(out: &mut String, event: &Event) {
    out.push_str(event.kind().as_str());
    fields(event, |_, field| {
        out.push(',');
        match field {
            Field::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Field::Str(s) => write_csv_field(out, s),
        }
    });
    out.push('\n');
}

/// Appends one CSV field, quoted when needed.
pub fn write_csv_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// Feeds the raw row of `event` to `sink`: the kind as a string, then every field in DDL
/// order (integers as integers). This is the row the generator's 1,000,000-event digest
/// vector hashes.
pub fn write_raw_row(sink: &mut impl ColumnSink, event: &Event) {
    sink.str(event.kind().as_str());
    fields(event, |_, field| match field {
        Field::Int(v) => sink.int(v as i64),
        Field::Str(s) => sink.str(s),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_when_needed() {
        let mut s = String::new();
        write_csv_field(&mut s, "a b");
        s.push('|');
        write_csv_field(&mut s, "a,\"b\"");
        assert_eq!(s, "a b|\"a,\"\"b\"\"\"");
    }
}
