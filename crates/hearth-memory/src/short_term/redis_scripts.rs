//! The Lua scripts behind the Redis backend: each call is one script, so
//! each is atomic and one round trip, whatever other gateways do meanwhile.
//!
//! Layout of one session (see `redis_backend.rs`): `KEYS[1]` is the index, a
//! sorted set of entry members (hex keys) scored by write order; each value
//! lives at `base .. member` with its own PX TTL. All keys of a session share
//! one hash tag, so scripts that build value keys from `base` stay in one
//! cluster slot.

use redis::Script;

/// KEYS: index, value key. ARGV: member, value, ttl ms, max entries, base.
const PUT: &str = r"
local idx, vkey = KEYS[1], KEYS[2]
local member, value, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local max, base = tonumber(ARGV[4]), ARGV[5]
-- Scores are a per-session counter, not a clock: two writes in the same
-- millisecond still sort, and gateways with skewed clocks agree.
local top = redis.call('ZREVRANGE', idx, 0, 0, 'WITHSCORES')
local score = 1
if #top == 2 then score = tonumber(top[2]) + 1 end
redis.call('SET', vkey, value, 'PX', ttl)
redis.call('ZADD', idx, score, member)
local count = redis.call('ZCARD', idx)
if count > max then
  -- Forget members whose values expired before evicting live ones.
  for _, m in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
    if redis.call('EXISTS', base .. m) == 0 then
      redis.call('ZREM', idx, m)
      count = count - 1
    end
  end
end
if count > max then
  for _, m in ipairs(redis.call('ZRANGE', idx, 0, count - max - 1)) do
    redis.call('DEL', base .. m)
    redis.call('ZREM', idx, m)
  end
end
-- The index outlives every value it lists, and no longer: nothing is immortal.
if redis.call('PTTL', idx) < ttl then redis.call('PEXPIRE', idx, ttl) end
return 1
";

/// KEYS: value key. Returns nil or {value, ttl ms}.
const GET: &str = r"
local value = redis.call('GET', KEYS[1])
if not value then return false end
return {value, redis.call('PTTL', KEYS[1])}
";

/// KEYS: index. ARGV: base. Returns {{member, value, ttl ms}, ...} newest
/// first, dropping members whose values expired.
const LIST: &str = r"
local out = {}
for _, m in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, -1)) do
  local value = redis.call('GET', ARGV[1] .. m)
  if value then
    out[#out + 1] = {m, value, redis.call('PTTL', ARGV[1] .. m)}
  else
    redis.call('ZREM', KEYS[1], m)
  end
end
return out
";

/// KEYS: index, value key. ARGV: member. Returns 1 if a live value went.
const REMOVE: &str = r"
local removed = redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return removed
";

/// KEYS: index. ARGV: base. Returns how many live values went.
const CLEAR: &str = r"
local removed = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  removed = removed + redis.call('DEL', ARGV[1] .. m)
end
redis.call('DEL', KEYS[1])
return removed
";

/// The scripts, hashed once per store; `invoke_async` sends EVALSHA and
/// loads the script only if the server lacks it.
#[derive(Debug)]
pub(super) struct Scripts {
    pub put: Script,
    pub get: Script,
    pub list: Script,
    pub remove: Script,
    pub clear: Script,
}

impl Scripts {
    pub fn new() -> Self {
        Self {
            put: Script::new(PUT),
            get: Script::new(GET),
            list: Script::new(LIST),
            remove: Script::new(REMOVE),
            clear: Script::new(CLEAR),
        }
    }
}
