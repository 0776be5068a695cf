{#-
  Keys. A staging row is one object as one account saw it, so its key is
  `<account>/<id>` with `accounts`, and `<id>` alone without (account is NULL then);
  a nested row appends its positions: `<account>/<id>:<position>`. Marts are about
  objects, not copies: they keep one copy of an object that several accounts see
  (a shared sequence arrives once per account, with the same `_id` and content).
-#}

{% macro mixmax_key(account, parts) -%}
  coalesce({{ account }} || '/', '') || {% for part in parts -%}
    cast({{ part }} as {{ mixmax_type('string') }}){% if not loop.last %} || ':' || {% endif %}
  {%- endfor %}
{%- endmacro %}


{#- The rows of `relation`, one per distinct `ids` (the copy of the first account). -#}
{% macro mixmax_one_copy(relation, ids) -%}
  select *
  from (
    select copies.*,
      row_number() over (partition by {{ ids | join(', ') }} order by account) as mixmax_copy
    from {{ relation }} as copies
  ) as numbered
  where mixmax_copy = 1
{%- endmacro %}


{#- `<user_id>:<YYYY-MM-DD>`, the key of mixmax__daily_user_activity. -#}
{% macro mixmax_day_key(user_id, day) -%}
  {{ user_id }} || ':' || cast({{ day }} as {{ mixmax_type('string') }})
{%- endmacro %}


{#- Two rows seen by the same account (both NULL without `accounts`). -#}
{% macro mixmax_same_account(left, right) -%}
  coalesce({{ left }}.account, '') = coalesce({{ right }}.account, '')
{%- endmacro %}
