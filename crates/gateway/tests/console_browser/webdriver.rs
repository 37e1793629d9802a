//! The few WebDriver commands the console tests need, over reqwest (already a test
//! dependency): a WebDriver client crate would add a second HTTP stack for six calls.
//!
//! chromedriver is started with `--port=0`: it binds a port the OS chooses and prints
//! "ChromeDriver was started successfully on port N", which is read back, so no port is
//! ever guessed. The session is deleted (closing Chromium) and chromedriver killed when
//! the [`Browser`] is dropped, also when a test panics.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

/// Where chromedriver is, or why the browser tests cannot run.
pub fn chromedriver() -> Result<String, String> {
    let path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
    match Command::new(&path).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(path),
        Ok(o) => Err(format!("{path} --version failed: {o:?}")),
        Err(e) => Err(format!(
            "{path}: {e} (install chromium and chromium-driver)"
        )),
    }
}

impl Browser {
    pub async fn start(driver_path: &str) -> Browser {
        let mut driver = Command::new(driver_path)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let stdout = driver.stdout.take().expect("stdout");
        // Blocking reads of the driver's first lines, off the async runtime.
        let port = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stdout).lines();
            let port = lines.by_ref().map_while(Result::ok).find_map(|l| {
                l.split("started successfully on port ")
                    .nth(1)
                    .and_then(|p| p.trim().trim_end_matches('.').parse::<u16>().ok())
            });
            // Keep draining, so the driver never blocks on a full pipe.
            std::thread::spawn(move || lines.for_each(drop));
            port
        })
        .await
        .expect("reader");
        let Some(port) = port else {
            let _ = driver.kill();
            let _ = driver.wait();
            panic!("chromedriver did not report its port");
        };
        let profile = tempfile::tempdir().expect("profile dir");
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
            http: reqwest::Client::new(),
            _profile: profile,
        };
        let mut options = json!({"args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--window-size=1280,1100",
            format!("--user-data-dir={}", browser._profile.path().display()),
        ]});
        if let Ok(bin) = std::env::var("CHROMIUM") {
            options["binary"] = json!(bin);
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options,
        }}});
        let v = browser
            .call(reqwest::Method::POST, "/session", Some(caps))
            .await;
        browser.session = v["sessionId"].as_str().expect("a session id").to_owned();
        // Finds wait up to 10 s for their element while a page is still loading.
        browser
            .call(
                reqwest::Method::POST,
                &browser.at("/timeouts"),
                Some(json!({"implicit": 10_000})),
            )
            .await;
        browser
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let mut req = self.http.request(method, &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("chromedriver answers");
        let status = resp.status();
        let v: Value = resp.json().await.expect("WebDriver JSON");
        assert!(status.is_success(), "{path}: {status} {v}");
        v["value"].clone()
    }

    fn at(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    pub async fn goto(&self, url: &str) {
        self.call(
            reqwest::Method::POST,
            &self.at("/url"),
            Some(json!({"url": url})),
        )
        .await;
    }

    /// The first element `css` selects; a test that expects one and finds none fails
    /// with the page's text, which says why (a refusal banner, an error page).
    async fn element(&self, css: &str) -> String {
        let url = format!("http://127.0.0.1:{}{}", self.port, self.at("/element"));
        let resp = self
            .http
            .post(&url)
            .json(&json!({"using": "css selector", "value": css}))
            .send()
            .await
            .expect("chromedriver answers");
        let v: Value = resp.json().await.expect("WebDriver JSON");
        match v["value"][ELEMENT].as_str() {
            Some(e) => e.to_owned(),
            None => {
                let page = self
                    .call(reqwest::Method::GET, &self.at("/source"), None)
                    .await;
                panic!(
                    "no element {css} on the page:\n{}",
                    page.as_str().unwrap_or_default()
                )
            }
        }
    }

    /// The visible text of the first element `css` selects.
    pub async fn text(&self, css: &str) -> String {
        let e = self.element(css).await;
        let v = self
            .call(
                reqwest::Method::GET,
                &self.at(&format!("/element/{e}/text")),
                None,
            )
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Posts WebDriver's element `command` (`click`, `clear`, `value`) with `body` to the
    /// element `e`.
    async fn element_command(&self, e: &str, command: &str, body: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            &self.at(&format!("/element/{e}/{command}")),
            Some(body),
        )
        .await
    }

    pub async fn click(&self, css: &str) {
        let e = self.element(css).await;
        self.element_command(&e, "click", json!({})).await;
    }

    /// Clears a field and types `text` into it, as a person pasting would.
    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.element(css).await;
        self.element_command(&e, "clear", json!({})).await;
        if text.is_empty() {
            return;
        }
        self.element_command(&e, "value", json!({"text": text}))
            .await;
    }

    /// Clicks a form's submit button and returns once the answer page replaced this
    /// one: the old page's root element goes stale when the new document commits. A
    /// click returns before that, and a find in between would read the old page.
    pub async fn submit(&self, css: &str) {
        let root = self.element("html").await;
        self.click(css).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let url = format!(
                "http://127.0.0.1:{}{}",
                self.port,
                self.at(&format!("/element/{root}/name"))
            );
            let v: Value = self
                .http
                .get(&url)
                .send()
                .await
                .expect("chromedriver answers")
                .json()
                .await
                .expect("WebDriver JSON");
            if v["value"]["error"] == "stale element reference" {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{css}: no new page within 30 s"
            );
            // Polling the browser for a state change; not an ordering sleep.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn title(&self) -> String {
        let v = self
            .call(reqwest::Method::GET, &self.at("/title"), None)
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }

    pub async fn screenshot(&self, path: &std::path::Path) {
        let v = self
            .call(reqwest::Method::GET, &self.at("/screenshot"), None)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("base64 PNG"))
            .expect("PNG");
        std::fs::write(path, png).expect("write screenshot");
    }
}

impl Drop for Browser {
    /// Deletes the session (Chromium exits with it), then stops the driver. Plain
    /// blocking HTTP: a destructor cannot await.
    fn drop(&mut self) {
        if !self.session.is_empty()
            && let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port))
        {
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = write!(
                s,
                "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.session
            );
            let _ = s.read_to_end(&mut Vec::new());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
