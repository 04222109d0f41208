with

daily as (

    select * from {{ ref('int_note_metrics_daily') }}

),

notes as (

    select * from {{ ref('int_notes_latest') }}

),

clicks as (

    select * from {{ ref('int_clicks_deduplicated') }}

),

clicks_per_note_day as (

    select
        note_id,
        click_date,
        count(*) as clicks

    from clicks
    group by note_id, click_date

),

final as (

    select
        cast(daily.metric_date as date) as date,
        cast(daily.note_id as {{ dbt.type_string() }}) as note_id,
        cast(notes.campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(notes.kol_id as {{ dbt.type_string() }}) as kol_id,
        cast(notes.note_title as {{ dbt.type_string() }}) as note_title,
        cast(daily.impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(daily.reads as {{ dbt.type_bigint() }}) as reads,
        cast(coalesce(clicks_per_note_day.clicks, 0) as {{ dbt.type_bigint() }}) as clicks,
        cast(daily.reported_clicks as {{ dbt.type_bigint() }}) as reported_clicks,
        cast(daily.likes as {{ dbt.type_bigint() }}) as likes,
        cast(daily.comments as {{ dbt.type_bigint() }}) as comments,
        cast(daily.collects as {{ dbt.type_bigint() }}) as collects,
        cast(daily.shares as {{ dbt.type_bigint() }}) as shares,
        cast(daily.follows as {{ dbt.type_bigint() }}) as follows,
        cast(daily.likes + daily.comments + daily.collects + daily.shares + daily.follows
            as {{ dbt.type_bigint() }}) as engagements,
        cast(daily.spend as {{ type_money() }}) as spend,
        cast(daily.dump_date as date) as dump_date

    from daily
    inner join notes on daily.note_id = notes.note_id
    left join clicks_per_note_day
        on daily.note_id = clicks_per_note_day.note_id
        and daily.metric_date = clicks_per_note_day.click_date

)

select * from final
