//! Release notes generated from the commits since the previous release, grouped by
//! Conventional Commit type (Features, Fixes, Other), with the contributors.

use std::collections::BTreeMap;

use git2::{Oid, Sort};

use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::git::tag;
use crate::model::Found;
use crate::model::TagName;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub markdown: String,
    /// The range the notes cover, as people write it: `v1.0.0..v1.1.0`, or `v1.1.0`
    /// when there is no earlier release (everything up to it).
    pub range: String,
    /// The tag the range starts from, when there is one.
    pub since: Option<String>,
    pub commits: usize,
}

/// Where generated notes start: a tag and the commit it peels to.
pub type StartPoint = Option<(String, Oid)>;

/// The start point `--notes-start-tag` names.
pub fn start_at_tag(repo: &Repo, start: &TagName) -> Result<StartPoint> {
    let found = tag::resolve(repo, start)?.ok_or_else(|| Error::UnknownTag {
        tag: start.to_string(),
    })?;
    Ok(Some((start.to_string(), found.commit)))
}

/// Notes for the release `tag` on `commit`, covering the commits after `since` (every
/// commit up to `commit` when `None`). The caller chooses the start point:
/// [`start_at_tag`] or [`previous_release`].
pub fn generate(repo: &Repo, tag: &TagName, commit: Oid, since: StartPoint) -> Result<Generated> {
    let git = repo.git();
    let fail = |e| Error::git(format!("cannot walk the history of {tag}"), e);
    let mut walk = git.revwalk().map_err(fail)?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
        .map_err(fail)?;
    walk.push(commit).map_err(fail)?;
    if let Some((_, start)) = &since {
        walk.hide(*start).map_err(fail)?;
    }
    let mut groups: [Vec<String>; 3] = Default::default();
    // Contributors by email, so that one person with two spellings counts once.
    let mut contributors: BTreeMap<String, String> = BTreeMap::new();
    let mut count = 0;
    for id in walk {
        let id = id.map_err(fail)?;
        let c = git.find_commit(id).map_err(fail)?;
        // Merge commits add no change of their own; the commits they bring are listed.
        if c.parent_count() > 1 {
            continue;
        }
        count += 1;
        let message = String::from_utf8_lossy(c.message_bytes()).into_owned();
        let short = &id.to_string()[..8];
        let (group, line) = entry(&message);
        groups[group].push(format!("- {line} ({short})"));
        let author = c.author();
        let email = String::from_utf8_lossy(author.email_bytes()).to_lowercase();
        let name = String::from_utf8_lossy(author.name_bytes()).into_owned();
        contributors.entry(email).or_insert(name);
    }

    let range = match &since {
        Some((start, _)) => format!("{start}..{tag}"),
        None => tag.to_string(),
    };
    let mut out = String::new();
    if count == 0 {
        out.push_str(&format!("No changes since {}.\n", since_label(&since)));
    }
    for (title, lines) in ["Features", "Fixes", "Other"].iter().zip(&groups) {
        if lines.is_empty() {
            continue;
        }
        out.push_str(&format!("### {title}\n\n"));
        for line in lines {
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
    }
    if !contributors.is_empty() {
        let mut names: Vec<&String> = contributors.values().collect();
        names.sort();
        names.dedup();
        out.push_str("### Contributors\n\n");
        for name in names {
            out.push_str(&format!("- {name}\n"));
        }
        out.push('\n');
    }
    let plural = if count == 1 { "" } else { "s" };
    out.push_str(&match &since {
        Some(_) => format!("**Changes**: `{range}` ({count} commit{plural})\n"),
        None => format!("**Changes**: every commit up to `{tag}` ({count} commit{plural})\n"),
    });
    Ok(Generated {
        markdown: out,
        range,
        since: since.map(|(t, _)| t),
        commits: count,
    })
}

fn since_label(since: &Option<(String, Oid)>) -> &str {
    since
        .as_ref()
        .map_or("the first commit", |(t, _)| t.as_str())
}

/// The nearest first-parent ancestor of `commit` (itself included) that carries one of
/// `releases` other than `tag`; when one commit carries several, the latest released.
pub fn previous_release(
    repo: &Repo,
    releases: &[Found],
    tag: &TagName,
    commit: Oid,
) -> Result<StartPoint> {
    let mut by_commit: BTreeMap<Oid, (crate::time::Timestamp, TagName)> = BTreeMap::new();
    for found in releases {
        if found.tag == *tag {
            continue;
        }
        let entry = (found.release.released_at, found.tag.clone());
        by_commit
            .entry(found.release.commit)
            .and_modify(|best| {
                if entry > *best {
                    *best = entry.clone();
                }
            })
            .or_insert(entry);
    }
    if by_commit.is_empty() {
        return Ok(None);
    }
    let git = repo.git();
    let mut current = git
        .find_commit(commit)
        .map_err(|e| Error::git(format!("cannot read commit {commit}"), e))?;
    loop {
        if let Some((_, found)) = by_commit.get(&current.id()) {
            return Ok(Some((found.to_string(), current.id())));
        }
        match current.parent(0) {
            Ok(parent) => current = parent,
            Err(_) => return Ok(None),
        }
    }
}

/// The group (0 Features, 1 Fixes, 2 Other) and the list line for a commit message.
fn entry(message: &str) -> (usize, String) {
    let subject = message.lines().next().unwrap_or_default().trim();
    let breaking_body = message
        .lines()
        .any(|l| l.starts_with("BREAKING CHANGE:") || l.starts_with("BREAKING-CHANGE:"));
    let Some((kind, scope, bang, text)) = conventional(subject) else {
        return (2, subject.to_owned());
    };
    let group = match kind.to_ascii_lowercase().as_str() {
        "feat" | "feature" => 0,
        "fix" | "bugfix" => 1,
        _ => return (2, subject.to_owned()),
    };
    let mut line = String::new();
    if bang || breaking_body {
        line.push_str("**BREAKING** ");
    }
    if let Some(scope) = scope {
        line.push_str(&format!("**{scope}:** "));
    }
    line.push_str(text);
    (group, line)
}

/// Splits `type(scope)!: text` into its parts; `None` when the subject does not follow
/// the Conventional Commits form.
fn conventional(subject: &str) -> Option<(&str, Option<&str>, bool, &str)> {
    let (head, text) = subject.split_once(':')?;
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let (head, bang) = match head.strip_suffix('!') {
        Some(h) => (h, true),
        None => (head, false),
    };
    let (kind, scope) = match head.split_once('(') {
        Some((kind, rest)) => (kind, Some(rest.strip_suffix(')')?)),
        None => (head, None),
    };
    if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    Some((kind, scope.filter(|s| !s.is_empty()), bang, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventional_subjects_are_grouped() {
        assert_eq!(entry("feat: add x"), (0, "add x".into()));
        assert_eq!(entry("fix(parser): y"), (1, "**parser:** y".into()));
        assert_eq!(entry("feat!: drop z"), (0, "**BREAKING** drop z".into()));
        assert_eq!(
            entry("feat: a\n\nBREAKING CHANGE: b"),
            (0, "**BREAKING** a".into())
        );
        assert_eq!(entry("docs: readme"), (2, "docs: readme".into()));
        assert_eq!(entry("Merge: things"), (2, "Merge: things".into()));
        assert_eq!(entry("plain subject"), (2, "plain subject".into()));
        assert_eq!(entry("see http://x"), (2, "see http://x".into()));
    }
}
