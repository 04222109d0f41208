-- Rule (CONTRACT 2, Campaigns): a campaign's attributes are those of the latest snapshot
-- (dump date) that lists it. Every campaign that appears in any snapshot has one row.

with

snapshots as (

    select * from {{ ref('stg_rednote__campaigns') }}

),

ranked as (

    select
        snapshots.*,
        row_number() over (
            partition by campaign_id
            order by dump_date desc, source_line desc
        ) as snapshot_rank,
        min(dump_date) over (partition by campaign_id) as first_snapshot_date

    from snapshots

),

latest as (

    select
        campaign_id,
        campaign_name,
        brand,
        industry,
        store_platform,
        store_id,
        start_date,
        end_date,
        daily_budget_cny,
        store_score,
        first_snapshot_date,
        dump_date as latest_snapshot_date

    from ranked
    where snapshot_rank = 1

)

select * from latest
