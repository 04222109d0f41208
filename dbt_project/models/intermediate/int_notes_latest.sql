-- Rule (CONTRACT 2, Notes): a note's campaign, KOL and fee are those of its latest metrics
-- row (latest metrics day; within a day, the latest dump already won in int_note_metrics_daily).

with

daily as (

    select * from {{ ref('int_note_metrics_daily') }}

),

ranked as (

    select
        daily.*,
        row_number() over (
            partition by note_id
            order by metric_date desc
        ) as recency_rank,
        min(metric_date) over (partition by note_id) as first_metric_date,
        count(*) over (partition by note_id) as metric_days

    from daily

),

latest as (

    select
        note_id,
        note_title,
        campaign_id,
        kol_id,
        kol_nickname,
        kol_fee,
        first_metric_date,
        metric_date as last_metric_date,
        metric_days

    from ranked
    where recency_rank = 1

)

select * from latest
