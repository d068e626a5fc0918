-- Leases of the pipeline's long-running loops (the relay, each projection). A loop takes its lease
-- by bumping the epoch; every batch re-reads the epoch, under the same advisory lock, in the
-- transaction that commits the batch's progress, so a loop whose lease was taken by a newer one
-- stops before its next batch (services/kernel/lease.ts).
create table pipeline_leases (
  name     text        primary key,
  epoch    bigint      not null,
  holder   text        not null,
  taken_at timestamptz not null default now()
);

-- The JetStream sequence of the last event the relay checkpointed: the next publish expects it as
-- the stream's last sequence, so the stream can only ever grow in outbox order (docs/event-order.md).
alter table outbox_checkpoints add column stream_sequence bigint;
