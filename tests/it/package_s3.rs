//! Packages in S3-compatible storage, against a real S3-compatible server the test
//! starts: moto's `moto_server` (tests/requirements.txt), reached over plain HTTP the
//! way a MinIO or Garage on a LAN is. The server's own object API is the oracle for
//! what was stored.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::serve::{TOKEN, project, start};
use crate::support::{Env, Repo, tools};

const BUCKET: &str = "release-bin";

/// A running `moto_server`, killed when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start(venv: &Path, home: &Path) -> Moto {
        // A free port, given to moto (it cannot report one it chose itself).
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(venv.join("bin/moto_server"))
            .env_clear()
            .env("HOME", home)
            .env("PATH", venv.join("bin"))
            .env("LC_ALL", "C.UTF-8")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = moto.child.try_wait().unwrap() {
                panic!("moto_server exited: {status}");
            }
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let status = moto.request("PUT", &format!("/{BUCKET}"), None).0;
        assert_eq!(status, 200, "create bucket");
        moto
    }

    /// A request to the server's S3 API, signed (SigV4) by curl with the test's
    /// credentials: the server keeps objects private to their owner, as S3 does.
    fn request(&self, method: &str, path: &str, body: Option<&[u8]>) -> (u16, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("body");
        let mut cmd = Command::new("curl");
        cmd.args([
            "-sS",
            "--aws-sigv4",
            "aws:amz:us-east-1:s3",
            "--user",
            "testing:testing",
        ])
        .args(["-X", method, "-o"])
        .arg(&out)
        .args(["-w", "%{http_code}"])
        .arg(format!("{}{path}", self.endpoint));
        if let Some(body) = body {
            let file = dir.path().join("upload");
            std::fs::write(&file, body).unwrap();
            cmd.arg("--upload-file").arg(&file);
        }
        let done = cmd.output().unwrap();
        assert!(
            done.status.success(),
            "curl {method} {path}: {}",
            String::from_utf8_lossy(&done.stderr)
        );
        let status = String::from_utf8_lossy(&done.stdout).parse().unwrap();
        (status, std::fs::read(&out).unwrap_or_default())
    }

    /// The keys of the bucket (ListObjectsV2).
    fn keys(&self) -> Vec<String> {
        let (status, body) = self.request("GET", &format!("/{BUCKET}?list-type=2"), None);
        assert_eq!(status, 200);
        let text = String::from_utf8(body).unwrap();
        text.split("<Key>")
            .skip(1)
            .map(|s| s.split("</Key>").next().unwrap().to_owned())
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The standard AWS environment, pointed at `moto`.
fn aws_env(env: &Env, moto: &Moto) {
    env.set("AWS_ACCESS_KEY_ID", "testing");
    env.set("AWS_SECRET_ACCESS_KEY", "testing");
    env.set("AWS_REGION", "us-east-1");
    env.set("AWS_ENDPOINT_URL", &moto.endpoint);
    env.set("AWS_ALLOW_HTTP", "true");
}

fn problem_kinds(repo: &Repo) -> Vec<String> {
    let out = repo.release(["verify", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    report["releases"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
#[ignore = "needs moto[server] (tests/requirements.txt); .ci/run runs it"]
fn packages_live_in_s3_compatible_storage_checked_on_every_read() {
    let venv = tools::venv("moto");
    let env = Env::new();
    let moto = Moto::start(&venv, env.path());
    let repo = env.repo("r");
    repo.commit("one", &[("f", "1")]);
    repo.git([
        "config",
        "release.webUrl",
        "https://git.example.com/group/proj",
    ]);
    repo.git([
        "config",
        "release.packageStore",
        &format!("s3://{BUCKET}/releases"),
    ]);
    repo.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    // Three parts of a multipart upload, and a small file of one request.
    let big = noise(3, (20 << 20) + 777);
    repo.write("app.bin", &big);
    repo.write("notes.txt", "read me\n");

    // Plain http:// only when AWS_ALLOW_HTTP says so; nothing recorded before.
    aws_env(&env, &moto);
    env.set("AWS_ALLOW_HTTP", "false");
    let before = repo.git(["for-each-ref"]);
    repo.release_err(1, ["package", "upload", "app", "1.0", "notes.txt"]);
    assert_eq!(repo.git(["for-each-ref"]), before);
    assert!(moto.keys().is_empty());
    env.set("AWS_ALLOW_HTTP", "true");

    repo.release_ok([
        "package",
        "upload",
        "app",
        "1.0",
        "app.bin",
        "notes.txt",
        "--release",
        "v1.0",
    ]);
    // No bytes in the repository: only the records.
    assert!(
        repo.git(["for-each-ref", "refs/release-packages/"])
            .is_empty()
    );
    let files: Value =
        serde_json::from_str(&repo.release_ok(["package", "list", "app", "1.0", "--json"]))
            .unwrap();
    let keys = moto.keys();
    assert_eq!(keys.len(), 2, "{keys:?}");
    for key in &keys {
        assert!(key.starts_with("releases/app/1.0/"), "{key}");
    }
    let big_key = keys
        .iter()
        .find(|k| k.ends_with("/app.bin"))
        .unwrap()
        .clone();
    // What S3 holds is the file, byte for byte.
    let (status, held) = moto.request("GET", &format!("/{BUCKET}/{big_key}"), None);
    assert_eq!(status, 200);
    assert!(held == big, "the object is the file");
    let app = files
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file_name"] == "app.bin")
        .unwrap();
    assert_eq!(app["file_sha256"], sha256(&big));
    assert_eq!(app["size"], big.len() as u64);

    // Downloads, checked; the release's own download too.
    let out = repo
        .release_command()
        .args(["package", "download", "app", "1.0", "app.bin", "-o", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout == big);
    repo.release_ok(["download", "v1.0", "-D", "dl"]);
    assert!(std::fs::read(repo.path().join("dl/app.bin")).unwrap() == big);
    assert_eq!(
        std::fs::read(repo.path().join("dl/notes.txt")).unwrap(),
        b"read me\n"
    );
    assert!(problem_kinds(&repo).is_empty());

    // Other bytes under the object: different, and refused by every download.
    let notes_key = keys
        .iter()
        .find(|k| k.ends_with("/notes.txt"))
        .unwrap()
        .clone();
    let (status, body) = moto.request(
        "PUT",
        &format!("/{BUCKET}/{notes_key}"),
        Some(b"tampered\n"),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(problem_kinds(&repo), ["package_different"]);
    let err = repo.release_err(1, ["download", "v1.0", "-n", "notes.txt", "-D", "dl2"]);
    assert!(err.contains("SHA-256"), "{err}");
    assert!(!repo.path().join("dl2/notes.txt").exists());
    // The object gone: missing.
    let (status, _) = moto.request("DELETE", &format!("/{BUCKET}/{notes_key}"), None);
    assert_eq!(status, 204);
    assert_eq!(problem_kinds(&repo), ["package_missing"]);
    let err = repo.release_err(
        1,
        ["package", "download", "app", "1.0", "notes.txt", "-o", "-"],
    );
    assert!(err.contains("does not exist"), "{err}");

    // Deleting the package deletes its objects.
    repo.release_ok(["package", "delete", "app", "1.0", "-y"]);
    assert!(moto.keys().is_empty(), "{:?}", moto.keys());
}

#[test]
#[ignore = "needs moto[server] (tests/requirements.txt); .ci/run runs it"]
fn repository_packages_migrate_to_s3_and_serve_stores_there() {
    let venv = tools::venv("moto");
    let env = Env::new();
    let moto = Moto::start(&venv, env.path());
    let repo = project(&env);
    repo.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    let bytes = noise(9, 100_000);
    repo.write("tool", &bytes);
    repo.release_ok([
        "package",
        "upload",
        "tool",
        "1.0",
        "tool",
        "--release",
        "v1.0",
    ]);
    let reference = format!("refs/release-packages/tool/1.0/{}", sha256(&bytes));
    assert!(repo.ref_exists(&reference));

    // The endpoint and style from git config, the credentials from the environment.
    aws_env(&env, &moto);
    env.set("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    repo.git(["config", "release.packageStore", &format!("s3://{BUCKET}")]);
    repo.git(["config", "release.packageStoreEndpoint", &moto.endpoint]);
    let out = repo.release_ok(["package", "migrate"]);
    assert!(out.contains("tool"), "{out}");
    assert!(
        !repo.ref_exists(&reference),
        "the ref no record uses is gone"
    );
    let keys = moto.keys();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(
        keys[0].starts_with("tool/1.0/") && keys[0].ends_with("/tool"),
        "{keys:?}"
    );
    assert!(problem_kinds(&repo).is_empty());
    repo.release_ok(["download", "v1.0", "-D", "dl"]);
    assert!(std::fs::read(repo.path().join("dl/tool")).unwrap() == bytes);

    // serve's registry writes to and reads from the same bucket.
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&repo, &[]);
    let api = "/api/v4/projects/1/packages/generic/tool/1.1/tool";
    let big = noise(4, (9 << 20) + 5);
    let reply = server.send("PUT", api, &[("JOB-TOKEN", TOKEN)], &big);
    assert_eq!(
        reply.status,
        201,
        "{}\n{}",
        String::from_utf8_lossy(&reply.body),
        server.log()
    );
    assert_eq!(moto.keys().len(), 2);
    let reply = server.get(api);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("x-checksum-sha256"), sha256(&big));
    assert!(reply.body == big);
    assert!(
        repo.git(["for-each-ref", "refs/release-packages/"])
            .is_empty()
    );
}
