-- One row per click (cid) with everything that happened after it, ready to be summed by note,
-- campaign or KOL:
--   funnel events of the click's CID (deduplicated; events whose CID matches no click count nowhere)
--   Window rule (CONTRACT 2, Lag): the window T+N holds attributed conversions with lag_days
--     0..N, for N in var('conversion_windows') (1, 7, 15, 30); orders_after_tN counts lags
--     N+1..var('max_lag_days') for N in var('share_after_windows') (7, 15): the shares after T+N.
--   Maturity flags tN_complete of the click's window (macro is_window_complete over
--     int_order_dumps_loaded for the click's platform).

{%- set windows = var('conversion_windows') %}
{%- set after_windows = var('share_after_windows') %}
{%- set max_lag = var('max_lag_days') %}

with

clicks as (

    select * from {{ ref('int_clicks_deduplicated') }}

),

funnel_events as (

    select * from {{ ref('int_funnel_events_deduplicated') }}

),

orders as (

    select * from {{ ref('int_orders_attributed') }}

),

order_dumps as (

    select * from {{ ref('int_order_dumps_loaded') }}

),

funnel_per_click as (

    select
        cid,
        sum(case when event_type = 'store_visit' then 1 else 0 end) as store_visits,
        sum(case when event_type = 'store_search' then 1 else 0 end) as store_searches,
        sum(case when event_type = 'add_to_cart' then 1 else 0 end) as add_to_carts,
        sum(case when event_type = 'favorite' then 1 else 0 end) as favorites

    from funnel_events
    group by cid

),

conversions as (

    select
        cid,
        lag_days,
        gross_gmv,
        net_gmv

    from orders
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

final as (

    select
        clicks.cid,
        clicks.click_ts,
        clicks.click_date,
        clicks.note_id,
        clicks.campaign_id,
        clicks.kol_id,
        clicks.target_platform,

        cast(coalesce(funnel_per_click.store_visits, 0) as {{ dbt.type_bigint() }}) as store_visits,
        cast(coalesce(funnel_per_click.store_searches, 0) as {{ dbt.type_bigint() }}) as store_searches,
        cast(coalesce(funnel_per_click.add_to_carts, 0) as {{ dbt.type_bigint() }}) as add_to_carts,
        cast(coalesce(funnel_per_click.favorites, 0) as {{ dbt.type_bigint() }}) as favorites,

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

        order_dumps.first_dump_date as loaded_from_date,
        order_dumps.loaded_through_date,
        {%- for n in windows %}
        {{ is_window_complete('clicks.click_date', n, 'order_dumps.first_dump_date', 'order_dumps.loaded_through_date') }} as t{{ n }}_complete{{ ',' if not loop.last }}
        {%- endfor %}

    from clicks
    left join funnel_per_click on clicks.cid = funnel_per_click.cid
    left join conversions_per_click on clicks.cid = conversions_per_click.cid
    left join order_dumps on clicks.target_platform = order_dumps.platform

)

select * from final
