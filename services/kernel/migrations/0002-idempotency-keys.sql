-- Idempotency keys, scoped by tenant and operation, recorded in the same transaction as the
-- mutation they guard (DESIGN §4). The row is inserted first (its uncommitted insert makes a
-- concurrent duplicate wait on the primary key) and completed with the response before commit,
-- so a committed row always has a response and a rolled-back request leaves no row.
create table idempotency_keys (
  tenant_id    text        not null,
  operation    text        not null,
  key          text        not null,
  request_hash text        not null,
  response     json, -- json, not jsonb: a replay returns the stored bytes, key order included
  created_at   timestamptz not null default now(),
  expires_at   timestamptz not null,
  primary key (tenant_id, operation, key)
);

create index idempotency_keys_expires_at on idempotency_keys (expires_at);
