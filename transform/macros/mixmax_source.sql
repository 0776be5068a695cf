{#-
  mixmax_source(table_name, columns): the typed SELECT a staging model starts from.

  `columns` is a list of [source column, alias, kind], kind one of string, integer,
  number, boolean, timestamp, json. The result always has `account` plus those aliases,
  with the same SQL types on PostgreSQL and DuckDB, whatever the loader made of them:

  - `account` is NULL unless the tap ran with `accounts`;
  - a column the table lacks (an older tap, a deselected field) is NULL;
  - a table that does not exist (the plan lacks the feature, or it never had a row)
    gives no rows, with the same columns, instead of failing the build;
  - timestamps become UTC `timestamp` (without time zone) on both adapters, so dates
    and differences compute the same everywhere;
  - JSON columns become one JSON value (PostgreSQL's jsonb[] and text[] arrays too).
-#}
{% macro mixmax_source(table_name, columns) -%}
  {%- set declared = source('mixmax', table_name) -%}
  {%- set loaded = none -%}
  {%- if execute -%}
    {%- set loaded = adapter.get_relation(
          database=declared.database, schema=declared.schema, identifier=declared.identifier) -%}
  {%- endif -%}
  {%- set present = {} -%}
  {%- if loaded is not none -%}
    {%- for column in adapter.get_columns_in_relation(loaded) -%}
      {%- do present.update({column.name | lower: column}) -%}
    {%- endfor -%}
  {%- endif %}
  select
    {{ mixmax_source_column(present.get('account'), 'string') }} as account
    {%- for name, alias, kind in columns %},
    {{ mixmax_source_column(present.get(name | lower), kind) }} as {{ alias }}
    {%- endfor %}
  {% if loaded is not none -%}
  from {{ loaded }}
  {%- else -%}
  where 1 = 0
  {%- endif %}
{%- endmacro %}


{% macro mixmax_source_column(column, kind) -%}
  {%- if column is none -%}
    cast(null as {{ mixmax_type(kind) }})
  {%- else -%}
    {{ adapter.dispatch('mixmax_cast_column', 'mixmax')(adapter.quote(column.name), column.dtype | lower, kind) }}
  {%- endif -%}
{%- endmacro %}


{% macro default__mixmax_cast_column(quoted, dtype, kind) -%}
  {%- if kind == 'timestamp' -%}
    {%- if 'with time zone' in dtype or dtype == 'timestamptz' -%}
      cast({{ quoted }} at time zone 'UTC' as timestamp)
    {%- elif dtype.startswith('timestamp') -%}
      {{ quoted }}
    {%- else -%}
      {{ mixmax_json_timestamp(quoted) }}
    {%- endif -%}
  {%- elif kind == 'json' -%}
    {{ mixmax_to_json(quoted, dtype) }}
  {%- else -%}
    cast({{ quoted }} as {{ mixmax_type(kind) }})
  {%- endif -%}
{%- endmacro %}


{% macro mixmax_to_json(quoted, dtype) -%}
  {{ return(adapter.dispatch('mixmax_to_json', 'mixmax')(quoted, dtype)) }}
{%- endmacro %}

{% macro postgres__mixmax_to_json(quoted, dtype) -%}
  {#- target-postgres stores arrays as jsonb[] or text[]: to_jsonb makes them one array. -#}
  {%- if dtype == 'jsonb' -%}
    {{ quoted }}
  {%- elif dtype == 'array' or dtype.endswith('[]') -%}
    to_jsonb({{ quoted }})
  {%- else -%}
    cast({{ quoted }} as jsonb)
  {%- endif -%}
{%- endmacro %}

{% macro duckdb__mixmax_to_json(quoted, dtype) -%}
  {%- if dtype == 'json' -%}
    {{ quoted }}
  {%- else -%}
    cast({{ quoted }} as json)
  {%- endif -%}
{%- endmacro %}


{#- The SQL type of each kind, per adapter. -#}
{% macro mixmax_type(kind) -%}
  {{ return(adapter.dispatch('mixmax_type', 'mixmax')(kind)) }}
{%- endmacro %}

{% macro postgres__mixmax_type(kind) -%}
  {{ return({'string': 'text', 'integer': 'bigint', 'number': 'double precision',
             'boolean': 'boolean', 'timestamp': 'timestamp', 'json': 'jsonb'}[kind]) }}
{%- endmacro %}

{% macro duckdb__mixmax_type(kind) -%}
  {{ return({'string': 'varchar', 'integer': 'bigint', 'number': 'double',
             'boolean': 'boolean', 'timestamp': 'timestamp', 'json': 'json'}[kind]) }}
{%- endmacro %}
