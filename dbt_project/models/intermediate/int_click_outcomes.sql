-- One row per click (cid): int_click_totals with the maturity flags tN_complete of the click's
-- windows (macro is_window_complete over int_order_dumps_loaded for the click's platform).
-- A view: the flags move for every click as order dumps load, each night; the totals only for
-- the clicks that night touched, so those are a table built incrementally.

{%- set windows = var('conversion_windows') %}

{{ config(materialized='view') }}

with

click_totals as (

    select * from {{ ref('int_click_totals') }}

),

order_dumps as (

    select * from {{ ref('int_order_dumps_loaded') }}

),

final as (

    select
        click_totals.*,
        order_dumps.first_dump_date as loaded_from_date,
        order_dumps.loaded_through_date,
        {%- for n in windows %}
        {{ is_window_complete('click_totals.click_date', n, 'order_dumps.first_dump_date', 'order_dumps.loaded_through_date') }} as t{{ n }}_complete{{ ',' if not loop.last }}
        {%- endfor %}

    from click_totals
    left join order_dumps on click_totals.target_platform = order_dumps.platform

)

select * from final
