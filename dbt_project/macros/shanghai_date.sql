{#-
    The Asia/Shanghai calendar date of an instant (TIMESTAMPTZ). Business days in redcat are
    China Standard Time (UTC+8, no DST) whatever the session time zone; this is the only place
    that knows how each engine converts an instant to a local date.
-#}
{% macro shanghai_date(timestamp_expression) -%}
    {{ return(adapter.dispatch('shanghai_date')(timestamp_expression)) }}
{%- endmacro %}

{% macro default__shanghai_date(timestamp_expression) -%}
    cast(({{ timestamp_expression }} at time zone 'Asia/Shanghai') as date)
{%- endmacro %}

{% macro duckdb__shanghai_date(timestamp_expression) -%}
    cast(timezone('Asia/Shanghai', {{ timestamp_expression }}) as date)
{%- endmacro %}

{% macro spark__shanghai_date(timestamp_expression) -%}
    to_date(from_utc_timestamp(to_utc_timestamp({{ timestamp_expression }}, current_timezone()), 'Asia/Shanghai'))
{%- endmacro %}
