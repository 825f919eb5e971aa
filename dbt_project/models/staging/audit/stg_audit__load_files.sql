-- The load audit as the models read it: one row per file load attempt
-- (audit.load_files, append-only), the columns models use. Loads in effect are
-- the `loaded`/`replaced` rows; `noop` re-deliveries count as delivered days.
select
    load_id,
    source,
    feed,
    business_date,
    status,
    rows_loaded,
    rows_quarantined,
    replaces_load_id,
    started_at,
    finished_at
from {{ source('audit', 'load_files') }}
