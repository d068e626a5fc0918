-- Tenants and what onboarding provisions for them. Every change goes through the tenant service
-- (CAS on tenants.version + an event in event_outbox, one transaction).
create table tenants (
  tenant_id     text        primary key,
  slug          text        not null,
  name          text        not null,
  plan          text        not null check (plan in ('free', 'pro', 'enterprise')),
  status        text        not null,
  owner_user_id text        not null,
  failure       text,
  version       bigint      not null check (version > 0),
  updated_at    timestamptz not null default now()
);

-- A slug belongs to one live tenant; compensated and archived tenants give theirs back.
create unique index tenants_live_slug on tenants (slug) where status not in ('compensated', 'archived');

create table tenant_memberships (
  tenant_id text not null references tenants (tenant_id),
  user_id   text not null,
  role      text not null check (role in ('owner', 'admin', 'member', 'viewer')),
  primary key (tenant_id, user_id)
);

-- Resources provisioned outside these tables (a Postgres schema, a NATS stream), by kind.
create table tenant_resources (
  tenant_id text not null references tenants (tenant_id),
  kind      text not null,
  name      text not null,
  primary key (tenant_id, kind)
);

create table tenant_quotas (
  tenant_id    text    primary key references tenants (tenant_id),
  max_counters integer not null
);

-- Faults armed for dev and test runs (DESIGN §4), consumed as they fire so a fixed run does not hit them again.
create table fault_injections (
  slug      text    not null,
  step      text    not null,
  mode      text    not null check (mode in ('fail', 'transient')),
  remaining integer not null check (remaining >= 0),
  primary key (slug, step)
);
