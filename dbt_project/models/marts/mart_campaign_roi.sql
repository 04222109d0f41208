{%- set windows = var('conversion_windows') %}
{%- set after_windows = var('share_after_windows') %}

with

campaigns as (

    select * from {{ ref('int_campaigns_latest') }}

),

note_costs as (

    select * from {{ ref('int_note_costs') }}

),

note_daily as (

    select * from {{ ref('fct_note_daily') }}

),

click_outcomes as (

    select * from {{ ref('int_click_outcomes') }}

),

industry_benchmarks as (

    select * from {{ ref('benchmark_industry_roi') }}

),

lag_share_benchmarks as (

    select * from {{ ref('benchmark_platform_lag_share') }}

),

costs_per_campaign as (

    select
        campaign_id,
        count(distinct kol_id) as kols,
        {{ sum_note_costs('note_costs') }}

    from note_costs
    group by campaign_id

),

activity_per_campaign as (

    select
        campaign_id,
        sum(impressions) as impressions,
        sum(reads) as reads,
        sum(engagements) as engagements

    from note_daily
    group by campaign_id

),

outcomes_per_campaign as (

    select
        campaign_id,
        {%- for n in after_windows %}
        sum(orders_after_t{{ n }}) as orders_after_t{{ n }},
        {%- endfor %}
        max(click_date) as last_click_date,
        {{ sum_click_outcomes() }}

    from click_outcomes
    group by campaign_id

),

joined as (

    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.brand,
        campaigns.industry,
        campaigns.store_platform,
        campaigns.store_id,
        campaigns.start_date,
        campaigns.end_date,
        campaigns.daily_budget_cny,
        campaigns.store_score,

        coalesce(costs_per_campaign.kols, 0) as kols,
        coalesce(activity_per_campaign.impressions, 0) as impressions,
        coalesce(activity_per_campaign.reads, 0) as reads,
        coalesce(activity_per_campaign.engagements, 0) as engagements,

        {{ note_cost_totals('costs_per_campaign') }},

        {{ click_outcome_totals('outcomes_per_campaign') }},
        {%- for n in after_windows %}
        coalesce(outcomes_per_campaign.orders_after_t{{ n }}, 0) as orders_after_t{{ n }},
        {%- endfor %}

        industry_benchmarks.top50_roi as benchmark_roi,
        {%- for n in after_windows %}
        lag_share_t{{ n }}.share as benchmark_share_after_t{{ n }},
        {%- endfor %}

        outcomes_per_campaign.last_click_date,
        {%- for n in windows %}
        outcomes_per_campaign.t{{ n }}_complete{{ ',' if not loop.last }}
        {%- endfor %}

    from campaigns
    left join costs_per_campaign on campaigns.campaign_id = costs_per_campaign.campaign_id
    left join activity_per_campaign on campaigns.campaign_id = activity_per_campaign.campaign_id
    left join outcomes_per_campaign on campaigns.campaign_id = outcomes_per_campaign.campaign_id
    left join industry_benchmarks on campaigns.industry = industry_benchmarks.industry
    {%- for n in after_windows %}
    left join lag_share_benchmarks as lag_share_t{{ n }}
        on campaigns.store_platform = lag_share_t{{ n }}.platform
        and lag_share_t{{ n }}.after_day = {{ n }}
    {%- endfor %}

),

-- Eligibility (CONTRACT 2, Red Star requirements), thresholds from dbt_project.yml
eligibility as (

    select
        joined.*,
        kols >= {{ var('redstar_min_kols') }} as is_redstar_eligible

    from joined

),

final as (

    select
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(campaign_name as {{ dbt.type_string() }}) as campaign_name,
        cast(brand as {{ dbt.type_string() }}) as brand,
        cast(industry as {{ dbt.type_string() }}) as industry,
        cast(store_platform as {{ dbt.type_string() }}) as store_platform,
        cast(store_id as {{ dbt.type_string() }}) as store_id,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        cast(daily_budget_cny as {{ type_money() }}) as daily_budget_cny,
        cast(store_score as decimal(4,2)) as store_score,

        cast(kols as {{ dbt.type_bigint() }}) as kols,
        cast(notes as {{ dbt.type_bigint() }}) as notes,
        cast(impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(reads as {{ dbt.type_bigint() }}) as reads,
        cast(engagements as {{ dbt.type_bigint() }}) as engagements,
        cast(clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(store_visits as {{ dbt.type_bigint() }}) as store_visits,
        cast(add_to_carts as {{ dbt.type_bigint() }}) as add_to_carts,

        ad_spend,
        kol_fees,
        platform_fee,
        total_cost,

        {%- for n in windows %}
        cast(orders_t{{ n }} as {{ dbt.type_bigint() }}) as orders_t{{ n }},
        {%- endfor %}
        {%- for n in windows %}
        gmv_t{{ n }},
        {%- endfor %}
        net_gmv_t30,
        {{ roi_by_window() }},

        {%- for n in after_windows %}
        {{ safe_ratio('orders_after_t' ~ n, 'orders_t' ~ var('max_lag_days')) }} as share_after_t{{ n }},
        {%- endfor %}
        {%- for n in after_windows %}
        cast(benchmark_share_after_t{{ n }} as {{ type_ratio() }}) as benchmark_share_after_t{{ n }},
        {%- endfor %}
        cast(benchmark_roi as {{ type_ratio() }}) as benchmark_roi,

        cast(is_redstar_eligible as {{ dbt.type_boolean() }}) as redstar_eligible,
        cast(
            is_redstar_eligible
            and coalesce(store_score >= {{ var('redcat_min_store_score') }}, false)
            and coalesce(daily_budget_cny >= {{ var('redcat_min_daily_budget_cny') }}, false)
            as {{ dbt.type_boolean() }}
        ) as redcat_eligible,

        cast(last_click_date as date) as last_click_date,
        {%- for n in windows %}
        cast(t{{ n }}_complete as {{ dbt.type_boolean() }}) as t{{ n }}_complete{{ ',' if not loop.last }}
        {%- endfor %}

    from eligibility

)

select * from final
