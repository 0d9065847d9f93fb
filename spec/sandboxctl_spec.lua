-- sandboxctl's watchdog: a sandbox outlives no owner, even one killed with SIGKILL (a
-- sanitizer abort, an OOM kill) that never ran its own cleanup.
local function sh(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("*a")
  p:close()
  return out
end

local function alive(pid)
  local ran = os.execute("kill -0 " .. pid .. " 2>/dev/null")
  return ran == true or ran == 0 -- 5.1 gives the exit status
end

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

local function wait_until(seconds, done)
  for _ = 1, seconds * 10 do
    if done() then return true end
    os.execute("sleep 0.1")
  end
  return false
end

local function wait_gone(pid, seconds)
  return wait_until(seconds, function() return not alive(pid) end)
end

describe("sandboxctl", function()
  it("stops the sandbox when the owner process is killed hard", function()
    local log = os.tmpname()
    -- The owner: a shell that starts a sandbox naming itself as owner, then sleeps.
    os.execute("sh -c 'echo OWNER=$$; SANDBOX_OWNER_PID=$$ sandbox/sandboxctl start; exec sleep 60' >"
      .. log .. " 2>&1 &")
    local out
    for _ = 1, 150 do
      out = sh("cat " .. log)
      if out:find("KLIKIT_SANDBOX_DIR=") then break end
      os.execute("sleep 0.1")
    end
    os.remove(log)
    local owner, nginx = out:match("OWNER=(%d+)"), out:match("KLIKIT_SANDBOX_PID=(%d+)")
    local dir = out:match("KLIKIT_SANDBOX_DIR=([^\n]+)")
    assert.truthy(owner and nginx and dir, out)
    assert.is_true(alive(nginx))
    os.execute("kill -KILL " .. owner)
    assert.is_true(wait_gone(nginx, 5), "the sandbox outlived its owner")
    assert.is_true(wait_until(2, function() return not exists(dir .. "/nginx.conf") end),
      "the sandbox directory was left behind")
  end)

  it("leaves a sandbox alone while its owner lives, and the watchdog ends with it", function()
    local out = sh("SANDBOX_OWNER_PID=" .. sh("echo $PPID"):match("%d+") .. " sandbox/sandboxctl start")
    local nginx, dir = out:match("KLIKIT_SANDBOX_PID=(%d+)"), out:match("KLIKIT_SANDBOX_DIR=([^\n]+)")
    assert.truthy(nginx and dir, out)
    os.execute("sleep 1.5")
    assert.is_true(alive(nginx))
    os.execute("sandbox/sandboxctl stop '" .. dir .. "'")
    assert.is_true(wait_gone(nginx, 5))
  end)
end)
