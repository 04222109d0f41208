-- Every order row of every loaded order dump, Tmall and JD in one shape.

with

tmall as (

    select * from {{ ref('stg_tmall__orders') }}

),

jd as (

    select * from {{ ref('stg_jd__orders') }}

),

unioned as (

    {%- set columns = ['platform', 'order_id', 'buyer_key', 'store_id', 'cid', 'order_status',
                       'item_title', 'item_count', 'paid_amount', 'refund_amount', 'created_at',
                       'paid_at', 'dump_date', 'source_file', 'source_line', 'loaded_at'] %}

    select {{ columns | join(', ') }} from tmall
    union all
    select {{ columns | join(', ') }} from jd

)

select * from unioned
