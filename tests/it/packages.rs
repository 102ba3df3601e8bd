//! `git release package …`: generic packages kept in the repository, through two
//! clones and one bare remote, with plain git as the oracle for the refs and objects
//! they leave.

use serde_json::Value;

use crate::support::{Env, Repo};

const WEB_URL: &str = "https://git.example.com/group/proj";

/// A bare remote with one commit, and two clones of it that know the project's web
/// URL (which makes the package URLs theirs).
fn two_clones(env: &Env) -> (Repo<'_>, Repo<'_>) {
    let seed = env.repo("seed");
    seed.commit("one", &[("f", "1")]);
    seed.git(["clone", "-q", "--bare", ".", "../remote.git"]);
    for name in ["a", "b"] {
        env.at(env.path()).git(["clone", "-q", "remote.git", name]);
    }
    let (a, b) = (env.at(env.path().join("a")), env.at(env.path().join("b")));
    for repo in [&a, &b] {
        repo.git(["config", "release.webUrl", WEB_URL]);
    }
    (a, b)
}

fn one_repo(env: &Env) -> Repo<'_> {
    let repo = env.repo("r");
    repo.commit("one", &[("f", "1")]);
    repo.git(["config", "release.webUrl", WEB_URL]);
    repo
}

/// Bytes that compress badly and differ from file to file.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn package_refs(repo: &Repo) -> Vec<String> {
    repo.git([
        "for-each-ref",
        "--format=%(refname)",
        "refs/release-packages/",
    ])
    .lines()
    .map(str::to_owned)
    .collect()
}

fn remote_package_refs(repo: &Repo) -> Vec<String> {
    repo.git(["ls-remote", "--refs", "origin", "refs/release-packages/*"])
        .lines()
        .filter_map(|l| l.split('\t').nth(1))
        .map(str::to_owned)
        .collect()
}

/// Deletes a loose object by hand, as a damaged or careless clone may have lost it.
fn remove_loose_object(repo: &Repo, id: &str) {
    let path = repo
        .path()
        .join(".git/objects")
        .join(&id[..2])
        .join(&id[2..]);
    std::fs::remove_file(path).unwrap();
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn files_are_stored_in_chunks_under_refs_of_their_own_and_come_back_checked() {
    let env = Env::new();
    let repo = one_repo(&env);
    // Larger than one 16 MiB chunk: two blobs, neither above the chunk size.
    let big = noise(1, (16 << 20) + 12345);
    repo.write("app-linux", &big);
    repo.write("notes.txt", "read me\n");
    let out = repo.release_ok([
        "package",
        "upload",
        "app",
        "1.2.3",
        "app-linux",
        "notes.txt",
    ]);
    assert!(
        out.contains("Uploaded app-linux (16.0 MiB) to package app 1.2.3"),
        "{out}"
    );

    let digest = sha256(&big);
    let reference = format!("refs/release-packages/app/1.2.3/{digest}");
    assert!(
        package_refs(&repo).contains(&reference),
        "{:?}",
        package_refs(&repo)
    );
    // The ref is a commit whose tree holds numbered chunks; plain git concatenates them
    // back into the file.
    let tree = repo.git(["ls-tree", "-l", &reference]);
    let chunks: Vec<&str> = tree.lines().collect();
    assert_eq!(chunks.len(), 2, "{tree}");
    assert!(
        chunks[0].ends_with("\t00000000") && chunks[1].ends_with("\t00000001"),
        "{tree}"
    );
    assert!(chunks[0].contains(&format!(" {}\t", 16 << 20)), "{tree}");
    let mut joined = repo.git_raw(["cat-file", "blob", &format!("{reference}:00000000")]);
    joined.extend(repo.git_raw(["cat-file", "blob", &format!("{reference}:00000001")]));
    assert!(joined == big, "the chunks are the file");
    repo.assert_fsck_clean();

    // The store records size and digests; --json is GitLab's package file entity.
    let files = json(&repo.release_ok(["package", "list", "app", "1.2.3", "--json"]));
    let file = files
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file_name"] == "app-linux")
        .unwrap();
    assert_eq!(file["size"], big.len() as u64);
    assert_eq!(file["file_sha256"], digest);
    assert_eq!(file["package_id"], 1);
    let packages = json(&repo.release_ok(["package", "list", "--json"]));
    assert_eq!(packages[0]["name"], "app");
    assert_eq!(packages[0]["version"], "1.2.3");
    assert_eq!(packages[0]["package_type"], "generic");

    // Downloads: to a directory, and to standard output.
    repo.release_ok(["package", "download", "app", "1.2.3", "-D", "out"]);
    assert!(std::fs::read(repo.path().join("out/app-linux")).unwrap() == big);
    let out = repo
        .release_command()
        .args([
            "package",
            "download",
            "app",
            "1.2.3",
            "notes.txt",
            "-o",
            "-",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, b"read me\n");
    // An existing file is kept unless --force.
    let err = repo.release_err(
        1,
        [
            "package",
            "download",
            "app",
            "1.2.3",
            "notes.txt",
            "-D",
            "out",
        ],
    );
    assert!(err.contains("already exists"), "{err}");

    // The same bytes under another name share the ref; deleting one keeps it.
    repo.write("copy", &big);
    repo.release_ok(["package", "upload", "app", "1.2.3", "copy"]);
    assert_eq!(package_refs(&repo).len(), 2);
    repo.release_ok(["package", "delete", "app", "1.2.3", "copy", "-y"]);
    assert!(package_refs(&repo).contains(&reference));
    repo.release_ok(["package", "delete", "app", "1.2.3", "-y"]);
    assert!(package_refs(&repo).is_empty());
    let err = repo.release_err(1, ["package", "list", "app", "1.2.3"]);
    assert!(err.contains("package app 1.2.3 not found"), "{err}");
    repo.assert_fsck_clean();
}

#[test]
fn names_versions_and_file_names_gitlab_refuses_are_refused_and_nothing_is_stored() {
    let env = Env::new();
    let repo = one_repo(&env);
    repo.write("ok.bin", "x");
    repo.write("bad name.bin", "x");
    let before = repo.git(["for-each-ref"]);
    for (args, what) in [
        (vec!["a/b", "1.0", "ok.bin"], "package name"),
        (vec!["..", "1.0", "ok.bin"], "package name"),
        (vec!["app", "1..0", "ok.bin"], "package version"),
        (vec!["app", "1.0~rc1", "ok.bin"], "package version"),
        (vec!["app", "", "ok.bin"], "package version"),
    ] {
        let mut full = vec!["package", "upload"];
        full.extend(args);
        let err = repo.release_err(2, &full);
        assert!(err.contains(what), "{full:?}: {err}");
    }
    let err = repo.release_err(
        1,
        ["package", "upload", "app", "1.0", "ok.bin", "bad name.bin"],
    );
    assert!(
        err.contains("invalid package file name \"bad name.bin\""),
        "{err}"
    );
    let err = repo.release_err(1, ["package", "upload", "app", "1.0", "ok.bin", "missing"]);
    assert!(err.contains("missing"), "{err}");
    assert_eq!(repo.git(["for-each-ref"]), before, "nothing was stored");
    // Names git refuses in a ref are still GitLab's to take: encoded.
    repo.release_ok(["package", "upload", "x.lock", ".1", "ok.bin"]);
    let refs = package_refs(&repo);
    assert!(
        refs[0].starts_with("refs/release-packages/x%2Elock/%2E1/"),
        "{refs:?}"
    );
    repo.assert_fsck_clean();
}

#[test]
fn a_file_linked_from_a_release_is_never_replaced_but_others_are_added_anew() {
    let env = Env::new();
    let repo = one_repo(&env);
    repo.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    repo.write("app", "one");
    repo.write("extra", "first");
    let out = repo.release_ok([
        "package",
        "upload",
        "app",
        "1.0",
        "app",
        "--release",
        "v1.0",
    ]);
    assert!(out.contains("linked from release v1.0"), "{out}");
    let links = json(&repo.release_ok(["link", "list", "v1.0", "--json"]));
    assert_eq!(links[0]["name"], "app");
    assert_eq!(links[0]["link_type"], "package");
    assert_eq!(
        links[0]["url"],
        "https://git.example.com/api/v4/projects/1/packages/generic/app/1.0/app"
    );
    assert_eq!(
        links[0]["direct_asset_url"],
        "https://git.example.com/group/proj/-/releases/v1.0/downloads/packages/app/app"
    );

    let before = repo.git(["for-each-ref"]);
    repo.write("app", "two");
    let err = repo.release_err(1, ["package", "upload", "app", "1.0", "app"]);
    assert!(err.contains("Duplicate package is not allowed"), "{err}");
    assert!(err.contains("release v1.0"), "{err}");
    assert_eq!(repo.git(["for-each-ref"]), before, "nothing was stored");

    // A file no release links to is added again, and the newest is downloaded.
    repo.release_ok(["package", "upload", "app", "1.0", "extra"]);
    repo.write("extra", "second");
    repo.release_ok(["package", "upload", "app", "1.0", "extra"]);
    let files = json(&repo.release_ok(["package", "list", "app", "1.0", "--json"]));
    assert_eq!(files.as_array().unwrap().len(), 3);
    let out = repo
        .release_command()
        .args(["package", "download", "app", "1.0", "extra", "-o", "-"])
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"second");

    // The release's own download reads the package store, checked.
    repo.release_ok(["download", "v1.0", "-D", "dl"]);
    assert_eq!(std::fs::read(repo.path().join("dl/app")).unwrap(), b"one");
    // Evidence records the package file's SHA-256.
    repo.release_ok(["evidence", "collect", "v1.0"]);
    let evidence = json(&repo.release_ok(["evidence", "show", "v1.0", "--json"]));
    let link = &evidence["git_release"]["links"][0];
    assert_eq!(link["package"]["file_sha256"], sha256(b"one"));
    assert_eq!(link["package"]["name"], "app");
}

#[test]
fn packages_travel_only_when_asked_and_the_other_clone_downloads_and_verifies() {
    let env = Env::new();
    let (a, b) = two_clones(&env);
    let bytes = noise(7, 300_000);
    a.write("app.bin", &bytes);
    a.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    a.release_ok([
        "package",
        "upload",
        "app",
        "1.0",
        "app.bin",
        "--release",
        "v1.0",
    ]);

    // A plain push sends the release, not the bytes.
    a.release_ok(["push"]);
    assert!(remote_package_refs(&a).is_empty());
    b.release_ok(["fetch"]);
    assert!(
        package_refs(&b).is_empty(),
        "an ordinary fetch brings no package"
    );
    // Not fetched here is a notice, never a failure.
    let out = b.release_ok(["verify"]);
    assert!(out.contains("is not fetched here"), "{out}");
    assert!(out.contains("1 ok, 0 failed"), "{out}");

    a.release_ok(["push", "--packages"]);
    let reference = format!("refs/release-packages/app/1.0/{}", sha256(&bytes));
    assert_eq!(remote_package_refs(&a), vec![reference.clone()]);

    // The other clone's download fetches that one package, and checks it.
    b.release_ok(["download", "v1.0", "-D", "dl"]);
    assert!(std::fs::read(b.path().join("dl/app.bin")).unwrap() == bytes);
    assert_eq!(package_refs(&b), vec![reference.clone()]);
    let out = b.release_ok(["verify"]);
    assert!(!out.contains("not fetched"), "{out}");
    b.assert_fsck_clean();

    // fetch --packages brings every package the store records.
    let c = env.at(env.path().join("c"));
    env.at(env.path()).git(["clone", "-q", "remote.git", "c"]);
    c.git(["config", "release.webUrl", WEB_URL]);
    c.release_ok(["fetch", "--packages"]);
    assert_eq!(package_refs(&c), vec![reference.clone()]);

    // A deleted package's bytes leave the remote with the next push --packages.
    a.release_ok(["package", "delete", "app", "1.0", "-y"]);
    a.release_ok(["push", "--packages"]);
    assert!(remote_package_refs(&a).is_empty());
    // b still links to it: verify says it is missing.
    b.release_ok(["fetch"]);
    let out = b.release_err(1, ["verify"]);
    assert!(out.is_empty() || out.contains("missing"), "{out}");
}

/// The kinds of problem `verify --json` reports for the first release.
fn problem_kinds(repo: &Repo) -> Vec<String> {
    let out = repo.release(["verify", "--json"]);
    let report = json(&String::from_utf8(out.stdout).unwrap());
    report["releases"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn verify_tells_missing_and_different_package_files_apart() {
    let env = Env::new();
    let repo = one_repo(&env);
    repo.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    repo.write("a.bin", "aaaa");
    repo.write("b.bin", "bbbb");
    repo.release_ok([
        "package",
        "upload",
        "app",
        "1.0",
        "a.bin",
        "b.bin",
        "--release",
        "v1.0",
    ]);
    assert!(problem_kinds(&repo).is_empty());
    let a_ref = format!("refs/release-packages/app/1.0/{}", sha256(b"aaaa"));
    let b_ref = format!("refs/release-packages/app/1.0/{}", sha256(b"bbbb"));
    let (a_commit, b_commit) = (repo.rev(&a_ref), repo.rev(&b_ref));

    // Other bytes under a.bin's ref: different.
    repo.git(["update-ref", &a_ref, &b_commit]);
    let out = String::from_utf8(repo.release(["verify"]).stdout).unwrap();
    assert!(
        out.contains("package link \"a.bin\" of release v1.0 has SHA-256"),
        "{out}"
    );
    assert!(out.contains(&sha256(b"bbbb")), "{out}");
    repo.release_err(1, ["verify"]);
    assert_eq!(problem_kinds(&repo), ["package_different"]);
    // The download refuses them too, and writes nothing.
    let err = repo.release_err(1, ["download", "v1.0", "/packages/app/a.bin", "-D", "dl"]);
    assert!(err.contains("SHA-256"), "{err}");
    assert!(!repo.path().join("dl/a.bin").exists());
    repo.git(["update-ref", &a_ref, &a_commit]);
    assert!(problem_kinds(&repo).is_empty());

    // A chunk whose object is gone: missing.
    let chunk = repo.rev(&format!("{b_ref}:00000000"));
    remove_loose_object(&repo, &chunk);
    assert_eq!(problem_kinds(&repo), ["package_missing"]);

    // A link to a file the store no longer records: missing too.
    repo.release_ok(["package", "delete", "app", "1.0", "a.bin", "-y"]);
    assert_eq!(problem_kinds(&repo), ["package_missing", "package_missing"]);
}

#[test]
fn a_link_resolves_to_the_package_store_only_when_its_url_is_this_projects() {
    let env = Env::new();
    let repo = one_repo(&env);
    repo.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    repo.write("app.bin", "the binary");
    repo.release_ok(["package", "upload", "app", "1.0", "app.bin"]);
    // The project named by its URL-encoded path, as GitLab's API takes it too.
    let ours =
        "https://git.example.com/api/v4/projects/group%2Fproj/packages/generic/app/1.0/app.bin";
    // The same path on another instance is somebody else's package.
    let theirs = "https://elsewhere.example.org/api/v4/projects/1/packages/generic/app/1.0/app.bin";
    for (name, url) in [("ours", ours), ("theirs", theirs)] {
        repo.release_ok([
            "link",
            "add",
            "v1.0",
            "--name",
            name,
            "--url",
            url,
            "--direct-asset-path",
            &format!("/bin/{name}"),
        ]);
    }
    // Offline: git.example.com is never asked.
    repo.release_ok(["download", "v1.0", "/bin/ours", "-D", "dl"]);
    assert_eq!(
        std::fs::read(repo.path().join("dl/ours")).unwrap(),
        b"the binary"
    );
    repo.release_ok(["evidence", "collect", "v1.0"]);
    let evidence = json(&repo.release_ok(["evidence", "show", "v1.0", "--json"]));
    let links = evidence["git_release"]["links"].as_array().unwrap();
    let by_name = |n: &str| links.iter().find(|l| l["name"] == n).unwrap();
    assert_eq!(
        by_name("ours")["package"]["file_sha256"],
        sha256(b"the binary")
    );
    assert!(
        by_name("theirs").get("package").is_none_or(Value::is_null),
        "{evidence}"
    );
    assert!(problem_kinds(&repo).is_empty());
    // With the package gone, only our link is missing; theirs is not ours to check.
    repo.release_ok(["package", "delete", "app", "1.0", "-y"]);
    let out = String::from_utf8(repo.release(["verify"]).stdout).unwrap();
    assert!(out.contains("package link \"ours\""), "{out}");
    assert!(!out.contains("\"theirs\""), "{out}");
    assert_eq!(problem_kinds(&repo), ["package_missing"]);
}

/// Chunks are read through plain git: chunks git stored as deltas of another version's
/// come back whole, and a chunk that is missing or larger than a chunk may be is named,
/// with nothing saved.
#[test]
fn chunks_packed_as_deltas_come_back_whole_and_damaged_ones_are_named_with_nothing_saved() {
    let env = Env::new();
    let repo = one_repo(&env);
    let one = noise(7, (16 << 20) + 100);
    let mut two = one.clone();
    two[5] ^= 1;
    two[(16 << 20) + 3] ^= 1;
    repo.write("one.bin", &one);
    repo.write("two.bin", &two);
    repo.release_ok(["package", "upload", "app", "1.0", "one.bin"]);
    repo.release_ok(["package", "upload", "app", "2.0", "two.bin"]);
    repo.git([
        "repack",
        "-a",
        "-d",
        "-f",
        "-q",
        "--window=10",
        "--depth=10",
    ]);
    // Plain git stored one version's chunks as deltas of the other's.
    let objects = repo.git([
        "cat-file",
        "--batch-all-objects",
        "--batch-check=%(objecttype) %(objectsize) %(deltabase)",
    ]);
    let zero = "0".repeat(40);
    let deltas = objects
        .lines()
        .filter(|l| l.starts_with(&format!("blob {} ", 16 << 20)) && !l.ends_with(&zero))
        .count();
    assert_eq!(
        deltas, 1,
        "one first chunk is a delta of the other:\n{objects}"
    );
    for (version, file, bytes) in [("1.0", "one.bin", &one), ("2.0", "two.bin", &two)] {
        let out = format!("back-{version}");
        repo.release_ok(["package", "download", "app", version, file, "-o", &out]);
        assert!(
            std::fs::read(repo.path().join(&out)).unwrap() == *bytes,
            "{version} came back different"
        );
    }

    // A chunk whose object is gone (a loose object deleted by hand).
    repo.write("small.bin", noise(9, 100_000));
    repo.release_ok(["package", "upload", "app", "3.0", "small.bin"]);
    let reference = format!(
        "refs/release-packages/app/3.0/{}",
        sha256(&noise(9, 100_000))
    );
    let chunk = repo.rev(&format!("{reference}:00000000"));
    remove_loose_object(&repo, &chunk);
    let err = repo.release_err(
        1,
        [
            "package",
            "download",
            "app",
            "3.0",
            "small.bin",
            "-o",
            "gone.bin",
        ],
    );
    assert!(
        err.contains(&format!("chunk 0 ({chunk}) of {reference} is missing")),
        "{err}"
    );
    assert!(!repo.path().join("gone.bin").exists());

    // A chunk larger than a chunk may be (made with plain git in place of 1.0's) is
    // refused before it is read.
    repo.write("oversized", vec![b'x'; (16 << 20) + 1]);
    let blob = repo
        .git(["hash-object", "-w", "oversized"])
        .trim()
        .to_owned();
    let index = env.path().join("crafted-index");
    let mut add = repo.git_command([
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("100644,{blob},00000000"),
    ]);
    assert!(
        add.env("GIT_INDEX_FILE", &index)
            .status()
            .unwrap()
            .success()
    );
    let tree = repo
        .git_command(["write-tree"])
        .env("GIT_INDEX_FILE", &index)
        .output()
        .unwrap();
    let tree = String::from_utf8(tree.stdout).unwrap().trim().to_owned();
    let commit = repo
        .git(["commit-tree", &tree, "-m", "crafted"])
        .trim()
        .to_owned();
    let one_ref = format!("refs/release-packages/app/1.0/{}", sha256(&one));
    repo.git(["update-ref", &one_ref, &commit]);
    let err = repo.release_err(
        1,
        [
            "package", "download", "app", "1.0", "one.bin", "-o", "big.bin",
        ],
    );
    assert!(
        err.contains(&format!(
            "chunk 0 ({blob}) of {one_ref} holds {} bytes, more than a chunk may",
            (16 << 20) + 1
        )),
        "{err}"
    );
    assert!(!repo.path().join("big.bin").exists());
}

/// A link to one upload by its id, as GitLab's pages give it and release tools such as
/// semantic-release record it (`<project>/-/package_files/<id>/download`), resolves
/// offline to that upload, even after the file name is uploaded again.
#[test]
fn a_link_to_a_package_file_by_its_id_resolves_to_that_upload() {
    let env = Env::new();
    let repo = one_repo(&env);
    repo.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    repo.write("app.bin", "first build");
    let uploaded = json(&repo.release_ok(["package", "upload", "app", "1.0", "app.bin", "--json"]));
    let id = uploaded[0]["id"]
        .as_u64()
        .unwrap_or_else(|| panic!("{uploaded}"));
    let url = format!("{WEB_URL}/-/package_files/{id}/download");
    repo.release_ok([
        "link",
        "add",
        "v1.0",
        "--name",
        "app",
        "--url",
        &url,
        "--direct-asset-path",
        "/bin/app",
    ]);
    // The same file name again: a new upload, which the link does not name.
    repo.write("app.bin", "second build");
    repo.release_ok(["package", "upload", "app", "1.0", "app.bin"]);
    repo.release_ok(["download", "v1.0", "/bin/app", "-D", "dl"]);
    assert_eq!(
        std::fs::read(repo.path().join("dl/app")).unwrap(),
        b"first build"
    );
    repo.release_ok(["evidence", "collect", "v1.0"]);
    let evidence = json(&repo.release_ok(["evidence", "show", "v1.0", "--json"]));
    assert_eq!(
        evidence["git_release"]["links"][0]["package"]["file_sha256"],
        sha256(b"first build"),
        "{evidence}"
    );
    assert!(problem_kinds(&repo).is_empty());
    // An id no upload has is a missing package file, not somebody else's link.
    repo.release_ok([
        "link",
        "add",
        "v1.0",
        "--name",
        "gone",
        "--url",
        &format!("{WEB_URL}/-/package_files/999/download"),
        "--direct-asset-path",
        "/bin/gone",
    ]);
    let err = repo.release_err(1, ["download", "v1.0", "/bin/gone", "-D", "dl"]);
    assert!(err.contains("no package file has id 999"), "{err}");
    assert_eq!(problem_kinds(&repo), ["package_missing"]);
}
