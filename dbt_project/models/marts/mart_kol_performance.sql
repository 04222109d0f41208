{#- The KOL mart reports the windows of var('kol_windows') only. -#}
{%- set windows = var('kol_windows') %}

with

note_costs as (

    select * from {{ ref('int_note_costs') }}

),

notes as (

    select * from {{ ref('int_notes_latest') }}

),

note_daily as (

    select * from {{ ref('fct_note_daily') }}

),

click_outcomes as (

    select * from {{ ref('int_click_outcomes') }}

),

costs_per_kol_campaign as (

    select
        note_costs.kol_id,
        note_costs.campaign_id,
        max(notes.kol_nickname) as kol_nickname,
        {{ sum_note_costs('note_costs') }}

    from note_costs
    inner join notes on note_costs.note_id = notes.note_id
    group by note_costs.kol_id, note_costs.campaign_id

),

activity_per_kol_campaign as (

    select
        kol_id,
        campaign_id,
        sum(impressions) as impressions,
        sum(reads) as reads,
        sum(engagements) as engagements

    from note_daily
    group by kol_id, campaign_id

),

outcomes_per_kol_campaign as (

    select
        kol_id,
        campaign_id,
        {{ sum_click_outcomes(windows) }}

    from click_outcomes
    group by kol_id, campaign_id

),

joined as (

    select
        costs.kol_id,
        costs.campaign_id,
        costs.kol_nickname,
        coalesce(activity.impressions, 0) as impressions,
        coalesce(activity.reads, 0) as reads,
        coalesce(activity.engagements, 0) as engagements,
        {{ click_outcome_totals('outcomes', windows) }},
        {{ note_cost_totals('costs') }},
        {%- for n in windows %}
        outcomes.t{{ n }}_complete{{ ',' if not loop.last }}
        {%- endfor %}

    from costs_per_kol_campaign as costs
    left join activity_per_kol_campaign as activity
        on costs.kol_id = activity.kol_id
        and costs.campaign_id = activity.campaign_id
    left join outcomes_per_kol_campaign as outcomes
        on costs.kol_id = outcomes.kol_id
        and costs.campaign_id = outcomes.campaign_id

),

final as (

    select
        cast(kol_id as {{ dbt.type_string() }}) as kol_id,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(kol_nickname as {{ dbt.type_string() }}) as kol_nickname,
        cast(notes as {{ dbt.type_bigint() }}) as notes,
        cast(impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(reads as {{ dbt.type_bigint() }}) as reads,
        cast(engagements as {{ dbt.type_bigint() }}) as engagements,
        cast(clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(store_visits as {{ dbt.type_bigint() }}) as store_visits,
        cast(add_to_carts as {{ dbt.type_bigint() }}) as add_to_carts,
        {%- for n in windows %}
        cast(orders_t{{ n }} as {{ dbt.type_bigint() }}) as orders_t{{ n }},
        {%- endfor %}
        {%- for n in windows %}
        gmv_t{{ n }},
        {%- endfor %}
        net_gmv_t30,
        ad_spend,
        kol_fees,
        platform_fee,
        total_cost,
        {{ roi_by_window(windows) }},
        {%- for n in windows %}
        cast(t{{ n }}_complete as {{ dbt.type_boolean() }}) as t{{ n }}_complete{{ ',' if not loop.last }}
        {%- endfor %}

    from joined

)

select * from final
