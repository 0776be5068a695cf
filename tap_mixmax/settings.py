"""The tap's settings and their defaults, in one place that imports nothing heavy.

`SETTINGS` is the source of meltano.yml's and plugin/extractors/tap-mixmax.yml's
`settings:` lists (scripts/gen_readme.py), so config keys and defaults change here only.
"""

from __future__ import annotations

from singer_sdk import typing as th

from tap_mixmax.open_objects import AS_OBJECT, OPEN_OBJECTS_SETTING
from tap_mixmax.open_objects import CHOICES as OPEN_OBJECTS_CHOICES

DEFAULT_API_URL = "https://api.mixmax.com/v1"
MAX_PAGE_SIZE = 300  # docs/mixmax-api.md 1.4: MAX_LIMIT
DEFAULT_REQUEST_TIMEOUT = 60
DEFAULT_RETRY_BUDGET_SECONDS = 900
# A page of 300 messages with long HTML bodies is a few MB; a compression bomb is refused
# at this size (decoded), which bounds what one answer can cost in memory.
DEFAULT_MAX_RESPONSE_MEGABYTES = 128
DEFAULT_PARALLEL_ACCOUNTS = 4
DEFAULT_PARALLEL_STREAMS = 2
# The search string of /livefeed: Airbyte's connector, the only one that filters the feed,
# sends `query=from:everyone` (docs/mixmax-api.md 2.5; the docs' own guess was `q`). The
# `livefeed_query_param` setting overrides it, for an account where --doctor says otherwise.
LIVEFEED_QUERY_PARAM = "query"
MIXMAX_RATE_LIMIT_PER_MINUTE = 120  # docs/mixmax-api.md 1.5

# The tap's own settings. The SDK appends its built-in ones to `config_jsonschema` in place,
# so docs and tests read this list.
SETTINGS = th.PropertiesList(
    th.Property(
        "api_token",
        th.StringType,
        secret=True,
        title="API token",
        description="Mixmax API token (Settings > Integrations > API). Sent only in the "
        "X-API-Token header. Required unless `accounts` is set.",
    ),
    th.Property(
        "accounts",
        th.ArrayType(
            th.ObjectType(
                th.Property(
                    "name",
                    th.StringType,
                    required=True,
                    description="Unique name; becomes the `account` column and keys state.",
                ),
                th.Property(
                    "api_token",
                    th.StringType,
                    required=True,
                    secret=True,
                    description="That user's Mixmax API token.",
                ),
            )
        ),
        secret=True,
        title="Accounts",
        description="Instead of `api_token`: one `{name, api_token}` per Mixmax user. "
        "Accounts sync concurrently, each within its own rate limit; every record gets an "
        "`account` column, which joins the primary key.",
    ),
    th.Property(
        "max_parallel_accounts",
        th.IntegerType,
        default=DEFAULT_PARALLEL_ACCOUNTS,
        title="Max parallel accounts",
        description="With `accounts`: how many accounts sync at the same time.",
    ),
    th.Property(
        "tolerate_revoked_tokens",
        th.BooleanType,
        default=False,
        title="Tolerate revoked tokens",
        description="With `accounts`: an account whose token Mixmax rejects is reported as a "
        "warning and the sync still succeeds (it fails if every account is rejected).",
    ),
    th.Property(
        "api_url",
        th.StringType,
        default=DEFAULT_API_URL,
        title="API URL",
        description="Base URL of the Mixmax API. Must be https, except on a loopback "
        "host (the bundled sandbox).",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        title="Start date",
        description="Nothing older is emitted for incremental streams; the live feed's "
        "`sent:` window starts here on the first sync.",
    ),
    th.Property(
        "lookback_days",
        th.IntegerType,
        default=7,
        title="Lookback days",
        description="How far before the bookmark messages and polls are re-read, to catch "
        "drafts sent and votes cast after creation.",
    ),
    th.Property(
        "livefeed_activity_days",
        th.IntegerType,
        default=30,
        title="Live-feed activity days",
        description="Live-feed rows sent this long before the bookmark are re-read on "
        "every sync, because opens, clicks and replies keep arriving for weeks.",
    ),
    th.Property(
        "livefeed_query_param",
        th.StringType,
        default=LIVEFEED_QUERY_PARAM,
        title="Live-feed search parameter",
        description="The query parameter /livefeed reads its search string "
        "(`from:everyone sent:...`) from. Change it only if `tap-mixmax --doctor` says "
        "your account reads another one.",
    ),
    th.Property(
        "page_size",
        th.IntegerType,
        default=MAX_PAGE_SIZE,
        title="Page size",
        description=f"Rows per request, 1 to {MAX_PAGE_SIZE} (Mixmax's maximum).",
    ),
    th.Property(
        "request_timeout",
        th.IntegerType,
        default=DEFAULT_REQUEST_TIMEOUT,
        title="Request timeout (seconds)",
        description="Seconds one request may take, connecting, headers and body together, "
        "before it is retried.",
    ),
    th.Property(
        "max_response_megabytes",
        th.IntegerType,
        default=DEFAULT_MAX_RESPONSE_MEGABYTES,
        title="Max response size (MB)",
        description="Largest body accepted from Mixmax, once decompressed. A larger one is "
        "a malformed page: retried, then the sync fails naming the endpoint.",
    ),
    th.Property(
        "user_agent",
        th.StringType,
        title="User agent",
        description="User-Agent header to send (default `tap-mixmax/<version>`).",
    ),
    th.Property(
        "max_requests_per_minute",
        th.IntegerType,
        default=MIXMAX_RATE_LIMIT_PER_MINUTE,
        title="Max requests per minute",
        description="Client-side pace. Lower it when other tools share the token's "
        "limit of 120 requests per minute.",
    ),
    th.Property(
        "max_parallel_streams",
        th.IntegerType,
        default=DEFAULT_PARALLEL_STREAMS,
        title="Max parallel streams",
        description="How many top-level streams (each with its children) sync at once, "
        "sharing the token's pace. More keeps the rate limit busy when Mixmax answers "
        "slowly; 1 syncs one stream after another.",
    ),
    th.Property(
        "retry_budget_seconds",
        th.IntegerType,
        default=DEFAULT_RETRY_BUDGET_SECONDS,
        title="Retry budget (seconds)",
        description="How long one request may keep retrying 429s, 5xx answers and network "
        "failures before the sync fails; it holds while a request is in flight, too. "
        "Until the API has answered once, a connection that cannot be made at all fails "
        "after 60 s.",
    ),
    th.Property(
        "recipients_skip_unchanged_sequences",
        th.BooleanType,
        default=False,
        title="Skip unchanged sequences' recipients",
        description="Read recipients only of sequences that gained a recipient since the "
        "last sync. Saves requests; misses recipients' state changes in other sequences "
        "until the next full pass.",
    ),
    th.Property(
        "recipients_full_pass_days",
        th.IntegerType,
        default=7,
        title="Recipients full pass (days)",
        description="With recipients_skip_unchanged_sequences, read every sequence's "
        "recipients again this often.",
    ),
    th.Property(
        "log_metrics",
        th.BooleanType,
        default=False,
        title="Log metrics",
        description="Also log the Singer SDK's METRIC lines (JSON timings and counters per "
        "request and stream), as the SDK does by default.",
    ),
    th.Property(
        OPEN_OBJECTS_SETTING,
        th.StringType,
        default=AS_OBJECT,
        allowed_values=list(OPEN_OBJECTS_CHOICES),
        title="Open objects as",
        description="How objects whose keys the schema cannot list (`_extra`, "
        "`variables`, `filterObject`, `integrations`) are emitted: `object` (JSON objects), "
        "or `json_text` (their JSON text, declared as strings) for loaders that only keep "
        "declared properties (BigQuery, datamill target-redshift; README, Types in each "
        "target).",
    ),
)
