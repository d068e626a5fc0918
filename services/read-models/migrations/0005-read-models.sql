-- Read models built by the projector from the event stream. Disposable: a rebuild replays the
-- outbox into fresh copies and swaps them in. Each row carries the aggregate version it reflects,
-- so a redelivered or replayed event at or below it is a no-op.
create table rm_counter_summary (
  tenant_id  text        not null,
  counter_id text        not null,
  value      bigint      not null,
  version    bigint      not null,
  updated_at timestamptz not null,
  primary key (tenant_id, counter_id)
);

create table rm_tenant_activity (
  tenant_id     text        primary key,
  counters      integer     not null default 0,
  increments    bigint      not null default 0,
  decrements    bigint      not null default 0,
  resets        bigint      not null default 0,
  events        bigint      not null default 0,
  last_event_at timestamptz not null
);

-- The last JetStream stream sequence each projection committed, in the same transaction as its rows.
create table projection_checkpoints (
  projection      text        primary key,
  stream_sequence bigint      not null,
  updated_at      timestamptz not null default now()
);

-- Events a projection could not apply after bounded attempts: parked, counted, re-drivable.
create table projection_dead_letters (
  id              bigserial   primary key,
  projection      text        not null,
  event_id        uuid        not null,
  stream_sequence bigint      not null,
  subject         text        not null,
  event           jsonb       not null,
  error           text        not null,
  attempts        integer     not null,
  parked_at       timestamptz not null default now(),
  unique (projection, event_id)
);
