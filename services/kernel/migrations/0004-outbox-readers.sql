-- Where each gap-free outbox reader (the relay, a rebuild) has got to, in (tx_id, position) order.
create table outbox_checkpoints (
  reader     text        primary key,
  tx_id      xid8        not null,
  position   bigint      not null,
  updated_at timestamptz not null default now()
);

-- Wakes idle readers (LISTEN event_outbox) when events commit; a statement trigger sends one
-- notification per writing transaction, delivered at commit.
create function notify_event_outbox() returns trigger language plpgsql as $$
begin
  perform pg_notify('event_outbox', '');
  return null;
end $$;

create trigger event_outbox_notify after insert on event_outbox
  for each statement execute function notify_event_outbox();
