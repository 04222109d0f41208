{{ config(meta={'dagster': {'ref': {'name': 'mart_campaign_roi'}}}) }}

-- mart_campaign_roi: total_cost = ad_spend + kol_fees + platform_fee, platform_fee = 10 % of
-- kol_fees (to the cent), and ad spend / KOL fees agree with the note-level facts (KOL fee once
-- per note). Returns the campaigns that disagree.

with

roi as (

    select * from {{ ref('mart_campaign_roi') }}

),

spend as (

    select campaign_id, sum(spend) as ad_spend
    from {{ ref('fct_note_daily') }}
    group by campaign_id

)

select
    roi.campaign_id,
    roi.ad_spend,
    spend.ad_spend as fct_ad_spend,
    roi.kol_fees,
    roi.platform_fee,
    roi.total_cost

from roi
left join spend on roi.campaign_id = spend.campaign_id
where roi.total_cost <> roi.ad_spend + roi.kol_fees + roi.platform_fee
    or roi.platform_fee <> round(roi.kol_fees * {{ var('platform_fee_rate') }}, 2)
    or roi.ad_spend <> coalesce(spend.ad_spend, 0)
