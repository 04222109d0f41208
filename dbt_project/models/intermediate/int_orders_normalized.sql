-- Rule (CONTRACT 2, Order state: normalised status), the one place it is applied: every status
-- text maps as the seed order_status_map says, except that a Tmall order paid and fully
-- refunded (退款金额 > 0 equals the amount paid) is refunded whatever its exported status.
-- An unknown status yields NULL (and fails the not_null test downstream).
-- Applied to every order row of every dump; int_orders_latest then picks the current one.

-- A view: the rows pass through once, to int_orders_latest; a table would write every order
-- row of every dump again.
{{ config(materialized='view') }}

with

orders as (

    select * from {{ ref('int_orders_unioned') }}

),

status_map as (

    select * from {{ ref('order_status_map') }}

),

normalized as (

    select
        orders.*,
        case
            when orders.platform = 'tmall'
                and orders.paid_at is not null
                and orders.refund_amount > 0
                and orders.refund_amount = orders.paid_amount then 'refunded'
            else status_map.status
        end as status

    from orders
    left join status_map
        on orders.platform = status_map.platform
        and orders.order_status = status_map.order_status

)

select * from normalized
