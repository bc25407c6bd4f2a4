//! The version engine: turns release tags into comparable versions. (stub, being written)

use std::cmp::Ordering;

/// How tags of a repository are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Our default.
    #[default]
    Auto,
    /// SemVer 2.0.0.
    SemverStrict,
    /// Date-like first segment.
    Calver,
    /// By published_at.
    Date,
}

/// Why a tag is not a version or two versions cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// No digits.
    #[error("{tag:?} is not a version")]
    NotAVersion {
        /// The tag.
        tag: String,
    },
}

/// A parsed tag.
#[derive(Debug, Clone)]
pub struct Version {
    raw: String,
}

impl Version {
    /// Parses with the auto strategy.
    pub fn parse(tag: &str) -> Result<Version, VersionError> {
        Self::parse_with(tag, Strategy::Auto)
    }
    /// Parses with a strategy.
    pub fn parse_with(tag: &str, _strategy: Strategy) -> Result<Version, VersionError> {
        Ok(Version { raw: tag.to_string() })
    }
    /// Compares within one family.
    pub fn compare(&self, other: &Version) -> Result<Ordering, VersionError> {
        Ok(self.raw.cmp(&other.raw))
    }
}
