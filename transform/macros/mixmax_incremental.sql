{#-
  The incremental marts' one rule. On an incremental run, rebuild a row when
  - its activity `expr` is at most `mixmax_incremental_lookback_days` older than the
    newest `newest_column` already in the model (new events, late loads), or
  - its key `key_expr` is not in the model yet (history loaded late: an account added
    to `accounts`, an earlier `start_date`), however old.
  Renders nothing on a full build. A row already in the model whose old activity changes
  without new activity is not seen: `dbt build --full-refresh` rebuilds everything.
-#}
{% macro mixmax_incremental_where(expr, newest_column, key_expr, key_column) -%}
  {%- if is_incremental() -%}
  where (
    {{ expr }} >= (
      select {{ dbt.dateadd('day', -var('mixmax_incremental_lookback_days'), 'max(' ~ newest_column ~ ')') }}
      from {{ this }}
    )
    or {{ key_expr }} not in (select {{ key_column }} from {{ this }} where {{ key_column }} is not null)
  )
  {%- endif -%}
{%- endmacro %}
