//! A group's releases: the lists of its projects merged into one, newest `released_at`
//! first, as GitLab's group releases list them.

use std::sync::Arc;

use crate::model::Found;
use crate::release::ordering;

/// (project, release) positions in `lists`, newest first; ties as one project's list
/// breaks them, then the project with the higher id (`ids`, one per list) first.
pub fn newest_first(lists: &[Arc<Vec<Found>>], ids: &[u64]) -> Vec<(usize, usize)> {
    let mut all: Vec<(usize, usize)> = lists
        .iter()
        .enumerate()
        .flat_map(|(p, list)| (0..list.len()).map(move |r| (p, r)))
        .collect();
    all.sort_by(|&(pa, ra), &(pb, rb)| {
        ordering::by_released_at(&lists[pb][rb], &lists[pa][ra]).then_with(|| ids[pb].cmp(&ids[pa]))
    });
    all
}
