-- Rule (CONTRACT 2, Duplicates) for funnel events: an event (cid, event_type, event_ts)
-- delivered again, in the same file or a later one, counts once; the first delivery
-- (earliest dump date, then earliest line) wins.

with

events as (

    select * from {{ ref('stg_redstar__funnel_events') }}

),

ranked as (

    select
        events.*,
        row_number() over (
            partition by cid, event_type, event_ts
            order by dump_date, source_line
        ) as delivery_rank,
        count(*) over (partition by cid, event_type, event_ts) as deliveries

    from events

),

first_deliveries as (

    select
        cid,
        event_type,
        event_ts,
        platform,
        store_id,
        sku_id,
        deliveries,
        dump_date,
        source_file,
        source_line

    from ranked
    where delivery_rank = 1

)

select * from first_deliveries
