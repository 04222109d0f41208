{#-
    An incremental build's generic data tests check the rows that changed since the last whole
    build whose tests all passed (audit.build_state, recorded by the pipeline after it); a full
    refresh, a first build and Spark (which builds whole) check every row. The rows of a key
    change together, so a key test over the changed rows sees every key that may now repeat:
      incremental models stamp what they derive (derived_at), a key's rows all at once (merge or
        delete+insert by key);
      staging views are deliveries (loaded_at), a dump date's rows all from its latest one, so
        their key tests are scoped only when the key holds the dump date.
    Other tables are rebuilt whole each build and checked whole; singular tests check marts whole.
-#}
{% macro duckdb__get_where_subquery(relation) -%}
    {%- set conditions = [] %}
    {%- if config.get('where') %}
        {%- do conditions.append('(' ~ config.get('where') ~ ')') %}
    {%- endif %}
    {%- set changed = rows_changed_since_last_check(relation) %}
    {%- if changed %}
        {%- do conditions.append(changed) %}
    {%- endif %}
    {%- if conditions %}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') %}
    {%- endif %}
    {%- do return(relation) %}
{%- endmacro %}


{#- The condition on the tested model's rows that keeps those changed since the last check; none
    where every row is checked. -#}
{% macro rows_changed_since_last_check(relation) %}
    {%- if not execute or flags.FULL_REFRESH or not model.attached_node %}
        {{ return(none) }}
    {%- endif %}
    {%- set tested = graph.nodes.get(model.attached_node) %}
    {%- set materialized = tested.config.materialized if tested else none %}
    {%- set kwargs = model.test_metadata.kwargs if model.test_metadata else {} %}
    {%- set key = kwargs.get('combination_of_columns') or ([kwargs.get('column_name')] if model.test_metadata.name == 'unique' else []) %}
    {%- if materialized == 'incremental' %}
        {%- set stamp = 'derived_at' %}
    {%- elif materialized == 'view' and (not key or 'dump_date' in key) %}
        {%- set stamp = 'loaded_at' %}
    {%- else %}
        {{ return(none) }}
    {%- endif %}
    {%- set last_check = adapter.get_relation(database=relation.database, schema='audit', identifier='build_state') %}
    {%- if last_check is none %}
        {{ return(none) }}
    {%- endif %}
    {{ return(stamp ~ ' > (select max(built_at) from ' ~ last_check ~ ')') }}
{% endmacro %}
