---@meta
-- LuaLS (lua-language-server) annotations of klikit's public API, so that editors complete
-- and check it: the client's methods (made from endpoint rows at run time, so invisible to
-- an editor otherwise), the pager, errors, meta, the options of klikit.new, an order's key
-- fields and the Klar client. Definitions only: nothing requires this file, and requiring it
-- returns an empty table. Installed with the rest (`make install`, the rockspec): point
-- LuaLS's `workspace.library` at the installed `share/lua/5.x` (README "Editors"). In this
-- checkout, .luarc.json does it. spec/docs_spec.lua keeps it in step with the code.

---@alias klikit.ErrorCode
---| "auth_missing" # 401: Authorization header absent or malformed
---| "auth_invalid_credential" # 401: key/secret did not verify
---| "auth_revoked" # 403: credential revoked
---| "auth_forbidden" # 403: not scoped for this endpoint
---| "request_invalid" # 400: validation failed; client-side, nothing was sent
---| "request_missing_idempotency_key" # 400: write without Idempotency-Key
---| "request_invalid_range" # 400: from/to window over 90 days
---| "resource_not_found" # 404: missing or not visible
---| "resource_unmapped" # 404: unknown SKU
---| "state_invalid_transition" # 409/422: order status change not allowed
---| "state_idempotency_conflict" # 409: key reused with another body
---| "rate_limit_exceeded" # 429 (retried): see retry_after
---| "downstream_unavailable" # 502 (retried)
---| "internal" # 500 (retried)
---| "api_error" # a code this client does not know: see raw_code
---| "http_error" # non-2xx without a klikit envelope
---| "decode_failed" # 2xx whose body is not a klikit envelope (retried)
---| "network_error" # no HTTP answer (retried)
---| "timeout" # timeout / connect_timeout elapsed (retried)
---| "tls_verify_failed" # certificate did not verify: pass ca_file
---| "response_too_large" # over max_body_bytes, max_json_values, depth or header limits
---| "deadline_exceeded" # retry.deadline would pass before sending
---| "client_closed" # client:close() was called
---| "unexpected_shape" # data not shaped as documented
---| "walk_unsorted" # a walk got orders not newest first
---| "walk_out_of_range" # a walk got an order outside from/to
---| "walk_incomplete" # a walk could not prove it saw every row
---| "klar_invalid" # 400: Klar judged a batch INVALID
---| "klar_auth" # 401/403: Klar refused the token
---| "klar_error" # any other Klar answer that is not a verdict
---| "klar_unmappable" # a klikit order cannot become a Klar order
---| "export_locked" # another klar.export holds the state file's lock
---| "export_state_invalid" # the export's state file is unusable
---| "webhook_headers_missing" # 400: x-klikit-* headers missing
---| "webhook_signature_invalid" # 401: bad signature
---| "webhook_body_invalid" # 400: body is not {brand_id, branch_id, orders}
---| "webhook_event_unknown" # an event type klikit does not document

---An entry of klikit.errors, the catalogue.
---@class klikit.ErrorEntry
---@field status? integer the HTTP status klikit answers with (nil: any, or none)
---@field retryable boolean|"by_status" "by_status": retried at 429 and 5xx
---@field meaning string
---@field source "server"|"client"|"both"|"klar"|"webhook"
---@field api "klikit"|"klar"|"any"

---What every failure returns: `nil, err, meta`. `tostring(err)` is one line.
---@class klikit.Error
---@field code klikit.ErrorCode stable lowercase code: branch on this
---@field status? integer HTTP status; nil when no answer arrived
---@field message string human-readable
---@field request_id? string klikit's request id
---@field details? table `error.details` as sent (cleaned)
---@field retryable boolean
---@field raw_code? string the code exactly as the server sent it
---@field retry_after? number seconds from a Retry-After header
---@field method? string the request that failed
---@field path? string
---@field curl_code? integer libcurl's code for transport failures
---@field api? "klikit"|"klar"
---@field attempts? integer
---@field progress? table Klar upload/validate: what was sent before the failure
---@field summary? klikit.ExportSummary klar.export: what was done before the failure
---@field order_id? string klar_unmappable: the order
---@field event? klikit.WebhookEvent webhook_event_unknown: the verified event

---What every call returns third.
---@class klikit.Meta
---@field status? integer HTTP status of the last attempt
---@field headers? table<string, string> response headers, lowercase names
---@field request_id? string
---@field elapsed? number seconds the last attempt took
---@field connects? integer new connections the last attempt opened
---@field attempts? integer
---@field idempotency_key? string the key a write was sent with
---@field windows? integer count_orders: 90-day windows counted

---The `retry` option: what is retried, how long to wait, when to give up.
---@class klikit.RetryPolicy
---@field max_attempts? integer attempts in all (default 5, 1..100)
---@field base_delay? number seconds before the first retry, before jitter (default 0.5)
---@field max_delay? number the longest wait (default 30)
---@field max_retry_after? number longest Retry-After slept through (default 60)
---@field deadline? number seconds for the whole call, waits included (default none)

---The options of klikit.new (README "Options"). Unknown or bad ones raise request_invalid.
---@class klikit.Options
---@field partner_key? string default: KLIKIT_PARTNER_KEY
---@field secret_key? string default: KLIKIT_SECRET_KEY
---@field base_url? string default: env's URL, else KLIKIT_BASE_URL, else production
---@field env? "dev"|"prod"
---@field timeout? number seconds per attempt (default 30)
---@field connect_timeout? number seconds to connect (default 10)
---@field ca_file? string PEM CA bundle (default: the system's); TLS is always verified
---@field proxy? string proxy URL for https (default: the environment's)
---@field noproxy? string default "localhost,127.0.0.0/8,::1"
---@field max_body_bytes? integer default 8 MiB
---@field max_json_values? integer default 500000
---@field transport? "auto"|"curl"|"ngx"|klikit.Transport default "auto"
---@field user_agent? string appended to "klikit-lua/0.1.0"
---@field retry? klikit.RetryPolicy
---@field sleep? fun(seconds: number) default: ngx.sleep inside nginx, else blocking
---@field clock? fun(): number monotonic seconds
---@field on_request? fun(event: {method: string, path: string, attempt: integer, status: integer?, code: string?, request_id: string?, elapsed: number})
---@field rate_limit? number requests per minute (default: off)
---@field insecure_skip_tls_verify? boolean default false
---@field logger? fun(level: "info"|"warn"|"debug", message: string)
---@field verbose? boolean trace to the logger (default false)
---@field allow_insecure_http? boolean plain http beyond loopback (default false)
---@field pool_size? integer idle connections per host per nginx worker (default 32)

---Any object with this method can be a transport.
---@class klikit.Transport
---@field request fun(self: klikit.Transport, req: table): table?, table?

---A brand, as in `order.brands` and `client:brands()`.
---@class klikit.Brand
---@field id integer
---@field title string
---@field logo? string

---An order as klikit sends it (key fields; about 100 in all, unknown ones pass through).
---Money: integers are minor units (IDR 13,000 is 1300000), `*_display` are display strings
---in major units ("13.000"), `cart_v2` prices are decimal strings in major units ("13000.00").
---@class klikit.Order
---@field id integer
---@field short_id? string "1004"
---@field external_id? string the provider's id
---@field business_id? integer
---@field branch_id? integer
---@field brands? klikit.Brand[] a list: an order can carry several brands
---@field klikit_store_id? string "KSID-<brand>-<branch>"
---@field status? integer klikit.enums.ORDER_STATUS: 1 placed, 2 accepted, 3 cancelled, 4 ready, 5 delivered, 9 picked_up
---@field order_status_histories? {id: integer, order_id: integer, status: integer, processed_at: string}[]
---@field type? integer klikit.enums.ORDER_TYPES: 1 pickup, 2 delivery, 3 dinein
---@field provider_id? integer klikit.enums.PROVIDERS
---@field payment_status? integer
---@field payment_method? integer
---@field currency? string ISO 4217, "IDR"
---@field currency_symbol? string "Rp"
---@field final_price? integer what the customer pays, minor units: the revenue figure
---@field final_price_display? string display only, "13.000"
---@field item_price? integer minor units
---@field delivery_fee? integer minor units
---@field additional_fee? integer minor units
---@field discount? integer minor units
---@field vat? integer minor units
---@field is_vat_included? boolean
---@field cart? table[] legacy lines (integer prices, minor units); sometimes absent
---@field cart_v2? table[] lines: id (a string), klikit_id, name, quantity, price (decimal string, major units)
---@field created_at? string RFC 3339 UTC; the range filters use it
---@field updated_at? string RFC 3339 UTC
---@field cancellation_reason? string
---@field can_accept? boolean
---@field can_cancel? boolean
---@field can_ready? boolean
---@field can_deliver? boolean
---@field can_void? boolean
---@field delivery_info? table
---@field fulfillments? table[]
---@field [string] any

---Filters of a walk or a count.
---@class klikit.OrdersParams
---@field from? string|number RFC 3339 or Unix seconds, included (klikit.day makes a local day)
---@field to? string|number excluded (default: now)
---@field status? integer|string an ORDER_STATUS code or its name
---@field provider_id? integer
---@field branch_id? integer
---@field size? integer page size 1..100 (orders only; default 100)
---@field concurrency? integer 1..32 slices at once
---@field fields? string[] orders only: a projection, e.g. { "id", "final_price", "brands.title" }
---@field resume? table a pager:state() to continue (alone, or with concurrency)

---Write options.
---@class klikit.WriteOpts
---@field idempotency_key? string 1..64 printable characters (default: a fresh UUIDv4)
---@field timeout? number
---@field path? string inferred paths only: override
---@field method? string inferred paths only: override
---@field confirm? boolean reset_store_overrides only: required

---A walk: `for row in pager do`, or pager:next().
---@class klikit.Pager
---@field yielded integer rows handed out so far
---@field err? klikit.Error the failure, until pager:resume()
---@field pages integer requests made so far
---@overload fun(): any
local Pager = {}

---The next row; nil at the end; nil, err on failure.
---@return any? row
---@return klikit.Error? err
function Pager:next() end

---Every remaining row.
---@return any[]? rows
---@return klikit.Error? err
function Pager:all() end

---A plain table that `client:orders{ resume = state }` continues from (nil for brands).
---@return table? state
function Pager:state() end

---Clears a failure: the walk goes on from the request that failed.
---@return klikit.Pager
function Pager:resume() end

---A klikit Partner API client (klikit.new): one method per endpoint. Every method returns
---`data, nil, meta` or `nil, err, meta`.
---@class klikit.Client
---@field base_url string
---@field partner_key string
local Client = {}

---Every order of [from, to) exactly once, newest first.
---@param params? klikit.OrdersParams
---@return klikit.Pager? pager of klikit.Order
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:orders(params) end

---The count of [from, to), summed over 90-day windows.
---@param params? klikit.OrdersParams
---@return integer? count
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:count_orders(params) end

---One order (GET /orders/{id}).
---@param id integer|string
---@return klikit.Order? order
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:order(id) end

---PATCH /orders/{id}/status. reason_code is required for rejected and cancelled (klikit
---publishes no catalogue; its example is "out_of_items").
---@param id integer|string
---@param fields {status: "accepted"|"ready"|"picked_up"|"rejected"|"cancelled", reason_code?: string, occurred_at?: string|number}
---@param opts? klikit.WriteOpts
---@return {id: string, status: string, updated_at: string}? changed
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:update_order_status(id, fields, opts) end

---GET /orders/order-types.
---@return {id: integer, type: string, translation: table}[]? types
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:order_types() end

---GET /orders/fulfillment-statuses.
---@return {id: integer, status: string, translation: table}[]? statuses
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:fulfillment_statuses() end

---GET /brands: one request.
---@return klikit.Pager? pager of klikit.Brand
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:brands() end

---GET /brands: data[0].business.
---@return table? business
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:business() end

---GET /branches, page by page.
---@param params? {size?: integer, page?: integer, concurrency?: integer, resume?: table}
---@return klikit.Pager? pager of branches
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:branches(params) end

---GET /providers (inferred path).
---@param opts? {path?: string}
---@return table[]? providers
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:providers(opts) end

---PATCH /brands/{id} (inferred path).
---@param id integer|string
---@param fields {title?: string, logo?: string, banner?: string, branch_ids?: integer[], branch_list_changed?: boolean}
---@param opts? klikit.WriteOpts
---@return any? answer
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:update_brand(id, fields, opts) end

---PATCH /branches/{id}.
---@param id integer|string
---@param fields {title?: string, address?: string, phone?: string, brand_ids?: integer[], brand_list_changed?: boolean, available_times?: table}
---@param opts? klikit.WriteOpts
---@return any? answer
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:update_branch(id, fields, opts) end

---GET /menus: both ids (store menu) or neither (business menu).
---@param params? {brand_id?: integer, branch_id?: integer}
---@return table? menu
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:menu(params) end

---POST /menus/sections.
---@param fields table title (locale map), visibilities, availableTimes, sequence, ...
---@param opts? klikit.WriteOpts
---@return {id: integer|string}? created
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:create_section(fields, opts) end

---PATCH /menus/sections/{id}/visibilities: replaces the whole map.
---@param id integer|string
---@param fields {visibilities: table, zoneStores?: table}
---@param opts? klikit.WriteOpts
---@return any? answer
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:set_section_visibilities(id, fields, opts) end

---PATCH /menus/modifier-groups/{id}/visibilities (inferred path).
---@param id integer|string
---@param fields {visibilities: table, zoneStores?: table}
---@param opts? klikit.WriteOpts
---@return any? answer
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:set_modifier_group_visibilities(id, fields, opts) end

---POST /menus/categories.
---@param fields table title and visibilities required
---@param opts? klikit.WriteOpts
---@return {id: integer|string}? created
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:create_category(fields, opts) end

---PATCH /menus/categories/enable: isEnabled is required.
---@param fields {ids: integer[], isEnabled: boolean, zoneStores?: table, brandIDsToCascade?: integer[], isCascadeToModifierGroups?: boolean}
---@param opts? klikit.WriteOpts
---@return any? answer
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:enable_categories(fields, opts) end

---POST /menus/items (onlyModifier = true: a modifier option).
---@param fields table title, vat, visibilities, prices (must include provider "1"), onlyModifier
---@param opts? klikit.WriteOpts
---@return {id: integer|string}? created
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:create_item(fields, opts) end

---POST /menus/modifier-groups/modifiers.
---@param fields {modifierGroupID: integer, attach: {id: integer, sequence?: integer}[], deleteModifierIDs?: integer[]}
---@param opts? klikit.WriteOpts
---@return any? answer
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:attach_modifiers(fields, opts) end

---POST /menus/sync.
---@param fields {stores: table, sections?: table, fieldIncludeOnSync?: string[]}
---@param opts? klikit.WriteOpts
---@return any? answer
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:sync_menu(fields, opts) end

---POST /menus/populate (inferred path).
---@param fields {stores: table, sections?: table}
---@param opts? klikit.WriteOpts
---@return any? answer
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:populate_menu(fields, opts) end

---POST /menus/publish.
---@param fields {stores: {brandID: integer, branchID: integer}[], providerIDs: integer[], scheduledAt?: string|number}
---@param opts? klikit.WriteOpts
---@return {success: integer, failed: integer}? result
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:publish_menu(fields, opts) end

---POST /menus/reset (inferred path). Destructive: needs opts.confirm = true.
---@param fields? table passed through
---@param opts klikit.WriteOpts
---@return any? answer
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:reset_store_overrides(fields, opts) end

---PATCH /items/{sku}/availability (inferred path).
---@param sku string
---@param available boolean
---@param opts? klikit.WriteOpts
---@return any? answer
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:set_item_availability(sku, available, opts) end

---Any endpoint, with the same checks, retries and redaction.
---@param method "GET"|"POST"|"PUT"|"PATCH"|"DELETE"
---@param path string
---@param opts? {query?: table, body?: table|string, headers?: table<string, string>, timeout?: number, connect_timeout?: number, idempotency_key?: string, retry?: klikit.RetryPolicy|false}
---@return any? data
---@return klikit.Error? err
---@return klikit.Meta meta
function Client:request(method, path, opts) end

---Releases the connection; later calls return client_closed.
function Client:close() end

---The Klar client (klikit.klar.new).
---@class klikit.KlarClient
---@field base_url string
---@field version string
---@field batch_size integer
local KlarClient = {}

---@class klikit.KlarResult
---@field sent integer
---@field accepted integer
---@field batches integer
---@field failed table<string, string[]> order id -> messages

---POST /<version>/orders/json, in batches.
---@param orders table[] Klar orders, each with a string id
---@return klikit.KlarResult? result
---@return klikit.Error? err
---@return klikit.Meta meta
function KlarClient:upload(orders) end

---POST /<version>/orders/validate (stores nothing).
---@param orders table[]
---@return klikit.KlarResult? result
---@return klikit.Error? err
---@return klikit.Meta meta
function KlarClient:validate(orders) end

---GET /orders/status.
---@return {total: number?, last_batch_count: number?, last_success: integer?, last_failure: integer?}? status
---@return klikit.Error? err
---@return klikit.Meta meta
function KlarClient:status() end

function KlarClient:close() end

---Options of klikit.klar.new: these and the session options of klikit.Options.
---@class klikit.KlarOptions: klikit.Options
---@field token? string default: KLAR_TOKEN
---@field version? string "MM.YYYY" (default "12.2022")
---@field batch_size? integer 1..1000 (default 250)

---@class klikit.ExportOptions
---@field source klikit.Client
---@field sink klikit.KlarClient
---@field state_file string
---@field from? string|number the first run's start (required then)
---@field to? string|number default: now
---@field lookback? number seconds (default 7 days)
---@field mapping? table options of klar.from_klikit
---@field filters? {status?: integer|string, provider_id?: integer, branch_id?: integer}
---@field on_progress? fun(p: table)

---@class klikit.ExportSummary
---@field walked integer
---@field mapped integer
---@field sent integer
---@field accepted integer
---@field rejected table<string, string[]>
---@field unmappable table<string, string>
---@field batches integer
---@field checkpoint integer Unix seconds
---@field retried integer
---@field vanished string[]
---@field retry_failed table<string, string>
---@field from integer
---@field to integer
---@field resumed boolean

---A verified webhook delivery.
---@class klikit.WebhookEvent
---@field id string x-klikit-event-id
---@field type string x-klikit-event-type
---@field brand_id integer|string
---@field branch_id integer|string
---@field orders {id: integer|string}[]
---@field warnings string[]
---@field signature string

---@class klikit.WebhookHandlerOptions
---@field secret string
---@field dedupe string a lua_shared_dict name
---@field ttl? number seconds an event id is remembered (default 86400)
---@field on_event fun(event: klikit.WebhookEvent)
---@field logger? fun(level: string, message: string)

return {}
