-- Every order row of every loaded order dump, one staging model per platform of
-- var('order_sources') (stg_<platform>__orders), in one shape.

-- A view: read for int_orders_latest and the dump dates loaded; a table would write every order
-- row of every dump again.
{{ config(materialized='view') }}

{%- set columns = ['platform', 'order_id', 'buyer_key', 'store_id', 'cid', 'order_status',
                   'item_title', 'item_count', 'paid_amount', 'refund_amount', 'created_at',
                   'paid_at', 'dump_date', 'source_file', 'source_line', 'loaded_at'] %}

with

unioned as (

    {%- for platform in var('order_sources') %}

    select {{ columns | join(', ') }} from {{ ref('stg_' ~ platform ~ '__orders') }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}

)

select * from unioned
