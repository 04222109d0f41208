{#-
    Incremental models on DuckDB; Spark builds them as tables (its Parquet tables take no merge
    or delete). A build derives again only the keys that deliveries since the model's last build
    touch, each from all its rows, and stamps what it writes with the build's start (derived_at):
    the next build starts from the latest stamp, and models downstream find what changed by it.
    A key left without rows comes out as a tombstone (its dump date null), which the model deletes
    (its merge, or a post-hook where a key has several rows); a model with a row for each key of
    another deletes in a pre-hook the keys that one deleted (delete_keys_gone_from). The stamps and
    the ledger's times are this machine's clock. A change of models, seeds or vars rebuilds them
    whole (orchestration/defs/dbt).
-#}

{% macro incremental_on_duckdb() -%}
    {{ return('incremental' if target.type == 'duckdb' else 'table') }}
{%- endmacro %}


{#- Merge clauses for a model with one row per unique key: tombstones delete, others upsert. -#}
{% macro tombstone_merge_clauses() -%}
    {{ return({
        'when_matched': [
            {'condition': 'DBT_INTERNAL_SOURCE.dump_date is null', 'action': 'delete'},
            {'action': 'update', 'mode': 'by_name'},
        ],
        'when_not_matched': [
            {'condition': 'DBT_INTERNAL_SOURCE.dump_date is not null', 'action': 'insert', 'mode': 'by_name'},
        ],
    }) }}
{%- endmacro %}


{#- `left` and `right` (relation aliases) hold the same key. -#}
{% macro same_key(left, right, key) -%}
    {% for column in key %}{{ left }}.{{ column }} = {{ right }}.{{ column }}{{ ' and ' if not loop.last }}{% endfor %}
{%- endmacro %}


{#- The stamp of what this build writes: when the dbt command started (UTC). -#}
{% macro build_started_at() -%}
    cast('{{ run_started_at.isoformat() }}' as {{ type_timestamptz() }})
{%- endmacro %}


{#- Whether an instant is after this model's last build (the latest stamp of its rows): every
    instant is, before it has any row.
    A build compares with that stamp as a constant, read when the model compiles, just before it
    runs. DuckDB estimates a comparison with a subquery at the whole table and would then hash a
    year's rows to look up a night's keys; a constant it estimates as a part, and skips blocks by.
    A unit test's `this` is its given rows, so there the subquery reads them. -#}
{% macro after_last_build_of_this(instant) -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- set last_build = run_query(
            'select cast(max(derived_at) as ' ~ dbt.type_string() ~ ') from ' ~ this
        ).columns[0].values()[0] -%}
        {%- if last_build is none -%}
            true
        {%- else -%}
            {{ instant }} > cast({{ dbt.string_literal(last_build) }} as {{ type_timestamptz() }})
        {%- endif -%}
    {%- else -%}
        ((select max(derived_at) from {{ this }}) is null or {{ instant }} > (select max(derived_at) from {{ this }}))
    {%- endif -%}
{%- endmacro %}


{#-
    (label, dump_date) of the dumps with a delivery the ledger recorded since this model's last
    build: new, redelivered (rows added or dropped) or refused. `sources` maps a label to a raw
    source's name (var('order_sources') gives each platform's). From the ledger, not the staged
    rows, so a redelivery that stages no row still counts.
-#}
{% macro dumps_delivered_since_last_build(sources, label='source') %}
    select distinct labels.label as {{ label }}, ledger.dump_date
    from {{ source('audit', 'file_ledger') }} as ledger
    inner join ({{ source_labels(sources) }}) as labels on ledger.source = labels.source_name
    where {{ after_last_build_of_this('ledger.loaded_at') }}
{% endmacro %}


{#- (label, source_name) of each raw source of `sources` (label: source name). -#}
{% macro source_labels(sources) -%}
    {%- for name, source_name in sources.items() %}
    select
        cast({{ dbt.string_literal(name) }} as {{ dbt.type_string() }}) as label,
        cast({{ dbt.string_literal(source_name) }} as {{ dbt.type_string() }}) as source_name
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#-
    The dumps delivered since this model's last build, read when the model compiles, as
    {'dumps': {label: [dump dates]}, 'redelivered': whether any of them had been loaded before
    that build}. none in a unit test (its ledger is the warehouse's, not its given rows). Their
    dates are constants, so reading their rows reads only their files (in_dumps).
-#}
{% macro deliveries_since_last_build(sources) %}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        select new_dumps.label, cast(new_dumps.dump_date as {{ dbt.type_string() }}),
            max(case when earlier.status = 'loaded' then 1 else 0 end)
        from ({{ dumps_delivered_since_last_build(sources, label='label') }}) as new_dumps
        inner join ({{ source_labels(sources) }}) as labels on new_dumps.label = labels.label
        left join {{ source('audit', 'file_ledger') }} as earlier
            on earlier.source = labels.source_name
            and earlier.dump_date = new_dumps.dump_date
            and not ({{ after_last_build_of_this('earlier.loaded_at') }})
        group by 1, 2
    {%- endset -%}
    {%- set deliveries = run_query(query) -%}
    {%- set dumps = {} -%}
    {%- for name, dump_date, _ in deliveries.rows -%}
        {%- do dumps.setdefault(name, []).append(dump_date) -%}
    {%- endfor -%}
    {{ return({'dumps': dumps, 'redelivered': deliveries.columns[2].values() | sum > 0}) }}
{% endmacro %}


{#- `columns` of `relation`, each as it is or, named in `replaced`, as that expression. -#}
{% macro columns_replacing(relation, columns, replaced) -%}
    {%- for column in columns %}
    {{ replaced[column] if column in replaced else relation ~ '.' ~ column }} as {{ column }},
    {%- endfor %}
{%- endmacro %}


{#- Whether a row (its `label` column and dump_date) is in one of `dumps` (label: dates). -#}
{% macro in_dumps(dumps, label) -%}
    ({% for name, dates in dumps.items() -%}
    ({{ label }} = {{ dbt.string_literal(name) }} and dump_date in (
        {%- for dump_date in dates %}cast({{ dbt.string_literal(dump_date) }} as date){{ ', ' if not loop.last }}{% endfor -%}
    )) or {% endfor %}false)
{%- endmacro %}


{#-
    Appended to an incremental build's rows (`derived`, a CTE): for each touched key with no row
    left, a tombstone with just the key and no dump date, which the model deletes. The columns
    match by name, the others null (DuckDB's UNION BY NAME: incremental builds are DuckDB's).
-#}
{% macro union_tombstones(derived, touched, key) %}
union all by name

select
    {%- for column in key %}
    {{ touched }}.{{ column }},
    {%- endfor %}
    cast(null as date) as dump_date,
    {{ build_started_at() }} as derived_at

from {{ touched }}
where not exists (
    select 1 from {{ derived }}
    where {{ same_key(derived, touched, key) }}
)
{% endmacro %}


{#-
    The keys of `relation`'s rows whose dump (in any of `dump_columns`) had a delivery since
    this model's last build; with `label`, the rows' column of that name must match the dump's
    too. One equi-join per column, which hashes, where an OR of them would compare every row
    with every dump.
-#}
{% macro keys_in_dumps_delivered_since_last_build(relation, key, sources, dump_columns, label=none) %}
    {%- for dump_column in dump_columns %}
    select {% for column in key %}rows_before.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
    from {{ relation }} as rows_before
    inner join ({{ dumps_delivered_since_last_build(sources, label or 'source') }}) as new_dumps
        on rows_before.{{ dump_column }} = new_dumps.dump_date
        {%- if label %}
        and rows_before.{{ label }} = new_dumps.{{ label }}
        {%- endif %}
    {{ 'union' if not loop.last }}
    {%- endfor %}
{% endmacro %}


{#- The cids whose totals (`columns` of `current`, a CTE of a row per cid) differ from this
    model's rows: added, changed, or gone to zero. -#}
{% macro totals_changed(current, columns) %}
    select coalesce(current_totals.cid, totals_before.cid) as cid
    from {{ current }} as current_totals
    full outer join (
        select cid, {{ columns | join(', ') }}
        from {{ this }}
        where {% for column in columns %}{{ column }} <> 0{{ ' or ' if not loop.last }}{% endfor %}
    ) as totals_before on current_totals.cid = totals_before.cid
    where {% for column in columns -%}
        coalesce(current_totals.{{ column }}, 0) <> coalesce(totals_before.{{ column }}, 0){{ ' or ' if not loop.last }}
    {%- endfor %}
{% endmacro %}


{#- The rows of `relation` whose key is among the `touched` CTE's; all its rows on a full build. -#}
{% macro rows_of_touched_keys(relation, touched, key) %}
    select keyed_rows.*
    from {{ relation }} as keyed_rows
    {%- if is_incremental() %}
    where exists (
        select 1 from {{ touched }}
        where {{ same_key(touched, 'keyed_rows', key) }}
    )
    {%- endif %}
{% endmacro %}


{#- The rows of `upstream` that a model copying it takes: on an incremental build, those
    `upstream` derived since this model's last build. -#}
{% macro rows_to_copy(upstream) %}
    select * from {{ upstream }}
    {%- if is_incremental() %}
    where {{ after_last_build_of_this('derived_at') }}
    {%- endif %}
{% endmacro %}


{#- The stamp of a copied row: its upstream's, kept; built whole, the copy's own build's, so the
    publication takes what changed by it. -#}
{% macro copied_stamp() -%}
    cast({{ 'derived_at' if is_incremental() else build_started_at() }} as {{ type_timestamptz() }})
{%- endmacro %}


{#-
    A pre-hook of an incremental model that holds a row for each of `upstream`'s keys: deletes
    the keys `upstream` no longer holds (its merge deleted their tombstones), before the build
    adds the rows `upstream` derived since this model's last build.
    Most builds delete none, and finding that out by keys compares a year's keys with a year's.
    Counts tell it: this model holds every key `upstream` derived up to its last build, so it
    holds keys now gone unless its rows are as many as those keys `upstream` still holds plus
    those it derived again since. Only then are the keys compared.
-#}
{% macro delete_keys_gone_from(upstream, key) %}
    {%- if is_incremental() and execute %}
    {%- set derived_since = after_last_build_of_this('current_rows.derived_at') %}
    {#- One row a key on both sides: the join counts this model's keys derived again. -#}
    {%- set keys_gone = run_query(
        'select (select count(*) from ' ~ this ~ ')'
        ~ ' - (select count(*) from ' ~ upstream ~ ' as current_rows where not (' ~ derived_since ~ '))'
        ~ ' - (select count(*) from ' ~ upstream ~ ' as current_rows inner join ' ~ this ~ ' as kept'
        ~ ' on ' ~ same_key('current_rows', 'kept', key) ~ ' where ' ~ derived_since ~ ')'
    ).columns[0].values()[0] %}
    {%- if keys_gone != 0 %}
    delete from {{ this }} as kept
    where not exists (
        select 1 from {{ upstream }} as current_rows
        where {{ same_key('current_rows', 'kept', key) }}
    )
    {%- endif %}
    {%- endif %}
{% endmacro %}
