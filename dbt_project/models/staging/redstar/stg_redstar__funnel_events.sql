with

source as (

    select * from {{ source('raw', 'redstar_funnel') }}

),

renamed as (

    select

        ----------  ids
        cast(cid as {{ dbt.type_string() }}) as cid,
        cast(store_id as {{ dbt.type_string() }}) as store_id,
        cast(sku_id as {{ dbt.type_string() }}) as sku_id,

        ---------- text
        cast(platform as {{ dbt.type_string() }}) as platform,
        cast(event_type as {{ dbt.type_string() }}) as event_type,

        ---------- timestamps
        cast(event_ts as {{ type_timestamptz() }}) as event_ts,

        ---------- provenance
        cast(dump_date as date) as dump_date,
        source_file,
        source_line,
        loaded_at

    from source

)

select * from renamed
