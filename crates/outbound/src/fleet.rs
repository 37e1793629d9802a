//! Fleet scope: one GCRA state per connection in Redis, shared by every replica. One
//! `EVALSHA` per admitted call reserves the call's place and answers how long to wait;
//! a vendor pause is the same script moving the state past the pause's end. Times are
//! Redis's own clock (`TIME`), so replicas' clocks never disagree about the budget.
//! Every round trip has its own timeout; a failed or slow one is `Unavailable` and the
//! connection's `onRedisDown` decides. `ConnectionManager` reconnects in the background,
//! so the fleet budget resumes when Redis is back, without a restart.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::ExposeSecret;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::error::BuildError;
use crate::limiter::{Decision, Rate};
use crate::settings::RedisSettings;

/// KEYS[1]: the connection's TAT, KEYS[2]: the end of its vendor pause (both microseconds
/// of Redis time). ARGV: emission interval (µs), burst, longest wait the caller accepts
/// (µs), pause (µs; 0 = admit a call). Returns {1, wait_µs, go_at} (reserved: go after the
/// wait, at Redis time `go_at`) or {0, retry_after_µs, 0}. Numbers are written with `%.0f`:
/// Lua's `tostring` would print 16-digit times as `1.7e+15` and lose the microseconds.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local emission = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local pause = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or now) or now
if tat < now then tat = now end
local function store(key, v)
  redis.call('SET', key, string.format('%.0f', v), 'PX', math.ceil((v - now) / 1000) + 1000)
end
if pause > 0 then
  local ends = now + pause
  local cur = tonumber(redis.call('GET', KEYS[2]) or 0) or 0
  if ends > cur then store(KEYS[2], ends) end
  local after = ends + (burst - 1) * emission
  if after > tat then store(KEYS[1], after) end
  return {1, 0, now}
end
local new_tat = tat + emission
local wait = new_tat - now - burst * emission
if wait < 0 then wait = 0 end
if wait > max_wait then return {0, wait, 0} end
store(KEYS[1], new_tat)
return {1, wait, now + wait}
";

/// A lazily connected Redis, shared by every fleet-scope connection of a gateway.
pub struct FleetStore {
    client: redis::Client,
    manager: OnceCell<ConnectionManager>,
    timeout: Duration,
    key_prefix: String,
    script: redis::Script,
}

impl FleetStore {
    pub fn new(
        settings: &RedisSettings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Arc<Self>, BuildError> {
        let url = settings.url.resolve(env)?;
        // The URL may hold a password: the parse error is not echoed.
        let client = redis::Client::open(url.expose_secret())
            .map_err(|_| BuildError::Invalid("redis.url is not a valid Redis URL".into()))?;
        Ok(Arc::new(FleetStore {
            client,
            manager: OnceCell::new(),
            timeout: Duration::from_millis(settings.timeout_ms.max(1)),
            key_prefix: settings.key_prefix.clone(),
            script: redis::Script::new(GCRA),
        }))
    }

    async fn connection(&self) -> Option<ConnectionManager> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_max_delay(Duration::from_secs(1));
        self.manager
            .get_or_try_init(|| async {
                ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            })
            .await
            .ok()
            .cloned()
    }

    /// One script call, bounded by the Redis timeout and by the caller's `max_wait`.
    async fn call(&self, limit: &FleetLimit, max_wait: Duration, pause: Duration) -> Option<Reply> {
        let budget = self.timeout.min(max_wait.max(Duration::from_millis(1)));
        self.timed(&limit.connection, budget, async {
            let mut con = self.connection().await?;
            self.script
                .key(&limit.tat_key)
                .key(&limit.pause_key)
                .arg(micros(limit.rate.emission))
                .arg(limit.rate.burst)
                .arg(micros(max_wait))
                .arg(micros(pause))
                .invoke_async::<Reply>(&mut con)
                .await
                .ok()
        })
        .await
    }

    /// Runs one Redis round trip within `budget`, with its latency and errors as metrics.
    async fn timed<T>(
        &self,
        connection: &str,
        budget: Duration,
        round_trip: impl Future<Output = Option<T>>,
    ) -> Option<T> {
        let started = Instant::now();
        let outcome = tokio::time::timeout(budget, round_trip).await;
        metrics::histogram!(crate::metric_names::VENDOR_LIMITER_REDIS_DURATION_SECONDS, "connection" => connection.to_owned())
            .record(started.elapsed().as_secs_f64());
        let error = match outcome {
            Ok(Some(v)) => return Some(v),
            Ok(None) => "error",
            Err(_) => "timeout",
        };
        metrics::counter!(crate::metric_names::VENDOR_LIMITER_REDIS_ERRORS_TOTAL, "connection" => connection.to_owned(), "kind" => error).increment(1);
        None
    }
}

/// The script's answer: admitted (1/0), wait or retry-after (µs), Redis time to go at.
type Reply = (u8, u64, u64);

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// What Redis said about one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetReply {
    /// With a reserved place: the Redis time (µs) the call goes at, for
    /// [`FleetLimit::paused_after`].
    Answered(Decision, u64),
    /// No answer within the timeout (down, slow, or an error).
    Unavailable,
}

/// One connection's fleet budget.
pub struct FleetLimit {
    store: Arc<FleetStore>,
    tat_key: String,
    pause_key: String,
    connection: String,
    rate: Rate,
}

impl FleetLimit {
    pub fn new(store: Arc<FleetStore>, connection: &str, rate: Rate) -> Self {
        let prefix = &store.key_prefix;
        FleetLimit {
            tat_key: format!("{prefix}:limit:{connection}"),
            pause_key: format!("{prefix}:pause:{connection}"),
            store,
            connection: connection.to_owned(),
            rate,
        }
    }

    pub async fn reserve(&self, max_wait: Duration) -> FleetReply {
        match self.store.call(self, max_wait, Duration::ZERO).await {
            Some((1, wait, go_at)) => FleetReply::Answered(
                Decision::Go {
                    wait: Duration::from_micros(wait),
                },
                go_at,
            ),
            Some((_, retry_after, _)) => FleetReply::Answered(
                Decision::Refuse {
                    retry_after: Duration::from_micros(retry_after),
                },
                0,
            ),
            None => FleetReply::Unavailable,
        }
    }

    /// For a call that reserved its place and waited for it: how much of a vendor pause,
    /// set on any replica after the reservation, is still ahead of `go_at` (a reservation
    /// made before the pause must not go out during it). Redis trouble here lets the call
    /// go: its place in the budget is reserved.
    pub async fn paused_after(&self, go_at: u64) -> Option<Duration> {
        let store = &self.store;
        let ends = store
            .timed(&self.connection, store.timeout, async {
                let mut con = store.connection().await?;
                redis::cmd("GET")
                    .arg(&self.pause_key)
                    .query_async::<Option<u64>>(&mut con)
                    .await
                    .ok()
            })
            .await
            .flatten()?;
        (ends > go_at).then(|| Duration::from_micros(ends - go_at))
    }

    /// Pauses the connection for the whole fleet. When Redis cannot be reached, the pause
    /// holds only on this replica (the caller pauses its local share as well).
    pub async fn pause(&self, pause: Duration) {
        if pause.is_zero() {
            return;
        }
        if self
            .store
            .call(self, self.store.timeout, pause)
            .await
            .is_some()
        {
            metrics::counter!(crate::metric_names::VENDOR_FLEET_PAUSES_TOTAL, "connection" => self.connection.clone())
                .increment(1);
        }
    }
}
