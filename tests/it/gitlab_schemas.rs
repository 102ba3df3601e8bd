//! Our JSON against GitLab's own JSON schemas (fixtures/gitlab/upstream, copied from
//! gitlabhq's `spec/fixtures/api/schemas/`): `--json`, `serve` and `site` alike, with a
//! web URL set, so `author` has GitLab's typed shape (integer `id`, `state`, `web_url`)
//! and `evidences[].filepath` is a URL that works.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use sha2::Digest;

use crate::support::{Env, Repo};

const BASE: &str = "file:///gitlab/";

fn upstream() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/gitlab/upstream")
}

/// GitLab's `"type": "date"` read as a string (it is no JSON Schema type); a `required`
/// list read as the set it is (milestone_with_stats.json names `state` twice, which the
/// validator would otherwise report as a missing key).
fn date_as_string(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("type") == Some(&Value::String("date".into())) {
                map.insert("type".into(), Value::String("string".into()));
            }
            if let Some(Value::Array(required)) = map.get_mut("required") {
                let mut seen = std::collections::BTreeSet::new();
                required.retain(|key| seen.insert(key.to_string()));
            }
            map.values_mut().for_each(date_as_string);
        }
        Value::Array(items) => items.iter_mut().for_each(date_as_string),
        _ => {}
    }
}

fn load(path: &str) -> Value {
    let text =
        std::fs::read_to_string(upstream().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut value: Value = serde_json::from_str(&text).unwrap();
    date_as_string(&mut value);
    if path == "public_api/v4/release.json" {
        // GitLab returns `historical_release` since 15.2; the copy predates it (see
        // fixtures/gitlab/upstream/README.md).
        value["properties"]["historical_release"] = serde_json::json!({ "type": "boolean" });
    }
    value
}

struct Files;

impl jsonschema::Retrieve for Files {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let path = uri
            .as_str()
            .strip_prefix(BASE)
            .ok_or_else(|| format!("not one of GitLab's schemas: {uri}"))?;
        Ok(load(path))
    }
}

/// Panics with every violation of GitLab's release schema by `release`.
fn assert_gitlab_release(release: &Value) {
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(false)
        .with_retriever(Files)
        .with_base_uri(format!("{BASE}public_api/v4/release.json"))
        .build(&load("public_api/v4/release.json"))
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(release)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "GitLab's release.json refuses:\n{}\n{release:#}",
        errors.join("\n")
    );
    let id = &release["author"]["id"];
    assert!(id.is_u64() && id.as_u64().unwrap() < (1 << 31), "{id}");
}

/// A project with a web URL, a milestone, a link and a normal release with evidence.
fn project(env: &Env) -> Repo<'_> {
    let repo = env.repo("proj");
    repo.commit("first", &[("README.md", "hello\n")]);
    repo.git([
        "remote",
        "add",
        "origin",
        "git@gitlab.example.com:group/proj.git",
    ]);
    repo.release_ok(["milestone", "create", "M1", "--due-date", "2030-01-01"]);
    repo.release_ok([
        "create",
        "v1.0",
        "--ref",
        "HEAD",
        "--milestone",
        "M1",
        "--link",
        "name=app,url=https://example.com/app,filepath=/bin/app",
    ]);
    repo
}

fn sha256(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_release_with_a_group_milestone_passes_gitlabs_schema() {
    let env = Env::new();
    // A group's directory as a root lays it out: the project beside `.group.git`.
    std::fs::create_dir_all(env.path().join("platform")).unwrap();
    std::fs::write(
        env.path().join("platform/.git-release-group"),
        "[group]\n\tid = 7\n\tpath = platform\n",
    )
    .unwrap();
    let repo = env.repo("platform/api");
    repo.commit("first", &[("README.md", "hello\n")]);
    repo.git([
        "remote",
        "add",
        "origin",
        "git@gitlab.example.com:platform/api.git",
    ]);
    repo.release_ok([
        "milestone",
        "--group",
        "create",
        "G1",
        "--due-date",
        "2030-01-01",
    ]);
    repo.release_ok(["create", "v1.0", "--ref", "HEAD", "--milestone", "G1"]);
    let view: Value = serde_json::from_str(&repo.release_ok(["view", "v1.0", "--json"])).unwrap();
    assert_gitlab_release(&view);
    assert_eq!(view["milestones"][0]["group_id"], 7);
}

#[test]
fn cli_json_passes_gitlabs_own_schemas() {
    let env = Env::new();
    let repo = project(&env);
    let view: Value = serde_json::from_str(&repo.release_ok(["view", "v1.0", "--json"])).unwrap();
    assert_gitlab_release(&view);
    assert_eq!(view["author"]["state"], "active");
    assert_eq!(
        view["author"]["web_url"],
        format!(
            "https://gitlab.example.com/{}",
            view["author"]["username"].as_str().unwrap()
        )
    );
    let sha = view["evidences"][0]["sha"].as_str().unwrap();
    assert_eq!(
        view["evidences"][0]["filepath"],
        format!("https://gitlab.example.com/group/proj/-/releases/v1.0/evidences/{sha}.json")
    );
    // The notes-tree path stays in `evidence list`.
    let listed: Value =
        serde_json::from_str(&repo.release_ok(["evidence", "list", "v1.0", "--json"])).unwrap();
    assert!(
        listed[0]["filepath"]
            .as_str()
            .unwrap()
            .starts_with("evidence/"),
        "{listed}"
    );
    let list: Value = serde_json::from_str(&repo.release_ok(["list", "--json"])).unwrap();
    for release in list.as_array().unwrap() {
        assert_gitlab_release(release);
    }
    // The same person has the same id in every release and clone.
    repo.release_ok(["create", "v1.1", "--ref", "HEAD"]);
    let list: Value = serde_json::from_str(&repo.release_ok(["list", "--json"])).unwrap();
    assert_eq!(list[0]["author"]["id"], list[1]["author"]["id"]);
}

#[test]
fn serve_answers_with_gitlabs_shapes_and_its_evidence_urls_work() {
    let env = Env::new();
    let repo = project(&env);
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("git-release"));
    repo.env.apply(&mut cmd);
    let mut server = Killed(
        cmd.current_dir(repo.path())
            .args(["serve", "--listen", "127.0.0.1:0", "--quiet"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("Listening on ")
        .unwrap()
        .to_owned();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let get = |url: &str| -> (u16, Vec<u8>) {
        let response = agent.get(url).call().unwrap();
        let status = response.status().as_u16();
        (status, response.into_body().read_to_vec().unwrap())
    };
    let (status, body) = get(&format!("{base}/api/v4/projects/1/releases/v1.0"));
    assert_eq!(status, 200);
    let release: Value = serde_json::from_slice(&body).unwrap();
    assert_gitlab_release(&release);
    assert_eq!(
        release["author"]["web_url"],
        format!("{base}/{}", release["author"]["username"].as_str().unwrap())
    );
    let evidence = &release["evidences"][0];
    let url = evidence["filepath"].as_str().unwrap();
    assert!(url.starts_with(&base), "{url}");
    let (status, bytes) = get(url);
    assert_eq!(status, 200, "{url}");
    assert_eq!(sha256(&bytes), evidence["sha"].as_str().unwrap());
    let (status, _) = get(&url.replace(evidence["sha"].as_str().unwrap(), &"0".repeat(64)));
    assert_eq!(status, 404);
}

/// The server, stopped however the test ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn site_json_passes_gitlabs_schemas_and_writes_the_evidence_where_filepath_points() {
    let env = Env::new();
    let repo = project(&env);
    repo.release_ok([
        "site",
        "--output",
        "out",
        "--base-url",
        "https://example.com/site/",
    ]);
    let out = repo.path().join("out");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("releases.json")).unwrap()).unwrap();
    let release = &json[0];
    assert_gitlab_release(release);
    let evidence = &release["evidences"][0];
    let sha = evidence["sha"].as_str().unwrap();
    assert_eq!(
        evidence["filepath"],
        format!("https://example.com/site/evidences/{sha}.json")
    );
    let bytes = std::fs::read(out.join(format!("evidences/{sha}.json"))).unwrap();
    assert_eq!(sha256(&bytes), sha);
}
