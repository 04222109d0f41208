-- Rule (CONTRACT 2, Duplicates) for funnel events: an event (cid, event_type, event_ts)
-- delivered again, in the same file or a later one, counts once; the first delivery wins.
-- The ingestion keeps one copy of an event within a file (staging's unique (dump_date, cid,
-- event_type, event_ts) test), so the first delivery is the event's row in its earliest dump.
-- Grouped and joined, not ranked in a window: a year of events does not fit a window's memory,
-- and hash aggregates and joins spill to disk.
--
-- Incremental on DuckDB (macros/incremental_keys.sql): a build derives again the events of the
-- funnel dumps delivered since its last build and those whose first delivery was in such a
-- dump (a redelivery may have dropped it), each from all its deliveries; one with no delivery
-- left is deleted.
{{ config(
    materialized=incremental_on_duckdb(),
    incremental_strategy='merge',
    unique_key=['cid', 'event_type', 'event_ts'],
    on_schema_change='fail',
    merge_clauses=tombstone_merge_clauses(),
) }}

{%- set event_key = ['cid', 'event_type', 'event_ts'] %}

with

{% if is_incremental() %}

new_dumps as (

    {{ dumps_delivered_since_last_build({'redstar_funnel': 'redstar_funnel'}) }}

),

touched_events as (

    select staged.cid, staged.event_type, staged.event_ts
    from {{ ref('stg_redstar__funnel_events') }} as staged
    inner join new_dumps on staged.dump_date = new_dumps.dump_date

    union

    {{ keys_in_dumps_delivered_since_last_build(this, event_key, {'redstar_funnel': 'redstar_funnel'}, ['dump_date']) }}

),

{% endif %}

events as (

    {{ rows_of_touched_keys(ref('stg_redstar__funnel_events'), 'touched_events', event_key) }}

),

first_dump_per_event as (

    select
        cid,
        event_type,
        event_ts,
        min(dump_date) as first_dump_date

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
        events.dump_date,
        events.source_file,
        events.source_line,
        {{ build_started_at() }} as derived_at

    from events
    inner join first_dump_per_event
        on events.cid = first_dump_per_event.cid
        and events.event_type = first_dump_per_event.event_type
        and events.event_ts = first_dump_per_event.event_ts
        and events.dump_date = first_dump_per_event.first_dump_date

)

select * from first_deliveries

{% if is_incremental() %}
{{ union_tombstones('first_deliveries', 'touched_events', event_key) }}
{% endif %}
