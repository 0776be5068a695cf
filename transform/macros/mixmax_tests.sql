{#- Fails on every row where one of the `smaller` columns exceeds `larger` (a subset
    counted larger than its whole: opened above sent, votes above all votes). -#}
{% test mixmax_at_most(model, smaller, larger) %}
  select *
  from {{ model }}
  where {% for column in smaller -%}
    {{ column }} > {{ larger }}{% if not loop.last %} or {% endif %}
  {%- endfor %}
{% endtest %}
