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
-- deleted.
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

with

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
        orders.platform,
        orders.order_id,
        orders.buyer_key,
        orders.store_id,
        orders.cid,
        orders.order_status,
        orders.status,
        orders.item_title,
        orders.item_count,
        orders.paid_amount,
        orders.refund_amount,
        orders.created_at,
        orders.paid_at,
        dumps_per_order.first_dump_date,
        orders.dump_date,
        orders.source_file,
        orders.source_line,
        orders.loaded_at,
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
