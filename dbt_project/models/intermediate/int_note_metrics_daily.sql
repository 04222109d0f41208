-- Rule (fct_note_daily grain): one row per (note, metrics day). If a (note, day) appears in
-- several dumps, the latest dump wins.

with

metrics as (

    select * from {{ ref('stg_rednote__note_metrics') }}

),

ranked as (

    select
        metrics.*,
        row_number() over (
            partition by note_id, metric_date
            order by dump_date desc, source_line desc
        ) as delivery_rank

    from metrics

),

latest as (

    select
        note_id,
        metric_date,
        note_title,
        kol_id,
        kol_nickname,
        campaign_id,
        impressions,
        reads,
        reported_clicks,
        likes,
        comments,
        collects,
        shares,
        follows,
        spend,
        kol_fee,
        dump_date,
        source_file,
        source_line

    from ranked
    where delivery_rank = 1

)

select * from latest
