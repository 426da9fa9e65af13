//! The portal as a real one calls the API: every POST carries an
//! `Idempotency-Key`, and after a transport error, a 409 (the first attempt
//! still running), a 429 or a 5xx it sends the same body again with the same
//! key, until it gets a definitive answer or gives up. Every answer is kept:
//! what each client was told is half of what the invariants check.

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

/// One answer the API gave (or the lack of one).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The HTTP status; `None` when no answer came (transport error, timeout).
    pub status: Option<u16>,
    /// The JSON body (`Null` when none or not JSON).
    pub body: Value,
    /// `Idempotency-Replayed: true`.
    pub replayed: bool,
}

impl Answer {
    /// A 2xx.
    pub fn is_success(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// Sending the same request again may give another answer: no answer, a
    /// first attempt still running (409 `idempotency-key-in-use` or
    /// `registration-in-progress`), a limit, a 5xx.
    pub fn is_retryable(&self) -> bool {
        match self.status {
            None => true,
            Some(409) => matches!(
                self.problem(),
                Some("idempotency-key-in-use" | "registration-in-progress")
            ),
            Some(status) => status == 429 || status >= 500,
        }
    }

    /// The problem `type`'s last word (`urn:portal:problem:<code>`), if any.
    pub fn problem(&self) -> Option<&str> {
        self.body["type"]
            .as_str()
            .map(|t| t.rsplit(':').next().unwrap_or(t))
    }

    /// A short form for reports.
    pub fn summary(&self) -> String {
        match (self.status, self.problem()) {
            (None, _) => "no answer".to_owned(),
            (Some(s), Some(p)) => format!("{s} {p}"),
            (Some(s), None) if self.replayed => format!("{s} (replayed)"),
            (Some(s), None) => s.to_string(),
        }
    }
}

/// Every attempt of one POST with one key.
#[derive(Debug, Clone, PartialEq)]
pub struct PostHistory {
    /// The route.
    pub path: String,
    /// The `Idempotency-Key`.
    pub key: String,
    /// The answers, in order.
    pub answers: Vec<Answer>,
}

impl PostHistory {
    /// The last answer.
    pub fn last(&self) -> Option<&Answer> {
        self.answers.last()
    }

    /// The first 2xx, if any.
    pub fn success(&self) -> Option<&Answer> {
        self.answers.iter().find(|a| a.is_success())
    }
}

/// The portal's HTTP client of the API.
#[derive(Debug, Clone)]
pub struct Portal {
    http: reqwest::Client,
    api: String,
}

impl Portal {
    /// A client of the API at `api`, with the browser-side timeout `timeout`.
    pub fn new(api: &str, timeout: Duration) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .expect("a plain HTTP client builds"),
            api: api.to_owned(),
        }
    }

    async fn answer(request: reqwest::RequestBuilder) -> Answer {
        let Ok(response) = request.send().await else {
            return Answer {
                status: None,
                body: Value::Null,
                replayed: false,
            };
        };
        let status = response.status().as_u16();
        let replayed = response
            .headers()
            .get("idempotency-replayed")
            .is_some_and(|v| v == "true");
        match response.bytes().await {
            Ok(body) => Answer {
                status: Some(status),
                body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                replayed,
            },
            Err(_) => Answer {
                status: None,
                body: Value::Null,
                replayed: false,
            },
        }
    }

    /// A login for `sub` (the local identity provider; no fault touches it).
    pub async fn token(&self, sub: &str, email: &str) -> Option<String> {
        for _ in 0..20 {
            let answer = Self::answer(
                self.http
                    .post(format!("{}/_local/token", self.api))
                    .json(&serde_json::json!({"sub": sub, "email": email})),
            )
            .await;
            if let Some(token) = answer.body["token"].as_str() {
                return Some(token.to_owned());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// `GET path` until a 2xx or `until`.
    pub async fn get(&self, token: &str, path: &str, until: Instant) -> Option<Value> {
        let mut wait = Duration::from_millis(40);
        loop {
            let answer = Self::answer(
                self.http
                    .get(format!("{}{path}", self.api))
                    .bearer_auth(token),
            )
            .await;
            if answer.is_success() {
                return Some(answer.body);
            }
            if !answer.is_retryable() || Instant::now() + wait > until {
                return None;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_millis(400));
        }
    }

    /// `POST path` with `key` and `body`, sent again (same key, same bytes)
    /// after every retryable answer until a definitive one or `until`.
    pub async fn post(
        &self,
        token: &str,
        path: &str,
        key: &str,
        body: &Value,
        until: Instant,
    ) -> PostHistory {
        let bytes = serde_json::to_vec(body).expect("JSON serialises");
        let mut history = PostHistory {
            path: path.to_owned(),
            key: key.to_owned(),
            answers: Vec::new(),
        };
        let mut wait = Duration::from_millis(40);
        loop {
            let answer = Self::answer(
                self.http
                    .post(format!("{}{path}", self.api))
                    .bearer_auth(token)
                    .header("Idempotency-Key", key)
                    .header("Content-Type", "application/json")
                    .body(bytes.clone()),
            )
            .await;
            let again = answer.is_retryable();
            history.answers.push(answer);
            if !again || Instant::now() + wait > until {
                return history;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_millis(400));
        }
    }
}
