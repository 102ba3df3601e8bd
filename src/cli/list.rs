use super::Exit;

use clap::{Args, ValueEnum};
use git_release::present::gitlab::EntityContext;
use git_release::release::ordering::{DEFAULT_PER_PAGE, Direction, MAX_PER_PAGE, OrderBy};
use git_release::release::query::{ListRequest, list_page};
use git_release::share::hint;
use git_release::{Repo, Result};

use super::{Ui, common, render};

/// List releases, newest first (GitLab's order and paging).
#[derive(Args)]
pub struct ListArgs {
    /// What to order by.
    #[arg(long, value_enum, default_value = "released_at")]
    pub order_by: OrderArg,
    /// Direction of the order.
    #[arg(long, value_enum, default_value = "desc")]
    pub sort: SortArg,
    /// Page to show (1-based; 0 is page 1, as GitLab takes it).
    #[arg(long, default_value_t = 1, value_parser = parse_page)]
    pub page: u64,
    /// Releases per page: more than 100 is capped at 100, as GitLab caps it.
    #[arg(long, default_value_t = DEFAULT_PER_PAGE as u64, value_parser = parse_per_page)]
    pub per_page: u64,
    /// Only releases whose release date is still in the future.
    #[arg(long, conflicts_with = "historical")]
    pub upcoming: bool,
    /// Only back-dated releases (released before they were created).
    #[arg(long)]
    pub historical: bool,
    /// Include each description rendered as GitLab Flavored Markdown HTML
    /// (`description_html`, in JSON output).
    #[arg(long)]
    pub html: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum OrderArg {
    #[value(name = "released_at")]
    ReleasedAt,
    #[value(name = "created_at")]
    CreatedAt,
    Semver,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SortArg {
    Desc,
    Asc,
}

fn parse_page(text: &str) -> std::result::Result<u64, String> {
    let page: u64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a page number (1, 2, …)"))?;
    Ok(page.max(1))
}

fn parse_per_page(text: &str) -> std::result::Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("a page holds at least 1 release".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "{text:?} is not a number of releases (1 to {MAX_PER_PAGE})"
        )),
    }
}

pub fn run(mut args: ListArgs, ui: &Ui) -> Result<Exit> {
    if args.per_page > MAX_PER_PAGE as u64 {
        ui.notice(&format!(
            "--per-page {} is more than GitLab's maximum: showing {MAX_PER_PAGE} per page",
            args.per_page
        ));
        args.per_page = MAX_PER_PAGE as u64;
    }
    let repo = Repo::open_from_env()?;
    let mut context = EntityContext::new(&repo)?;
    context.include_html = args.html;
    let request = ListRequest {
        upcoming: args.upcoming,
        historical: args.historical,
        order: match args.order_by {
            OrderArg::ReleasedAt => OrderBy::ReleasedAt,
            OrderArg::CreatedAt => OrderBy::CreatedAt,
            OrderArg::Semver => OrderBy::Semver,
        },
        direction: match args.sort {
            SortArg::Desc => Direction::Desc,
            SortArg::Asc => Direction::Asc,
        },
        page: args.page as usize,
        per_page: args.per_page as usize,
        now: context.now,
    };
    // The process ends after this page: freeing every record (a fifth of the time
    // `list` takes at 10,000 releases) would be work for nothing.
    let listing = std::mem::ManuallyDrop::new(list_page(&repo, &request)?);
    for problem in &listing.problems {
        ui.warn(&format!("skipped: {}", problem.with_causes()));
    }
    if !listing.orphaned.is_empty() {
        ui.warn(&format!(
            "not listed, their tags were deleted: {} (remove with `git release delete <tag>`)",
            listing.orphaned.join(", ")
        ));
    }
    let (page, total) = (listing.page(), listing.total());
    if let Some(notice) = page.iter().find_map(|f| context.group_notice(&f.release)) {
        ui.notice(&notice);
    }

    if ui.json {
        let entities = page
            .iter()
            .map(|f| context.release(f))
            .collect::<Result<Vec<_>>>()?;
        common::print_json(&entities)?;
        return Ok(Exit::Success);
    }
    let per_page = args.per_page as usize;
    let last_page = total.div_ceil(per_page).max(1);
    if page.is_empty() {
        if !ui.quiet {
            if total == 0 {
                match hint::fetch_hint(&repo) {
                    Some(hint) => eprintln!("No releases. {hint}"),
                    None => eprintln!("No releases."),
                }
            } else {
                let plural = if last_page == 1 { "" } else { "s" };
                eprintln!(
                    "No releases on page {}: {total} release{} fill{} {last_page} page{plural} \
                     of {per_page} (see --page {last_page}).",
                    args.page,
                    if total == 1 { "" } else { "s" },
                    if total == 1 { "s" } else { "" },
                );
            }
        }
        return Ok(Exit::Success);
    }
    let rows: Vec<Vec<String>> = page
        .iter()
        .map(|f| render::release_row(f, context.now))
        .collect();
    print!(
        "{}",
        render::table(ui, &["TAG", "NAME", "RELEASED", "AGE", ""], &rows)
    );
    let shown_to = (args.page as usize - 1) * per_page + page.len();
    if total > page.len() && !ui.quiet {
        let from = shown_to - page.len() + 1;
        // Only a page that exists is suggested.
        if shown_to < total {
            eprintln!(
                "Showing {from}–{shown_to} of {total}; see more with --page {}",
                args.page + 1
            );
        } else {
            eprintln!("Showing {from}–{shown_to} of {total} (the last page)");
        }
    }
    Ok(Exit::Success)
}
