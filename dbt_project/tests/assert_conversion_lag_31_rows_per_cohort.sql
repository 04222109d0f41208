{{ config(meta={'dagster': {'ref': {'name': 'mart_conversion_lag'}}}) }}

-- mart_conversion_lag holds exactly the 31 lags 0..30 for every (campaign, platform, click
-- date) with at least one click in fct_clicks, and no other cohort. Returns the cohorts that
-- break this.

with

lag_rows as (

    select
        campaign_id,
        platform,
        click_date,
        count(*) as n_rows,
        count(distinct lag_days) as n_lags,
        min(lag_days) as min_lag,
        max(lag_days) as max_lag
    from {{ ref('mart_conversion_lag') }}
    group by campaign_id, platform, click_date

),

cohorts as (

    select distinct
        campaign_id,
        target_platform as platform,
        click_date
    from {{ ref('fct_clicks') }}

)

select
    coalesce(cohorts.campaign_id, lag_rows.campaign_id) as campaign_id,
    coalesce(cohorts.platform, lag_rows.platform) as platform,
    coalesce(cohorts.click_date, lag_rows.click_date) as click_date,
    lag_rows.n_rows,
    lag_rows.n_lags,
    lag_rows.min_lag,
    lag_rows.max_lag

from cohorts
full outer join lag_rows
    on cohorts.campaign_id = lag_rows.campaign_id
    and cohorts.platform = lag_rows.platform
    and cohorts.click_date = lag_rows.click_date
where cohorts.campaign_id is null
    or lag_rows.campaign_id is null
    or lag_rows.n_rows <> {{ var('max_lag_days') + 1 }}
    or lag_rows.n_lags <> {{ var('max_lag_days') + 1 }}
    or lag_rows.min_lag <> 0
    or lag_rows.max_lag <> {{ var('max_lag_days') }}
