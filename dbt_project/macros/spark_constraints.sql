{#-
    Enforced contracts' not_null constraints on Spark.

    DuckDB enforces them as the table is written. Spark can declare them only on Delta tables
    (ALTER COLUMN ... SET NOT NULL); the marts are plain Parquet tables any engine can read, on
    which dbt-spark silently skips them. Here they are checked instead, right after the table is
    built and before anything downstream runs: one query counts the NULLs of every not_null
    column, and the model fails naming the columns that have any, as it would on DuckDB.
    Delta tables keep dbt-spark's own behaviour.
-#}
{% macro spark__persist_constraints(relation, model) %}
    {%- set contract_config = config.get('contract') -%}
    {%- if not contract_config.enforced -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if config.get('file_format', 'delta') == 'delta' -%}
        {% do alter_table_add_constraints(relation, model.constraints) %}
        {% do alter_column_set_constraints(relation, model.columns) %}
        {{ return(none) }}
    {%- endif -%}
    {%- set not_null = [] -%}
    {%- for column in model.columns.values() -%}
        {%- for constraint in column.constraints if constraint.type == 'not_null' -%}
            {%- do not_null.append(column.name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if not not_null -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set counts -%}
        select
        {%- for name in not_null %}
            count_if(`{{ name }}` is null) as `{{ name }}`{{ ',' if not loop.last }}
        {%- endfor %}
        from {{ relation }}
    {%- endset -%}
    {%- set row = run_query(counts).rows[0] -%}
    {%- set broken = [] -%}
    {%- for name in not_null -%}
        {%- if row[loop.index0] > 0 -%}
            {%- do broken.append(name ~ ' (' ~ row[loop.index0] ~ ' rows)') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if broken -%}
        {{ exceptions.raise_compiler_error(
            'NOT NULL constraint failed on ' ~ relation ~ ': ' ~ broken | join(', ')) }}
    {%- endif -%}
{% endmacro %}
