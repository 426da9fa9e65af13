//! The portal's timezone and the dates it judges against "today".
//!
//! The timezone is a fixed UTC offset: the portal serves Japan, and
//! Asia/Tokyo has had no daylight saving time since 1951, so `+09:00` is exact
//! and no timezone database (chrono-tz) is needed. The setting accepts
//! `Asia/Tokyo`, `UTC` or an offset such as `+09:00`.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::Serialize;

/// Why a timezone setting is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("timezone must be Asia/Tokyo, UTC or an offset like +09:00")]
pub struct TimezoneError;

/// The timezone in which "today" is judged (default Asia/Tokyo, `+09:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timezone(FixedOffset);

impl Timezone {
    /// Asia/Tokyo: `+09:00`, no DST.
    pub fn tokyo() -> Self {
        Self(FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset"))
    }

    /// UTC.
    pub fn utc() -> Self {
        Self(FixedOffset::east_opt(0).expect("+00:00 is a valid offset"))
    }

    /// A fixed offset.
    pub fn from_offset(offset: FixedOffset) -> Self {
        Self(offset)
    }

    /// Parses `Asia/Tokyo`, `UTC`, `Z` or `±HH:MM` (up to ±23:59).
    pub fn parse(raw: &str) -> Result<Self, TimezoneError> {
        let raw = raw.trim();
        match raw {
            "Asia/Tokyo" => return Ok(Self::tokyo()),
            "UTC" | "Etc/UTC" | "Z" => return Ok(Self::utc()),
            _ => {}
        }
        let bytes = raw.as_bytes();
        if bytes.len() != 6 || bytes[3] != b':' {
            return Err(TimezoneError);
        }
        let sign = match bytes[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return Err(TimezoneError),
        };
        let number = |s: &str| {
            if s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse::<i32>().ok()
            } else {
                None
            }
        };
        let (Some(hours), Some(minutes)) = (number(&raw[1..3]), number(&raw[4..6])) else {
            return Err(TimezoneError);
        };
        if hours > 23 || minutes > 59 {
            return Err(TimezoneError);
        }
        FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
            .map(Self)
            .ok_or(TimezoneError)
    }

    /// The offset.
    pub fn offset(self) -> FixedOffset {
        self.0
    }

    /// The calendar date at `now` in this timezone.
    pub fn today(self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.0).date_naive()
    }

    /// The instant `date` begins (00:00) in this timezone.
    pub fn start_of(self, date: NaiveDate) -> DateTime<Utc> {
        self.0
            .from_local_datetime(&date.and_time(NaiveTime::MIN))
            .single()
            .map_or_else(|| date.and_time(NaiveTime::MIN).and_utc(), |d| d.to_utc())
    }
}

impl Default for Timezone {
    fn default() -> Self {
        Self::tokyo()
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a cancellation date is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CancellationDateError {
    /// Not `YYYY-MM-DD`, or not a real date.
    #[error("must be a date written YYYY-MM-DD")]
    Format,
    /// Before today in the portal's timezone.
    #[error("must be today ({today}) or later")]
    Past {
        /// Today in the portal's timezone.
        today: NaiveDate,
    },
}

/// The date a service should end: today or later in the portal's timezone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CancellationDate(NaiveDate);

impl CancellationDate {
    /// Parses `YYYY-MM-DD` (exactly) and refuses a date before `today`.
    pub fn parse(raw: &str, today: NaiveDate) -> Result<Self, CancellationDateError> {
        let shape_ok = raw.len() == 10
            && raw.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                _ => b.is_ascii_digit(),
            });
        if !shape_ok {
            return Err(CancellationDateError::Format);
        }
        let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map_err(|_| CancellationDateError::Format)?;
        if date < today {
            return Err(CancellationDateError::Past { today });
        }
        Ok(Self(date))
    }

    /// The date.
    pub fn date(self) -> NaiveDate {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn when_it_is_late_evening_utc_today_in_tokyo_should_already_be_tomorrow() {
        let now = Utc.with_ymd_and_hms(2026, 3, 31, 15, 30, 0).unwrap();
        assert_eq!(Timezone::tokyo().today(now), date(2026, 4, 1));
        assert_eq!(Timezone::utc().today(now), date(2026, 3, 31));
    }

    #[test]
    fn when_a_day_starts_in_tokyo_it_should_be_15_00_utc_the_day_before() {
        assert_eq!(
            Timezone::tokyo().start_of(date(2026, 4, 1)),
            Utc.with_ymd_and_hms(2026, 3, 31, 15, 0, 0).unwrap()
        );
    }

    #[test]
    fn when_the_setting_is_a_name_or_an_offset_should_parse_it() {
        assert_eq!(Timezone::parse("Asia/Tokyo"), Ok(Timezone::tokyo()));
        assert_eq!(Timezone::parse("+09:00"), Ok(Timezone::tokyo()));
        assert_eq!(Timezone::parse("UTC"), Ok(Timezone::utc()));
        assert_eq!(
            Timezone::parse("-05:30")
                .unwrap()
                .offset()
                .local_minus_utc(),
            -(5 * 3600 + 30 * 60)
        );
        assert_eq!(Timezone::default(), Timezone::tokyo());
        for bad in [
            "",
            "Europe/Paris",
            "+9:00",
            "+24:00",
            "+09:60",
            "09:00",
            "+0a:00",
        ] {
            assert_eq!(Timezone::parse(bad), Err(TimezoneError), "{bad}");
        }
    }

    #[test]
    fn when_the_date_is_today_or_later_should_accept_it() {
        let today = date(2026, 4, 1);
        assert_eq!(
            CancellationDate::parse("2026-04-01", today).unwrap().date(),
            today
        );
        assert!(CancellationDate::parse("2027-01-31", today).is_ok());
    }

    #[test]
    fn when_the_date_is_yesterday_should_refuse() {
        let today = date(2026, 4, 1);
        assert_eq!(
            CancellationDate::parse("2026-03-31", today),
            Err(CancellationDateError::Past { today })
        );
    }

    #[test]
    fn when_the_date_is_malformed_should_refuse() {
        let today = date(2026, 4, 1);
        for bad in [
            "",
            "2026-4-1",
            "2026/04/01",
            "2026-02-30",
            "01-04-2026",
            "2026-04-01T00:00",
        ] {
            assert_eq!(
                CancellationDate::parse(bad, today),
                Err(CancellationDateError::Format),
                "{bad}"
            );
        }
    }
}
