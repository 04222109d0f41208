with

source as (

    select * from {{ source('raw', 'rednote_clicks') }}

),

renamed as (

    select

        ----------  ids
        cast(cid as {{ dbt.type_string() }}) as cid,
        cast(note_id as {{ dbt.type_string() }}) as note_id,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(user_key as {{ dbt.type_string() }}) as user_key,

        ---------- text
        cast(target_platform as {{ dbt.type_string() }}) as target_platform,
        cast(placement as {{ dbt.type_string() }}) as placement,

        ---------- timestamps
        cast(click_ts as {{ type_timestamptz() }}) as click_ts,

        ---------- provenance
        cast(dump_date as date) as dump_date,
        source_file,
        source_line,
        loaded_at

    from source

)

select * from renamed
