-- Rule (CONTRACT 2, Duplicates) for funnel events: an event (cid, event_type, event_ts)
-- delivered again, in the same file or a later one, counts once; the first delivery wins.
-- The ingestion keeps one copy of an event within a file (staging's unique (dump_date, cid,
-- event_type, event_ts) test), so the first delivery is the event's row in its earliest dump.
-- Grouped and joined, not ranked in a window: a year of events does not fit a window's memory,
-- and hash aggregates and joins spill to disk.

with

events as (

    select * from {{ ref('stg_redstar__funnel_events') }}

),

deliveries_per_event as (

    select
        cid,
        event_type,
        event_ts,
        min(dump_date) as first_dump_date,
        count(*) as deliveries

    from events
    group by cid, event_type, event_ts

),

first_deliveries as (

    select
        events.cid,
        events.event_type,
        events.event_ts,
        events.platform,
        events.store_id,
        events.sku_id,
        deliveries_per_event.deliveries,
        events.dump_date,
        events.source_file,
        events.source_line

    from events
    inner join deliveries_per_event
        on events.cid = deliveries_per_event.cid
        and events.event_type = deliveries_per_event.event_type
        and events.event_ts = deliveries_per_event.event_ts
        and events.dump_date = deliveries_per_event.first_dump_date

)

select * from first_deliveries
