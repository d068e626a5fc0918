-- Least privilege (issue 15, README "Reliability", Postgres). Migrations run as the owner role; the
-- deployables log in as a member of `app_runtime`, which may read and write rows and nothing else:
-- no DDL, no ownership. The two places that change the schema at run time go through functions that
-- run with the owner's rights and do exactly one narrow thing: a tenant's schema, and the swap of a
-- rebuilt read model. Tables created later by the owner (migrations, `fault arm`) get the same rights.
do $$
begin
  create role app_runtime nologin;
exception
  when duplicate_object then null; -- roles belong to the cluster: another database made it already
end $$;

grant usage on schema public to app_runtime;
grant select, insert, update, delete on all tables in schema public to app_runtime;
grant usage, select on all sequences in schema public to app_runtime;
alter default privileges in schema public grant select, insert, update, delete on tables to app_runtime;
alter default privileges in schema public grant usage, select on sequences to app_runtime;
-- Functions are executable by everyone unless revoked; ours are granted one by one.
alter default privileges in schema public revoke execute on functions from public;

-- A tenant's own schema (services/tenant): only names the tenant service derives (tenant_<slug>).
create function create_tenant_schema(name text) returns void
language plpgsql security definer set search_path = pg_catalog as $$
begin
  if name !~ '^tenant_[a-z0-9_]{1,56}$' then
    raise exception 'not a tenant schema name: %', name using errcode = '22023';
  end if;
  execute format('create schema if not exists %I', name);
end $$;

create function drop_tenant_schema(name text) returns void
language plpgsql security definer set search_path = pg_catalog as $$
begin
  if name !~ '^tenant_[a-z0-9_]{1,56}$' then
    raise exception 'not a tenant schema name: %', name using errcode = '22023';
  end if;
  execute format('drop schema if exists %I cascade', name);
end $$;

-- The read-model tables a rebuild may replace; each read model's migration registers its own.
create table rebuildable_tables (name text primary key);
grant select on rebuildable_tables to app_runtime;
revoke insert, update, delete on rebuildable_tables from app_runtime;

create function assert_rebuildable(live text) returns void
language plpgsql security definer set search_path = pg_catalog as $$
begin
  if not exists (select 1 from public.rebuildable_tables where name = live) then
    raise exception 'not a rebuildable read-model table: %', live using errcode = '22023';
  end if;
end $$;

-- A fresh, empty copy `<live>__rebuild` of a read-model table (projector/rebuild.activities.ts).
create function prepare_read_model_rebuild(live text) returns void
language plpgsql security definer set search_path = pg_catalog as $$
begin
  perform public.assert_rebuildable(live);
  execute format('drop table if exists public.%I', live || '__rebuild');
  execute format('create table public.%I (like public.%I including all)', live || '__rebuild', live);
end $$;

-- The copy takes the live table's place; the caller holds the live table locked in its transaction.
create function swap_read_model_rebuild(live text) returns void
language plpgsql security definer set search_path = pg_catalog as $$
begin
  perform public.assert_rebuildable(live);
  execute format('alter table public.%I rename to %I', live, live || '__old');
  execute format('alter table public.%I rename to %I', live || '__rebuild', live);
  execute format('drop table public.%I', live || '__old');
end $$;

revoke execute on function create_tenant_schema(text), drop_tenant_schema(text), assert_rebuildable(text),
  prepare_read_model_rebuild(text), swap_read_model_rebuild(text) from public;
grant execute on function create_tenant_schema(text), drop_tenant_schema(text), prepare_read_model_rebuild(text),
  swap_read_model_rebuild(text) to app_runtime;
