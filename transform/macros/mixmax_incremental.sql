{#-
  The incremental marts' one rule: on an incremental run, rebuild the rows whose
  activity `expr` is at most `mixmax_incremental_lookback_days` older than the newest
  `newest_column` already in the model. Renders nothing on a full build.
-#}
{% macro mixmax_incremental_where(expr, newest_column) -%}
  {%- if is_incremental() -%}
  where {{ expr }} >= (
    select {{ dbt.dateadd('day', -var('mixmax_incremental_lookback_days'), 'max(' ~ newest_column ~ ')') }}
    from {{ this }}
  )
  {%- endif -%}
{%- endmacro %}
