with

orders as (

    select * from {{ ref('fct_orders') }}

),

order_dumps as (

    select * from {{ ref('int_order_dumps_loaded') }}

),

per_day as (

    select
        campaign_id,
        platform,
        paid_date,
        count(*) as orders,
        sum(gross_gmv) as gross_gmv,
        sum(net_gmv) as net_gmv,
        sum(case when lag_days <= {{ var('max_lag_days') }} then 1 else 0 end) as orders_within_t30,
        sum(case when lag_days <= {{ var('max_lag_days') }} then gross_gmv else 0 end) as gross_gmv_within_t30

    from orders
    where is_attributed_conversion
    group by campaign_id, platform, paid_date

),

final as (

    select
        cast(per_day.campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(per_day.platform as {{ dbt.type_string() }}) as platform,
        cast(per_day.paid_date as date) as paid_date,
        cast(per_day.orders as {{ dbt.type_bigint() }}) as orders,
        {{ to_money('per_day.gross_gmv') }} as gross_gmv,
        {{ to_money('per_day.net_gmv') }} as net_gmv,
        cast(per_day.orders_within_t30 as {{ dbt.type_bigint() }}) as orders_within_t30,
        {{ to_money('per_day.gross_gmv_within_t30') }} as gross_gmv_within_t30,
        cast({{ is_window_complete('per_day.paid_date', 0, 'order_dumps.first_dump_date', 'order_dumps.loaded_through_date') }}
            as {{ dbt.type_boolean() }}) as order_dumps_loaded

    from per_day
    left join order_dumps on per_day.platform = order_dumps.platform

)

select * from final
