//! The `git release serve` harness: the real binary on a free loopback port, driven
//! over HTTP by ureq (tests/it/serve.rs, serve_hostile.rs).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Env, Repo};

pub const TOKEN: &str = "s3cret-token";

/// A running `git release serve`, stopped with SIGTERM when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    log: PathBuf,
    agent: ureq::Agent,
}

pub struct Reply {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map_or("", |v| v.to_str().unwrap_or(""))
    }

    /// GitLab's error shape: `{"message": …}` or `{"error": …}`, nothing else.
    #[track_caller]
    pub fn error_text(&self) -> String {
        let value = self.json();
        let object = value.as_object().expect("an error is a JSON object");
        assert_eq!(object.len(), 1, "error shape: {value}");
        let text = object
            .get("message")
            .or_else(|| object.get("error"))
            .unwrap_or_else(|| panic!("error shape: {value}"));
        text.as_str().unwrap().to_owned()
    }
}

#[track_caller]
pub fn start(repo: &Repo, args: &[&str]) -> Server {
    let log = tempfile::Builder::new()
        .prefix("serve-log")
        .tempfile_in(repo.env.path())
        .unwrap()
        .into_temp_path()
        .keep()
        .unwrap();
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("git-release"));
    repo.env.apply(&mut cmd);
    cmd.current_dir(repo.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(File::create(&log).unwrap());
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = match line.trim().strip_prefix("Listening on ") {
        Some(base) => base.to_owned(),
        None => {
            let _ = child.kill();
            panic!(
                "first line {line:?}; stderr:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
    };
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    Server {
        child,
        base,
        log,
        agent,
    }
}

impl Server {
    #[track_caller]
    pub fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Reply {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("PRIVATE-TOKEN", token);
        }
        let response = match body {
            Some(body) => self.agent.run(
                request
                    .header("content-type", "application/json")
                    .body(body.to_owned())
                    .unwrap(),
            ),
            None => self.agent.run(request.body(()).unwrap()),
        }
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .unwrap();
        Reply {
            status,
            headers,
            body,
        }
    }

    #[track_caller]
    pub fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None, None)
    }

    /// A request with headers of the test's choosing and no body.
    #[track_caller]
    pub fn call_with(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .agent
            .run(request.body(()).unwrap())
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.into_body().read_to_vec().unwrap(),
        }
    }

    /// A request with headers of the test's choosing and a raw body (a package file).
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .agent
            .run(request.body(body.to_vec()).unwrap())
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response
                .into_body()
                .with_config()
                .limit(64 * 1024 * 1024)
                .read_to_vec()
                .unwrap(),
        }
    }

    #[track_caller]
    pub fn write(&self, method: &str, path: &str, body: Value) -> Reply {
        self.call(method, path, Some(TOKEN), Some(&body.to_string()))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then the exit status and stderr.
    #[track_caller]
    pub fn stop(mut self) -> (ExitStatus, String) {
        let status = self.terminate();
        (status, self.log())
    }

    #[track_caller]
    pub fn terminate(&mut self) -> ExitStatus {
        // SAFETY: signalling the child this test started, by its pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not stop on SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A repository whose project is `group/proj` (from its origin) with a commit on main.
pub fn project(env: &Env) -> Repo<'_> {
    let repo = env.repo("proj");
    repo.commit(
        "first",
        &[("README.md", "hello\n"), ("src/lib.rs", "fn x() {}\n")],
    );
    repo.git([
        "remote",
        "add",
        "origin",
        "git@gitlab.example.com:group/proj.git",
    ]);
    repo
}

/// `count` releases v1.0 … on successive days, made with the CLI.
pub fn releases(repo: &Repo, count: usize) {
    for i in 0..count {
        repo.env.set(
            "GIT_RELEASE_NOW",
            &format!("2024-01-{:02}T10:00:00Z", i + 1),
        );
        if i > 0 {
            repo.commit(&format!("change {i}"), &[("n.txt", &i.to_string())]);
        }
        repo.release_ok([
            "create",
            &format!("v1.{i}"),
            "--ref",
            "HEAD",
            "--notes",
            "n",
        ]);
    }
    repo.env.set("GIT_RELEASE_NOW", "2024-06-01T12:00:00Z");
}

/// Everything the store and the tags are: what a refused request must leave alone.
pub fn store_state(repo: &Repo) -> String {
    repo.git(["for-each-ref", "--format=%(refname) %(objectname)"])
}

/// One token of each role (Guest to Maintainer), as a `--tokens` file holds them.
pub const ROLE_TOKENS: &str = r#"[[token]]
token = "guest-token"
username = "gus"
name = "Gus Guest"
email = "gus@example.com"
role = "guest"

[[token]]
token = "reporter-token"
username = "rita"
email = "rita@example.com"
role = "reporter"

[[token]]
token = "developer-token"
username = "dev"
name = "Dee Veloper"
email = "dev@example.com"
role = "developer"

[[token]]
token = "maintainer-token"
username = "mia"
name = "Mia Maintainer"
email = "mia@example.com"
role = "maintainer"
"#;
