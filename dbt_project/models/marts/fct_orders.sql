-- Incremental on DuckDB (macros/incremental_keys.sql): a copy of int_orders_attributed that
-- takes the rows it derived since this model's last build (their stamps kept), and drops the
-- keys it deleted.
{{ config(
    materialized=incremental_on_duckdb(),
    incremental_strategy='delete+insert',
    unique_key=['platform', 'order_id'],
    on_schema_change='fail',
    pre_hook="{{ delete_keys_gone_from(ref('int_orders_attributed'), ['platform', 'order_id']) }}",
) }}

with

orders as (

    {{ rows_to_copy(ref('int_orders_attributed')) }}

),

final as (

    select
        cast(platform as {{ dbt.type_string() }}) as platform,
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(cid as {{ dbt.type_string() }}) as cid,
        cast(created_at as {{ type_timestamptz() }}) as created_at,
        cast(paid_at as {{ type_timestamptz() }}) as paid_at,
        cast(paid_date as date) as paid_date,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(order_status as {{ dbt.type_string() }}) as order_status_raw,
        cast(paid_amount as {{ type_money() }}) as paid_amount,
        cast(gross_gmv as {{ type_money() }}) as gross_gmv,
        cast(refund_amount as {{ type_money() }}) as refund_amount,
        cast(net_gmv as {{ type_money() }}) as net_gmv,
        cast(item_count as {{ dbt.type_bigint() }}) as item_count,
        cast(item_title as {{ dbt.type_string() }}) as item_title,
        cast(store_id as {{ dbt.type_string() }}) as store_id,
        cast(buyer_key as {{ dbt.type_string() }}) as buyer_key,
        cast(attribution_status as {{ dbt.type_string() }}) as attribution_status,
        cast(is_attributed_conversion as {{ dbt.type_boolean() }}) as is_attributed_conversion,
        cast(click_ts as {{ type_timestamptz() }}) as click_ts,
        cast(click_date as date) as click_date,
        cast(note_id as {{ dbt.type_string() }}) as note_id,
        cast(kol_id as {{ dbt.type_string() }}) as kol_id,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(lag_days as {{ dbt.type_int() }}) as lag_days,
        cast(first_dump_date as date) as first_dump_date,
        cast(dump_date as date) as state_dump_date,
        {{ copied_stamp() }} as derived_at

    from orders

)

select * from final
