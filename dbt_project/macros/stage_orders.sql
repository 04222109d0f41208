{#-
    Staging for an order export. Tmall and JD name their columns differently, but ingestion
    maps both onto the same raw layout (orchestration/defs/ingestion/sources.py), so their
    staging is one rename-and-cast that differs only by the platform it stamps.
-#}
{% macro stage_orders(platform) %}

with

source as (

    select * from {{ source('raw', var('order_sources')[platform]) }}

),

renamed as (

    select

        ----------  ids
        cast('{{ platform }}' as {{ dbt.type_string() }}) as platform,
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(buyer_key as {{ dbt.type_string() }}) as buyer_key,
        cast(store_id as {{ dbt.type_string() }}) as store_id,
        cast(cid as {{ dbt.type_string() }}) as cid,

        ---------- text
        cast(order_status as {{ dbt.type_string() }}) as order_status,
        cast(item_title as {{ dbt.type_string() }}) as item_title,

        ---------- numerics
        cast(item_count as {{ dbt.type_bigint() }}) as item_count,
        cast(paid_amount as {{ type_money() }}) as paid_amount,
        cast(refund_amount as {{ type_money() }}) as refund_amount,

        ---------- timestamps
        cast(created_at as {{ type_timestamptz() }}) as created_at,
        cast(paid_at as {{ type_timestamptz() }}) as paid_at,

        ---------- provenance
        cast(dump_date as date) as dump_date,
        source_file,
        source_line,
        loaded_at

    from source

)

select * from renamed

{% endmacro %}
