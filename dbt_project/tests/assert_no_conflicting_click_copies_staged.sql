-- Ingestion quarantines a later copy of a cid with another note, campaign or click time
-- (orchestration/lib/row_rules.py, rule 6): none may reach staging.
select * from {{ ref('int_clicks_conflicting') }}
