{#-
    Maturity (CONTRACT section 2), the window-completeness rule in one place:
    the T+N window of clicks made on day `click_date` is complete once the order dumps of the
    click's platform are loaded through day click_date + N, i.e. every day click_date ..
    click_date + N has its order dump loaded:
        loaded_from <= click_date  and  loaded_through >= click_date + N
    `loaded_from` / `loaded_through` come from int_order_dumps_loaded (per platform: first
    loaded order dump, end of the contiguous run from it); NULL (nothing loaded) means not
    complete. A click made before the first loaded order dump never gets a complete window:
    orders paid on those days were never loaded. `n` may be a literal or a column (lag_days).
-#}
{% macro is_window_complete(click_date, n, loaded_from, loaded_through) -%}
    coalesce(
        {{ loaded_from }} <= {{ click_date }}
        and {{ dbt.datediff(click_date, loaded_through, 'day') }} >= {{ n }},
        false
    )
{%- endmacro %}

{#-
    Maturity of a row that sums several clicks (a note's day, a campaign, a KOL): complete for
    T+N when its latest click day's window is (CONTRACT section 2), whatever its earlier click
    days' windows (a click before the first loaded order dump among them). Should a row mix
    platforms, that day's window must be complete on each of them: the latest first dump and
    the earliest loaded-through day of its clicks' platforms. Use inside an aggregate over
    int_click_outcomes.
-#}
{% macro latest_click_day_window_complete(n) -%}
    (
        count(loaded_through_date) = count(*)
        and {{ is_window_complete('max(click_date)', n, 'max(loaded_from_date)', 'min(loaded_through_date)') }}
    )
{%- endmacro %}
