//! Text forms of Nexmark events: JSON lines and CSV (`weir gen`), and the raw-row encoding of
//! the generator's digest vector.
//!
//! JSON: one object per line, `"kind"` first, then the fields in the Nexmark DDL's order with its
//! names; `dateTime` and `expires` as epoch ms. CSV: no header (the kinds have different
//! columns); the kind, then the same fields in the same order; a field is quoted (`"`, inner
//! quotes doubled) when it contains a comma, a quote or a line break. [`read_csv_record`]
//! reads that quoting back (`crate::inputs` reads event files with it).

use std::borrow::Cow;
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
            event_id: _,
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

/// The fields of the CSV record at the start of `text` (as [`write_csv_field`] quotes them)
/// and the text after it: the record ends at the first line break outside quotes (`\n` or
/// `\r\n`, or the end of the text). A field borrows the text unless it had doubled quotes.
///
/// # Errors
/// A description of the fault: a quote inside an unquoted field, text after a closing quote,
/// or a quoted field that never closes.
pub fn read_csv_record(text: &str) -> Result<(Vec<Cow<'_, str>>, &str), String> {
    let bytes = text.as_bytes();
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        if bytes.get(i) == Some(&b'"') {
            // Quoted: up to the quote that is not doubled.
            let start = i + 1;
            let mut j = start;
            let mut doubled = false;
            loop {
                match bytes.get(j) {
                    None => return Err("a quoted field is not closed".to_string()),
                    Some(b'"') if bytes.get(j + 1) == Some(&b'"') => {
                        doubled = true;
                        j += 2;
                    }
                    Some(b'"') => break,
                    Some(_) => j += 1,
                }
            }
            let raw = &text[start..j];
            fields.push(if doubled {
                Cow::Owned(raw.replace("\"\"", "\""))
            } else {
                Cow::Borrowed(raw)
            });
            i = j + 1;
        } else {
            let end = bytes[i..]
                .iter()
                .position(|b| matches!(b, b',' | b'\n' | b'"'))
                .map_or(bytes.len(), |p| i + p);
            if bytes.get(end) == Some(&b'"') {
                return Err(format!(
                    "a quote inside the unquoted field '{}' (quote the whole field and double \
                     inner quotes)",
                    &text[i..end]
                ));
            }
            let field = &text[i..end];
            // A CRLF line break leaves its '\r' on the record's last field.
            let at_line_end = bytes.get(end).is_none_or(|b| *b == b'\n');
            fields.push(Cow::Borrowed(if at_line_end {
                field.strip_suffix('\r').unwrap_or(field)
            } else {
                field
            }));
            i = end;
        }
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b'\n') => return Ok((fields, &text[i + 1..])),
            None => return Ok((fields, &text[i..])),
            Some(b'\r') if bytes.get(i + 1) == Some(&b'\n') => {
                return Ok((fields, &text[i + 2..]));
            }
            Some(_) => {
                return Err("text after a closing quote (a field is quoted as a whole)".into());
            }
        }
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

    fn record(text: &str) -> (Vec<String>, &str) {
        let (fields, rest) = read_csv_record(text).expect("a valid record");
        (fields.into_iter().map(Cow::into_owned).collect(), rest)
    }

    #[test]
    fn csv_records_read_back_what_the_writer_quotes() {
        let mut line = String::new();
        for (k, field) in ["a b", "a,\"b\"", "", "x\ny", "end"].iter().enumerate() {
            if k > 0 {
                line.push(',');
            }
            write_csv_field(&mut line, field);
        }
        line.push_str("\nnext,1");
        let (fields, rest) = record(&line);
        assert_eq!(fields, ["a b", "a,\"b\"", "", "x\ny", "end"]);
        assert_eq!(rest, "next,1");
        assert_eq!(record("next,1"), (vec!["next".into(), "1".into()], ""));
        assert_eq!(record("a,b\r\nc"), (vec!["a".into(), "b".into()], "c"));
        assert_eq!(record("a,\"b\"\r\nc"), (vec!["a".into(), "b".into()], "c"));
        assert_eq!(record(",\n"), (vec![String::new(), String::new()], ""));
        assert!(read_csv_record("a\"b,c").is_err());
        assert!(read_csv_record("\"ab").is_err());
        assert!(read_csv_record("\"a\"b,c").is_err());
    }
}
