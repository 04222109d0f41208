-- fct_orders obeys the attribution and conversion rules row by row:
--   is_attributed_conversion and lag_days are set exactly for attributed paid orders, and
--   lag_days is never negative;
--   click fields are set exactly where the CID matched a click (attributed, paid_before_click);
--   organic orders have no CID, others have one;
--   unpaid orders have gross_gmv = net_gmv = 0 and no paid_date;
--   paid_before_click orders were paid before their click.
-- Returns the offending orders.

select
    platform,
    order_id,
    attribution_status,
    is_attributed_conversion,
    paid_at,
    click_ts,
    lag_days,
    gross_gmv,
    net_gmv

from {{ ref('fct_orders') }}
where is_attributed_conversion <> (attribution_status = 'attributed' and paid_at is not null)
    or (lag_days is not null) <> is_attributed_conversion
    or lag_days < 0
    or (click_ts is not null) <> (attribution_status in ('attributed', 'paid_before_click'))
    or (note_id is not null) <> (attribution_status in ('attributed', 'paid_before_click'))
    or (cid is null) <> (attribution_status = 'organic')
    or (paid_at is null and (gross_gmv <> 0 or net_gmv <> 0 or paid_date is not null))
    or (paid_at is not null and (gross_gmv <> paid_amount or net_gmv <> paid_amount - refund_amount))
    or (attribution_status = 'paid_before_click' and not (paid_at < click_ts))
