//! A checked reader of one TOML table (the top level of a scenario file, or
//! one `[[emitters]]` / `[[events]]` entry): typed getters whose errors name
//! the file and the field's full path (`events[2].duty`), and a final check
//! that rejects keys nobody asked for, so typos are caught instead of
//! silently ignored.

use crate::{Error, Result};
use std::collections::BTreeSet;
use std::path::Path;
use toml::{Table, Value};

/// Reads the fields of one table; every key looked up counts as known.
pub struct Fields<'a> {
    path: &'a Path,
    prefix: String,
    table: &'a Table,
    known: BTreeSet<&'static str>,
}

impl<'a> Fields<'a> {
    /// The fields of `table` in file `path`; `prefix` is the table's own path
    /// (`events[2]`), empty for the top level.
    pub fn new(path: &'a Path, prefix: &str, table: &'a Table) -> Self {
        Fields {
            path,
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}.")
            },
            table,
            known: BTreeSet::new(),
        }
    }

    /// The table being read.
    pub fn table(&self) -> &'a Table {
        self.table
    }

    /// The full path of `key`.
    pub fn field_path(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// An error about `key`.
    pub fn error(&self, key: &str, expected: impl Into<String>) -> Error {
        Error::format(self.path, self.field_path(key), expected)
    }

    fn get(&mut self, key: &'static str) -> Option<&'a Value> {
        self.known.insert(key);
        self.table.get(key)
    }

    fn wrong_type(&self, key: &str, wanted: &str, value: &Value) -> Error {
        self.error(
            key,
            format!(
                "expected {wanted}, got {} {value}",
                article(value.type_str())
            ),
        )
    }

    /// A number (integer or float).
    pub fn number(&mut self, key: &'static str) -> Result<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Float(x)) => Ok(Some(*x)),
            Some(Value::Integer(i)) => Ok(Some(*i as f64)),
            Some(other) => Err(self.wrong_type(key, "a number", other)),
        }
    }

    /// A non-negative integer.
    pub fn unsigned(&mut self, key: &'static str) -> Result<Option<u64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Integer(i)) if *i >= 0 => Ok(Some(*i as u64)),
            Some(other) => Err(self.wrong_type(key, "a non-negative integer", other)),
        }
    }

    /// A string.
    pub fn string(&mut self, key: &'static str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(self.wrong_type(key, "a string", other)),
        }
    }

    /// A string or a TOML date-time, as text.
    pub fn datetime_text(&mut self, key: &'static str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Datetime(d)) => Ok(Some(d.to_string())),
            Some(other) => Err(self.wrong_type(key, "an RFC 3339 date-time", other)),
        }
    }

    /// An array of numbers.
    pub fn numbers(&mut self, key: &'static str) -> Result<Option<Vec<f64>>> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let Value::Array(items) = value else {
            return Err(self.wrong_type(key, "an array of numbers", value));
        };
        items
            .iter()
            .map(|item| match item {
                Value::Float(x) => Ok(*x),
                Value::Integer(i) => Ok(*i as f64),
                other => Err(self.wrong_type(key, "an array of numbers", other)),
            })
            .collect::<Result<Vec<f64>>>()
            .map(Some)
    }

    /// A table (`[key]`).
    pub fn table_field(&mut self, key: &'static str) -> Result<Option<&'a Table>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Table(t)) => Ok(Some(t)),
            Some(other) => Err(self.wrong_type(key, "a table ([key])", other)),
        }
    }

    /// An array of tables (`[[key]]`); empty when absent.
    pub fn tables(&mut self, key: &'static str) -> Result<Vec<&'a Table>> {
        let Some(value) = self.get(key) else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = value else {
            return Err(self.wrong_type(key, "an array of tables ([[key]])", value));
        };
        items
            .iter()
            .map(|item| match item {
                Value::Table(t) => Ok(t),
                other => Err(self.wrong_type(key, "an array of tables ([[key]])", other)),
            })
            .collect()
    }

    /// A value under one of two spellings (e.g. `offset_hz` or `freq_hz`), not both.
    /// Returns the value and whether the second spelling was used.
    pub fn number_either(
        &mut self,
        first: &'static str,
        second: &'static str,
    ) -> Result<Option<(f64, bool)>> {
        match (self.number(first)?, self.number(second)?) {
            (Some(_), Some(_)) => Err(self.error(
                second,
                format!("expected either {first} or {second}, not both"),
            )),
            (Some(x), None) => Ok(Some((x, false))),
            (None, Some(x)) => Ok(Some((x, true))),
            (None, None) => Ok(None),
        }
    }

    /// `value`, or an error saying `key` is missing and what it should be.
    pub fn required<T>(&self, key: &str, value: Option<T>, expected: &str) -> Result<T> {
        value.ok_or_else(|| self.error(key, format!("missing; expected {expected}")))
    }

    /// A number that must be present; `expected` says what it is.
    pub fn required_number(&mut self, key: &'static str, expected: &str) -> Result<f64> {
        let value = self.number(key)?;
        self.required(key, value, expected)
    }

    /// The required `level_db`.
    pub fn level(&mut self) -> Result<f64> {
        self.required_number(
            "level_db",
            "the level in dB above the noise density (a number)",
        )
    }

    /// An offset from the centre `center_hz`, written as `offset_key` or as
    /// an absolute frequency `absolute_key`.
    pub fn offset(
        &mut self,
        offset_key: &'static str,
        absolute_key: &'static str,
        center_hz: f64,
    ) -> Result<Option<f64>> {
        Ok(self
            .number_either(offset_key, absolute_key)?
            .map(|(value, absolute)| if absolute { value - center_hz } else { value }))
    }

    /// An [`Fields::offset`] that must be present.
    pub fn required_offset(
        &mut self,
        offset_key: &'static str,
        absolute_key: &'static str,
        center_hz: f64,
    ) -> Result<f64> {
        let value = self.offset(offset_key, absolute_key, center_hz)?;
        self.required(
            offset_key,
            value,
            &format!("an offset from the centre in Hz (or an absolute {absolute_key})"),
        )
    }

    /// Fail on any key that was never looked up; `what` names the table
    /// (e.g. "a jamming.tone event").
    pub fn finish(&self, what: &str) -> Result<()> {
        match self.table.keys().find(|k| !self.known.contains(k.as_str())) {
            None => Ok(()),
            Some(unknown) => {
                let known: Vec<&str> = self.known.iter().copied().collect();
                Err(self.error(
                    unknown,
                    format!(
                        "unknown key for {what}; expected one of: {}",
                        known.join(", ")
                    ),
                ))
            }
        }
    }
}

/// "a string", "an integer"…
fn article(type_name: &str) -> String {
    let vowel = type_name.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {type_name}", if vowel { "an" } else { "a" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        text.parse().unwrap()
    }

    #[test]
    fn getters_accept_integers_as_numbers_and_name_the_field() {
        let t = table("a = 3\nb = 2.5\nc = \"x\"\nd = [1, 2.5]\ne = -4");
        let mut f = Fields::new(Path::new("s.toml"), "events[1]", &t);
        assert_eq!(f.number("a").unwrap(), Some(3.0));
        assert_eq!(f.number("b").unwrap(), Some(2.5));
        assert_eq!(f.number("zz").unwrap(), None);
        assert_eq!(f.numbers("d").unwrap(), Some(vec![1.0, 2.5]));
        let err = f.number("c").unwrap_err().to_string();
        assert_eq!(
            err,
            "s.toml: events[1].c: expected a number, got a string \"x\""
        );
        let err = f.unsigned("e").unwrap_err().to_string();
        assert!(
            err.contains("events[1].e: expected a non-negative integer"),
            "{err}"
        );
        assert!(f.finish("an event").is_ok());
    }

    #[test]
    fn unknown_keys_and_double_spellings_are_rejected() {
        let t = table("offset_hz = 1\nfreq_hz = 2\nlevl_db = 3");
        let mut f = Fields::new(Path::new("s.toml"), "", &t);
        let err = f
            .number_either("offset_hz", "freq_hz")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "s.toml: freq_hz: expected either offset_hz or freq_hz, not both"
        );
        f.number("level_db").unwrap();
        let err = f.finish("a carrier emitter").unwrap_err().to_string();
        assert_eq!(
            err,
            "s.toml: levl_db: unknown key for a carrier emitter; expected one of: freq_hz, level_db, offset_hz"
        );
    }
}
