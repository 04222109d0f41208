-- Audit: later deliveries of a cid whose note, campaign or click time differ from the first
-- delivery. They are quarantined: excluded from int_clicks_deduplicated and every mart.

with

deliveries as (

    select * from {{ ref('int_clicks_deliveries') }}

),

conflicts as (

    select
        cid,
        click_ts,
        note_id,
        campaign_id,
        target_platform,
        user_key,
        placement,
        dump_date,
        source_file,
        source_line,
        first_dump_date,
        first_source_line,
        conflict_reason

    from deliveries
    where delivery_status = 'conflict'

)

select * from conflicts
