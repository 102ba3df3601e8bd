//! Internal identities: random 128-bit keys that never collide between clones, used
//! to merge links, milestones, freezes and evidence made in different repositories.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(u128);

impl Key {
    pub fn random() -> Self {
        Key(rand::random())
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.len() != 32 {
            return Err(serde::de::Error::custom(format!(
                "key {text:?} is not 32 hex digits"
            )));
        }
        u128::from_str_radix(&text, 16)
            .map(Key)
            .map_err(|_| serde::de::Error::custom(format!("key {text:?} is not 32 hex digits")))
    }
}
