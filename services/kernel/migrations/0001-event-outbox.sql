-- The unified outbox: every service writes its events here in the same transaction as the state
-- change (DESIGN §4, I1). Readers go in (tx_id, position) order below the snapshot xmin (I2).
create table event_outbox (
  position          bigserial primary key,
  tx_id             xid8        not null default pg_current_xact_id(),
  event_id          uuid        not null unique,
  tenant_id         text        not null,
  aggregate_type    text        not null,
  aggregate_id      text        not null,
  aggregate_version bigint      not null check (aggregate_version > 0),
  event_type        text        not null,
  schema_version    integer     not null default 1,
  payload           jsonb       not null,
  metadata          jsonb       not null default '{}'::jsonb,
  occurred_at       timestamptz not null default now(),
  -- I3: one event per aggregate version.
  unique (tenant_id, aggregate_type, aggregate_id, aggregate_version)
);

create index event_outbox_tx_id_position on event_outbox (tx_id, position);
