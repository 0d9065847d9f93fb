--- `klikit webhook verify`: checks a delivery's signature (klikit.webhook.verify).
local webhook = require("klikit.webhook")
local fail = require("klikit.cli.fail")

local cmd = {}

cmd.name = "webhook"
cmd.summary = "Verify a webhook delivery's signature (webhook verify)"
cmd.usage = "klikit webhook verify --secret-env VAR --signature HEX < body"
cmd.help = [[
Reads the raw body from stdin, byte for byte, and checks that --signature (the
x-klikit-signature header: 64 lowercase hex digits) is its HMAC-SHA256 under the webhook
secret, compared in constant time. The secret is read from the environment variable
named by --secret-env, never from the command line.

Exit codes: 0 valid (prints "valid"); 1 invalid (webhook_signature_invalid on stderr);
2 usage (no such variable, no signature).

Example:
  KLIKIT_WEBHOOK_SECRET=... klikit webhook verify --secret-env KLIKIT_WEBHOOK_SECRET \
    --signature cde212d9... < body.json]]
cmd.args = { { "ACTION", required = true } }
cmd.options = {
  { "--secret-env", arg = "VAR", help = "the environment variable holding the webhook secret" },
  { "--signature", arg = "HEX", help = "the x-klikit-signature header of the delivery" },
}

function cmd.run(ctx, args)
  if args.positional[1] ~= "verify" then
    fail.usage("the only webhook action is verify, got " .. args.positional[1]:sub(1, 40))
  end
  local var = args.secret_env
  if not var or not var:find("^[%a_][%w_]*$") then
    fail.usage("--secret-env VAR is required: the name of the environment variable holding the secret")
  end
  local secret = ctx.getenv(var)
  if secret == nil or secret == "" then fail.usage("the environment variable " .. var .. " is not set") end
  if not args.signature then fail.usage("--signature HEX is required (the x-klikit-signature header)") end
  local body = ctx.stdin:read("*a") or ""
  local ok, err = webhook.verify(body, args.signature, secret)
  if not ok then
    fail.report(ctx, err)
    return fail.API
  end
  ctx.out:write("valid\n")
  return fail.OK
end

return cmd
