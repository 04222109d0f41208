-- Tmall seller-center orders, renamed and cast (shared with JD: macros/stage_orders.sql).
{{ stage_orders('tmall') }}
