with

orders as (

    select * from {{ ref('int_orders_attributed') }}

),

order_dumps as (

    select * from {{ ref('int_order_dumps_loaded') }}

),

per_day as (

    select
        platform,
        paid_date,
        count(*) as paid_orders,
        sum(case when is_attributed_conversion then 1 else 0 end) as attributed_orders,
        sum(case when attribution_status = 'organic' then 1 else 0 end) as organic_orders,
        sum(case when attribution_status = 'unmatched_cid' then 1 else 0 end) as unmatched_cid_orders,
        sum(case when attribution_status = 'paid_before_click' then 1 else 0 end) as paid_before_click_orders,
        sum(gross_gmv) as gross_gmv,
        sum(case when is_attributed_conversion then gross_gmv else 0 end) as attributed_gross_gmv

    from orders
    where is_paid
    group by platform, paid_date

),

final as (

    select
        cast(per_day.platform as {{ dbt.type_string() }}) as platform,
        cast(per_day.paid_date as date) as paid_date,
        cast(per_day.paid_orders as {{ dbt.type_bigint() }}) as paid_orders,
        cast(per_day.attributed_orders as {{ dbt.type_bigint() }}) as attributed_orders,
        cast(per_day.organic_orders as {{ dbt.type_bigint() }}) as organic_orders,
        cast(per_day.unmatched_cid_orders as {{ dbt.type_bigint() }}) as unmatched_cid_orders,
        cast(per_day.paid_before_click_orders as {{ dbt.type_bigint() }}) as paid_before_click_orders,
        {{ safe_ratio('per_day.attributed_orders', 'per_day.paid_orders') }} as attributed_share,
        {{ safe_ratio('per_day.attributed_orders + per_day.paid_before_click_orders',
                      'per_day.paid_orders - per_day.organic_orders') }} as cid_match_rate,
        {{ to_money('per_day.gross_gmv') }} as gross_gmv,
        {{ to_money('per_day.attributed_gross_gmv') }} as attributed_gross_gmv,
        cast({{ is_window_complete('per_day.paid_date', 0, 'order_dumps.first_dump_date', 'order_dumps.loaded_through_date') }}
            as {{ dbt.type_boolean() }}) as order_dumps_loaded

    from per_day
    left join order_dumps on per_day.platform = order_dumps.platform

)

select * from final
