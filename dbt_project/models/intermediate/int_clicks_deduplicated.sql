-- One row per click (cid): its first delivery, with the click's Asia/Shanghai calendar date and
-- the KOL of its note (the note's latest metrics row). Later copies are counted once
-- (duplicates) or quarantined (conflicts, see int_clicks_conflicting).

--
-- Incremental on DuckDB (macros/incremental_keys.sql): a build derives again the clicks whose
-- deliveries int_clicks_deliveries classified again since its last build, those whose first
-- delivery was in a click dump delivered since (they may have no delivery left), and those
-- whose note's KOL changed.
{{ config(
    materialized=incremental_on_duckdb(),
    incremental_strategy='merge',
    unique_key='cid',
    on_schema_change='fail',
    merge_clauses=tombstone_merge_clauses(),
) }}

with

notes as (

    select * from {{ ref('int_notes_latest') }}

),

{% if is_incremental() %}

touched_cids as (

    select cid from {{ ref('int_clicks_deliveries') }}
    where {{ after_last_build_of_this('derived_at') }}

    union

    {{ keys_in_dumps_delivered_since_last_build(this, ['cid'], {'rednote_clicks': 'rednote_clicks'}, ['dump_date']) }}

    union

    select clicks_before.cid
    from {{ this }} as clicks_before
    left join notes on clicks_before.note_id = notes.note_id
    where clicks_before.kol_id is distinct from notes.kol_id

),

{% endif %}

deliveries as (

    {{ rows_of_touched_keys(ref('int_clicks_deliveries'), 'touched_cids', ['cid']) }}

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
        delivery_counts.conflicting_deliveries,
        {{ build_started_at() }} as derived_at

    from first_deliveries
    inner join delivery_counts on first_deliveries.cid = delivery_counts.cid
    left join notes on first_deliveries.note_id = notes.note_id

)

select * from final

{% if is_incremental() %}
{{ union_tombstones('final', 'touched_cids', ['cid']) }}
{% endif %}
