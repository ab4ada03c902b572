-- wrk script of the serving benchmarks: random users from USERS (a file of ids), an optional bearer
-- KEY, and an offered rate RATE (requests per second over all connections; 0: as fast as possible).
-- The rate is a schedule, not a think time: each wrk thread (THREADS of them) sends its share at
-- fixed intervals of a monotonic clock, so a slow response does not lower the rate offered as long
-- as connections are free (CONNECTIONS ≥ rate × latency). Each thread of each run draws its own users.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } encore_timespec;
  int clock_gettime(int clock, encore_timespec *t);
]]
local clock = ffi.new("encore_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local users = {}
for line in io.lines(os.getenv("USERS")) do users[#users + 1] = line end
local key = os.getenv("KEY")
local rate = tonumber(os.getenv("RATE") or "0")
local threads = tonumber(os.getenv("THREADS") or "2")
local interval = rate > 0 and 1000 * threads / rate or 0
local next_at = nil

local created = 0
setup = function(thread)
  created = created + 1
  thread:set("seed", created)
end

init = function(args)
  -- A new stream per thread and per run: the same seed in every run would replay one run's users
  -- in the next, and a service's list cache would answer them.
  math.randomseed((now_ms() * 1000) % 2147483647 + 7919 * (tonumber(seed) or 1))
end

request = function()
  local u = users[math.random(#users)]
  local headers = {}
  if key and key ~= "" then headers["Authorization"] = "Bearer " .. key end
  return wrk.format("GET", "/v1/users/" .. u .. "/recommendations?k=30", headers)
end

delay = function()
  if rate <= 0 then return 0 end
  local t = now_ms()
  if next_at == nil then next_at = t end
  local slot = next_at
  next_at = next_at + interval
  return math.max(0, slot - t)
end
