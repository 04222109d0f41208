{#-
    Maturity (CONTRACT section 2), the window-completeness rule in one place:
    the T+N window of clicks made on day `click_date` is complete once the order dumps of the
    click's platform are loaded, contiguously, through day click_date + N.

    `loaded_through` comes from int_order_dumps_loaded (per platform); NULL (no order dump
    loaded) means not complete. `n` may be a literal or a column (e.g. lag_days).
-#}
{% macro is_window_complete(click_date, n, loaded_through) -%}
    coalesce({{ dbt.datediff(click_date, loaded_through, 'day') }} >= {{ n }}, false)
{%- endmacro %}
