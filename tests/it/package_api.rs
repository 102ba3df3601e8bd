//! `serve`'s generic package API, driven as GitLab's is: raw HTTP with every way the
//! registry takes a token, curl running GitLab's own CI example verbatim, and
//! python-gitlab's `generic_packages`. Plain git is the oracle for what was stored.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::serve::{ROLE_TOKENS, Server, TOKEN, project, start};
use crate::support::{Env, Repo, tools};

const API: &str = "/api/v4/projects/1/packages";

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every ref and the notes ref: what a refused request must leave as it was.
fn state(repo: &Repo) -> String {
    repo.git(["for-each-ref"])
}

fn writable(env: &Env) -> (Repo<'_>, Server) {
    let repo = project(env);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&repo, &[]);
    (repo, server)
}

fn put(
    server: &Server,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> crate::support::serve::Reply {
    server.send("PUT", &format!("{API}/generic/{path}"), headers, body)
}

#[test]
fn files_are_uploaded_listed_downloaded_and_deleted_as_in_gitlab() {
    let env = Env::new();
    let (repo, server) = writable(&env);
    let auth = [("PRIVATE-TOKEN", TOKEN)];

    let reply = put(&server, "app/1.2.3/app-linux", &auth, b"linux binary\n");
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json(), serde_json::json!({"message": "201 Created"}));
    let digest = sha256(b"linux binary\n");
    // Plain git sees the bytes under the package's ref.
    let reference = format!("refs/release-packages/app/1.2.3/{digest}");
    assert_eq!(
        repo.git_raw(["cat-file", "blob", &format!("{reference}:00000000")]),
        b"linux binary\n"
    );

    let reply = put(
        &server,
        "app/1.2.3/app-darwin?select=package_file",
        &auth,
        b"darwin binary\n",
    );
    assert_eq!(reply.status, 201);
    let file = reply.json();
    assert_eq!(file["file_name"], "app-darwin");
    assert_eq!(file["size"], 14);
    assert_eq!(file["file_sha256"], sha256(b"darwin binary\n"));
    let package_id = file["package_id"].as_u64().unwrap();

    // Downloads need no token on a server that does not require one for reads.
    let reply = server.get(&format!("{API}/generic/app/1.2.3/app-linux"));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, b"linux binary\n");
    assert_eq!(reply.header("x-checksum-sha256"), digest);
    assert_eq!(reply.header("content-type"), "application/octet-stream");

    let list = server.get(API).json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["id"], package_id);
    assert_eq!(list[0]["name"], "app");
    assert_eq!(list[0]["version"], "1.2.3");
    assert_eq!(list[0]["package_type"], "generic");
    assert_eq!(server.get(&format!("{API}?package_name=ap")).json(), list);
    assert_eq!(
        server.get(&format!("{API}?package_type=npm")).json(),
        serde_json::json!([])
    );
    assert_eq!(
        server.get(&format!("{API}/{package_id}")).json()["name"],
        "app"
    );

    let files = server
        .get(&format!("{API}/{package_id}/package_files"))
        .json();
    let names: Vec<&str> = files
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["app-linux", "app-darwin"], "oldest first");
    let darwin_id = files[1]["id"].as_u64().unwrap();

    // Writes need a token; deleting one file, then the package.
    let reply = server.call(
        "DELETE",
        &format!("{API}/{package_id}/package_files/{darwin_id}"),
        None,
        None,
    );
    assert_eq!(reply.status, 401);
    let reply = server.call(
        "DELETE",
        &format!("{API}/{package_id}/package_files/{darwin_id}"),
        Some(TOKEN),
        None,
    );
    assert_eq!(reply.status, 204);
    assert_eq!(
        server
            .get(&format!("{API}/generic/app/1.2.3/app-darwin"))
            .status,
        404
    );
    assert_eq!(
        server
            .get(&format!("{API}/generic/app/1.2.3/app-linux"))
            .status,
        200
    );
    let reply = server.call("DELETE", &format!("{API}/{package_id}"), Some(TOKEN), None);
    assert_eq!(reply.status, 204);
    assert_eq!(server.get(&format!("{API}/{package_id}")).status, 404);
    assert_eq!(
        server
            .get(&format!("{API}/generic/app/1.2.3/app-linux"))
            .status,
        404
    );
    assert!(
        !repo.ref_exists(&reference),
        "the bytes went with the package"
    );
    assert_eq!(server.get(&format!("{API}/999")).status, 404);
    repo.assert_fsck_clean();
}

#[test]
fn the_registry_takes_tokens_as_gitlab_does_and_refuses_others_storing_nothing() {
    let env = Env::new();
    let (repo, server) = writable(&env);
    use base64::Engine;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("gitlab-ci-token:{TOKEN}"))
    );
    let bearer = format!("Bearer {TOKEN}");
    for (i, header) in [
        ("PRIVATE-TOKEN", TOKEN),
        ("JOB-TOKEN", TOKEN),
        ("DEPLOY-TOKEN", TOKEN),
        ("Authorization", basic.as_str()),
        ("Authorization", bearer.as_str()),
    ]
    .into_iter()
    .enumerate()
    {
        let reply = put(&server, &format!("app/1.0/f{i}"), &[header], b"x");
        assert_eq!(reply.status, 201, "{header:?}");
    }
    let wrong_basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("gitlab-ci-token:wrong")
    );
    let before = state(&repo);
    for (headers, status) in [
        (vec![], 401),
        (vec![("JOB-TOKEN", "wrong")], 401),
        (vec![("DEPLOY-TOKEN", "wrong")], 401),
        (vec![("Authorization", wrong_basic.as_str())], 401),
    ] {
        let reply = put(&server, "app/1.0/refused", &headers, b"x");
        assert_eq!(reply.status, status, "{headers:?}");
    }
    assert_eq!(state(&repo), before, "nothing stored");
    // Elsewhere in the API, a deploy token or Basic is not a credential.
    let release = serde_json::json!({"tag_name": "v9", "ref": "HEAD"}).to_string();
    for header in [("DEPLOY-TOKEN", TOKEN), ("Authorization", basic.as_str())] {
        let reply = server.send(
            "POST",
            "/api/v4/projects/1/releases",
            &[header, ("Content-Type", "application/json")],
            release.as_bytes(),
        );
        assert_eq!(reply.status, 401, "{header:?}");
    }
    // A read-only server takes no upload at all.
    drop(server);
    let server = start(&repo, &["--read-only"]);
    let reply = put(&server, "app/1.0/ro", &[("PRIVATE-TOKEN", TOKEN)], b"x");
    assert_eq!(reply.status, 403);
    assert_eq!(state(&repo), before);
}

#[test]
fn bad_names_sizes_and_duplicates_get_gitlab_status_codes_and_store_nothing() {
    let env = Env::new();
    let (repo, server) = writable(&env);
    let auth = [("PRIVATE-TOKEN", TOKEN)];
    repo.git(["config", "release.packageMaxSize", "1k"]);
    let before = state(&repo);

    for path in [
        "a%2Fb/1.0/f",
        "../1.0/f",
        "app/1..0/f",
        "app/1.0~rc/f",
        "app/1.0/bad%20name",
        "app/1.0/sub/dir",
        "app/1.0/..",
    ] {
        let reply = put(&server, path, &auth, b"x");
        assert_eq!(
            reply.status,
            400,
            "{path}: {}",
            String::from_utf8_lossy(&reply.body)
        );
    }
    // Above release.packageMaxSize: refused with 413 on the announced length, and
    // when the body arrives without one (chunked, from curl's standard input).
    let reply = put(&server, "app/1.0/big", &auth, &vec![b'x'; 1025]);
    assert_eq!(reply.status, 413);
    let out = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--header"])
        .arg(format!("PRIVATE-TOKEN: {TOKEN}"))
        .args(["--upload-file", "-"])
        .arg(format!("{}{API}/generic/app/1.0/big", server.base))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(&vec![b'y'; 4096])?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "413");
    assert_eq!(state(&repo), before, "nothing stored");
    assert_eq!(server.get(API).json(), serde_json::json!([]));

    // A file name uploaded again is added, and the newest is downloaded …
    assert_eq!(put(&server, "app/1.0/tool", &auth, b"one").status, 201);
    assert_eq!(put(&server, "app/1.0/tool", &auth, b"two").status, 201);
    assert_eq!(
        server.get(&format!("{API}/generic/app/1.0/tool")).body,
        b"two"
    );
    // … unless a release links to it.
    repo.git([
        "config",
        "release.webUrl",
        "https://gitlab.example.com/group/proj",
    ]);
    repo.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    repo.write("app.bin", "linked");
    repo.release_ok([
        "package",
        "upload",
        "app",
        "1.0",
        "app.bin",
        "--release",
        "v1.0",
    ]);
    let before = state(&repo);
    let reply = put(&server, "app/1.0/app.bin", &auth, b"replaced");
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_text(), "Duplicate package is not allowed");
    assert_eq!(state(&repo), before);
    assert_eq!(
        server.get(&format!("{API}/generic/app/1.0/app.bin")).body,
        b"linked"
    );
    // The release's permanent download path serves the package file.
    let reply = server.get("/group/proj/-/releases/v1.0/downloads/packages/app/app.bin");
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.body, b"linked");
}

/// GitLab's own CI example ("Use a generic package for attaching binaries"), its
/// script lines as written; `git release create` stands where `release-cli create` is.
const SEED_BUILD: &str = r#"mkdir bin
echo "Mock binary for ${DARWIN_AMD64_BINARY}" > bin/${DARWIN_AMD64_BINARY}
echo "Mock binary for ${LINUX_AMD64_BINARY}" > bin/${LINUX_AMD64_BINARY}
"#;
const SEED_UPLOAD: [&str; 2] = [
    r#"curl --header "JOB-TOKEN: ${CI_JOB_TOKEN}" --upload-file bin/${DARWIN_AMD64_BINARY} ${PACKAGE_REGISTRY_URL}/${DARWIN_AMD64_BINARY}"#,
    r#"curl --header "JOB-TOKEN: ${CI_JOB_TOKEN}" --upload-file bin/${LINUX_AMD64_BINARY} ${PACKAGE_REGISTRY_URL}/${LINUX_AMD64_BINARY}"#,
];
const SEED_RELEASE: &str = r#"release-cli create --name "Release $CI_COMMIT_TAG" --tag-name $CI_COMMIT_TAG \
  --assets-link "{\"name\":\"${DARWIN_AMD64_BINARY}\",\"url\":\"${PACKAGE_REGISTRY_URL}/${DARWIN_AMD64_BINARY}\"}" \
  --assets-link "{\"name\":\"${LINUX_AMD64_BINARY}\",\"url\":\"${PACKAGE_REGISTRY_URL}/${LINUX_AMD64_BINARY}\"}"
"#;

/// `sh -c script` in `dir` with the job's variables, `git release` on the PATH.
fn job(repo: &Repo, dir: &Path, vars: &[(&str, String)], script: &str) -> String {
    let bin = assert_cmd::cargo::cargo_bin!("git-release");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("sh");
    repo.env.apply(&mut cmd);
    let out = cmd
        .current_dir(dir)
        .env("PATH", path)
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .args(["-ec", script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn gitlab_ci_generic_package_example_runs_verbatim_against_serve() {
    let env = Env::new();
    let (repo, server) = writable(&env);
    repo.git(["tag", "v0.0.1"]);
    // The project's web URL on this server: its package links resolve offline.
    repo.git([
        "config",
        "release.webUrl",
        &format!("{}/group/proj", server.base),
    ]);
    let version = "0.0.1".to_owned();
    // As the example's `variables:` build it from GitLab's predefined ones.
    let api = format!("{}/api/v4", server.base);
    let registry = format!("{api}/projects/1/packages/generic/myawesomerelease/{version}");
    let vars = [
        ("CI_API_V4_URL", api.clone()),
        ("CI_PROJECT_ID", "1".to_owned()),
        ("CI_JOB_TOKEN", TOKEN.to_owned()),
        ("CI_COMMIT_TAG", "v0.0.1".to_owned()),
        ("PACKAGE_VERSION", version.clone()),
        (
            "DARWIN_AMD64_BINARY",
            format!("myawesomerelease-darwin-amd64-{version}"),
        ),
        (
            "LINUX_AMD64_BINARY",
            format!("myawesomerelease-linux-amd64-{version}"),
        ),
        ("PACKAGE_REGISTRY_URL", registry.clone()),
    ];
    let work = env.path().join("job");
    std::fs::create_dir(&work).unwrap();
    job(&repo, &work, &vars, SEED_BUILD);
    for line in SEED_UPLOAD {
        let out = job(&repo, &work, &vars, line);
        assert!(out.contains("201 Created"), "{out}");
    }
    job(
        &repo,
        repo.path(),
        &vars,
        &SEED_RELEASE.replacen("release-cli create", "git release create", 1),
    );

    let release = server.get("/api/v4/projects/1/releases/v0.0.1").json();
    assert_eq!(release["name"], "Release v0.0.1");
    let links = release["assets"]["links"].as_array().unwrap();
    assert_eq!(links.len(), 2, "{release}");
    for (name, os) in [
        ("myawesomerelease-darwin-amd64-0.0.1", "darwin"),
        ("myawesomerelease-linux-amd64-0.0.1", "linux"),
    ] {
        let expected = format!("Mock binary for myawesomerelease-{os}-amd64-0.0.1\n");
        assert_eq!(
            std::fs::read(work.join("bin").join(name)).unwrap(),
            expected.as_bytes()
        );
        let link: &Value = links.iter().find(|l| l["name"] == name).unwrap();
        assert_eq!(link["url"], format!("{registry}/{name}"));
        // Downloaded back: the link's URL, by curl as the job would.
        let url = link["url"].as_str().unwrap();
        let out = Command::new("curl").args(["-sSf", url]).output().unwrap();
        assert!(out.status.success(), "{url}");
        assert_eq!(out.stdout, expected.as_bytes());
        // And by `git release download`, from the package store, offline.
        repo.release_ok(["download", "v0.0.1", "--name", name, "-D", "dl"]);
        let back = std::fs::read(repo.path().join("dl").join(name)).unwrap();
        assert_eq!(back, expected.as_bytes());
    }
    drop(server);
    // With the server gone, every link is still verified from the store.
    let out = repo.release_ok(["verify"]);
    assert!(out.contains("1 ok, 0 failed"), "{out}");
    repo.assert_fsck_clean();
}

/// The server's peak resident memory so far (`VmHWM`), in MiB.
fn peak_mib(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib / 1024
}

/// A package file packed as a fetch or `git gc` leaves it is read a chunk at a time:
/// libgit2 would otherwise keep every page of the pack it touched mapped (1 GiB
/// windows, up to 8 GiB), and serving a 192 MiB file took more than 192 MiB.
#[test]
fn a_packed_package_file_is_served_in_bounded_memory() {
    let env = Env::new();
    let repo = project(&env);
    let file = env.path().join("big.bin");
    let made = Command::new("head")
        .args(["-c", &(192u64 << 20).to_string(), "/dev/urandom"])
        .stdout(std::fs::File::create(&file).unwrap())
        .status()
        .unwrap();
    assert!(made.success());
    repo.release_ok(["package", "upload", "big", "1.0", file.to_str().unwrap()]);
    // No deltas to look for in random bytes: packed as they are, quickly.
    repo.git(["repack", "-a", "-d", "-q", "--window=0"]);
    let packed = repo.git(["count-objects", "-v"]);
    assert!(packed.lines().any(|l| l == "count: 0"), "{packed}");
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&repo, &[]);
    let back = env.path().join("back.bin");
    let out = Command::new("curl")
        .args(["-sSf", "-o"])
        .arg(&back)
        .arg(format!("{}{API}/generic/big/1.0/big.bin", server.base))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let same = Command::new("cmp").arg(&file).arg(&back).status().unwrap();
    assert!(same.success(), "the bytes came back different");
    let peak = peak_mib(&server);
    // Mapped whole it would be the file's size plus the server's own (about 40 MiB);
    // streamed through git cat-file it is the server's own, whatever the file's size.
    assert!(
        peak < 100,
        "serving a packed 192 MiB file peaked at {peak} MiB"
    );
}

/// The calls GitLab's generic package documentation shows, made by curl as written
/// there (only the placeholders set): `--location`, the token in `PRIVATE-TOKEN` or as
/// HTTP Basic's password, the project by its URL-encoded path, `?select=package_file`,
/// `?status=hidden`, a body of unknown length (chunked, from a pipe), `--output`.
const DOCUMENTED_CALLS: &str = r#"mkdir -p path/to
printf 'documented\n' > path/to/file.txt
curl --fail --location --header "PRIVATE-TOKEN: ${TOKEN}" --upload-file path/to/file.txt "${API}/projects/24/packages/generic/my_package/0.0.1/file.txt"
curl --fail --location --user "anyone:${TOKEN}" --upload-file path/to/file.txt "${API}/projects/group%2Fproj/packages/generic/my_package/0.0.1/basic.txt"
curl --fail --location --header "PRIVATE-TOKEN: ${TOKEN}" --upload-file path/to/file.txt "${API}/projects/24/packages/generic/my_package/0.0.1/file.txt?select=package_file" > selected.json
curl --fail --location --header "PRIVATE-TOKEN: ${TOKEN}" --upload-file path/to/file.txt "${API}/projects/24/packages/generic/internal/0.0.1/file.txt?status=hidden"
cat path/to/file.txt | curl --fail --location --header "PRIVATE-TOKEN: ${TOKEN}" --upload-file - "${API}/projects/24/packages/generic/piped/0.0.1/file.txt"
curl --fail --location --header "PRIVATE-TOKEN: ${TOKEN}" --output downloaded.txt "${API}/projects/24/packages/generic/my_package/0.0.1/file.txt"
curl --fail --location --user "anyone:${TOKEN}" --output hidden.txt "${API}/projects/24/packages/generic/internal/0.0.1/file.txt"
curl --fail --location --header "PRIVATE-TOKEN: ${TOKEN}" --output piped.txt "${API}/projects/group%2Fproj/packages/generic/piped/0.0.1/file.txt"
"#;

#[test]
fn gitlabs_documented_curl_calls_work_and_hidden_packages_stay_out_of_the_lists() {
    let env = Env::new();
    let (repo, server) = writable(&env);
    // This server's project is number 1: the docs' 24 is set the way a reader would.
    let script = DOCUMENTED_CALLS.replace("/projects/24/", "/projects/1/");
    let work = env.path().join("docs");
    std::fs::create_dir(&work).unwrap();
    let vars = [
        ("TOKEN", TOKEN.to_owned()),
        ("API", format!("{}/api/v4", server.base)),
    ];
    job(&repo, &work, &vars, &script);
    for copy in ["downloaded.txt", "hidden.txt", "piped.txt"] {
        assert_eq!(
            std::fs::read(work.join(copy)).unwrap(),
            b"documented\n",
            "{copy}"
        );
    }
    let selected: Value =
        serde_json::from_slice(&std::fs::read(work.join("selected.json")).unwrap()).unwrap();
    assert_eq!(selected["file_name"], "file.txt");
    assert_eq!(selected["file_sha256"], sha256(b"documented\n"));
    assert_eq!(selected["size"], 11);

    // The hidden package is left out of the list unless asked for by status.
    let names = |path: &str| -> Vec<String> {
        let list = server.get(path).json();
        list.as_array()
            .unwrap_or_else(|| panic!("{path}: {list}"))
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(&format!("{API}?order_by=name")),
        ["my_package", "piped"]
    );
    assert_eq!(names(&format!("{API}?status=hidden")), ["internal"]);
    assert_eq!(
        names(&format!("{API}?status=default&package_name=pip")),
        ["piped"]
    );
    assert_eq!(
        names(&format!("{API}?package_version=0.0.1&order_by=name")),
        ["my_package", "piped"]
    );
    assert!(names(&format!("{API}?package_version=0.0.2")).is_empty());
    assert!(names(&format!("{API}?status=error")).is_empty());
    assert_eq!(server.get(&format!("{API}?status=bogus")).status, 400);
    let hidden = &server.get(&format!("{API}?status=hidden")).json()[0];
    assert_eq!(hidden["status"], "hidden");
    let id = hidden["id"].as_u64().unwrap();
    assert_eq!(
        server.get(&format!("{API}/{id}")).json()["status"],
        "hidden"
    );
    // An upload with `?status=default` shows it again; one without leaves it as it is.
    let auth = [("PRIVATE-TOKEN", TOKEN)];
    assert_eq!(
        put(&server, "internal/0.0.1/more.txt", &auth, b"x").status,
        201
    );
    assert_eq!(names(&format!("{API}?status=hidden")), ["internal"]);
    assert_eq!(
        put(
            &server,
            "internal/0.0.1/more.txt?status=default",
            &auth,
            b"y"
        )
        .status,
        201
    );
    assert!(names(&format!("{API}?status=hidden")).is_empty());
    assert_eq!(
        put(
            &server,
            "internal/0.0.1/more.txt?status=secret",
            &auth,
            b"z"
        )
        .status,
        400
    );
    // The other project path forms named the same packages: three files in one.
    let my = server.get(&format!("{API}?package_name=my_package")).json();
    let files = server
        .get(&format!("{API}/{}/package_files", my[0]["id"]))
        .json();
    let file_names: Vec<&str> = files
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file_name"].as_str().unwrap())
        .collect();
    assert_eq!(file_names, ["file.txt", "basic.txt", "file.txt"]);
    repo.assert_fsck_clean();
}

#[test]
#[ignore = "needs python-gitlab (tests/requirements.txt); .ci/run runs it"]
fn python_gitlab_uploads_and_downloads_generic_packages() {
    let venv = tools::venv("gitlab");
    let env = Env::new();
    let (repo, server) = writable(&env);
    let file = env.path().join("payload.bin");
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&file, &bytes).unwrap();
    let script = r#"
import sys, gitlab
url, token, path = sys.argv[1:4]
gl = gitlab.Gitlab(url, private_token=token)
project = gl.projects.get(1, lazy=True)
package = project.generic_packages.upload(
    package_name="tool", package_version="2.0.1", file_name="tool.bin", path=path)
print("uploaded", package.to_json())
data = project.generic_packages.download(
    package_name="tool", package_version="2.0.1", file_name="tool.bin")
open(path + ".back", "wb").write(data)
streamed = open(path + ".streamed", "wb")
project.generic_packages.download(
    package_name="tool", package_version="2.0.1", file_name="tool.bin",
    streamed=True, action=streamed.write)
streamed.close()
names = [p.name for p in project.packages.list(get_all=True)]
assert names == ["tool"], names
files = project.packages.get(project.packages.list()[0].id).package_files.list()
assert [f.file_name for f in files] == ["tool.bin"], files
# A second package, removed again with the package API's DELETE.
project.generic_packages.upload(
    package_name="gone", package_version="1.0", file_name="gone.bin", path=path)
gone = [p for p in project.packages.list(get_all=True) if p.name == "gone"][0]
project.packages.delete(gone.id)
names = [p.name for p in project.packages.list(get_all=True)]
assert names == ["tool"], names
print("checks passed")
"#;
    let out = Command::new(venv.join("bin/python"))
        .env_clear()
        .env("HOME", env.path())
        .env("LC_ALL", "C.UTF-8")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .args(["-c", script, &server.base, TOKEN])
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("checks passed"),
        "{}{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    assert!(std::fs::read(env.path().join("payload.bin.back")).unwrap() == bytes);
    assert!(std::fs::read(env.path().join("payload.bin.streamed")).unwrap() == bytes);
    // What the client stored is what plain git holds.
    let reference = format!("refs/release-packages/tool/2.0.1/{}", sha256(&bytes));
    assert!(repo.ref_exists(&reference));
    let listed = repo.release_ok(["package", "list", "tool", "2.0.1", "--json"]);
    assert!(listed.contains(&sha256(&bytes)), "{listed}");
    assert!(!repo.release_ok(["package", "list"]).contains("gone"));

    // python-gitlab's `gitlab` command, configured as its users configure it.
    let config = env.path().join("python-gitlab.cfg");
    std::fs::write(
        &config,
        format!(
            "[global]\ndefault = here\n[here]\nurl = {}\nprivate_token = {TOKEN}\napi_version = 4\n",
            server.base
        ),
    )
    .unwrap();
    let gitlab = |args: &[&str]| {
        let out = Command::new(venv.join("bin/gitlab"))
            .env_clear()
            .env("HOME", env.path())
            .env("LC_ALL", "C.UTF-8")
            .arg("-c")
            .arg(&config)
            .args(args)
            .current_dir(env.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "gitlab {args:?}: {}\nserver log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            server.log()
        );
        out.stdout
    };
    let common = [
        "--project-id",
        "1",
        "--package-name",
        "cli",
        "--package-version",
        "3.0",
        "--file-name",
        "cli.bin",
    ];
    gitlab(
        &[
            &["generic-package", "upload"],
            &common[..],
            &["--path", "payload.bin"],
        ]
        .concat(),
    );
    let back = gitlab(&[&["generic-package", "download"], &common[..]].concat());
    assert!(back == bytes, "the gitlab command downloaded other bytes");
    let listed = gitlab(&["-o", "json", "project-package", "list", "--project-id", "1"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    // Oldest first, GitLab's default order.
    assert_eq!(names, ["tool", "cli"]);
    let cli = format!("refs/release-packages/cli/3.0/{}", sha256(&bytes));
    assert!(repo.ref_exists(&cli));
    repo.assert_fsck_clean();
}

#[test]
fn publishing_needs_a_developer_and_deleting_a_maintainer_in_every_way_a_token_comes() {
    let env = Env::new();
    let repo = project(&env);
    let tokens = env.path().join("tokens.toml");
    std::fs::write(&tokens, ROLE_TOKENS).unwrap();
    use base64::Engine;
    let basic = |token: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("user:{token}"))
        )
    };
    let private = start(
        &repo,
        &[
            "--tokens",
            tokens.to_str().unwrap(),
            "--require-token-for-reads",
        ],
    );
    let before = state(&repo);
    for token in ["guest-token", "reporter-token"] {
        for header in [
            ("DEPLOY-TOKEN", token.to_owned()),
            ("Authorization", basic(token)),
        ] {
            let reply = put(
                &private,
                "app/1.0/f",
                &[(header.0, header.1.as_str())],
                b"x",
            );
            assert_eq!(reply.status, 403, "{token} {header:?}");
        }
    }
    assert_eq!(state(&repo), before, "nothing stored");
    let reply = put(
        &private,
        "app/1.0/f",
        &[("DEPLOY-TOKEN", "developer-token")],
        b"x",
    );
    assert_eq!(reply.status, 201);
    let file = format!("{API}/generic/app/1.0/f");
    // A private project's packages: Reporter and above, as its repository.
    assert_eq!(private.get(&file).status, 401);
    let read = |token: &str| {
        private
            .call_with("GET", &file, &[("JOB-TOKEN", token)])
            .status
    };
    assert_eq!(read("guest-token"), 403);
    assert_eq!(read("reporter-token"), 200);
    let id = private
        .call_with("GET", API, &[("PRIVATE-TOKEN", "reporter-token")])
        .json()[0]["id"]
        .as_u64()
        .unwrap();
    let delete = |token: &str| {
        private
            .call_with(
                "DELETE",
                &format!("{API}/{id}"),
                &[("Authorization", basic(token).as_str())],
            )
            .status
    };
    assert_eq!(delete("developer-token"), 403);
    assert_eq!(
        read("reporter-token"),
        200,
        "a refused delete deletes nothing"
    );
    assert_eq!(delete("maintainer-token"), 204);
    assert_eq!(read("reporter-token"), 404);
}

/// What semantic-release's GitLab plugin does with `generic_package` assets: upload
/// with `?status=…&select=package_file`, link the release to
/// `<project>/-/package_files/<id>/download` (GitLab's page URL of that upload), and
/// expect that URL, and the release's asset URL, to give the bytes.
#[test]
fn a_package_file_is_downloaded_by_its_id_as_gitlabs_pages_link_it() {
    let env = Env::new();
    let (repo, server) = writable(&env);
    let auth = [("PRIVATE-TOKEN", TOKEN)];
    let uploaded = put(
        &server,
        "release/1.0.0/app.tar.gz?status=default&select=package_file",
        &auth,
        b"first build\n",
    );
    assert_eq!(uploaded.status, 201, "{}", server.log());
    let file_id = uploaded.json()["id"].as_u64().unwrap();
    let package_id = uploaded.json()["package_id"].as_u64().unwrap();
    let project = server.get("/api/v4/projects/1").json();
    let path = project["path_with_namespace"].as_str().unwrap().to_owned();
    let url = format!("{}/{path}/-/package_files/{file_id}/download", server.base);
    repo.release_ok(["create", "v1.0.0", "--ref", "HEAD", "--notes", "x"]);
    let link = server.send(
        "POST",
        "/api/v4/projects/1/releases/v1.0.0/assets/links",
        &[
            ("PRIVATE-TOKEN", TOKEN),
            ("Content-Type", "application/json"),
        ],
        serde_json::json!({
            "name": "app.tar.gz", "url": url, "link_type": "package",
            "direct_asset_path": "/app.tar.gz"
        })
        .to_string()
        .as_bytes(),
    );
    assert_eq!(link.status, 201, "{}", String::from_utf8_lossy(&link.body));
    // A later upload of the same name is another file: the link keeps naming its own.
    assert_eq!(
        put(
            &server,
            "release/1.0.0/app.tar.gz",
            &auth,
            b"second build\n"
        )
        .status,
        201
    );
    let direct = server.get(&format!("/{path}/-/package_files/{file_id}/download"));
    assert_eq!(direct.status, 200, "{}", server.log());
    assert_eq!(direct.body, b"first build\n");
    assert_eq!(direct.header("x-checksum-sha256"), sha256(b"first build\n"));
    let asset = server.get(&format!("/{path}/-/releases/v1.0.0/downloads/app.tar.gz"));
    assert_eq!(asset.status, 200, "{}", server.log());
    assert_eq!(asset.body, b"first build\n");
    // The package's web_path leads to its JSON.
    let page = server.get(&format!("/{path}/-/packages/{package_id}"));
    assert_eq!(page.status, 302);
    assert_eq!(
        page.header("location"),
        format!("{}{API}/{package_id}", server.base)
    );
    for missing in ["999", "x1", "-1"] {
        let reply = server.get(&format!("/{path}/-/package_files/{missing}/download"));
        assert_eq!(reply.status, 404, "{missing}");
    }
    repo.assert_fsck_clean();
}
