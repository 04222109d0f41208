-- Rule (CONTRACT 2, Cost), per note: ad spend (sum of 消费 over the note's days) + KOL fee
-- (once per note, from its latest metrics row) + platform service fee (10 % of the KOL fee).
-- The platform fee stays exact here (4 decimals) so that sums over notes round once, to cents,
-- in the marts. A campaign's or a KOL's cost is the sum over its notes.

with

notes as (

    select * from {{ ref('int_notes_latest') }}

),

daily as (

    select * from {{ ref('int_note_metrics_daily') }}

),

spend as (

    select
        note_id,
        sum(spend) as ad_spend

    from daily
    group by note_id

),

costs as (

    select
        notes.note_id,
        notes.campaign_id,
        notes.kol_id,
        cast(coalesce(spend.ad_spend, 0) as {{ type_money() }}) as ad_spend,
        cast(notes.kol_fee as {{ type_money() }}) as kol_fee,
        cast(notes.kol_fee * {{ var('platform_fee_rate') }} as {{ type_money_exact() }}) as platform_fee_exact

    from notes
    left join spend on notes.note_id = spend.note_id

),

final as (

    select
        note_id,
        campaign_id,
        kol_id,
        ad_spend,
        kol_fee,
        platform_fee_exact,
        cast(ad_spend + kol_fee + platform_fee_exact as {{ type_money_exact() }}) as total_cost_exact

    from costs

)

select * from final
