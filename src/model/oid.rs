//! Object ids in stored JSON: `git2::Oid` in memory, 40-hex text on disk, so records
//! stay readable by plain git and a malformed id is refused when the record is read.

use git2::Oid;
use serde::{Deserialize, Deserializer, Serializer};

pub fn serialize<S: Serializer>(oid: &Oid, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(oid)
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Oid, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// A full 40-hex object id (git2 alone would also take a shorter prefix, zero-padded).
pub fn parse(text: &str) -> Result<Oid, String> {
    if text.len() != 40 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{text:?} is not a 40-hex object id"));
    }
    Oid::from_str(text).map_err(|e| format!("{text:?} is not an object id: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Holder {
        #[serde(with = "super")]
        id: Oid,
    }

    #[test]
    fn round_trips_as_hex_and_refuses_short_or_odd_ids() {
        let hex = "0123456789abcdef0123456789abcdef01234567";
        let json = format!("{{\"id\":\"{hex}\"}}");
        let held: Holder = serde_json::from_str(&json).unwrap();
        assert_eq!(held.id.to_string(), hex);
        assert_eq!(serde_json::to_string(&held).unwrap(), json);
        for bad in ["abc", "zz23456789abcdef0123456789abcdef01234567", ""] {
            let json = format!("{{\"id\":\"{bad}\"}}");
            assert!(serde_json::from_str::<Holder>(&json).is_err(), "{bad}");
        }
    }
}
