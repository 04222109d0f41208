{#- Schemas are named exactly as configured (staging, intermediate, marts), not prefixed
    with the target schema: analysts and the contract query `marts.fct_orders`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name is not none else target.schema }}
{%- endmacro %}
