-- JD merchant orders, renamed and cast (shared with Tmall: macros/stage_orders.sql).
{{ stage_orders('jd') }}
