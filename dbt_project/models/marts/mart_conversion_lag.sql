{%- set max_lag = var('max_lag_days') %}

with

clicks as (

    select * from {{ ref('int_clicks_deduplicated') }}

),

orders as (

    select * from {{ ref('int_orders_attributed') }}

),

order_dumps as (

    select * from {{ ref('int_order_dumps_loaded') }}

),

lags as (

    select cast(generated_number - 1 as {{ dbt.type_int() }}) as lag_days
    from ({{ dbt.generate_series(max_lag + 1) }}) as series

),

cohorts as (

    select
        campaign_id,
        target_platform as platform,
        click_date,
        count(*) as clicks

    from clicks
    group by campaign_id, target_platform, click_date

),

conversions as (

    select
        campaign_id,
        click_platform as platform,
        click_date,
        lag_days,
        count(*) as orders,
        sum(gross_gmv) as gross_gmv,
        sum(net_gmv) as net_gmv

    from orders
    where is_attributed_conversion
        and lag_days between 0 and {{ max_lag }}
    group by campaign_id, click_platform, click_date, lag_days

),

grid as (

    select
        cohorts.campaign_id,
        cohorts.platform,
        cohorts.click_date,
        lags.lag_days,
        cohorts.clicks,
        coalesce(conversions.orders, 0) as orders,
        coalesce(conversions.gross_gmv, 0) as gross_gmv,
        coalesce(conversions.net_gmv, 0) as net_gmv,
        order_dumps.first_dump_date,
        order_dumps.loaded_through_date

    from cohorts
    cross join lags
    left join conversions
        on cohorts.campaign_id = conversions.campaign_id
        and cohorts.platform = conversions.platform
        and cohorts.click_date = conversions.click_date
        and lags.lag_days = conversions.lag_days
    left join order_dumps on cohorts.platform = order_dumps.platform

),

cumulated as (

    select
        grid.*,
        sum(orders) over (
            partition by campaign_id, platform, click_date
            order by lag_days
            rows between unbounded preceding and current row
        ) as cumulative_orders,
        sum(gross_gmv) over (
            partition by campaign_id, platform, click_date
            order by lag_days
            rows between unbounded preceding and current row
        ) as cumulative_gross_gmv,
        sum(net_gmv) over (
            partition by campaign_id, platform, click_date
            order by lag_days
            rows between unbounded preceding and current row
        ) as cumulative_net_gmv

    from grid

),

final as (

    select
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(platform as {{ dbt.type_string() }}) as platform,
        cast(click_date as date) as click_date,
        cast(lag_days as {{ dbt.type_int() }}) as lag_days,
        cast(clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        {{ to_money('gross_gmv') }} as gross_gmv,
        {{ to_money('net_gmv') }} as net_gmv,
        cast(cumulative_orders as {{ dbt.type_bigint() }}) as cumulative_orders,
        {{ to_money('cumulative_gross_gmv') }} as cumulative_gross_gmv,
        {{ to_money('cumulative_net_gmv') }} as cumulative_net_gmv,
        cast({{ is_window_complete('click_date', 'lag_days', 'first_dump_date', 'loaded_through_date') }} as {{ dbt.type_boolean() }}) as is_complete

    from cumulated

)

select * from final
