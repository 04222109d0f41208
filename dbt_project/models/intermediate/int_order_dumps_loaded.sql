-- Rule (CONTRACT 2, Maturity), the one place "loaded through" is decided: per platform, the
-- last day D such that that platform's order dumps are loaded for every day from its first
-- loaded order dump up to D. A missing dump stops it: maturity never counts past a missing
-- order dump, even if later dumps are loaded.
--
-- A dump counts as loaded when the ingestion's ledger records it as loaded (a header-only dump
-- stages no rows but is loaded) or when its rows are staged. Refused files do not count.
-- Window completeness from loaded_through: macro is_window_complete.

with

platforms as (

    {%- for platform, source_name in var('order_sources').items() %}

    select
        cast('{{ platform }}' as {{ dbt.type_string() }}) as platform,
        cast('{{ source_name }}' as {{ dbt.type_string() }}) as source_name
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

ledger as (

    select * from {{ source('audit', 'file_ledger') }}

),

orders as (

    select * from {{ ref('int_orders_unioned') }}

),

loaded_dumps as (

    select
        platforms.platform,
        ledger.dump_date
    from ledger
    inner join platforms on ledger.source = platforms.source_name
    where ledger.status = 'loaded'

    union

    select
        platform,
        dump_date
    from orders

),

numbered as (

    select
        platform,
        dump_date,
        row_number() over (partition by platform order by dump_date) as dump_number,
        min(dump_date) over (partition by platform) as first_dump_date

    from loaded_dumps

),

per_platform as (

    select
        platform,
        min(first_dump_date) as first_dump_date,
        max(dump_date) as last_dump_date,
        count(*) as dumps_loaded,
        -- contiguous from the first dump: the n-th dump is first_dump_date + (n - 1) days
        max(
            case
                when {{ dbt.datediff('first_dump_date', 'dump_date', 'day') }} = dump_number - 1
                    then dump_date
            end
        ) as loaded_through_date

    from numbered
    group by platform

),

final as (

    select
        platforms.platform,
        per_platform.first_dump_date,
        per_platform.last_dump_date,
        per_platform.loaded_through_date,
        coalesce(per_platform.dumps_loaded, 0) as dumps_loaded,
        case
            when per_platform.last_dump_date > per_platform.loaded_through_date
                then cast({{ dbt.dateadd('day', 1, 'per_platform.loaded_through_date') }} as date)
        end as first_missing_dump_date

    from platforms
    left join per_platform on platforms.platform = per_platform.platform

)

select * from final
