-- Rule (CONTRACT 2, Order state: normalised status), the one place it is applied.
--   Tmall: 等待买家付款 → pending_payment, 买家已付款，等待卖家发货 → paid,
--          卖家已发货，等待买家确认 → shipped, 交易成功 → completed, 交易关闭 → closed;
--          but refunded wherever the order is paid and 退款金额 > 0 equals the amount paid
--          (a full refund), whatever the exported status.
--   JD:    等待付款 → pending_payment, 等待出库 → paid, 等待确认收货 → shipped,
--          完成 → completed, 已取消 → closed, 退款成功 → refunded.
-- An unknown status yields NULL (and fails the not_null test downstream).
-- Applied to every order row of every dump; int_orders_latest then picks the current one.

with

orders as (

    select * from {{ ref('int_orders_unioned') }}

),

normalized as (

    select
        orders.*,
        case
            when platform = 'tmall' then
                case
                    when paid_at is not null
                        and refund_amount > 0
                        and refund_amount = paid_amount then 'refunded'
                    when order_status = '等待买家付款' then 'pending_payment'
                    when order_status = '买家已付款，等待卖家发货' then 'paid'
                    when order_status = '卖家已发货，等待买家确认' then 'shipped'
                    when order_status = '交易成功' then 'completed'
                    when order_status = '交易关闭' then 'closed'
                end
            when platform = 'jd' then
                case
                    when order_status = '等待付款' then 'pending_payment'
                    when order_status = '等待出库' then 'paid'
                    when order_status = '等待确认收货' then 'shipped'
                    when order_status = '完成' then 'completed'
                    when order_status = '已取消' then 'closed'
                    when order_status = '退款成功' then 'refunded'
                end
        end as status

    from orders

)

select * from normalized
