{#-
    The raw and audit sources over the lake (on-run-start, dbt_project.yml).

    Ingestion writes every (source, dump date) as Parquet in a Hive-style layout under
    REDCAT_LAKE (orchestration/lib/lake.py):
        <lake>/raw/<source>/dump_date=YYYY-MM-DD/*.parquet
        <lake>/audit/file_ledger/source=<source>/dump_date=YYYY-MM-DD/*.parquet
        <lake>/audit/quarantine/source=<source>/dump_date=YYYY-MM-DD/*.parquet
    DuckDB: the ingestion keeps views of these names in the warehouse file; nothing to do here.
    Spark: every source table of schemas raw and audit is (re)declared at the start of each dbt
    command as an external Parquet table at <lake>/<schema>/<table>, with the columns and types
    of its yml (models/staging/_raw__sources.yml) and the partition columns of its
    meta.lake_partitions, then its partition folders are discovered (MSCK REPAIR TABLE). Any
    *.parquet name inside a partition folder is read; hidden files (a `.…building` file being
    written) are not. Declared columns keep a day without rows, or a table without any file yet
    (an empty quarantine), a typed empty table instead of a failed schema inference.
-#}
{% macro lake_sources() -%}
    {{ return(adapter.dispatch('lake_sources')()) }}
{%- endmacro %}

{% macro default__lake_sources() -%}
{%- endmacro %}

{% macro spark__lake_sources() -%}
    {%- if execute -%}
        {%- set lake = env_var('REDCAT_LAKE', 'data/lake').rstrip('/') -%}
        {%- set declared = [] -%}
        {%- for source in graph.sources.values() if source.source_name in ('raw', 'audit') -%}
            {%- set partitions = source.config.meta.get('lake_partitions')
                or source.meta.get('lake_partitions') or [] -%}
            {%- set relation = source.schema ~ '.' ~ source.identifier -%}
            {%- if source.schema not in declared -%}
                {%- do run_query('create database if not exists ' ~ source.schema) -%}
                {%- do declared.append(source.schema) -%}
            {%- endif -%}
            {%- set columns = [] -%}
            {%- for column in source.columns.values() -%}
                {%- if not column.data_type -%}
                    {{ exceptions.raise_compiler_error(
                        'source ' ~ relation ~ '.' ~ column.name ~ ' has no data_type') }}
                {%- endif -%}
                {%- do columns.append('`' ~ column.name ~ '` ' ~ column.data_type) -%}
            {%- endfor -%}
            {%- set location = lake ~ '/' ~ source.schema ~ '/' ~ source.identifier -%}
            {%- do run_query('drop table if exists ' ~ relation) -%}
            {%- call statement('declare_' ~ source.identifier) -%}
                create table {{ relation }} ({{ columns | join(', ') }})
                using parquet
                {%- if partitions %}
                partitioned by ({{ partitions | join(', ') }})
                {%- endif %}
                location '{{ location }}'
            {%- endcall -%}
            {%- if partitions -%}
                {%- do run_query('msck repair table ' ~ relation) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
