{{ config(meta={'dagster': {'ref': {'name': 'mart_attribution_daily'}}}) }}

-- Reconciliation: per platform and paid day, attributed + organic + unmatched_cid +
-- paid_before_click = all paid orders of fct_orders, and every such day is in the mart.
-- Returns the days that disagree.

with

paid_orders as (

    select
        platform,
        paid_date,
        count(*) as paid_orders
    from {{ ref('fct_orders') }}
    where paid_at is not null
    group by platform, paid_date

),

mart as (

    select
        platform,
        paid_date,
        paid_orders,
        attributed_orders + organic_orders + unmatched_cid_orders + paid_before_click_orders as split_orders
    from {{ ref('mart_attribution_daily') }}

)

select
    coalesce(paid_orders.platform, mart.platform) as platform,
    coalesce(paid_orders.paid_date, mart.paid_date) as paid_date,
    paid_orders.paid_orders as fct_paid_orders,
    mart.paid_orders as mart_paid_orders,
    mart.split_orders

from paid_orders
full outer join mart
    on paid_orders.platform = mart.platform
    and paid_orders.paid_date = mart.paid_date
where paid_orders.paid_orders is null
    or mart.paid_orders is null
    or paid_orders.paid_orders <> mart.paid_orders
    or mart.split_orders <> mart.paid_orders
