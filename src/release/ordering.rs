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
            let versions: Vec<Option<(semver::Version, &str)>> =
                releases.iter().map(|f| tag_version(&f.tag)).collect();
            // Ascending: versions by their version (then by the prefix before it, then
            // the tag), then the tags that are no versions, by name; descending is the
            // exact reverse, as `git tag --sort=-version:refname` reverses everything.
            indices.sort_by(|&a, &b| {
                let ord = match (&versions[a], &versions[b]) {
                    (Some((x, px)), Some((y, py))) => x
                        .cmp(y)
                        .then_with(|| px.cmp(py))
                        .then_with(|| releases[a].tag.cmp(&releases[b].tag)),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => releases[a].tag.cmp(&releases[b].tag),
                };
                apply(direction, ord)
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

/// Two releases in `released_at` order (ties as [`sort`] breaks them), for lists merged
/// from several projects' (a group's releases).
pub fn by_released_at(a: &Found, b: &Found) -> Ordering {
    by_date(a.release.released_at, b.release.released_at, a, b)
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

/// The version a tag names and the prefix before it: `v1.2.3` → (1.2.3, ""),
/// `grep-cli-0.1.10` → (0.1.10, "grep-cli-"), `release/v2.0` → (2.0.0, "release/");
/// `None` for a tag with no version in it. The version is the first place after a
/// separator (`-`, `_`, `/`, `@`) where the rest reads as one.
pub fn tag_version(tag: &str) -> Option<(semver::Version, &str)> {
    if let Some(version) = lenient_semver(tag) {
        return Some((version, ""));
    }
    tag.char_indices()
        .filter(|&(i, _)| i > 0 && matches!(tag.as_bytes()[i - 1], b'-' | b'_' | b'/' | b'@'))
        .find_map(|(i, _)| lenient_semver(&tag[i..]).map(|v| (v, &tag[..i])))
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

    #[test]
    fn prefixed_tags_have_their_version() {
        let v = |t: &str| tag_version(t).map(|(v, p)| (v.to_string(), p.to_owned()));
        assert_eq!(
            v("grep-cli-0.1.10"),
            Some(("0.1.10".into(), "grep-cli-".into()))
        );
        assert_eq!(v("release/v2.0"), Some(("2.0.0".into(), "release/".into())));
        assert_eq!(v("v1.2.3"), Some(("1.2.3".into(), String::new())));
        assert_eq!(v("jq-1.7.1"), Some(("1.7.1".into(), "jq-".into())));
        assert_eq!(v("nightly"), None);
        assert_eq!(
            v("release-2024"),
            Some(("2024.0.0".into(), "release-".into()))
        );
        assert!(
            tag_version("grep-cli-0.1.2").unwrap().0 < tag_version("grep-cli-0.1.10").unwrap().0
        );
    }
}
