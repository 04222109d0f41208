-- Rule (CONTRACT 2, Order state): an order's current state is its row in the latest dump
-- (by dump date) that holds it. One row per (platform, order_id).
--
-- A dump holds an order once (staging's unique (dump_date, order_id)), so the latest dump
-- date picks the row. Grouped and joined, not ranked in a window: a year of a large brand's
-- order rows does not fit a window's memory, and hash aggregates and joins spill to disk.

with

orders as (

    select * from {{ ref('int_orders_normalized') }}

),

dumps_per_order as (

    select
        platform,
        order_id,
        min(dump_date) as first_dump_date,
        max(dump_date) as latest_dump_date

    from orders
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
        orders.source_line

    from orders
    inner join dumps_per_order
        on orders.platform = dumps_per_order.platform
        and orders.order_id = dumps_per_order.order_id
        and orders.dump_date = dumps_per_order.latest_dump_date

)

select * from latest
