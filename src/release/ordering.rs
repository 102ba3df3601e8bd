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
///
/// The order is worked out on indices and applied once: a `Found` is hundreds of bytes,
/// and a stable sort moving them about was a fifth of listing 10,000 releases.
pub fn sort(releases: &mut [Found], order: OrderBy, direction: Direction) {
    let mut indices: Vec<usize> = (0..releases.len()).collect();
    match order {
        OrderBy::ReleasedAt => indices.sort_by(|&a, &b| {
            let (a, b) = (&releases[a], &releases[b]);
            apply(
                direction,
                by_date(a.release.released_at, b.release.released_at, a, b),
            )
        }),
        OrderBy::CreatedAt => indices.sort_by(|&a, &b| {
            let (a, b) = (&releases[a], &releases[b]);
            apply(
                direction,
                by_date(a.release.created_at, b.release.created_at, a, b),
            )
        }),
        OrderBy::Semver => {
            let versions: Vec<Option<semver::Version>> =
                releases.iter().map(|f| lenient_semver(&f.tag)).collect();
            indices.sort_by(|&a, &b| match (&versions[a], &versions[b]) {
                (Some(x), Some(y)) => apply(
                    direction,
                    x.cmp(y).then_with(|| releases[a].tag.cmp(&releases[b].tag)),
                ),
                // Tags that are not versions come after the versions, in either direction.
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => releases[a].tag.cmp(&releases[b].tag),
            });
        }
    }
    permute(releases, indices);
}

/// Rearranges `items` so that position `i` holds what was at `order[i]`, following
/// each cycle of the permutation (one swap per element moved).
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..items.len() {
        let mut current = start;
        loop {
            let next = order[current];
            // Marks `current` as placed.
            order[current] = current;
            if next == start || next == current {
                break;
            }
            items.swap(current, next);
            current = next;
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
    fn permute_places_each_item_where_the_order_says() {
        let mut items = vec!['a', 'b', 'c', 'd', 'e', 'f'];
        permute(&mut items, vec![3, 0, 1, 2, 5, 4]);
        assert_eq!(items, vec!['d', 'a', 'b', 'c', 'f', 'e']);
        let mut items = vec![1, 2, 3];
        permute(&mut items, vec![0, 1, 2]);
        assert_eq!(items, vec![1, 2, 3]);
    }

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
