-- Named counters per tenant: the reference aggregate. `version` is the CAS guard; a counter that
-- was never written is version 0 and has no row.
create table counters (
  tenant_id  text        not null,
  counter_id text        not null,
  value      bigint      not null check (value >= 0),
  version    bigint      not null check (version > 0),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, counter_id)
);
