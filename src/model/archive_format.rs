//! The source archive formats GitLab attaches to every release: one type for the
//! command line (clap), the configuration, the GitLab entity and evidence.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ArchiveFormat {
    Zip,
    TarGz,
    TarBz2,
    Tar,
}

impl ArchiveFormat {
    /// The four formats GitLab attaches to a release, in GitLab's order.
    pub const ALL: [ArchiveFormat; 4] = [
        ArchiveFormat::Zip,
        ArchiveFormat::TarGz,
        ArchiveFormat::TarBz2,
        ArchiveFormat::Tar,
    ];

    /// The file extension, which is also the format's name in GitLab's JSON.
    pub fn extension(self) -> &'static str {
        match self {
            ArchiveFormat::Zip => "zip",
            ArchiveFormat::TarGz => "tar.gz",
            ArchiveFormat::TarBz2 => "tar.bz2",
            ArchiveFormat::Tar => "tar",
        }
    }

    /// A format name or alias, or `all` for the four.
    pub fn parse_list(name: &str) -> Option<Vec<ArchiveFormat>> {
        if name.trim().eq_ignore_ascii_case("all") {
            return Some(ArchiveFormat::ALL.to_vec());
        }
        name.parse().ok().map(|format| vec![format])
    }
}

/// A format name or one of GitLab's aliases (`tgz`; `tbz`, `tbz2`, `tb2`, `bz2`),
/// ignoring case.
impl FromStr for ArchiveFormat {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "zip" => ArchiveFormat::Zip,
            "tar.gz" | "tgz" => ArchiveFormat::TarGz,
            "tar.bz2" | "tbz" | "tbz2" | "tb2" | "bz2" => ArchiveFormat::TarBz2,
            "tar" => ArchiveFormat::Tar,
            _ => {
                return Err(format!(
                    "unknown archive format {name:?}: use zip, tar.gz, tar.bz2 or tar"
                ));
            }
        })
    }
}

impl fmt::Display for ArchiveFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

impl Serialize for ArchiveFormat {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.extension())
    }
}

impl<'de> Deserialize<'de> for ArchiveFormat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// An archive format as evidence records it: one this version makes, or a name it
/// does not know (a newer version's, or a damaged record), kept as written so that
/// `verify` can name it. Written back byte for byte either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordedFormat {
    Known(ArchiveFormat),
    Unknown(String),
}

impl RecordedFormat {
    /// The name as recorded.
    pub fn name(&self) -> &str {
        match self {
            RecordedFormat::Known(format) => format.extension(),
            RecordedFormat::Unknown(name) => name,
        }
    }
}

impl From<ArchiveFormat> for RecordedFormat {
    fn from(format: ArchiveFormat) -> Self {
        RecordedFormat::Known(format)
    }
}

impl fmt::Display for RecordedFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for RecordedFormat {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Only a format's own name is known (no alias, no other case): what is read is what
/// is written back.
impl<'de> Deserialize<'de> for RecordedFormat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(
            match ArchiveFormat::ALL
                .into_iter()
                .find(|f| f.extension() == name)
            {
                Some(format) => RecordedFormat::Known(format),
                None => RecordedFormat::Unknown(name),
            },
        )
    }
}

/// For `--format`: the four names and their aliases; a bad value is a usage error.
impl clap::ValueEnum for ArchiveFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &ArchiveFormat::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let value = clap::builder::PossibleValue::new(self.extension());
        Some(match self {
            ArchiveFormat::TarGz => value.alias("tgz"),
            ArchiveFormat::TarBz2 => value.aliases(["tbz", "tbz2", "tb2", "bz2"]),
            _ => value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_gitlabs_aliases_parse_and_others_do_not() {
        for (name, format) in [
            ("zip", ArchiveFormat::Zip),
            ("TGZ", ArchiveFormat::TarGz),
            ("tar.gz", ArchiveFormat::TarGz),
            ("tb2", ArchiveFormat::TarBz2),
            ("bz2", ArchiveFormat::TarBz2),
            ("tar", ArchiveFormat::Tar),
        ] {
            assert_eq!(name.parse::<ArchiveFormat>(), Ok(format), "{name}");
        }
        assert!("rar".parse::<ArchiveFormat>().is_err());
        assert_eq!(
            ArchiveFormat::parse_list("all").unwrap(),
            ArchiveFormat::ALL
        );
        assert_eq!(
            serde_json::to_string(&ArchiveFormat::TarBz2).unwrap(),
            "\"tar.bz2\""
        );
        assert!(serde_json::from_str::<ArchiveFormat>("\"7z\"").is_err());
    }

    #[test]
    fn recorded_formats_are_written_back_as_read() {
        for (json, expected) in [
            ("\"tar.gz\"", RecordedFormat::Known(ArchiveFormat::TarGz)),
            ("\"tgz\"", RecordedFormat::Unknown("tgz".into())),
            ("\"tar.zst\"", RecordedFormat::Unknown("tar.zst".into())),
        ] {
            let read: RecordedFormat = serde_json::from_str(json).unwrap();
            assert_eq!(read, expected, "{json}");
            assert_eq!(serde_json::to_string(&read).unwrap(), json);
        }
    }
}
