-- Idempotency keys are scoped by caller as well as tenant and operation (issue 16): one user's key
-- never returns another user's stored response. Keys stored before have caller '' and expire
-- within a day (a retry of such a request in that window is answered as a new request).
alter table idempotency_keys add column caller text not null default '';
alter table idempotency_keys drop constraint idempotency_keys_pkey;
alter table idempotency_keys add primary key (tenant_id, caller, operation, key);
alter table idempotency_keys alter column caller drop default;
