-- One row per click (cid) with its funnel events and conversions, ready to be summed by note,
-- campaign or KOL (through int_click_outcomes, which adds the windows' maturity):
--   funnel events of the click's CID (deduplicated; events whose CID matches no click count nowhere)
--   Window rule (CONTRACT 2, Lag): the window T+N holds attributed conversions with lag_days
--     0..N, for N in var('conversion_windows') (1, 7, 15, 30); orders_after_tN counts lags
--     N+1..var('max_lag_days') for N in var('share_after_windows') (7, 15): the shares after T+N.
--
-- Incremental on DuckDB (macros/incremental_keys.sql): a build derives again the clicks
-- int_clicks_deduplicated derived since its last build, those with funnel events derived since,
-- and those whose conversion totals differ from the model's (an order derived again, moved to
-- another click or deleted leaves no other trace); the clicks' conversions are few, so their
-- totals are summed whole each build. A redelivered funnel dump may have dropped events: then
-- the funnel totals are compared whole too. A deleted click is deleted (pre-hook).

{%- set windows = var('conversion_windows') %}
{%- set after_windows = var('share_after_windows') %}
{%- set max_lag = var('max_lag_days') %}
{#- Each funnel total: the events of its type. -#}
{%- set funnel_totals = {'store_visits': 'store_visit', 'store_searches': 'store_search', 'add_to_carts': 'add_to_cart', 'favorites': 'favorite'} %}
{%- set funnel_columns = funnel_totals.keys() | list %}
{%- set conversion_columns = [] %}
{%- for n in windows %}{% do conversion_columns.extend(['orders_t' ~ n, 'gmv_t' ~ n, 'net_gmv_t' ~ n]) %}{% endfor %}
{%- for n in after_windows %}{% do conversion_columns.append('orders_after_t' ~ n) %}{% endfor %}
{%- do conversion_columns.extend(['orders_any_lag', 'gmv_any_lag']) %}
{%- set funnel_deliveries = deliveries_since_last_build({'redstar_funnel': 'redstar_funnel'}) if is_incremental() else none %}
{#- A night's clicks' funnel events only, unless a redelivery may have dropped some (or in a
    unit test): then every click's funnel totals are compared. -#}
{%- set funnel_of_touched_clicks = funnel_deliveries is not none and not funnel_deliveries.redelivered %}

{#- Each part reads the clicks and events itself: a CTE read twice is materialised (a year's). -#}
{%- set clicks = ref('int_clicks_deduplicated') %}
{%- set funnel_events = ref('int_funnel_events_deduplicated') %}

{{ config(
    materialized=incremental_on_duckdb(),
    incremental_strategy='delete+insert',
    unique_key='cid',
    on_schema_change='fail',
    pre_hook="{{ delete_keys_gone_from(ref('int_clicks_deduplicated'), ['cid']) }}",
) }}

{%- set funnel_per_click %}
funnel_per_click as (

    select
        cid,
        {%- for column, event_type in funnel_totals.items() %}
        sum(case when event_type = {{ dbt.string_literal(event_type) }} then 1 else 0 end) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}

    from {{ 'touched_funnel_events' if funnel_of_touched_clicks else funnel_events }}
    group by cid

),
{%- endset %}

with

conversions as (

    select
        cid,
        lag_days,
        gross_gmv,
        net_gmv

    from {{ ref('int_orders_attributed') }}
    where is_attributed_conversion

),

conversions_per_click as (

    select
        cid,
        {%- for n in windows %}
        sum(case when lag_days between 0 and {{ n }} then 1 else 0 end) as orders_t{{ n }},
        sum(case when lag_days between 0 and {{ n }} then gross_gmv else 0 end) as gmv_t{{ n }},
        sum(case when lag_days between 0 and {{ n }} then net_gmv else 0 end) as net_gmv_t{{ n }},
        {%- endfor %}
        {%- for n in after_windows %}
        sum(case when lag_days between {{ n + 1 }} and {{ max_lag }} then 1 else 0 end) as orders_after_t{{ n }},
        {%- endfor %}
        count(*) as orders_any_lag,
        sum(gross_gmv) as gmv_any_lag

    from conversions
    group by cid

),

{% if not funnel_of_touched_clicks %}
{{ funnel_per_click }}
{% endif %}

{% if is_incremental() %}

touched_clicks as (

    select cid from {{ clicks }}
    where {{ after_last_build_of_this('derived_at') }}

    union

    {% if funnel_of_touched_clicks %}
    select cid from {{ funnel_events }}
    where {{ after_last_build_of_this('derived_at') }}
    {% else %}
    {{ totals_changed('funnel_per_click', funnel_columns) }}
    {% endif %}

    union

    {{ totals_changed('conversions_per_click', conversion_columns) }}

),

{% endif %}

{% if funnel_of_touched_clicks %}
touched_funnel_events as (

    {{ rows_of_touched_keys(funnel_events, 'touched_clicks', ['cid']) }}

),

{{ funnel_per_click }}
{% endif %}

final as (

    select
        clicks.cid,
        clicks.click_ts,
        clicks.click_date,
        clicks.note_id,
        clicks.campaign_id,
        clicks.kol_id,
        clicks.target_platform,

        {%- for column in funnel_columns %}
        cast(coalesce(funnel_per_click.{{ column }}, 0) as {{ dbt.type_bigint() }}) as {{ column }},
        {%- endfor %}

        {%- for n in windows %}
        cast(coalesce(conversions_per_click.orders_t{{ n }}, 0) as {{ dbt.type_bigint() }}) as orders_t{{ n }},
        cast(coalesce(conversions_per_click.gmv_t{{ n }}, 0) as {{ type_money() }}) as gmv_t{{ n }},
        cast(coalesce(conversions_per_click.net_gmv_t{{ n }}, 0) as {{ type_money() }}) as net_gmv_t{{ n }},
        {%- endfor %}
        {%- for n in after_windows %}
        cast(coalesce(conversions_per_click.orders_after_t{{ n }}, 0) as {{ dbt.type_bigint() }}) as orders_after_t{{ n }},
        {%- endfor %}
        cast(coalesce(conversions_per_click.orders_any_lag, 0) as {{ dbt.type_bigint() }}) as orders_any_lag,
        cast(coalesce(conversions_per_click.gmv_any_lag, 0) as {{ type_money() }}) as gmv_any_lag,
        {{ build_started_at() }} as derived_at

    from ({{ rows_of_touched_keys(clicks, 'touched_clicks', ['cid']) }}) as clicks
    left join funnel_per_click on clicks.cid = funnel_per_click.cid
    left join conversions_per_click on clicks.cid = conversions_per_click.cid

)

select * from final
