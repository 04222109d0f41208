-- Rule (CONTRACT 2, Order state): an order's current state is its row in the latest dump
-- (by dump date) that holds it. One row per (platform, order_id).
--
-- A dump holds an order once (staging's unique (dump_date, order_id)), so the latest dump
-- date picks the row. Grouped and joined, not ranked in a window: a year of a large brand's
-- order rows does not fit a window's memory, and hash aggregates and joins spill to disk.
--
-- Incremental on DuckDB (macros/incremental_keys.sql): a build derives again the orders of the
-- dumps delivered since its last build, and those whose current or first row was in such a
-- dump (a redelivery may have dropped them), each from all its rows; one with no row left is
-- deleted. When none of those dumps had been loaded before (a night's new dump, a backfilled
-- day), an order's earlier rows are unchanged and its current row and first dump are in the
-- model already: the build reads only the new dumps' files.
{{ config(
    materialized=incremental_on_duckdb(),
    incremental_strategy='merge',
    unique_key=['platform', 'order_id'],
    on_schema_change='fail',
    merge_clauses=tombstone_merge_clauses(),
) }}

{#- Each reads the order rows itself (a CTE read twice is materialised: a year's rows), the
    keys first, then the rows of the latest dumps only. -#}
{%- set all_orders = ref('int_orders_normalized') %}
{%- set order_dumps = 'touched_order_dumps' if is_incremental() else all_orders %}
{%- set deliveries = deliveries_since_last_build(var('order_sources')) if is_incremental() else none %}
{%- set columns = ['platform', 'order_id', 'buyer_key', 'store_id', 'cid', 'order_status', 'status',
    'item_title', 'item_count', 'paid_amount', 'refund_amount', 'created_at', 'paid_at',
    'first_dump_date', 'dump_date', 'source_file', 'source_line', 'loaded_at'] %}

with

{% if deliveries is not none and not deliveries.redelivered %}

new_rows as (

    select * from {{ all_orders }}
    where {{ in_dumps(deliveries.dumps, 'platform') }}

),

new_dumps_per_order as (

    select
        platform,
        order_id,
        min(dump_date) as first_new_dump_date,
        max(dump_date) as latest_new_dump_date

    from new_rows
    group by platform, order_id

),

current_rows as (

    select current_rows.*
    from {{ this }} as current_rows
    where exists (
        select 1 from new_dumps_per_order
        where {{ same_key('new_dumps_per_order', 'current_rows', ['platform', 'order_id']) }}
    )

),

latest as (

    -- A new row later than the order's current one replaces it.
    select
        {{- columns_replacing('new_rows', columns, {'first_dump_date':
            'least(new_dumps.first_new_dump_date, coalesce(current_rows.first_dump_date, new_dumps.first_new_dump_date))'}) }}
        {{ build_started_at() }} as derived_at

    from new_rows
    inner join new_dumps_per_order as new_dumps
        on {{ same_key('new_dumps', 'new_rows', ['platform', 'order_id']) }}
        and new_rows.dump_date = new_dumps.latest_new_dump_date
    left join current_rows
        on {{ same_key('current_rows', 'new_rows', ['platform', 'order_id']) }}
    where current_rows.dump_date is null or new_rows.dump_date > current_rows.dump_date

    union all

    -- A later current row stays, with an earlier first dump.
    select
        {{- columns_replacing('current_rows', columns, {'first_dump_date': 'new_dumps.first_new_dump_date'}) }}
        {{ build_started_at() }} as derived_at

    from current_rows
    inner join new_dumps_per_order as new_dumps
        on {{ same_key('new_dumps', 'current_rows', ['platform', 'order_id']) }}
    where current_rows.dump_date > new_dumps.latest_new_dump_date
        and new_dumps.first_new_dump_date < current_rows.first_dump_date

)

select * from latest

{% else %}

{% if is_incremental() %}

new_dumps as (

    {{ dumps_delivered_since_last_build(var('order_sources'), label='platform') }}

),

touched_orders as (

    select all_orders.platform, all_orders.order_id
    from {{ all_orders }} as all_orders
    inner join new_dumps
        on all_orders.platform = new_dumps.platform
        and all_orders.dump_date = new_dumps.dump_date

    union

    {{ keys_in_dumps_delivered_since_last_build(
        this, ['platform', 'order_id'], var('order_sources'), ['dump_date', 'first_dump_date'],
        label='platform',
    ) }}

),

touched_order_dumps as (

    select all_orders.platform, all_orders.order_id, all_orders.dump_date
    from {{ all_orders }} as all_orders
    where exists (
        select 1 from touched_orders
        where touched_orders.platform = all_orders.platform
            and touched_orders.order_id = all_orders.order_id
    )

),

{% endif %}

dumps_per_order as (

    select
        platform,
        order_id,
        min(dump_date) as first_dump_date,
        max(dump_date) as latest_dump_date

    from {{ order_dumps }} as order_dumps
    group by platform, order_id

),

latest as (

    select
        {{- columns_replacing('orders', columns, {'first_dump_date': 'dumps_per_order.first_dump_date'}) }}
        {{ build_started_at() }} as derived_at

    from {{ all_orders }} as orders
    inner join dumps_per_order
        on orders.platform = dumps_per_order.platform
        and orders.order_id = dumps_per_order.order_id
        and orders.dump_date = dumps_per_order.latest_dump_date

)

select * from latest

{% if is_incremental() %}
{{ union_tombstones('latest', 'touched_orders', ['platform', 'order_id']) }}
{% endif %}

{% endif %}
