//! Ordering, filtering and paging of releases, as GitLab's list endpoint does, plus
//! semantic-version order (ours).

use std::cmp::Ordering;

use crate::model::Found;
use crate::time::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderBy {
    #[default]
    ReleasedAt,
    CreatedAt,
    Semver,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    Desc,
    Asc,
}

/// GitLab's pagination defaults and limit.
pub const DEFAULT_PER_PAGE: usize = 20;
pub const MAX_PER_PAGE: usize = 100;

/// Sorts in place. Ties in date order go to the newer record (later `created_at`, then
/// tag name), so that "latest" is stable.
pub fn sort(releases: &mut [Found], order: OrderBy, direction: Direction) {
    match order {
        OrderBy::ReleasedAt => releases.sort_by(|a, b| {
            let ord = by_date(a.release.released_at, b.release.released_at, a, b);
            apply(direction, ord)
        }),
        OrderBy::CreatedAt => releases.sort_by(|a, b| {
            let ord = by_date(a.release.created_at, b.release.created_at, a, b);
            apply(direction, ord)
        }),
        OrderBy::Semver => {
            let mut keyed: Vec<(Option<semver::Version>, Found)> = releases
                .iter()
                .cloned()
                .map(|f| (lenient_semver(&f.tag), f))
                .collect();
            keyed.sort_by(|(va, a), (vb, b)| match (va, vb) {
                (Some(x), Some(y)) => apply(direction, x.cmp(y).then_with(|| a.tag.cmp(&b.tag))),
                // Tags that are not versions come after the versions, in either direction.
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => a.tag.cmp(&b.tag),
            });
            for (slot, (_, found)) in releases.iter_mut().zip(keyed) {
                *slot = found;
            }
        }
    }
}

fn by_date(x: Timestamp, y: Timestamp, a: &Found, b: &Found) -> Ordering {
    x.cmp(&y)
        .then_with(|| a.release.created_at.cmp(&b.release.created_at))
        .then_with(|| a.tag.cmp(&b.tag))
}

fn apply(direction: Direction, ord: Ordering) -> Ordering {
    match direction {
        Direction::Asc => ord,
        Direction::Desc => ord.reverse(),
    }
}

/// `v1.2.3`, `1.2`, `V2`, `1.0.0-rc.1+build` → a version; anything else → `None`.
pub fn lenient_semver(tag: &str) -> Option<semver::Version> {
    let bare = tag.strip_prefix(['v', 'V']).unwrap_or(tag);
    if let Ok(v) = semver::Version::parse(bare) {
        return Some(v);
    }
    // Pad a missing minor/patch ("1.2" → "1.2.0"), keeping any pre-release/build tail.
    let split = bare.find(['-', '+']).unwrap_or(bare.len());
    let (core, tail) = bare.split_at(split);
    let parts = core.split('.').count();
    if core.is_empty()
        || parts >= 3
        || !core
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let padded = format!("{core}{}{tail}", ".0".repeat(3 - parts));
    semver::Version::parse(&padded).ok()
}

/// The latest release as GitLab's `permalink/latest`: first in `released_at desc`
/// order, upcoming releases included.
pub fn latest(mut releases: Vec<Found>) -> Option<Found> {
    sort(&mut releases, OrderBy::ReleasedAt, Direction::Desc);
    releases.into_iter().next()
}

/// Page `page` (1-based) of `per_page` items.
pub fn page<T>(items: Vec<T>, page: usize, per_page: usize) -> Vec<T> {
    let start = page.saturating_sub(1).saturating_mul(per_page);
    items.into_iter().skip(start).take(per_page).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions_leniently() {
        assert_eq!(lenient_semver("v1.2.3").unwrap().to_string(), "1.2.3");
        assert_eq!(lenient_semver("1.2").unwrap().to_string(), "1.2.0");
        assert_eq!(lenient_semver("V2-rc.1").unwrap().to_string(), "2.0.0-rc.1");
        assert!(lenient_semver("release-2024").is_none());
        assert!(lenient_semver("v").is_none());
        assert!(lenient_semver("1..2").is_none());
    }
}
