{%- set windows = var('conversion_windows') %}

with

click_outcomes as (

    select * from {{ ref('int_click_outcomes') }}

),

per_note_day as (

    select
        note_id,
        click_date,
        max(campaign_id) as campaign_id,
        max(kol_id) as kol_id,
        max(loaded_through_date) as loaded_through_date,
        {{ sum_click_outcomes() }}

    from click_outcomes
    group by note_id, click_date

),

final as (

    select
        cast(note_id as {{ dbt.type_string() }}) as note_id,
        cast(click_date as date) as click_date,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(kol_id as {{ dbt.type_string() }}) as kol_id,
        cast(clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(store_visits as {{ dbt.type_bigint() }}) as store_visits,
        cast(add_to_carts as {{ dbt.type_bigint() }}) as add_to_carts,
        {%- for n in windows %}
        cast(orders_t{{ n }} as {{ dbt.type_bigint() }}) as orders_t{{ n }},
        {%- endfor %}
        {%- for n in windows %}
        cast(gmv_t{{ n }} as {{ type_money() }}) as gmv_t{{ n }},
        {%- endfor %}
        cast(net_gmv_t30 as {{ type_money() }}) as net_gmv_t30,
        {%- for n in windows %}
        cast(t{{ n }}_complete as {{ dbt.type_boolean() }}) as t{{ n }}_complete,
        {%- endfor %}
        cast(loaded_through_date as date) as order_dumps_loaded_through

    from per_note_day

)

select * from final
