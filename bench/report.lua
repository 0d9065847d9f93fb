-- The bench report: medians of paired ratios, the table and the targets.
--
-- results[config.key][contender] = list of { round, wall, cpu, requests, rss_kb }: one
-- measurement per round, every contender measured once in each round, so a ratio is
-- taken inside a round (the same server, the same minute) and then the median of those.
local M = {}

function M.median(list)
  if #list == 0 then return nil end
  local s = {}
  for i, v in ipairs(list) do s[i] = v end
  table.sort(s)
  local mid = (#s + 1) / 2
  return (s[math.floor(mid)] + s[math.ceil(mid)]) / 2
end

local function field(list, name)
  local out = {}
  for _, m in ipairs(list or {}) do out[#out + 1] = m[name] end
  return out
end

--- The median over rounds of a[metric] / b[metric] (rounds where both were measured).
function M.paired(a, b, metric)
  local by_round, ratios = {}, {}
  for _, m in ipairs(b or {}) do by_round[m.round] = m end
  for _, m in ipairs(a or {}) do
    local other = by_round[m.round]
    if other and other[metric] > 0 then ratios[#ratios + 1] = m[metric] / other[metric] end
  end
  return M.median(ratios), #ratios
end

local function thousands(n)
  local s = string.format("%d", n)
  return (s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end
M.thousands = thousands

local function num(v, f) return v and string.format(f, v) or "–" end

--- Prints the walk table (markdown): a row per configuration and contender.
function M.walk_table(configs, contenders, results, unsupported)
  print("| orders | latency | contender | rounds | wall (median) | CPU (median) | wall ×floor | wall ×luasocket "
    .. "| CPU ×floor | CPU ×luasocket | requests/walk | peak RSS |")
  print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
  for _, cfg in ipairs(configs) do
    local res = results[cfg.key] or {}
    for _, c in ipairs(contenders) do
      local lead = string.format("| %s | %d ms | %s |", thousands(cfg.n), cfg.latency, c.label)
      local list = res[c.name]
      if unsupported[c.name] then
        print(lead .. " – | n/a (not supported by this build) | | | | | | | |")
      elseif list and #list > 0 then
        local wf = M.paired(list, res.floor, "wall")
        local wl = M.paired(list, res.luasocket, "wall")
        local cf = M.paired(list, res.floor, "cpu")
        local cl = M.paired(list, res.luasocket, "cpu")
        print(string.format("%s %d | %s s | %s s | %s | %s | %s | %s | %s | %s MB |", lead, #list,
          num(M.median(field(list, "wall")), "%.3f"), num(M.median(field(list, "cpu")), "%.3f"),
          num(wf, "%.2f"), num(wl, "%.2f"), num(cf, "%.2f"), num(cl, "%.2f"),
          num(M.median(field(list, "requests")), "%.0f"), num(M.median(field(list, "rss_kb")) / 1024, "%.1f")))
      end
    end
  end
end

local function verdict(value, limit)
  if not value then return "n/a" end
  return value <= limit and "met" or "NOT MET"
end

--- The targets: { text, value (a ratio or nil), limit, note }; prints each and whether it is met.
function M.targets(list)
  print("| target | measured | verdict |")
  print("|---|---:|---|")
  for _, t in ipairs(list) do
    local measured = t.value and string.format("%.2f×", t.value)
      or ("n/a" .. (t.note and (" (" .. t.note .. ")") or ""))
    print(string.format("| %s | %s | %s |", t.text, measured, verdict(t.value, t.limit)))
  end
end

--- Ratio of the median peak RSS of a contender at two configurations (nil if either is missing).
function M.rss_ratio(results, big, small, name)
  local a = M.median(field(results[big] and results[big][name], "rss_kb"))
  local b = M.median(field(results[small] and results[small][name], "rss_kb"))
  return a and b and a / b or nil
end

return M
