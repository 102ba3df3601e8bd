use super::Exit;

use clap::Args;
use git_release::model::Selector;
use git_release::present::gitlab::EntityContext;
use git_release::text::{terminal, terminal_lines};
use git_release::{Repo, Result, time};

use super::{Style, Ui, common, render};

/// Show one release: a tag, or `latest` (a tag named "latest" is `tags/latest`).
#[derive(Args)]
pub struct ViewArgs {
    /// The release's tag, or `latest`.
    pub tag: Selector,
    /// Include the description rendered as GitLab Flavored Markdown HTML
    /// (`description_html` in JSON; printed instead of the Markdown otherwise).
    #[arg(long)]
    pub html: bool,
}

pub fn run(args: ViewArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let found = common::select_release(&repo, &args.tag)?;
    render::warn_tag_state(ui, &found);
    let mut context = EntityContext::new(&repo)?;
    context.include_html = args.html;
    let entity = context.release(&found)?;
    if let Some(notice) = context.group_notice(&found.release) {
        ui.notice(&notice);
    }
    if ui.json {
        common::print_json(&entity)?;
        return Ok(Exit::Success);
    }
    let release = &found.release;
    let now = context.now;
    println!(
        "{}",
        ui.paint(
            Style::Bold,
            &format!("{} — {}", terminal(&found.tag), terminal(&release.name))
        )
    );
    let marker = render::marker(&found, now);
    let marker = if marker.is_empty() {
        String::new()
    } else {
        format!(" [{}]", ui.paint(Style::Yellow, marker))
    };
    println!(
        "released  {} ({}){marker}",
        render::date(release.released_at),
        time::relative(release.released_at, now)
    );
    println!(
        "created   {} by {} <{}>",
        render::date(release.created_at),
        terminal(&release.author.name),
        terminal(&release.author.email)
    );
    let title = entity
        .commit
        .as_ref()
        .map(|c| c.title.as_str())
        .unwrap_or("(commit not in this clone)");
    println!(
        "commit    {} {}",
        ui.paint(Style::Dim, &render::short_id(release.commit)),
        terminal(title)
    );
    let links = entity.assets.links.len();
    println!(
        "assets    {} source archives, {links} link{}",
        entity.assets.sources.len(),
        if links == 1 { "" } else { "s" }
    );
    for link in &entity.assets.links {
        println!(
            "          {} {}",
            terminal(&link.name),
            ui.paint(Style::Dim, &terminal(&link.direct_asset_url))
        );
    }
    if let Some(milestones) = &entity.milestones {
        let titles: Vec<String> = milestones
            .iter()
            .map(|m| terminal(&m.title).into_owned())
            .collect();
        println!("milestone {}", titles.join(", "));
    }
    if !release.evidences.is_empty() {
        println!("evidence  {} snapshot(s)", release.evidences.len());
    }
    if let Some(html) = entity.description_html.as_deref() {
        println!();
        println!("{}", terminal_lines(html.trim_end()));
    } else if let Some(description) = release
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        println!();
        println!("{}", terminal_lines(description.trim_end()));
    }
    Ok(Exit::Success)
}
