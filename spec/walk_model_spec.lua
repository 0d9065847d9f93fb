-- Model-based walks: for each seed, a random data set (ties, bursts, millisecond times),
-- random server quirks the docs allow (tie order, time formats, missing created_at,
-- totals, clamped sizes, past-the-end pages, list keys, empty answers), random changes
-- during the walk (arrivals on top or inside the range, status changes, deletions) and a
-- random walk (page size 1..100, range, fractional bounds, status or branch filter).
-- Each walk is compared with the set the sandbox knows: every order that stayed put is
-- yielded exactly once, nothing twice, nothing from outside. A failure prints its seed;
-- WALK_SEED=n WALK_SEEDS=1 replays one.
local sandbox = require "support.sandbox"
local walk = require "support.walk"
local scenario = require("support.walk_model").scenario

local SEEDS = tonumber(os.getenv("WALK_SEEDS") or "200")
local FIRST = tonumber(os.getenv("WALK_SEED") or "1")

local function describe_case(seed, set, q, churn, params)
  local cjson = require "cjson"
  return string.format("seed %d: data %s quirks %s churn %s walk %s", seed, cjson.encode(set), cjson.encode(q),
    cjson.encode(churn), cjson.encode(params))
end

-- Runs one seed; returns nil or a failure message, and the requests it took.
local function run(seed)
  local set, q, churn, params = scenario(seed)
  sandbox.regenerate(set)
  sandbox.quirks(q)
  local want = walk.truth(params)
  local before = sandbox.stats().requests
  sandbox.churn(churn)
  local client = sandbox.client { retry = { max_attempts = 1 } }
  local ok, got, err = pcall(walk.run, client, params)
  sandbox.churn { seed = seed }
  local used = sandbox.stats().requests - before
  if not ok then return describe_case(seed, set, q, churn, params) .. ": raised " .. tostring(got), used end
  if err then return describe_case(seed, set, q, churn, params) .. ": " .. tostring(err), used end
  local bad = walk.exactly_once(got, want, sandbox.churned().touched)
  if bad then return describe_case(seed, set, q, churn, params) .. ": " .. bad, used end
  return nil, used
end

describe("model-based walks", function()
  after_each(function() sandbox.reset { data = true } end)

  it(string.format("%d seeds from %d: every order that stayed put exactly once, nothing twice", SEEDS, FIRST),
    function()
      local failures, requests = {}, 0
      for seed = FIRST, FIRST + SEEDS - 1 do
        local why, used = run(seed)
        requests = requests + used
        if why then failures[#failures + 1] = why end
      end
      print(string.format("\n  model: %d seeds, %d requests, %d failed (%s)", SEEDS, requests, #failures,
        rawget(_G, "jit") and rawget(_G, "jit").version or _VERSION))
      for _, f in ipairs(failures) do print("  " .. f) end
      assert.equal(0, #failures, failures[1])
    end)
end)
