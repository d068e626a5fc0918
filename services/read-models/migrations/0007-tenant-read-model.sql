-- Tenants as readers see them: built by the `tenants` projection from the tenant events.
create table rm_tenants (
  tenant_id  text        primary key,
  slug       text        not null,
  name       text        not null,
  plan       text        not null,
  status     text        not null,
  members    integer     not null default 0,
  version    bigint      not null,
  updated_at timestamptz not null
);
