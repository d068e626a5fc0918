-- Fault injection is for the local stack and tests (issue 15): its table no longer exists in every
-- database. A saga worker started with FAULT_INJECTION=enabled creates it (services/tenant/faults.ts),
-- and that setting is refused where DEPLOY_ENVIRONMENT is production, so a production database never has it.
drop table if exists fault_injections;
