{#-
    Column types used across the project, beside dbt's own dbt.type_* macros.
    Money is always DECIMAL(18,2) (contract: never float). Ratios (ROI, shares, benchmarks) are
    DOUBLE: dimensionless, unrounded. Instants are time-zone aware.
-#}
{% macro type_money() -%}
    {{ return(adapter.dispatch('type_money')()) }}
{%- endmacro %}

{% macro default__type_money() -%}
    decimal(18,2)
{%- endmacro %}

{#- Exact 10 % of a money amount: one more decimal than money, summed before rounding. -#}
{% macro type_money_exact() -%}
    {{ return(adapter.dispatch('type_money_exact')()) }}
{%- endmacro %}

{% macro default__type_money_exact() -%}
    decimal(20,4)
{%- endmacro %}

{% macro type_ratio() -%}
    {{ return(adapter.dispatch('type_ratio')()) }}
{%- endmacro %}

{% macro default__type_ratio() -%}
    double
{%- endmacro %}

{% macro type_timestamptz() -%}
    {{ return(adapter.dispatch('type_timestamptz')()) }}
{%- endmacro %}

{% macro default__type_timestamptz() -%}
    timestamp with time zone
{%- endmacro %}

{% macro spark__type_timestamptz() -%}
    timestamp
{%- endmacro %}

{#- Money rounded to cents and typed as money. -#}
{% macro to_money(expression) -%}
    cast(round({{ expression }}, 2) as {{ type_money() }})
{%- endmacro %}

{#- numerator / denominator as a ratio; NULL (empty) where the denominator is 0 or NULL. -#}
{% macro safe_ratio(numerator, denominator) -%}
    case
        when {{ denominator }} is null or {{ denominator }} = 0 then cast(null as {{ type_ratio() }})
        else cast({{ numerator }} as {{ type_ratio() }}) / cast({{ denominator }} as {{ type_ratio() }})
    end
{%- endmacro %}
