-- Fewer indexes to keep on every change's event. Pruning walks the primary key from the oldest
-- event (events are written in time order), so the time index goes. (tx, seq) stays: it is the
-- order readers page in here, where `tx` is the writing transaction.
DROP INDEX events_occurred;

-- The service's role reads which migrations ran, to report readiness (`/ready`).
DO $$
DECLARE
    app text := current_setting('tenantry.app_role', true);
BEGIN
    IF app IS NOT NULL AND app <> '' AND app <> current_user THEN
        EXECUTE format('GRANT SELECT ON _sqlx_migrations TO %I', app);
    END IF;
END $$;
