//! The scalar functions of the Nexmark suite's SQL, defined once for every engine
//! (docs/WORKLOADS.md, sections 8 and 9): calendar fields in UTC (`DATE_FORMAT`, `HOUR`), q14's
//! `bidTimeType` and `count_char`, the price bands of q15-q17, q21's channel id
//! (`REGEXP_EXTRACT`) and q22's URL pieces (`SPLIT_INDEX`).
//!
//! Rust engines call these functions, so their rows cannot drift from the references; the Java
//! port (Flink) implements the same definitions and is checked by the digests.
//!
//! Calendar fields are computed from epoch milliseconds with integer arithmetic only: the day
//! number `ms div 86_400_000` is turned into a proleptic Gregorian civil date (Howard
//! Hinnant's `civil_from_days`), the minute of the day is `(ms div 60_000) mod 1440`. Both are
//! kept as small inline ASCII strings ([`Date`], [`HourMinute`]): zero-padded, so their byte
//! order is their time order (q16's `minute` is the greatest one), and `Copy`, so a result row
//! carries them without allocating.
//!
//! A base module of `nexmark`: it imports nothing from the rest of it.

/// Milliseconds per day.
const DAY_MS: u64 = 86_400_000;
/// Milliseconds per hour.
const HOUR_MS: u64 = 3_600_000;
/// Milliseconds per minute.
const MINUTE_MS: u64 = 60_000;

/// A UTC calendar date as the text `yyyy-MM-dd` (`DATE_FORMAT(dateTime, 'yyyy-MM-dd')`): q10's
/// `dt` and the `day` of q15-q17. Years after 9999 have more digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    len: u8,
    bytes: [u8; 16],
}

impl Date {
    /// The UTC date of `ms` (epoch milliseconds).
    pub fn of_epoch_ms(ms: u64) -> Date {
        Date::of_day(Date::day_number(ms))
    }

    /// The UTC day number of `ms` (epoch milliseconds): `ms div 86_400_000`, the day since
    /// 1970-01-01. A cheap grouping key for what groups by [`Date`]: days and dates order
    /// alike, and [`Date::of_day`] turns the one into the other.
    #[inline]
    pub fn day_number(ms: u64) -> u64 {
        ms / DAY_MS
    }

    /// The date of day number `day` ([`Date::day_number`]).
    pub fn of_day(day: u64) -> Date {
        let (year, month, day) = civil_from_days(day);
        let mut out = Date {
            len: 0,
            bytes: [0; 16],
        };
        if year < 10_000 {
            // Every date of four-digit years, written in one go (updating queries format one
            // per changed row).
            let digit = |v: u64| b'0' + (v % 10) as u8;
            out.bytes[..10].copy_from_slice(&[
                digit(year / 1000),
                digit(year / 100),
                digit(year / 10),
                digit(year),
                b'-',
                digit(month / 10),
                digit(month),
                b'-',
                digit(day / 10),
                digit(day),
            ]);
            out.len = 10;
            return out;
        }
        let mut text = itoa::Buffer::new();
        let year = text.format(year).as_bytes();
        // Four digits at least (zero-padded, as `yyyy`).
        for _ in year.len()..4 {
            out.push(b'0');
        }
        for &b in year {
            out.push(b);
        }
        out.push(b'-');
        out.push_two(month);
        out.push(b'-');
        out.push_two(day);
        out
    }

    fn push(&mut self, b: u8) {
        self.bytes[usize::from(self.len)] = b;
        self.len += 1;
    }

    fn push_two(&mut self, v: u64) {
        self.push(b'0' + (v / 10) as u8);
        self.push(b'0' + (v % 10) as u8);
    }

    /// The text, `yyyy-MM-dd`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).expect("a Date is ASCII digits")
    }
}

impl AsRef<str> for Date {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A UTC time of day to the minute as the text `HH:mm` (`DATE_FORMAT(dateTime, 'HH:mm')`):
/// q10's `hm` and q16's `minute`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HourMinute([u8; 5]);

impl HourMinute {
    /// The UTC hour and minute of `ms` (epoch milliseconds).
    pub fn of_epoch_ms(ms: u64) -> HourMinute {
        let minute_of_day = (ms / MINUTE_MS) % 1440;
        let (h, m) = (minute_of_day / 60, minute_of_day % 60);
        HourMinute([
            b'0' + (h / 10) as u8,
            b'0' + (h % 10) as u8,
            b':',
            b'0' + (m / 10) as u8,
            b'0' + (m % 10) as u8,
        ])
    }

    /// The text, `HH:mm`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("an HourMinute is ASCII")
    }
}

impl AsRef<str> for HourMinute {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for HourMinute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for HourMinute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `(year, month, day)` of day number `days` after 1970-01-01 (proleptic Gregorian calendar;
/// H. Hinnant's `civil_from_days`, for non-negative day numbers).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// `HOUR(dateTime)` in UTC: `(ms div 3_600_000) mod 24`.
#[inline]
pub fn hour_of_day(ms: u64) -> u64 {
    (ms / HOUR_MS) % 24
}

/// q14's `bidTimeType`: the part of the (UTC) day a bid was made in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BidTimeType {
    /// `dayTime`: hours 8 to 18.
    DayTime,
    /// `nightTime`: hours 0 to 6 and 20 to 23.
    NightTime,
    /// `otherTime`: hours 7 and 19.
    OtherTime,
}

impl BidTimeType {
    /// The type of a bid made at `ms` (epoch milliseconds).
    pub fn of_epoch_ms(ms: u64) -> BidTimeType {
        match hour_of_day(ms) {
            8..=18 => BidTimeType::DayTime,
            0..=6 | 20..=23 => BidTimeType::NightTime,
            _ => BidTimeType::OtherTime,
        }
    }

    /// `dayTime`, `nightTime` or `otherTime`.
    pub fn as_str(self) -> &'static str {
        match self {
            BidTimeType::DayTime => "dayTime",
            BidTimeType::NightTime => "nightTime",
            BidTimeType::OtherTime => "otherTime",
        }
    }
}

impl AsRef<str> for BidTimeType {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// q14's filter on the scaled price: `1,000,000 < 0.908 * price < 50,000,000`, done in integers
/// as `1,000,000,000 < price * 908 < 50,000,000,000` (prices 1,101,322 to 55,066,079 cents).
#[inline]
pub fn q14_keeps(price: u64) -> bool {
    let scaled = u128::from(price) * 908;
    1_000_000_000 < scaled && scaled < 50_000_000_000
}

/// `count_char(s, c)` (q14's UDF): how many bytes of `s` are `c`.
#[inline]
pub fn count_char(s: &str, c: u8) -> u64 {
    s.bytes().filter(|&b| b == c).count() as u64
}

/// The price bands of q15-q17 (prices in cents).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PriceBand {
    /// `price < 10,000`.
    Rank1,
    /// `10,000 <= price < 1,000,000`.
    Rank2,
    /// `price >= 1,000,000`.
    Rank3,
}

impl PriceBand {
    /// The band of `price`.
    #[inline]
    pub fn of(price: u64) -> PriceBand {
        if price < 10_000 {
            PriceBand::Rank1
        } else if price < 1_000_000 {
            PriceBand::Rank2
        } else {
            PriceBand::Rank3
        }
    }

    /// 0, 1 or 2: the band's place among q15's `rank1` .. `rank3` columns.
    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }
}

/// q21's `channel_id`: `"0"` for `apple`, `"1"` for `google`, `"2"` for `facebook`, `"3"` for
/// `baidu` (the channel compared in lower case, Unicode's case mapping as Java's
/// `toLowerCase`); for any other channel, group 2 of the first match of
/// `(&|^)channel_id=([^&]*)` in `url`: the text after the first `channel_id=` that starts the
/// URL or follows a `&`, up to the next `&` or the end (possibly empty). `None` (SQL NULL)
/// when there is no such parameter: q21's filter then drops the bid.
pub fn channel_id<'a>(channel: &str, url: &'a str) -> Option<&'a str> {
    // The four names are 5-8 bytes long: an ASCII name of another length is none of them (a
    // non-ASCII one may lower-case to one: the Kelvin sign lowers to `k`).
    let ascii = channel.is_ascii();
    if !ascii || (5..=8).contains(&channel.len()) {
        let lower;
        let name = if ascii {
            channel
        } else {
            lower = channel.to_lowercase();
            lower.as_str()
        };
        for (hot, id) in [
            ("apple", "0"),
            ("google", "1"),
            ("facebook", "2"),
            ("baidu", "3"),
        ] {
            if name.eq_ignore_ascii_case(hot) {
                return Some(id);
            }
        }
    }
    // The parameter starts the URL or follows a `&`: only those places are tried, each by one
    // comparison of 11 bytes (a substring search, set up per call, was a third of q21's time).
    const KEY: &[u8] = b"channel_id=";
    let bytes = url.as_bytes();
    let mut at = 0;
    loop {
        if bytes[at..].starts_with(KEY) {
            let value = &bytes[at + KEY.len()..];
            let end = value.iter().position(|&b| b == b'&').unwrap_or(value.len());
            let start = at + KEY.len();
            return Some(&url[start..start + end]);
        }
        at += bytes[at..].iter().position(|&b| b == b'&')? + 1;
    }
}

/// q22's `dir1`, `dir2`, `dir3`: pieces 3, 4 and 5 of `url` split on `/` (pieces numbered from
/// 0, empty pieces kept: `SPLIT_INDEX`), each `None` (SQL NULL) when the URL has fewer pieces.
pub fn url_dirs(url: &str) -> [Option<&str>; 3] {
    // One pass over the bytes (a `split('/')` iterator searched for each piece separately and
    // was 45 % of q22's time; what remains is mostly the cache miss on the URL itself, and
    // reading it eight bytes at a time measured no faster). `/` is ASCII, so every cut is at a
    // character boundary.
    let mut dirs = [None; 3];
    let mut piece = 0;
    let mut start = 0;
    for (i, &b) in url.as_bytes().iter().enumerate() {
        if b == b'/' {
            if piece >= 3 {
                dirs[piece - 3] = Some(&url[start..i]);
                if piece == 5 {
                    return dirs;
                }
            }
            piece += 1;
            start = i + 1;
        }
    }
    if piece >= 3 {
        dirs[piece - 3] = Some(&url[start..]);
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2015-07-15T00:00:00Z, the generator's base time.
    const BASE: u64 = 1_436_918_400_000;

    #[test]
    fn every_date_is_its_civil_date_zero_padded() {
        // Every 13th day from 1970 to the last four-digit year, and the days around 10000.
        let last = Date::day_number(253_402_300_800_000);
        for day in (0..last).step_by(13).chain(last - 3..last + 3) {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(Date::of_day(day).as_str(), format!("{y:04}-{m:02}-{d:02}"));
            assert_eq!(Date::of_epoch_ms(day * DAY_MS + 1), Date::of_day(day));
        }
    }

    #[test]
    fn dates_and_minutes_in_utc() {
        assert_eq!(Date::of_epoch_ms(0).as_str(), "1970-01-01");
        assert_eq!(Date::of_epoch_ms(BASE).as_str(), "2015-07-15");
        assert_eq!(Date::of_epoch_ms(BASE - 1).as_str(), "2015-07-14");
        assert_eq!(Date::of_epoch_ms(BASE + DAY_MS - 1).as_str(), "2015-07-15");
        assert_eq!(Date::of_epoch_ms(BASE + DAY_MS).as_str(), "2015-07-16");
        // Leap day, the turn of a century that is a leap year, and one that is not.
        assert_eq!(Date::of_epoch_ms(951_782_400_000).as_str(), "2000-02-29");
        assert_eq!(Date::of_epoch_ms(4_107_542_400_000).as_str(), "2100-03-01");
        assert_eq!(Date::of_epoch_ms(4_107_456_000_000).as_str(), "2100-02-28");
        // 9999-12-31T23:59:59.999Z and the first millisecond of year 10000.
        assert_eq!(
            Date::of_epoch_ms(253_402_300_799_999).as_str(),
            "9999-12-31"
        );
        assert_eq!(
            Date::of_epoch_ms(253_402_300_800_000).as_str(),
            "10000-01-01"
        );
        assert_eq!(Date::of_epoch_ms(u64::MAX).as_str().len(), 15);
        assert_eq!(HourMinute::of_epoch_ms(BASE).as_str(), "00:00");
        assert_eq!(HourMinute::of_epoch_ms(BASE + 59_999).as_str(), "00:00");
        assert_eq!(HourMinute::of_epoch_ms(BASE + 60_000).as_str(), "00:01");
        assert_eq!(HourMinute::of_epoch_ms(BASE - 1).as_str(), "23:59");
        assert_eq!(
            HourMinute::of_epoch_ms(BASE + 13 * HOUR_MS + 7 * MINUTE_MS).as_str(),
            "13:07"
        );
        // Zero-padded text sorts in time order.
        assert!(
            HourMinute::of_epoch_ms(BASE + 9 * HOUR_MS)
                < HourMinute::of_epoch_ms(BASE + 10 * HOUR_MS)
        );
        assert!(Date::of_epoch_ms(BASE) < Date::of_epoch_ms(BASE + 40 * DAY_MS));
    }

    #[test]
    fn civil_dates_agree_with_a_day_by_day_count() {
        // Walk 1970-01-01 .. 2400 one day at a time with a plain month table.
        let (mut y, mut m, mut d) = (1970, 1, 1);
        for days in 0..(430 * 366) {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            d += 1;
            if d > len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    #[test]
    fn bid_time_types_follow_the_hour() {
        let at = |h: u64| BidTimeType::of_epoch_ms(BASE + h * HOUR_MS + 1234);
        let types: Vec<&str> = (0..24).map(|h| at(h).as_str()).collect();
        let mut expected = vec!["nightTime"; 7];
        expected.push("otherTime");
        expected.extend(["dayTime"; 11]);
        expected.push("otherTime");
        expected.extend(["nightTime"; 4]);
        assert_eq!(types, expected);
        assert_eq!(hour_of_day(BASE + 25 * HOUR_MS), 1);
    }

    #[test]
    fn q14_filter_bounds_are_exclusive() {
        // 1,101,321 * 908 = 999,999,468 (out); 1,101,322 * 908 = 1,000,000,376 (in).
        assert!(!q14_keeps(1_101_321));
        assert!(q14_keeps(1_101_322));
        // 55,066,079 * 908 = 49,999,999,732 (in); 55,066,080 * 908 = 50,000,000,640 (out).
        assert!(q14_keeps(55_066_079));
        assert!(!q14_keeps(55_066_080));
        assert!(!q14_keeps(u64::MAX));
        assert_eq!(count_char("accbc c", b'c'), 4);
        assert_eq!(count_char("", b'c'), 0);
    }

    #[test]
    fn price_bands_have_inclusive_lower_bounds() {
        assert_eq!(PriceBand::of(0), PriceBand::Rank1);
        assert_eq!(PriceBand::of(9_999), PriceBand::Rank1);
        assert_eq!(PriceBand::of(10_000), PriceBand::Rank2);
        assert_eq!(PriceBand::of(999_999), PriceBand::Rank2);
        assert_eq!(PriceBand::of(1_000_000), PriceBand::Rank3);
        assert_eq!(PriceBand::Rank3.index(), 2);
    }

    #[test]
    fn channel_ids_of_hot_channels_and_urls() {
        let url = "https://www.nexmark.com/a/b/c/item.htm?query=1&channel_id=42";
        assert_eq!(channel_id("Apple", "x"), Some("0"));
        assert_eq!(channel_id("GOOGLE", url), Some("1"));
        assert_eq!(channel_id("facebook", ""), Some("2"));
        assert_eq!(channel_id("Baidu", url), Some("3"));
        // Kelvin sign: lower-cases to 'k' in Java and Rust alike.
        assert_eq!(channel_id("faceboo\u{212a}", ""), Some("2"));
        assert_eq!(channel_id("channel-7", url), Some("42"));
        assert_eq!(channel_id("x", "channel_id=7&a=1"), Some("7"));
        assert_eq!(channel_id("x", "a=1&channel_id=&b=2"), Some(""));
        // Not after '&' or at the start: no match, until a later one is.
        assert_eq!(channel_id("x", "a?xchannel_id=5"), None);
        assert_eq!(
            channel_id("x", "a?xchannel_id=5&channel_id=6&channel_id=7"),
            Some("6")
        );
        assert_eq!(
            channel_id("x", "https://www.nexmark.com/a/b/c/item.htm?query=1"),
            None
        );
        assert_eq!(channel_id("Apples", "q"), None);
    }

    /// The contract's formulations, written plainly: `SPLIT_INDEX` as `split`, `REGEXP_EXTRACT`
    /// as a search for every occurrence of the key.
    fn plain_url_dirs(url: &str) -> [Option<&str>; 3] {
        let mut pieces = url.split('/').skip(3);
        [pieces.next(), pieces.next(), pieces.next()]
    }

    fn plain_channel_id<'a>(channel: &str, url: &'a str) -> Option<&'a str> {
        let lower = channel.to_lowercase();
        let hot = ["apple", "google", "facebook", "baidu"];
        if let Some(i) = hot.iter().position(|&h| h == lower) {
            return Some(["0", "1", "2", "3"][i]);
        }
        url.match_indices("channel_id=")
            .find(|&(at, _)| at == 0 || url.as_bytes()[at - 1] == b'&')
            .map(|(at, key)| url[at + key.len()..].split('&').next().unwrap_or(""))
    }

    proptest::proptest! {
        /// URLs made of the pieces that matter (separators, the key, near misses, non-ASCII).
        #[test]
        fn url_functions_match_their_plain_formulations(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "/", "&", "channel_id=", "channel_id", "xchannel_id=", "=", "a", "42", "é",
                    "\u{af}", "?query=1", "https://", "//",
                ]),
                0..12,
            ),
            channel in proptest::sample::select(vec![
                "Apple", "GOOGLE", "facebook", "bAidu", "faceboo\u{212a}", "channel-7", "apples",
                "", "Ｇoogle",
            ]),
        ) {
            let url = pieces.concat();
            proptest::prop_assert_eq!(url_dirs(&url), plain_url_dirs(&url));
            proptest::prop_assert_eq!(channel_id(channel, &url), plain_channel_id(channel, &url));
            proptest::prop_assert_eq!(channel_id("x", &url), plain_channel_id("x", &url));
        }
    }

    #[test]
    fn url_dirs_are_pieces_three_to_five() {
        assert_eq!(
            url_dirs("https://www.nexmark.com/ab/cde/f_g/item.htm?query=1"),
            [Some("ab"), Some("cde"), Some("f_g")]
        );
        assert_eq!(url_dirs("https://host/a"), [Some("a"), None, None]);
        assert_eq!(url_dirs("a//b/c//"), [Some("c"), Some(""), Some("")]);
        assert_eq!(url_dirs(""), [None, None, None]);
        assert_eq!(url_dirs("https://host"), [None, None, None]);
    }
}
