-- Response helpers shared by the sandbox's route modules. Handlers return
-- (status, body, headers) instead of sending, so the idempotency store can record them.
local json = require "klikit_sandbox.json"

local M = {}

function M.ok(rid, payload, status)
  return status or 200, '{"request_id":' .. json.encode(rid) .. ',"data":' .. json.encode(payload) .. "}"
end

function M.fail(rid, status, code, message, headers)
  local env = { error = { code = code, message = message } }
  if rid then env.request_id = rid end
  return status, json.encode(env), headers
end

function M.invalid(rid, message)
  return M.fail(rid, 400, "request_invalid", message)
end

-- Reads the JSON object body of a write; returns the table, or nil plus a failure.
function M.json_body(rid, raw)
  local cjson = require "cjson.safe"
  local t = cjson.decode(raw or "")
  if type(t) ~= "table" then return nil, M.invalid(rid, "body must be a JSON object") end
  return t
end

return M
