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

{#-
    Maturity of a row that sums several clicks (a note's day, a campaign, a KOL): complete for
    T+N when its latest click day's window is. Since loaded_through only moves forward, that is
    the same as every summed click's window being complete (and, should a row mix platforms,
    it asks each platform's latest click day). Use inside an aggregate over int_click_outcomes.
-#}
{% macro all_windows_complete(flag_column) -%}
    (min(case when {{ flag_column }} then 1 else 0 end) = 1)
{%- endmacro %}
