-- Rules (CONTRACT 2) applied here and nowhere else:
--   Conversion: an order converts when paid (paid_at present). gross_gmv = amount paid,
--     net_gmv = amount paid - amount refunded; both 0 for an order not (yet) paid.
--   Attribution (last click, through the CID), for every order, paid or not:
--     organic            no CID
--     unmatched_cid      CID not in any loaded click (re-evaluated on every run)
--     paid_before_click  paid earlier than the click: invalid, never counted
--     attributed         otherwise
--     Where the CID matches a click, the order carries its click_ts, click_date, note_id,
--     kol_id and campaign_id; otherwise they are empty.
--   Attributed conversion: is_attributed_conversion (attributed and paid), the flag every
--     window, lag curve and conversion count downstream filters on.
--   Lag: lag_days = paid date - click date, both Asia/Shanghai calendar dates; set only for
--     attributed conversions (lags beyond 30 days are kept here, and fall in no window).

--
-- Incremental on DuckDB (macros/incremental_keys.sql): a build derives again the orders whose
-- state int_orders_latest derived again since its last build, those it may have deleted (their
-- current or first row was in an order dump delivered since), those whose CID is a click
-- int_clicks_deduplicated derived again, and those whose click is gone.
{{ config(
    materialized=incremental_on_duckdb(),
    incremental_strategy='merge',
    unique_key=['platform', 'order_id'],
    on_schema_change='fail',
    merge_clauses=tombstone_merge_clauses(),
) }}

{#- Each reads the clicks itself: a CTE read twice is materialised (a year's clicks). -#}
{%- set all_clicks = ref('int_clicks_deduplicated') %}

with

{% if is_incremental() %}

touched_orders as (

    select platform, order_id from {{ ref('int_orders_latest') }}
    where {{ after_last_build_of_this('derived_at') }}

    union

    {{ keys_in_dumps_delivered_since_last_build(
        this, ['platform', 'order_id'], var('order_sources'), ['dump_date', 'first_dump_date'],
        label='platform',
    ) }}

    union

    select orders.platform, orders.order_id
    from {{ ref('int_orders_latest') }} as orders
    inner join (
        select cid from {{ all_clicks }}
        where {{ after_last_build_of_this('derived_at') }}
    ) as derived_clicks on orders.cid = derived_clicks.cid

    union

    select orders_before.platform, orders_before.order_id
    from {{ this }} as orders_before
    -- Matched to a click (click_ts set) that is no longer there.
    where orders_before.click_ts is not null
        and not exists (select 1 from {{ all_clicks }} as clicks where clicks.cid = orders_before.cid)

),

{% endif %}

clicks as (

    select * from {{ all_clicks }}

),

orders as (

    {{ rows_of_touched_keys(ref('int_orders_latest'), 'touched_orders', ['platform', 'order_id']) }}

),

joined as (

    select
        orders.*,
        {{ shanghai_date('orders.paid_at') }} as paid_date,
        clicks.cid as matched_cid,
        clicks.click_ts,
        clicks.click_date,
        clicks.note_id,
        clicks.kol_id,
        clicks.campaign_id,
        clicks.target_platform as click_platform

    from orders
    left join clicks on orders.cid = clicks.cid

),

attributed as (

    select
        joined.*,
        paid_at is not null as is_paid,
        case
            when cid is null then 'organic'
            when matched_cid is null then 'unmatched_cid'
            when paid_at is not null and paid_at < click_ts then 'paid_before_click'
            else 'attributed'
        end as attribution_status

    from joined

),

converted as (

    select
        attributed.*,
        attribution_status = 'attributed' and is_paid as is_attributed_conversion

    from attributed

),

final as (

    select
        platform,
        order_id,
        cid,
        buyer_key,
        store_id,
        created_at,
        paid_at,
        paid_date,
        is_paid,
        order_status,
        status,
        item_title,
        item_count,
        paid_amount,
        refund_amount,
        case when is_paid then paid_amount else 0 end as gross_gmv,
        case when is_paid then paid_amount - refund_amount else 0 end as net_gmv,
        attribution_status,
        is_attributed_conversion,
        click_ts,
        click_date,
        note_id,
        kol_id,
        campaign_id,
        click_platform,
        case
            when is_attributed_conversion
                then cast({{ dbt.datediff('click_date', 'paid_date', 'day') }} as {{ dbt.type_int() }})
        end as lag_days,
        first_dump_date,
        dump_date,
        source_file,
        source_line,
        {{ build_started_at() }} as derived_at

    from converted

)

select * from final

{% if is_incremental() %}
{{ union_tombstones('final', 'touched_orders', ['platform', 'order_id']) }}
{% endif %}
