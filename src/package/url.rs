//! This project's package URLs: `<instance>/api/v4/projects/<id or URL-encoded
//! path>/packages/generic/<name>/<version>/<file>`, where the instance is the host of
//! the project's web URL (and, under `serve`, the server's own base). A link whose URL
//! is one of these is resolved from the package store, offline, and checked against
//! the SHA-256 recorded with the package file.

use crate::git::project::Project;
use crate::model::package::{PackageFileName, PackageName, PackageVersion};
use crate::url::unescape;

/// A package file a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageRef {
    /// `<instance>/api/v4/projects/<id or path>/packages/generic/<name>/<version>/<file>`:
    /// the newest upload of that file name.
    Generic {
        name: PackageName,
        version: PackageVersion,
        file_name: PackageFileName,
    },
    /// `<instance>/<project path>/-/package_files/<id>/download`, where GitLab's pages
    /// (and tools such as semantic-release) link a package file: one upload, by its id.
    FileId(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Base {
    scheme: String,
    /// `host[:port]`, lowercase.
    authority: String,
    /// The path the API sits under (`""`, or `/gitlab` behind a proxy), no trailing `/`.
    path: String,
}

/// The URLs that name this project's packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageUrls {
    bases: Vec<Base>,
    project_id: u64,
    /// `group/project`, when known.
    project_path: Option<String>,
}

/// `scheme`, `authority` (userinfo dropped, lowercase) and path (query and fragment
/// dropped) of an http(s) URL.
fn split(url: &str) -> Option<(String, String, String)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let authority = authority.rsplit('@').next().unwrap_or_default();
    if authority.is_empty() {
        return None;
    }
    Some((scheme, authority.to_ascii_lowercase(), path.to_owned()))
}

impl PackageUrls {
    /// The package URLs of `project`: on the host of its web URL (none when it has no
    /// web URL: then no link names a package of this project, except under `serve`).
    pub fn for_project(project: &Project) -> Self {
        let mut urls = PackageUrls {
            bases: Vec::new(),
            project_id: project.id,
            project_path: project
                .web_path()
                .map(|p| p.trim_start_matches('/').to_owned())
                .filter(|p| !p.is_empty()),
        };
        if let Some((scheme, authority, _)) = project.web_url.as_deref().and_then(split) {
            urls.bases.push(Base {
                scheme,
                authority,
                path: String::new(),
            });
        }
        urls
    }

    /// Also the URLs under `base` (a server's `http://host:port[/path]`), named with
    /// the project path `project_path`; these are the ones `url` builds.
    pub fn served_at(mut self, base: &str, project_path: &str) -> Self {
        if let Some((scheme, authority, path)) = split(base) {
            self.bases.insert(
                0,
                Base {
                    scheme,
                    authority,
                    path: path.trim_end_matches('/').to_owned(),
                },
            );
        }
        if !project_path.is_empty() {
            self.project_path = Some(project_path.to_owned());
        }
        self
    }

    /// `<base>/api/v4/projects/<id>/packages/generic`, the registry URL a CI job's
    /// `PACKAGE_REGISTRY_URL` is; `None` without a known instance.
    pub fn registry(&self) -> Option<String> {
        let base = self.bases.first()?;
        Some(format!(
            "{}://{}{}/api/v4/projects/{}/packages/generic",
            base.scheme, base.authority, base.path, self.project_id
        ))
    }

    /// The URL of one package file. Names, versions and file names hold only
    /// characters a URL path takes as they are (`A-Z a-z 0-9 . _ - +`).
    pub fn url(
        &self,
        name: &PackageName,
        version: &PackageVersion,
        file: &PackageFileName,
    ) -> Option<String> {
        Some(format!("{}/{name}/{version}/{file}", self.registry()?))
    }

    /// The package file `url` names, when it is one of this project's package URLs.
    pub fn parse(&self, url: &str) -> Option<PackageRef> {
        let (_, authority, path) = split(url)?;
        self.bases
            .iter()
            .filter(|b| b.authority == authority)
            .find_map(|base| {
                let rest = path.strip_prefix(base.path.as_str())?;
                match rest.strip_prefix("/api/v4/projects/") {
                    Some(api) => self.parse_generic(api),
                    None => self.parse_web(rest.strip_prefix('/')?),
                }
            })
    }

    /// Whether `project` (an id, or a URL-encoded path) is this project.
    fn is_this_project(&self, project: &str) -> bool {
        project == self.project_id.to_string() || self.is_this_path(project)
    }

    fn is_this_path(&self, path: &str) -> bool {
        self.project_path
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case(path))
    }

    /// `<project>/packages/generic/<name>/<version>/<file>`.
    fn parse_generic(&self, api: &str) -> Option<PackageRef> {
        let segments: Vec<&str> = api.split('/').collect();
        let [project, "packages", "generic", name, version, file] = segments.as_slice() else {
            return None;
        };
        if !self.is_this_project(&unescape(project)?) {
            return None;
        }
        Some(PackageRef::Generic {
            name: PackageName::parse(&unescape(name)?).ok()?,
            version: PackageVersion::parse(&unescape(version)?).ok()?,
            file_name: PackageFileName::parse(&unescape(file)?).ok()?,
        })
    }

    /// `<group>/<project>/-/package_files/<id>/download`.
    fn parse_web(&self, path: &str) -> Option<PackageRef> {
        let segments: Vec<&str> = path.split('/').collect();
        let [project @ .., "-", "package_files", id, "download"] = segments.as_slice() else {
            return None;
        };
        let project = project
            .iter()
            .map(|s| unescape(s))
            .collect::<Option<Vec<_>>>()?
            .join("/");
        if !self.is_this_path(&project) || !id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(PackageRef::FileId(id.parse().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(web_url: Option<&str>) -> Project {
        Project {
            id: 7,
            name: "proj".into(),
            description: None,
            web_url: web_url.map(str::to_owned),
        }
    }

    #[test]
    fn urls_of_this_project_name_its_package_files() {
        let urls = PackageUrls::for_project(&project(Some("https://git.example.com/group/proj")));
        for url in [
            "https://git.example.com/api/v4/projects/7/packages/generic/app/1.2.3/app-linux",
            "http://GIT.example.com/api/v4/projects/group%2Fproj/packages/generic/app/1.2.3/app-linux",
            "https://git.example.com/api/v4/projects/GROUP%2fPROJ/packages/generic/app/1.2.3/app-linux?x=1",
        ] {
            let found = urls.parse(url).unwrap_or_else(|| panic!("{url}"));
            assert_eq!(
                found,
                PackageRef::Generic {
                    name: PackageName::parse("app").unwrap(),
                    version: PackageVersion::parse("1.2.3").unwrap(),
                    file_name: PackageFileName::parse("app-linux").unwrap(),
                },
                "{url}"
            );
        }
        for url in [
            "https://git.example.com/group/proj/-/package_files/42/download",
            "https://git.example.com/Group/Proj/-/package_files/42/download?x=1",
            "https://git.example.com/group%2Fproj/-/package_files/42/download",
        ] {
            assert_eq!(urls.parse(url), Some(PackageRef::FileId(42)), "{url}");
        }
        for url in [
            "https://elsewhere.example.com/api/v4/projects/7/packages/generic/app/1.2.3/app",
            "https://git.example.com/api/v4/projects/8/packages/generic/app/1.2.3/app",
            "https://git.example.com/api/v4/projects/other%2Fproj/packages/generic/app/1.2.3/app",
            "https://git.example.com/api/v4/projects/7/packages/generic/app/1..2/app",
            "https://git.example.com/api/v4/projects/7/packages/generic/app/1.2.3/a/b",
            "ftp://git.example.com/api/v4/projects/7/packages/generic/app/1.2.3/app",
            "https://git.example.com/group/proj/-/releases",
            "https://git.example.com/other/proj/-/package_files/42/download",
            "https://git.example.com/group/proj/-/package_files/4x/download",
            "https://git.example.com/group/proj/-/package_files/+42/download",
            "https://git.example.com/group/proj/-/package_files/42",
            "https://elsewhere.example.com/group/proj/-/package_files/42/download",
        ] {
            assert_eq!(urls.parse(url), None, "{url}");
        }
        assert_eq!(
            urls.url(
                &PackageName::parse("app").unwrap(),
                &PackageVersion::parse("1.2.3").unwrap(),
                &PackageFileName::parse("app+linux").unwrap()
            )
            .unwrap(),
            "https://git.example.com/api/v4/projects/7/packages/generic/app/1.2.3/app+linux"
        );
    }

    #[test]
    fn a_server_base_with_a_path_is_an_instance_too() {
        let urls = PackageUrls::for_project(&project(None))
            .served_at("http://127.0.0.1:8080/releases", "group/proj");
        assert!(
            urls.parse("http://127.0.0.1:8080/releases/api/v4/projects/7/packages/generic/a/1/f")
                .is_some()
        );
        assert!(
            urls.parse("http://127.0.0.1:8080/api/v4/projects/7/packages/generic/a/1/f")
                .is_none()
        );
        assert!(
            PackageUrls::for_project(&project(None))
                .parse("http://127.0.0.1:8080/api/v4/projects/7/packages/generic/a/1/f")
                .is_none()
        );
    }
}
