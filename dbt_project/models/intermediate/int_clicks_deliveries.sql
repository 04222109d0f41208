-- Rule (CONTRACT 2, Duplicates) for clicks, the one place it is decided: every delivery of a
-- cid is compared with its first delivery (earliest dump date; within one dump the ingestion
-- already keeps one row per cid, which the clicks' gate and staging's unique (dump_date, cid)
-- test check).
--   first      the delivery that counts
--   duplicate  a later copy with the same note, campaign and click time: counted once (dropped)
--   conflict   a later copy with a different note, campaign or click time: quarantined
-- Grouped and joined, not ranked in a window: a year of clicks does not fit a window's memory,
-- and hash aggregates and joins spill to disk.
--
-- Incremental on DuckDB (macros/incremental_keys.sql): a build classifies again every delivery
-- of the cids in the click dumps delivered since its last build, now or before (a redelivery
-- may have dropped them). Several rows per cid: delete and insert by cid; a cid left without
-- deliveries comes out as a tombstone, which the post-hook deletes.
{{ config(
    materialized=incremental_on_duckdb(),
    incremental_strategy='delete+insert',
    unique_key='cid',
    on_schema_change='fail',
    post_hook="{% if is_incremental() %}delete from {{ this }} where dump_date is null{% endif %}",
) }}

with

{% if is_incremental() %}

new_dumps as (

    {{ dumps_delivered_since_last_build({'rednote_clicks': 'rednote_clicks'}) }}

),

touched_cids as (

    select staged.cid
    from {{ ref('stg_rednote__clicks') }} as staged
    inner join new_dumps on staged.dump_date = new_dumps.dump_date

    union

    {{ keys_in_dumps_delivered_since_last_build(this, ['cid'], {'rednote_clicks': 'rednote_clicks'}, ['dump_date']) }}

),

{% endif %}

deliveries as (

    {{ rows_of_touched_keys(ref('stg_rednote__clicks'), 'touched_cids', ['cid']) }}

),

first_dump_per_cid as (

    select
        cid,
        min(dump_date) as first_dump_date

    from deliveries
    group by cid

),

first_deliveries as (

    select
        deliveries.cid,
        deliveries.note_id as first_note_id,
        deliveries.campaign_id as first_campaign_id,
        deliveries.click_ts as first_click_ts,
        deliveries.dump_date as first_dump_date,
        deliveries.source_line as first_source_line

    from deliveries
    inner join first_dump_per_cid
        on deliveries.cid = first_dump_per_cid.cid
        and deliveries.dump_date = first_dump_per_cid.first_dump_date

),

classified as (

    select
        deliveries.cid,
        deliveries.click_ts,
        deliveries.note_id,
        deliveries.campaign_id,
        deliveries.target_platform,
        deliveries.user_key,
        deliveries.placement,
        deliveries.dump_date,
        deliveries.source_file,
        deliveries.source_line,
        first_deliveries.first_dump_date,
        first_deliveries.first_source_line,
        case
            when deliveries.dump_date = first_deliveries.first_dump_date then 'first'
            when deliveries.note_id = first_deliveries.first_note_id
                and deliveries.campaign_id = first_deliveries.first_campaign_id
                and deliveries.click_ts = first_deliveries.first_click_ts then 'duplicate'
            else 'conflict'
        end as delivery_status,
        case
            when deliveries.dump_date = first_deliveries.first_dump_date
                then cast(null as {{ dbt.type_string() }})
            when deliveries.note_id <> first_deliveries.first_note_id then 'note_id differs from the first delivery'
            when deliveries.campaign_id <> first_deliveries.first_campaign_id then 'campaign_id differs from the first delivery'
            when deliveries.click_ts <> first_deliveries.first_click_ts then 'click_ts differs from the first delivery'
        end as conflict_reason,
        {{ build_started_at() }} as derived_at

    from deliveries
    inner join first_deliveries on deliveries.cid = first_deliveries.cid

)

select * from classified

{% if is_incremental() %}
{{ union_tombstones('classified', 'touched_cids', ['cid']) }}
{% endif %}
