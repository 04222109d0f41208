with

clicks as (

    select * from {{ ref('int_clicks_deduplicated') }}

),

final as (

    select
        cast(cid as {{ dbt.type_string() }}) as cid,
        cast(click_ts as {{ type_timestamptz() }}) as click_ts,
        cast(click_date as date) as click_date,
        cast(note_id as {{ dbt.type_string() }}) as note_id,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(kol_id as {{ dbt.type_string() }}) as kol_id,
        cast(target_platform as {{ dbt.type_string() }}) as target_platform,
        cast(user_key as {{ dbt.type_string() }}) as user_key,
        cast(placement as {{ dbt.type_string() }}) as placement,
        cast(dump_date as date) as dump_date,
        cast(deliveries as {{ dbt.type_bigint() }}) as deliveries,
        cast(conflicting_deliveries as {{ dbt.type_bigint() }}) as conflicting_deliveries

    from clicks

)

select * from final
