with

source as (

    select * from {{ source('raw', 'rednote_note_metrics') }}

),

renamed as (

    select

        ----------  ids
        cast(note_id as {{ dbt.type_string() }}) as note_id,
        cast(kol_id as {{ dbt.type_string() }}) as kol_id,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,

        ---------- text
        cast(note_title as {{ dbt.type_string() }}) as note_title,
        cast(kol_nickname as {{ dbt.type_string() }}) as kol_nickname,

        ---------- counts
        cast(impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(reads as {{ dbt.type_bigint() }}) as reads,
        cast(clicks as {{ dbt.type_bigint() }}) as reported_clicks,
        cast(likes as {{ dbt.type_bigint() }}) as likes,
        cast(comments as {{ dbt.type_bigint() }}) as comments,
        cast(collects as {{ dbt.type_bigint() }}) as collects,
        cast(shares as {{ dbt.type_bigint() }}) as shares,
        cast(follows as {{ dbt.type_bigint() }}) as follows,

        ---------- money
        cast(spend as {{ type_money() }}) as spend,
        cast(kol_fee as {{ type_money() }}) as kol_fee,

        ---------- dates
        cast(metric_date as date) as metric_date,

        ---------- provenance
        cast(dump_date as date) as dump_date,
        source_file,
        source_line,
        loaded_at

    from source

)

select * from renamed
