{#-
    Roll-ups shared by the marts that report at a coarser grain than a note or a click
    (a note's day, a campaign, a KOL in a campaign): the same sums at every grain, so that
    the marts cannot drift apart. Each emits select-list columns, with no trailing comma.
-#}

{#- A group's cost, summed over its notes; `relation` qualifies the columns of int_note_costs. -#}
{% macro sum_note_costs(relation) -%}
    count(*) as notes,
        sum({{ relation }}.ad_spend) as ad_spend,
        sum({{ relation }}.kol_fee) as kol_fees,
        sum({{ relation }}.platform_fee_exact) as platform_fee_exact,
        sum({{ relation }}.total_cost_exact) as total_cost_exact
{%- endmacro %}

{#- The cost of a sum_note_costs row `relation`, rounded to cents once over the group; a group
    met by a left join without notes costs 0.00. -#}
{% macro note_cost_totals(relation) -%}
    coalesce({{ relation }}.notes, 0) as notes,
        {{ to_money('coalesce(' ~ relation ~ '.ad_spend, 0)') }} as ad_spend,
        {{ to_money('coalesce(' ~ relation ~ '.kol_fees, 0)') }} as kol_fees,
        {{ to_money('coalesce(' ~ relation ~ '.platform_fee_exact, 0)') }} as platform_fee,
        {{ to_money('coalesce(' ~ relation ~ '.total_cost_exact, 0)') }} as total_cost
{%- endmacro %}

{#- Rule (CONTRACT 2, Cost): roi_tN = gross GMV in window T+N ÷ total cost, for each of
    `windows`; over a row of click_outcome_totals and note_cost_totals. -#}
{% macro roi_by_window(windows=var('conversion_windows')) -%}
    {%- for n in windows %}
        {{ safe_ratio('gmv_t' ~ n, 'total_cost') }} as roi_t{{ n }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- A group's funnel, conversions in each of `windows` and their completeness, summed over its
    clicks; use inside an aggregate over int_click_outcomes. -#}
{% macro sum_click_outcomes(windows=var('conversion_windows')) -%}
    count(*) as clicks,
        sum(store_visits) as store_visits,
        sum(add_to_carts) as add_to_carts,
        {%- for n in windows %}
        sum(orders_t{{ n }}) as orders_t{{ n }},
        sum(gmv_t{{ n }}) as gmv_t{{ n }},
        {%- endfor %}
        sum(net_gmv_t30) as net_gmv_t30,
        {%- for n in windows %}
        {{ latest_click_day_window_complete(n) }} as t{{ n }}_complete{{ ',' if not loop.last }}
        {%- endfor %}
{%- endmacro %}

{#- The counts and money of a sum_click_outcomes row `relation` met by a left join: a group
    without clicks has 0 clicks and 0.00 GMV. -#}
{% macro click_outcome_totals(relation, windows=var('conversion_windows')) -%}
    coalesce({{ relation }}.clicks, 0) as clicks,
        coalesce({{ relation }}.store_visits, 0) as store_visits,
        coalesce({{ relation }}.add_to_carts, 0) as add_to_carts,
        {%- for n in windows %}
        coalesce({{ relation }}.orders_t{{ n }}, 0) as orders_t{{ n }},
        {{ to_money('coalesce(' ~ relation ~ '.gmv_t' ~ n ~ ', 0)') }} as gmv_t{{ n }},
        {%- endfor %}
        {{ to_money('coalesce(' ~ relation ~ '.net_gmv_t30, 0)') }} as net_gmv_t30
{%- endmacro %}
