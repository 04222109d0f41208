-- Rule (CONTRACT 2, Duplicates) for clicks, the one place it is decided: every delivery of a
-- cid is compared with its first delivery (earliest dump date, then earliest line).
--   first      the delivery that counts
--   duplicate  a later copy with the same note, campaign and click time: counted once (dropped)
--   conflict   a later copy with a different note, campaign or click time: quarantined
-- (Within one dump the ingestion already keeps one row per cid.)

with

deliveries as (

    select * from {{ ref('stg_rednote__clicks') }}

),

ranked as (

    select
        deliveries.*,
        row_number() over (
            partition by cid
            order by dump_date, source_line
        ) as delivery_rank

    from deliveries

),

first_deliveries as (

    select
        cid,
        note_id as first_note_id,
        campaign_id as first_campaign_id,
        click_ts as first_click_ts,
        dump_date as first_dump_date,
        source_line as first_source_line

    from ranked
    where delivery_rank = 1

),

classified as (

    select
        ranked.cid,
        ranked.click_ts,
        ranked.note_id,
        ranked.campaign_id,
        ranked.target_platform,
        ranked.user_key,
        ranked.placement,
        ranked.dump_date,
        ranked.source_file,
        ranked.source_line,
        ranked.delivery_rank,
        first_deliveries.first_dump_date,
        first_deliveries.first_source_line,
        case
            when ranked.delivery_rank = 1 then 'first'
            when ranked.note_id = first_deliveries.first_note_id
                and ranked.campaign_id = first_deliveries.first_campaign_id
                and ranked.click_ts = first_deliveries.first_click_ts then 'duplicate'
            else 'conflict'
        end as delivery_status,
        case
            when ranked.delivery_rank = 1 then cast(null as {{ dbt.type_string() }})
            when ranked.note_id <> first_deliveries.first_note_id then 'note_id differs from the first delivery'
            when ranked.campaign_id <> first_deliveries.first_campaign_id then 'campaign_id differs from the first delivery'
            when ranked.click_ts <> first_deliveries.first_click_ts then 'click_ts differs from the first delivery'
        end as conflict_reason

    from ranked
    inner join first_deliveries on ranked.cid = first_deliveries.cid

)

select * from classified
