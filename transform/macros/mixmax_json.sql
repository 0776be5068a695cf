{#-
  JSON on PostgreSQL (jsonb) and DuckDB (json). Both read keys with `->` and `->>`
  (`value ->> 'email'` is text on both), so models use those operators directly; these
  macros cover what differs.
-#}

{#- A FROM-clause item: one row per element of a JSON array, as `<alias>.value` (JSON)
    and `<alias>.position` (0-based). NULL, or anything but an array, gives no rows. -#}
{% macro mixmax_unnest(json_expr, alias) -%}
  {{ return(adapter.dispatch('mixmax_unnest', 'mixmax')(json_expr, alias)) }}
{%- endmacro %}

{% macro postgres__mixmax_unnest(json_expr, alias) -%}
  cross join lateral (
    select elements.value, elements.ordinality - 1 as position
    from jsonb_array_elements(
      case when jsonb_typeof({{ json_expr }}) = 'array' then {{ json_expr }} end
    ) with ordinality as elements(value, ordinality)
  ) as {{ alias }}
{%- endmacro %}

{% macro duckdb__mixmax_unnest(json_expr, alias) -%}
  cross join lateral (
    select elements.value, cast(elements.key as bigint) as position
    from json_each(
      case when json_type({{ json_expr }}) = 'ARRAY' then {{ json_expr }} end
    ) as elements
  ) as {{ alias }}
{%- endmacro %}


{#- The text of a JSON string value; NULL for objects, arrays, numbers and null. -#}
{% macro mixmax_json_string(json_expr) -%}
  {{ return(adapter.dispatch('mixmax_json_string', 'mixmax')(json_expr)) }}
{%- endmacro %}

{% macro postgres__mixmax_json_string(json_expr) -%}
  case when jsonb_typeof({{ json_expr }}) = 'string' then {{ json_expr }} #>> '{}' end
{%- endmacro %}

{% macro duckdb__mixmax_json_string(json_expr) -%}
  case when json_type({{ json_expr }}) = 'VARCHAR' then {{ json_expr }} ->> '$' end
{%- endmacro %}


{#- An integer counter inside JSON (`value ->> 'opens'`); true/false count as 1/0,
    because some flags are booleans in one payload and counters in another. -#}
{% macro mixmax_json_integer(text_expr) -%}
  cast(case {{ text_expr }} when 'true' then '1' when 'false' then '0' else {{ text_expr }} end as bigint)
{%- endmacro %}


{#- An RFC 3339 text (the tap emits `2026-01-15T12:00:00.000Z`) as a UTC timestamp. -#}
{% macro mixmax_json_timestamp(text_expr) -%}
  cast(cast({{ text_expr }} as timestamp with time zone) at time zone 'UTC' as timestamp)
{%- endmacro %}


{#- Seconds from one UTC timestamp to another, as a double (milliseconds kept). -#}
{% macro mixmax_seconds_between(start_expr, end_expr) -%}
  {{ return(adapter.dispatch('mixmax_seconds_between', 'mixmax')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro postgres__mixmax_seconds_between(start_expr, end_expr) -%}
  cast(extract(epoch from ({{ end_expr }} - {{ start_expr }})) as double precision)
{%- endmacro %}

{% macro duckdb__mixmax_seconds_between(start_expr, end_expr) -%}
  (epoch_ms({{ end_expr }}) - epoch_ms({{ start_expr }})) / 1000.0
{%- endmacro %}
