"""Breaks of the records' guarantees (README "Every record matches its schema",
"Timestamps", "Fields the schema does not know"), of the schemas that follow live rows,
and of the sandbox's shapes. scripts/mutants.py runs them with the others.
"""

from __future__ import annotations

from mutant_runner import Mutant

T_RECORDS = "tests/unit/test_records.py::"
T_CONFORM = "tests/unit/test_conform.py::"
T_PROPERTIES = "tests/unit/test_shaper_properties.py::"
T_SCHEMAS = "tests/test_schemas.py::"
T_EVERY_MODE = (
    "tests/tap/test_records_valid_in_every_mode.py::"
    "test_every_record_of_every_mode_validates_against_its_schema"
)
T_CORE = "tests/tap/test_core_streams.py::"
T_DOCS = "tests/contract/test_doc_samples.py::"
T_HTTP = "tests/unit/test_client_http.py::"
T_HOSTILE = "tests/tap/test_hostile_servers.py::"
T_SELECTION = "tests/tap/test_selection.py::"
T_DRIFT = "tests/sandbox/test_sandbox_drift.py::"
T_FAST = "tests/unit/test_record_fast_path.py::"
T_SBX_IMPORTS = "tests/sandbox/test_sandbox_imports.py::"
T_REFERENCE = "tests/tap/test_reference_streams.py::"
T_PROPERTY = T_PROPERTIES + "test_every_record_validates_against_its_schema_whatever_mixmax_sends"

RECORD_MUTANTS: tuple[Mutant, ...] = (
    # -- Timestamps and unknown fields ------------------------------------------------------
    Mutant(
        name="timestamps-left-raw",
        guarantee="Every timestamp, at any depth, is emitted as RFC 3339 UTC",
        file="tap_mixmax/records.py",
        original='    if node.get("format") == "date-time" and kind == "string":',
        replacement="    if False:",
        tests=(
            T_RECORDS + "test_shaper_converts_nested_timestamps_and_keeps_unknown_fields",
            T_DOCS + "test_documented_message",
            T_CORE + "test_every_timestamp_is_rfc3339_utc[sequence_recipients]",
        ),
    ),
    Mutant(
        name="epoch-ms-read-as-seconds",
        guarantee="Mixmax mixes epoch milliseconds and ISO-8601 strings",
        file="tap_mixmax/records.py",
        original="EPOCH_MS_THRESHOLD = 10**11",
        replacement="EPOCH_MS_THRESHOLD = 10**14",
        tests=(T_DOCS + "test_documented_livefeed_row_and_its_event",),
    ),
    Mutant(
        name="unknown-fields-dropped",
        guarantee="A top-level field the schema does not know is kept in _extra",
        file="tap_mixmax/records.py",
        original="        record[EXTRA_FIELD] = extra or None",
        replacement="        record[EXTRA_FIELD] = None",
        tests=(T_HTTP + "test_an_unknown_field_is_kept_in_extra_with_one_warning",),
    ),
    Mutant(
        name="fast-path-ignores-selection-and-maps",
        guarantee="Field selection, stream maps and flattening apply to every record",
        file="tap_mixmax/sdk.py",
        original="        if not self._records_go_out_as_they_are:",
        replacement="        if False:",
        tests=(
            T_SELECTION + "test_a_deselected_field_is_left_out_of_every_record",
            T_SELECTION + "test_a_stream_map_renames_the_stream_and_drops_a_field",
            T_SELECTION + "test_flattening_turns_nested_objects_into_columns",
        ),
    ),
    Mutant(
        name="fast-path-writes-no-version",
        guarantee="The record fast path writes the message the SDK's own path would",
        file="tap_mixmax/sdk.py",
        original="                version=self._stream_version,",
        replacement="                version=None,",
        tests=(T_FAST + "test_the_fast_path_writes_what_the_sdk_would",),
    ),
    Mutant(
        name="fast-path-leaves-state-flushed",
        guarantee="The record fast path has the side effects of the SDK's own path",
        file="tap_mixmax/sdk.py",
        original="        self.state_manager.is_flushed = False",
        replacement="        pass",
        tests=(T_FAST + "test_the_fast_path_writes_what_the_sdk_would",),
    ),
    # -- Every record matches its schema (issue 21) -----------------------------------------
    Mutant(
        name="unconvertible-value-lost",
        guarantee="A value that does not fit its column is null, its raw value kept in _extra",
        file="tap_mixmax/records.py",
        original="                except ValueError:\n                    invalid[name] = raw_value(raw)",
        replacement="                except ValueError:\n                    pass",
        tests=(
            T_RECORDS + "test_shaper_keeps_an_unreadable_timestamp_in_extra_instead_of_failing",
            T_CONFORM + "test_a_flag_no_boolean_can_hold_is_kept_in_extra",
            T_HTTP + "test_an_unreadable_replication_value_is_kept_and_does_not_stop_paging",
        ),
    ),
    Mutant(
        name="zero-one-flag-left-in-a-boolean-column",
        guarantee="Every RECORD validates: the live feed's 0/1 flags become booleans",
        file="tap_mixmax/records.py",
        original='    "boolean": (bool, to_boolean),',
        replacement='    "boolean": (bool, lambda value: value),',
        tests=(
            T_CONFORM + "test_a_live_feed_row_typed_as_live_rows_are_is_valid_and_loses_nothing",
            T_EVERY_MODE + "[api_token-default]",
        ),
    ),
    Mutant(
        name="nested-values-not-conformed",
        guarantee="Every value takes its declared type at any depth",
        file="tap_mixmax/records.py",
        original="            if raw is None or type(raw) is plain(name):",
        replacement="            if True:",
        tests=(
            T_CONFORM + "test_numeric_stage_windows_are_kept_and_clock_text_goes_to_extra",
            T_EVERY_MODE + "[api_token-shapes]",
        ),
    ),
    Mutant(
        name="array-items-not-conformed",
        guarantee="Every value takes its declared type, array items included",
        file="tap_mixmax/records.py",
        original=(
            "            if type(raw) is not kept:\n                try:\n"
            "                    value = convert(raw)\n                except ValueError:\n"
            "                    invalid[location([*trail, index])] = raw_value(raw)"
        ),
        replacement=(
            "            if False:\n                try:\n"
            "                    value = convert(raw)\n                except ValueError:\n"
            "                    invalid[location([*trail, index])] = raw_value(raw)"
        ),
        tests=(
            T_CONFORM + "test_meeting_type_integrations_are_booleans_and_queues_numbers",
            T_PROPERTY + "[api_token-meeting_types]",
        ),
    ),
    Mutant(
        name="nan-kept-in-a-number-column",
        guarantee="NaN and Infinity never pass as numbers: null, and kept in _extra",
        file="tap_mixmax/records.py",
        original='    "number": (int, to_number),',
        replacement='    "number": (float, to_number),',
        tests=(T_CONFORM + "test_nan_or_infinity_where_a_number_belongs_is_kept_as_text_in_extra",),
    ),
    Mutant(
        name="replication-key-declared-non-null",
        guarantee="Only a required key is non-null: an unreadable created keeps its record valid",
        file="tap_mixmax/schemas/messages.json",
        original='    "created": {\n      "type": [\n        "string",\n        "null"\n      ],',
        replacement='    "created": {\n      "type": "string",',
        tests=(
            T_SCHEMAS + "test_nullability[messages]",
            T_CONFORM
            + "test_an_unreadable_replication_key_is_null_and_the_record_still_valid"
            + "[soon-messages-created]",
            T_EVERY_MODE + "[api_token-timestamp_styles]",
        ),
    ),
    Mutant(
        name="key-that-is-not-text-refused",
        guarantee="A required key that is not text becomes its JSON text",
        file="tap_mixmax/records.py",
        original="                spec = kept, to_json_text, inner",
        replacement="                spec = kept, _refuse, inner",
        tests=(
            T_CONFORM + "test_a_key_that_is_not_text_becomes_its_text_and_a_missing_one_is_refused",
        ),
    ),
    Mutant(
        name="row-without-key-emitted",
        guarantee="A row without its _id ends the sync with one line, never an unkeyed record",
        file="tap_mixmax/records.py",
        original="            if record.get(key) is None:\n                raise MissingKeyError(key)",
        replacement="            if False:\n                raise MissingKeyError(key)",
        tests=(
            T_CONFORM + "test_a_key_that_is_not_text_becomes_its_text_and_a_missing_one_is_refused",
            T_HOSTILE + "test_a_row_without_its_key_ends_the_sync_with_one_clear_line",
        ),
    ),
    Mutant(
        name="mixmax-account-field-overwritten",
        guarantee="Mixmax's own account or _extra field is kept in _extra, not overwritten",
        file="tap_mixmax/records.py",
        original="        reserved = reserved | {EXTRA_FIELD}",
        replacement="        reserved = frozenset({EXTRA_FIELD})",
        tests=(
            T_CONFORM + "test_fields_the_tap_fills_itself_are_kept_in_extra_when_mixmax_sends_them",
        ),
    ),
    Mutant(
        name="mixmax-filter-object-overwritten",
        guarantee="Nothing is lost: a filterObject Mixmax sends is not replaced by the tap's",
        file="tap_mixmax/streams.py",
        original='        if row.get("filterObject") is None:  # Mixmax\'s own, when it sends one',
        replacement="        if True:",
        tests=(
            T_HOSTILE
            + "test_rules_keep_mixmax_filter_objects_and_ask_for_actions_that_are_not_rows",
        ),
    ),
    Mutant(
        name="rule-actions-not-handed-to-the-child",
        guarantee="Fewest requests: actions embedded by expand=actions cost no request per rule",
        file="tap_mixmax/streams.py",
        original='                    child.embedded_actions[record["_id"]] = actions',
        replacement="                    pass",
        tests=(T_REFERENCE + "test_rule_actions_come_embedded_without_a_request_per_rule",),
    ),
    # -- The sandbox serves live shapes by default, the documented ones as a drift ----------
    Mutant(
        name="sandbox-serves-the-guessed-counter-names",
        guarantee="The sandbox's default data takes the shapes the live API sends",
        file="mixmax_sandbox/messages.py",
        original='            "numOpens": types.count("opened"),',
        replacement='            "numOpen": types.count("opened"),',
        tests=(T_DRIFT + "test_by_default_rows_take_the_shapes_live_rows_show",),
    ),
    Mutant(
        name="documented-shapes-drift-does-nothing",
        guarantee="Other shapes are drift modes: --shapes documented serves the docs' guesses",
        file="mixmax_sandbox/drift.py",
        original="        reshape = self.shapes == DOCUMENTED",
        replacement="        reshape = False",
        tests=(
            T_DRIFT + "test_documented_shapes_are_a_drift_of_the_same_rows",
            "tests/tap/test_coercions.py",
        ),
    ),
    # -- The sandbox is a room of its own ----------------------------------------------------
    Mutant(
        name="sandbox-control-imports-the-server-back",
        guarantee="The sandbox's imports form no cycle (control depends on no server)",
        file="mixmax_sandbox/control.py",
        original="from typing import Any, Protocol\n",
        replacement="from typing import TYPE_CHECKING, Any, Protocol\n\n"
        "if TYPE_CHECKING:\n    from .server import App as ServerApp\n",
        tests=(T_SBX_IMPORTS + "test_the_sandbox_has_no_import_cycle",),
    ),
    Mutant(
        name="sandbox-imports-the-tap",
        guarantee="The sandbox shares nothing with the tap but the data contract",
        file="mixmax_sandbox/control.py",
        original="import json\n",
        replacement="import json\n\nimport tap_mixmax\n",
        tests=(T_SBX_IMPORTS + "test_the_sandbox_never_imports_the_tap",),
    ),
)
