-- Rule (CONTRACT 2, Order state): an order's current state is its row in the latest dump
-- (by dump date) that holds it. One row per (platform, order_id).

with

orders as (

    select * from {{ ref('int_orders_normalized') }}

),

ranked as (

    select
        orders.*,
        row_number() over (
            partition by platform, order_id
            order by dump_date desc, source_line desc
        ) as state_rank,
        min(dump_date) over (partition by platform, order_id) as first_dump_date

    from orders

),

latest as (

    select
        platform,
        order_id,
        buyer_key,
        store_id,
        cid,
        order_status,
        status,
        item_title,
        item_count,
        paid_amount,
        refund_amount,
        created_at,
        paid_at,
        first_dump_date,
        dump_date,
        source_file,
        source_line

    from ranked
    where state_rank = 1

)

select * from latest
