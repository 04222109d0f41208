-- Incremental on DuckDB (macros/incremental_keys.sql): a copy of int_clicks_deduplicated that
-- takes the rows it derived since this model's last build (their stamps kept), and drops the
-- keys it deleted.
{{ config(
    materialized=incremental_on_duckdb(),
    incremental_strategy='delete+insert',
    unique_key=['cid'],
    on_schema_change='fail',
    pre_hook="{{ delete_keys_gone_from(ref('int_clicks_deduplicated'), ['cid']) }}",
) }}

with

clicks as (

    {{ rows_to_copy(ref('int_clicks_deduplicated')) }}

),

final as (

    select
        cast(cid as {{ dbt.type_string() }}) as cid,
        cast(click_ts as {{ type_timestamptz() }}) as click_ts,
        cast(click_date as date) as click_date,
        cast(note_id as {{ dbt.type_string() }}) as note_id,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(kol_id as {{ dbt.type_string() }}) as kol_id,
        cast(target_platform as {{ dbt.type_string() }}) as target_platform,
        cast(user_key as {{ dbt.type_string() }}) as user_key,
        cast(placement as {{ dbt.type_string() }}) as placement,
        cast(dump_date as date) as dump_date,
        cast(deliveries as {{ dbt.type_bigint() }}) as deliveries,
        cast(conflicting_deliveries as {{ dbt.type_bigint() }}) as conflicting_deliveries,
        {{ copied_stamp() }} as derived_at

    from clicks

)

select * from final
