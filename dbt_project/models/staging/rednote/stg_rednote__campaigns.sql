with

source as (

    select * from {{ source('raw', 'rednote_campaigns') }}

),

renamed as (

    select

        ----------  ids
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(store_id as {{ dbt.type_string() }}) as store_id,

        ---------- text
        cast(campaign_name as {{ dbt.type_string() }}) as campaign_name,
        cast(brand as {{ dbt.type_string() }}) as brand,
        cast(industry as {{ dbt.type_string() }}) as industry,
        cast(store_platform as {{ dbt.type_string() }}) as store_platform,

        ---------- numerics
        cast(daily_budget_cny as {{ type_money() }}) as daily_budget_cny,
        cast(store_score as decimal(4,2)) as store_score,

        ---------- dates
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,

        ---------- provenance
        cast(dump_date as date) as dump_date,
        source_file,
        source_line,
        loaded_at

    from source

)

select * from renamed
