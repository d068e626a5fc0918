-- The read-model tables a rebuild may replace through swap_read_model_rebuild (migration 0010):
-- the tables of the projections in services/read-models/projections.ts.
insert into rebuildable_tables (name) values ('rm_counter_summary'), ('rm_tenant_activity'), ('rm_tenants');
