//! Whole numbers as JSON Schema counts them: `3600` and `3600.0` alike (an `integer` in JSON
//! Schema is any number without a fractional part). serde_json refuses `3600.0` for an integer
//! field, so a client writing a number its language keeps as a float (JavaScript, Python's
//! `float`) would be refused a value the document accepts. Fractions and out-of-range values are
//! still refused.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, Error, Unexpected, Visitor};
use serde::Deserialize;

/// A whole number of type `T`, read from any JSON number without a fractional part.
struct Whole<T>(T);

struct WholeVisitor<T>(PhantomData<T>);

impl<'de, T: TryFrom<i64> + TryFrom<u64>> Visitor<'de> for WholeVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole number in range")
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<T, E> {
        // 2^63 and 2^64 are exact as f64; below them a whole f64 converts exactly.
        const TWO_63: f64 = 9_223_372_036_854_775_808.0;
        if v.fract() == 0.0 && (-TWO_63..TWO_63).contains(&v) {
            self.visit_i64(v as i64)
        } else if v.fract() == 0.0 && (0.0..2.0 * TWO_63).contains(&v) {
            self.visit_u64(v as u64)
        } else {
            Err(E::invalid_type(Unexpected::Float(v), &self))
        }
    }
}

impl<'de, T: TryFrom<i64> + TryFrom<u64>> Deserialize<'de> for Whole<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(WholeVisitor(PhantomData)).map(Whole)
    }
}

/// `#[serde(deserialize_with = "crate::whole::number")]`
pub(crate) fn number<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64> + TryFrom<u64>,
{
    Whole::<T>::deserialize(deserializer).map(|w| w.0)
}

/// `#[serde(default, deserialize_with = "crate::whole::optional")]`: `null` and absent are `None`.
pub(crate) fn optional<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64> + TryFrom<u64>,
{
    Option::<Whole<T>>::deserialize(deserializer).map(|w| w.map(|w| w.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        #[serde(deserialize_with = "number")]
        n: i64,
        #[serde(default, deserialize_with = "optional")]
        m: Option<u32>,
    }

    fn read(json: &str) -> Result<(i64, Option<u32>), String> {
        serde_json::from_str::<Body>(json).map(|b| (b.n, b.m)).map_err(|e| e.to_string())
    }

    #[test]
    fn whole_numbers_are_read_whether_or_not_written_with_a_fraction() {
        assert_eq!(read(r#"{"n": 5}"#), Ok((5, None)));
        assert_eq!(read(r#"{"n": -5.0, "m": 7.0}"#), Ok((-5, Some(7))));
        assert_eq!(read(r#"{"n": 1, "m": null}"#), Ok((1, None)));
        assert!(read(r#"{"n": 1.5}"#).is_err());
        assert!(read(r#"{"n": 1, "m": -1}"#).is_err());
        assert!(read(r#"{"n": 1, "m": 4294967296.0}"#).is_err());
        assert!(read(r#"{"n": 1e300}"#).is_err());
        assert!(read(r#"{"n": "1"}"#).is_err());
    }
}
