-- One row per click (cid): its first delivery, with the click's Asia/Shanghai calendar date and
-- the KOL of its note (the note's latest metrics row). Later copies are counted once
-- (duplicates) or quarantined (conflicts, see int_clicks_conflicting).

with

deliveries as (

    select * from {{ ref('int_clicks_deliveries') }}

),

notes as (

    select * from {{ ref('int_notes_latest') }}

),

delivery_counts as (

    select
        cid,
        count(*) as deliveries,
        sum(case when delivery_status = 'conflict' then 1 else 0 end) as conflicting_deliveries

    from deliveries
    group by cid

),

first_deliveries as (

    select * from deliveries
    where delivery_status = 'first'

),

final as (

    select
        first_deliveries.cid,
        first_deliveries.click_ts,
        {{ shanghai_date('first_deliveries.click_ts') }} as click_date,
        first_deliveries.note_id,
        first_deliveries.campaign_id,
        notes.kol_id,
        first_deliveries.target_platform,
        first_deliveries.user_key,
        first_deliveries.placement,
        first_deliveries.dump_date,
        first_deliveries.source_file,
        first_deliveries.source_line,
        delivery_counts.deliveries,
        delivery_counts.conflicting_deliveries

    from first_deliveries
    inner join delivery_counts on first_deliveries.cid = delivery_counts.cid
    left join notes on first_deliveries.note_id = notes.note_id

)

select * from final
