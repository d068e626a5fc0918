// The typed search attributes the sagas upsert (registered on the server by `npm run up`), so a
// person finds a saga in the Web UI or with `temporal workflow list --query "TenantId='…'"`.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const TENANT_ID = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
export const TENANT_SLUG = defineSearchAttributeKey('TenantSlug', SearchAttributeType.KEYWORD);
export const SAGA_STATUS = defineSearchAttributeKey('SagaStatus', SearchAttributeType.KEYWORD);
export const SAGA_STEP = defineSearchAttributeKey('SagaStep', SearchAttributeType.KEYWORD);

export type SagaStatus = 'running' | 'waiting-approval' | 'compensating' | 'completed' | 'compensated' | 'failed';
